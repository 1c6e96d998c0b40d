// Restore: into a staging folder inside the data root (so the final renames stay on one
// filesystem), verified there, and only then swapped in. The previous contents are kept in
// .previous-<time>/ for `lifeline restore --rollback`. A swap journal makes the swap itself
// crash-safe: a start-up that finds the journal finishes the swap it describes.
import fs from 'node:fs';
import path from 'node:path';
import type { RestoreResult, VerifyResult } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import { ensureDir, fsyncDir, writeFileAtomic } from '../store/atomic.js';
import type { JobContext } from '../jobs/jobs.js';
import { throwIfCancelled } from '../jobs/jobs.js';
import { CONCURRENCY, type Repository, driveError, forEachLimit, startFlush, syncFilesystem } from './repo.js';
import { MODELS_CACHE_FILE } from '../models/registry.js';
import type { DeepCatalogResults } from '../integrity/verify.js';
import { sqliteVersion, startDeepCatalogChecks, structuralCheck } from './catalogChecks.js';
import { type FaissIndex, indexFiles } from '../vectors/segments.js';

const JOURNAL = '.restore-swap.json';
/** Top-level entries of a data root that a restore replaces (the catalog's WAL files go with it). */
const SWAPPED = ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm', 'blobs', 'segments', 'models', 'golden', 'reports', 'SHA256SUMS'];

interface SwapJournal {
  staging: string;
  /** Where live entries go; '' when the target held nothing to keep. */
  previous: string;
  entries: string[];
  /** The entries present in staging when the swap began. */
  staged: string[];
}

export interface KbCount {
  name: string;
  documents: number;
  chunks: number;
}

export interface RestoreHooks {
  /** Live knowledge bases before the restore (for the before/after summary). */
  before: KbCount[];
  /**
   * Verifies the staged data root (deep); the swap happens only when it has no error. `known.hashes`:
   * every restored file's sha256, computed from its bytes as it was decrypted (path → sha256);
   * `known.catalog`: the deep full-text check, run on the restored catalog during the decryption;
   * `known.preloaded`: the segments and approximate indexes read into FAISS as they landed
   * (relative path → index; see VerifyOptions.preloaded).
   */
  verifyStaged(dir: string, known: { hashes: ReadonlyMap<string, string>; catalog?: DeepCatalogResults; preloaded: ReadonlyMap<string, FaissIndex> }): Promise<{ report: VerifyResult; kbs: KbCount[] }>;
  /** Called right before the swap: the live app must close its catalog. */
  releaseLive(): Promise<void>;
  /**
   * Restore only this knowledge base: it replaces the live one of the same name (which is kept
   * as a deleted knowledge base, recoverable with `kb undelete`); every other one is untouched.
   */
  onlyKb?: { name: string; merge(stagingDir: string): Promise<KbCount[]> };
}

/** How often a restore starts writing out what has landed in staging (when no flush is running). */
const TRICKLE_FLUSH_MS = 500;

export async function restoreSnapshot(root: string, repo: Repository, snapshotId: string | undefined, hooks: RestoreHooks, ctx?: JobContext): Promise<RestoreResult> {
  const started = Date.now();
  const { file, manifest } = repo.findSnapshot(snapshotId);
  const staging = path.join(root, `.restore-staging-${manifest.id}`);
  fs.rmSync(staging, { recursive: true, force: true });
  ensureDir(staging);
  let swapped = false;
  try {
    // 1. Every file decrypted into staging, each checked against its sha256 on the way, a few
    // at a time (largest first) so reads, writes and decryption overlap.
    const bytesTotal = manifest.files.reduce((s, f) => s + f.size, 0);
    let bytesDone = 0;
    let done = 0;
    ctx?.progress({ done: 0, total: manifest.files.length, bytesDone, bytesTotal, message: 'restoring into staging' });
    for (const f of manifest.files) {
      if (f.path.split('/').includes('..') || path.isAbsolute(f.path)) throw new UserError('snapshot-damaged', `snapshot ${file} names an unsafe path: ${f.path}`);
    }
    // One job per blob: a file of its own, or a pack (decrypted once for all the files in it).
    // The catalog first: its whole-file checks then run on another thread during the rest; then
    // the packs — creating their many small files is the kernel's work, on this thread's pool,
    // which then runs beside the workers' decryption of the large files instead of after it;
    // then the largest.
    const jobs = new Map<string, number[]>();
    for (const [i, f] of manifest.files.entries()) {
      const key = f.offset === undefined ? `file:${i}` : `pack:${f.blob}`;
      const members = jobs.get(key);
      if (members) members.push(i);
      else jobs.set(key, [i]);
    }
    const rank = (members: number[]) => {
      const first = manifest.files[members[0]!]!;
      if (first.path === 'catalog.sqlite') return Infinity;
      return first.offset !== undefined ? Number.MAX_SAFE_INTEGER : members.reduce((s, i) => s + manifest.files[i]!.size, 0);
    };
    const order = [...jobs.values()].sort((a, b) => rank(b) - rank(a));
    let catalogChecks: Promise<DeepCatalogResults | null> = Promise.resolve(null);
    const restored = new Map<string, { sha256: string; size: number }>();
    const madeDirs = new Set<string>();
    // Each segment and approximate index is read into FAISS as soon as it lands (its bytes just
    // proven by their sha256), while the other files decrypt, instead of in the verify after them.
    // One that does not load is left to the verify, which reports it.
    const preloaded = new Map<string, FaissIndex>();
    const preload = (rel: string) => {
      if (!rel.startsWith('segments/')) return;
      try {
        preloaded.set(rel, indexFiles.read(path.join(staging, rel)));
      } catch {
        // the verify loads it again and says why it fails
      }
    };
    // The drive writes the staged files out as they land, beside the decryption: the kernel holds
    // them back (with a few GB of memory, 1 GB never reaches its dirty threshold), and the flush
    // before the swap would otherwise write everything at once. One flush at a time.
    let trickle: Promise<void> | null = null;
    const trickling = setInterval(() => {
      trickle ??= startFlush(staging).finally(() => {
        trickle = null;
      });
    }, TRICKLE_FLUSH_MS);
    try {
      await forEachLimit(order, CONCURRENCY, async (members) => {
        throwIfCancelled(ctx?.signal);
        const f = manifest.files[members[0]!]!;
        try {
          // Straight under their names: staging is removed if anything fails, and trusted only once verified.
          if (f.offset === undefined) {
            // Models past the page cache: the verify takes their sha256 from the decryption, and
            // nothing else reads them back now (the catalog and segments are read right away).
            restored.set(f.path, { sha256: f.sha256, size: await repo.getFile(f.blob, f.sha256, path.join(staging, f.path), { madeDirs, inPlace: true, direct: f.class === 'models' }) });
            preload(f.path);
          } else {
            const files = members.map((i) => manifest.files[i]!);
            await repo.getPacked(
              f.blob,
              files.map((m) => ({ sha256: m.sha256, offset: m.offset!, size: m.size, dest: path.join(staging, m.path) })),
              { madeDirs },
            );
            for (const m of files) restored.set(m.path, { sha256: m.sha256, size: m.size });
          }
        } catch (err) {
          if (err instanceof UserError) throw err;
          const e = driveError(err, repo.dir);
          if (e instanceof UserError) throw e;
          const what = members.length === 1 ? f.path : `${f.path} and ${members.length - 1} other files packed with it`;
          throw new UserError('blob-damaged', `${what} (snapshot ${manifest.id}): ${(err as Error).message}; nothing was changed`);
        }
        if (f.path === 'catalog.sqlite') {
          // Checked when the backup was made, on these very bytes (their sha256 just matched), under
          // the same SQLite: that outcome stands. Otherwise the check runs now, beside the rest.
          const c = manifest.catalogCheck;
          const file = path.join(staging, f.path);
          const recorded = c && c.sha256 === f.sha256 && c.sqlite === sqliteVersion();
          const fulltext = recorded && c.fulltext === 'ok' ? Promise.resolve({ fulltext: { error: null } }) : startDeepCatalogChecks(file);
          // The structural check here, now, before the other files are in: this thread has time
          // while the workers decrypt the large ones.
          const structure = recorded && c.structure === 'ok' ? [] : structuralCheck(file);
          catalogChecks = fulltext.then((r) => (r ? { ...r, structure } : null));
        }
        for (const i of members) {
          bytesDone += manifest.files[i]!.size;
          ctx?.progress({ done: ++done, total: manifest.files.length, bytesDone, bytesTotal, message: manifest.files[i]!.path });
        }
      });
    } finally {
      clearInterval(trickling);
    }
    // The models' checksums were just proven while decrypting: the registry's cache says so, and
    // neither the staged check nor the restored app hashes gigabytes of models again.
    seedModelsCache(path.join(staging, 'models'), restored);
    // The drive writes the staged files out while they are verified (from memory)...
    const flushing = startFlush(staging);
    // 2. Verified where it stands, before anything live is touched.
    const catalog = (await catalogChecks) ?? undefined;
    // A catalog the structural check found damaged is not opened: SQLite would only say
    // "malformed" (and the app cannot start on it to verify the rest).
    if (catalog?.structure?.length) {
      await flushing; // never rejects
      throw new UserError('restore-verify-failed', `the restored copy did not verify (catalog-corrupt catalog.sqlite: ${catalog.structure.slice(0, 3).join('; ')}); nothing was changed`);
    }
    let verified: Awaited<ReturnType<RestoreHooks['verifyStaged']>>;
    try {
      verified = await hooks.verifyStaged(staging, { hashes: new Map([...restored].map(([p, f]) => [p, f.sha256])), catalog, preloaded });
    } catch (err) {
      await flushing; // never rejects
      if (err instanceof UserError) throw err;
      throw new UserError('restore-verify-failed', `the restored copy could not be opened to verify it (${(err as Error).message}); nothing was changed`);
    }
    const { report, kbs } = verified;
    await flushing;
    if (!report.ok) {
      const errs = report.problems.filter((p) => p.severity === 'error');
      throw new UserError('restore-verify-failed', `the restored copy did not verify (${errs.map((p) => `${p.code} ${p.path}`).join('; ')}); nothing was changed`);
    }
    // ... and one last flush (little left by now) makes everything staged durable, what the
    // verify wrote included, before the swap journal can name it.
    syncFilesystem(staging);
    if (hooks.onlyKb) {
      if (!kbs.some((k) => k.name === hooks.onlyKb!.name)) throw new UserError('no-such-kb', `snapshot ${manifest.id} has no knowledge base named "${hooks.onlyKb.name}"; it has: ${kbs.map((k) => k.name).join(', ')}`);
      const after = await hooks.onlyKb.merge(staging);
      return { repo: repo.dir, snapshot: file.replace(/\.age$/, ''), before: hooks.before, after, staged: { files: manifest.files.length, bytes: bytesTotal, verify: report }, previous: null, durationMs: Date.now() - started };
    }
    // 3. The swap, journaled.
    await hooks.releaseLive();
    const present = SWAPPED.filter((e) => fs.existsSync(path.join(root, e)));
    const previous = present.length ? path.join(root, `.previous-${new Date().toISOString().replace(/[:.]/g, '-')}`) : null;
    swapped = true;
    runSwap(root, { staging, previous: previous ?? '', entries: SWAPPED });
    return {
      repo: repo.dir,
      snapshot: file.replace(/\.age$/, ''),
      before: hooks.before,
      after: kbs,
      staged: { files: manifest.files.length, bytes: bytesTotal, verify: report },
      previous,
      durationMs: Date.now() - started,
    };
  } finally {
    if (!swapped || !fs.existsSync(path.join(root, JOURNAL))) fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Moves live entries to `previous` and staged ones into the root; resumable from its journal. */
function runSwap(root: string, j: Omit<SwapJournal, 'staged'>): void {
  const staged = j.entries.filter((e) => fs.existsSync(path.join(j.staging, e)));
  writeFileAtomic(path.join(root, JOURNAL), JSON.stringify({ ...j, staged }));
  finishSwap(root);
}

/**
 * Completes a swap whose journal is present (also at start-up after a crash mid-swap). Every
 * step is a rename done only while its source still exists, so running it again is safe.
 */
export function finishSwap(root: string): boolean {
  const jp = path.join(root, JOURNAL);
  if (!fs.existsSync(jp)) return false;
  const j = JSON.parse(fs.readFileSync(jp, 'utf8')) as SwapJournal;
  const away = (e: string) => {
    const live = path.join(root, e);
    if (!fs.existsSync(live) || !j.previous || fs.existsSync(path.join(j.previous, e))) return;
    ensureDir(j.previous);
    fs.renameSync(live, path.join(j.previous, e));
  };
  for (const e of j.entries) {
    const staged = path.join(j.staging, e);
    if (j.staged.includes(e)) {
      if (!fs.existsSync(staged)) continue; // done before a crash
      away(e);
      fs.rmSync(path.join(root, e), { recursive: true, force: true }); // only when there is no previous to keep it
      fs.renameSync(staged, path.join(root, e));
    } else if (e !== 'models' && e !== 'reports' && e !== 'golden') {
      away(e); // e.g. the old catalog's WAL: it must never meet the restored catalog
    }
  }
  fsyncDir(root);
  if (j.previous && fs.existsSync(j.previous)) fsyncDir(j.previous);
  fs.rmSync(j.staging, { recursive: true, force: true });
  fs.rmSync(jp, { force: true });
  fsyncDir(root);
  return true;
}

/**
 * Writes the models folder's checksum cache (models/registry.ts: name → size, mtime, sha256) for
 * the model files a restore has just decrypted and checked against their sha256, so the registry
 * does not hash them again. Best effort: without it, the registry hashes them as usual.
 */
function seedModelsCache(modelsDir: string, restored: Map<string, { sha256: string; size: number }>): void {
  const entries: Record<string, { bytes: number; mtimeMs: number; sha256: string }> = {};
  for (const [rel, f] of restored) {
    if (!rel.startsWith('models/')) continue;
    try {
      const st = fs.statSync(path.join(modelsDir, rel.slice('models/'.length)));
      if (st.size === f.size) entries[rel.slice('models/'.length)] = { bytes: st.size, mtimeMs: st.mtimeMs, sha256: f.sha256 };
    } catch {
      // not there: nothing to vouch for
    }
  }
  if (Object.keys(entries).length === 0) return;
  try {
    fs.writeFileSync(path.join(modelsDir, MODELS_CACHE_FILE), JSON.stringify({ version: 1, entries }, null, 2) + '\n');
  } catch {
    // the registry hashes the models itself
  }
}

/** The newest kept previous data root, for rollback. */
export function latestPrevious(root: string): string | null {
  const names = fs.existsSync(root) ? fs.readdirSync(root).filter((n) => n.startsWith('.previous-')).sort() : [];
  return names.length ? path.join(root, names[names.length - 1]!) : null;
}

/** Swaps the newest `.previous-*` back in; what it replaces becomes the new `.previous-*`. */
export function rollback(root: string): string {
  const prev = latestPrevious(root);
  if (!prev) throw new UserError('nothing-to-roll-back', `no previous data root is kept in ${root}`);
  const staging = path.join(root, `.restore-staging-rollback`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.renameSync(prev, staging);
  runSwap(root, { staging, previous: path.join(root, `.previous-${new Date().toISOString().replace(/[:.]/g, '-')}`), entries: SWAPPED });
  return prev;
}

export function stagingLeftovers(root: string): string[] {
  return fs.existsSync(root) ? fs.readdirSync(root).filter((n) => n.startsWith('.restore-staging-') || n.startsWith('.backup-tmp-')) : [];
}
