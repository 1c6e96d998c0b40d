// Backing up a data root while the app runs: a consistent copy of the catalog (VACUUM INTO, a
// read transaction), then the immutable files that copy references — documents, segments,
// approximate indexes — and the model files. A file whose content is already in the repository
// is not stored again, so an unchanged data root adds only a new manifest.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BackupResult, BackupVerifyResult } from '../../api/contract.js';
import type { Db } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import type { JobContext } from '../jobs/jobs.js';
import { throwIfCancelled } from '../jobs/jobs.js';
import type { ModelEntry } from '../models/registry.js';
import { appVersion } from '../util/appRoot.js';
import type { HashedNow } from './offload.js';
import { BlobDamagedError, type FileClass, type ManifestFile, type Repository, type SnapshotManifest, CONCURRENCY, driveError, forEachLimit, readSmallFile, sourceDamaged } from './repo.js';
import { PACK_BYTES, PACK_MEMBER_MAX, PackBuilder } from './pack.js';
import { sha256, sha256FileAsync } from '../util/hash.js';
import { UserError } from '../../api/handlers.js';
import { sqliteVersion, startDeepCatalogChecks, structuralCheck } from './catalogChecks.js';

interface Candidate {
  path: string;
  abs: string;
  sha256: string;
  size: number;
  class: FileClass;
  /** Its sha256 was taken from these bytes by this backup, in a file no one else writes (the catalog copy): not hashed again as it is encrypted. */
  hashed?: boolean;
}

/** How long the logs (recovery reports) of a snapshot past its daily window are kept (policy keepLogDays). */
export const DEFAULT_KEEP_LOG_DAYS = 30;

/** Rows that change with every backup or check; left out of the copy so an unchanged root dedups. */
const VOLATILE_SQL = `
  DELETE FROM job;
  DELETE FROM verify_run;
  DELETE FROM ingest_item WHERE state != 'pending';
  DELETE FROM meta WHERE key LIKE 'last_backup%' OR key LIKE 'backup_%' OR key IN ('running_since', 'golden_last_run', 'golden_pass_ratio');
  DELETE FROM sqlite_sequence WHERE name IN ('verify_run');
`;

/** The deep catalog checks a backup ran on its catalog copy: the full-text one, and the structural one when `structure`. */
interface CatalogChecked {
  sqlite: string;
  structure?: boolean;
}

/** What the last backup to a repository stored as the catalog, keyed by the content generation. */
interface CatalogMemo {
  generation: string;
  sha256: string;
  size: number;
  /** The deep checks passed on that copy, under this SQLite version (see SnapshotManifest.catalogCheck). */
  checked?: CatalogChecked;
}

/**
 * `hashedNow`: files this backup's caller hashed moments ago (the models registry's scan, see
 * recordingHasher): unchanged since (size, mtime), their content is not hashed a second time as it
 * is encrypted; nor is the catalog copy this backup made and hashed. Every other file is checked
 * against its recorded sha256 in the encryption pass.
 */
export async function backupDataRoot(
  db: Db,
  layout: DataRootLayout,
  models: ModelEntry[] | Promise<ModelEntry[]>,
  repo: Repository,
  ctx?: JobContext,
  opts: { hashedNow?: HashedNow } = {},
): Promise<BackupResult> {
  const started = Date.now();
  const tmpDir = fs.mkdtempSync(path.join(layout.root, '.backup-tmp-'));
  try {
    // 1. The catalog, consistent at one instant, without the volatile rows. Knowledge changes
    // bump meta.content_generation; when it has not moved since the last backup to this
    // repository, the catalog stored then is still the right one and is not copied again.
    const copy1 = path.join(tmpDir, 'a.sqlite');
    const copy2 = path.join(tmpDir, 'catalog.sqlite');
    const memoKey = `backup_catalog:${repo.info.id}`;
    const readState = () => ({
      generation: (db.prepare("SELECT value FROM meta WHERE key = 'content_generation'").get() as { value: string } | undefined)?.value ?? '0',
      memo: JSON.parse((db.prepare('SELECT value FROM meta WHERE key = ?').get(memoKey) as { value: string } | undefined)?.value ?? 'null') as CatalogMemo | null,
    });
    // Reuse needs the generation and the file list seen at one instant: one read transaction.
    const reused = db.transaction(() => {
      const st = readState();
      const ok = st.memo !== null && st.memo.generation === st.generation && repo.hasBlob(repo.blobName(st.memo.sha256));
      return ok ? { ...st, list: listFiles(db) } : null;
    })();
    let catalog: Candidate;
    let list: FileList;
    let generation: string;
    // The deep full-text check of the copy (the costliest part of a restore's staged verify), on
    // another thread while the files are encrypted; see SnapshotManifest.catalogCheck.
    let fulltext: Promise<CatalogChecked | null>;
    /** The catalog copy made by this backup (none when the stored one is reused). */
    let catalogCopy: string | null = null;
    if (reused) {
      catalog = { path: 'catalog.sqlite', abs: '', sha256: reused.memo!.sha256, size: reused.memo!.size, class: 'catalog' };
      list = reused.list;
      generation = reused.generation;
      fulltext = Promise.resolve(reused.memo!.checked ?? null);
    } else {
      // VACUUM INTO is itself one consistent read (it cannot run inside a transaction); the
      // copy carries the generation it was taken at. The copy is scratch (the blob sealed from it
      // is what must last): it is written without fsyncs, and dropped before the drive is flushed.
      vacuumIntoScratch(db, copy1);
      const c = new Database(copy1);
      let file = copy1;
      try {
        c.pragma('synchronous = OFF');
        c.pragma('journal_mode = MEMORY');
        generation = (c.prepare("SELECT value FROM meta WHERE key = 'content_generation'").get() as { value: string } | undefined)?.value ?? '0';
        list = listFiles(c);
        // The volatile rows go, their pages zeroed (they never reach the drive). A second VACUUM
        // (as long again as the first) is only worth it when they took a noticeable share of the file.
        c.pragma('secure_delete = ON');
        c.exec(VOLATILE_SQL);
        const free = c.pragma('freelist_count', { simple: true }) as number;
        const pages = c.pragma('page_count', { simple: true }) as number;
        if (free > pages * 0.05) {
          c.prepare('VACUUM INTO ?').run(copy2);
          file = copy2;
        }
      } finally {
        c.close();
      }
      if (file !== copy1) fs.rmSync(copy1, { force: true });
      // The check first (the longest work on the copy), then the copy's hash beside it.
      const copy = (catalogCopy = file);
      fulltext = startDeepCatalogChecks(copy).then((r) => {
        if (r?.fulltext.error) throw new UserError('source-damaged', `the catalog's full-text index does not match its chunks (${r.fulltext.error}); nothing damaged was stored. Run lifeline repair, then back up again`);
        return r ? { sqlite: sqliteVersion() } : null;
      });
      fulltext.catch(() => undefined); // awaited with the data below
      catalog = { path: 'catalog.sqlite', abs: file, sha256: await sha256FileAsync(file), size: fs.statSync(file).size, class: 'catalog', hashed: true };
    }
    const files: Candidate[] = [catalog];
    const blobsRel = path.relative(layout.root, layout.blobs).split(path.sep).join('/');
    for (const r of list.documents) {
      const rel = `${blobsRel}/${r.h.slice(0, 2)}/${r.h}`;
      files.push({ path: rel, abs: path.join(layout.root, rel), sha256: r.h, size: r.size, class: 'documents' });
    }
    for (const r of list.segments) {
      files.push({ path: r.file, abs: path.join(layout.root, r.file), sha256: r.sha256, size: r.bytes, class: 'indexes' });
      if (r.ann_file && r.ann_sha256) files.push({ path: r.ann_file, abs: path.join(layout.root, r.ann_file), sha256: r.ann_sha256, size: safeSize(path.join(layout.root, r.ann_file)), class: 'indexes' });
    }
    const kbs = list.kbs;
    // Golden question sets and baselines (kept with the knowledge) and recovery reports (logs).
    for (const [sub, cls] of [['golden', 'catalog'], ['reports', 'logs']] as const) {
      const dir = path.join(layout.root, sub);
      for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
        const abs = path.join(dir, name);
        if (name.startsWith('.') || !fs.statSync(abs).isFile()) continue;
        files.push({ path: `${sub}/${name}`, abs, sha256: await sha256FileAsync(abs), size: fs.statSync(abs).size, class: cls });
      }
    }
    // The models last (in the manifest too): the caller's scan hashes any model file that changed,
    // on a worker, beside the catalog copy and the unlock; the other files are encrypted meanwhile.
    const modelFiles = Promise.resolve(models).then((list) =>
      list.filter((m) => m.sha256 && !m.error).map((m): Candidate => ({ path: `models/${m.name}`, abs: path.join(layout.models, m.name), sha256: m.sha256!, size: m.bytes, class: 'models' })),
    );
    modelFiles.catch(() => undefined); // awaited with the data below
    // 3. Data first: every file not yet in the repository, each checked against its sha256 as
    // it is encrypted. Content stored before — a blob of its own, or a file in a pack that a
    // snapshot names — is not stored again.
    let bytesTotal = files.reduce((s, f) => s + f.size, 0);
    let bytesDone = 0;
    let bytesWritten = 0;
    let newFiles = 0;
    let done = 0;
    const packsKey = `backup_packs:${repo.info.id}`;
    const inPacks = packedContent(repo, () => (db.prepare('SELECT value FROM meta WHERE key = ?').get(packsKey) as { value: string } | undefined)?.value);
    const entryFor = (f: Candidate): ManifestFile => {
      const own = repo.blobName(f.sha256);
      const packed = inPacks.get(f.sha256);
      return packed && !repo.hasBlob(own) ? { path: f.path, sha256: f.sha256, size: f.size, blob: packed.blob, class: f.class, offset: packed.offset } : { path: f.path, sha256: f.sha256, size: f.size, blob: own, class: f.class };
    };
    const manifestFiles: ManifestFile[] = files.map(entryFor);
    ctx?.progress({ done: 0, total: files.length, bytesDone: 0, bytesTotal, message: 'backing up' });
    const writer = repo.blobWriter();
    const queued = new Set<string>();
    let checked: CatalogChecked | null = null;
    const missing = (f: Candidate) => new Error(`${f.path} is referenced by the catalog but missing from the data root; run lifeline repair (or verify) first`);
    const stepped = (f: Candidate) => {
      bytesDone += f.size;
      ctx?.progress({ done: ++done, total: files.length, bytesDone, bytesTotal, message: f.path });
    };
    try {
      // What is new, and where it goes. Largest first, so the big files overlap the many small
      // ones instead of ending alone: the files a worker seals are all handed over at once (the
      // workers queue them, balanced by size); new small documents go into packs, one after the
      // other; the rest a few at a time through this thread, from the start. The same content
      // twice in one backup is stored once.
      const order = files.map((_, i) => i).sort((a, b) => files[b]!.size - files[a]!.size);
      const offloaded: number[] = [];
      const packs: number[] = [];
      const here: number[] = [];
      /** Files whose content another file of this backup stores in a pack: index → that file's index. */
      const samePacked = new Map<number, number>();
      const packedBy = new Map<string, number>();
      for (const i of order) {
        const f = files[i]!;
        const m = manifestFiles[i]!;
        if (m.offset !== undefined || repo.hasBlob(m.blob)) {
          stepped(f);
        } else if (f.class === 'documents' && f.size <= PACK_MEMBER_MAX && !writer.offloads(f.size)) {
          const first = packedBy.get(f.sha256);
          if (first === undefined) {
            packedBy.set(f.sha256, i);
            packs.push(i);
          } else {
            samePacked.set(i, first);
            stepped(f);
          }
        } else if (queued.has(m.blob)) {
          stepped(f);
        } else {
          queued.add(m.blob);
          (writer.offloads(f.size) ? offloaded : here).push(i);
        }
      }
      const one = async (i: number) => {
        throwIfCancelled(ctx?.signal);
        const f = files[i]!;
        if (!fs.existsSync(f.abs)) throw missing(f);
        bytesWritten += await writer.put(f.abs, manifestFiles[i]!.blob, f.hashed || justHashed(opts.hashedNow, f) ? undefined : { sha256: f.sha256 });
        newFiles++;
        stepped(f);
      };
      const packing = async () => {
        let pack = new PackBuilder();
        let members: number[] = [];
        const seal = async () => {
          if (pack.members === 0) return;
          const { parts, sha256 } = pack.finish();
          const blob = repo.blobName(sha256);
          for (const i of members) manifestFiles[i]!.blob = blob;
          pack = new PackBuilder();
          members = [];
          if (!queued.has(blob) && !repo.hasBlob(blob)) {
            queued.add(blob);
            bytesWritten += await writer.putPlain(parts, blob);
          }
        };
        for (const i of packs) {
          throwIfCancelled(ctx?.signal);
          const f = files[i]!;
          let plain: Buffer;
          try {
            plain = await readSmallFile(f.abs, f.size);
          } catch (err) {
            throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? missing(f) : err;
          }
          if (sha256(plain) !== f.sha256) throw sourceDamaged(f.abs);
          manifestFiles[i]!.offset = pack.add(f.sha256, plain);
          members.push(i);
          newFiles++;
          stepped(f);
          if (pack.bytes >= PACK_BYTES) await seal();
        }
        await seal();
      };
      // The models once their scan is done, each as the files above (never packed).
      const modelsWork = async () => {
        const first = files.length;
        for (const f of await modelFiles) {
          files.push(f);
          manifestFiles.push(entryFor(f));
          bytesTotal += f.size;
        }
        const mine: number[] = [];
        for (let i = first; i < files.length; i++) {
          const m = manifestFiles[i]!;
          if (m.offset !== undefined || repo.hasBlob(m.blob) || queued.has(m.blob)) stepped(files[i]!);
          else {
            queued.add(m.blob);
            mine.push(i);
          }
        }
        await forEachLimit(mine, mine.length || 1, one);
      };
      const work = Promise.allSettled([forEachLimit(offloaded, offloaded.length || 1, one), forEachLimit(here, CONCURRENCY, one), packing(), modelsWork()]);
      // The copy's structural check (catalogIntegrityCheck) here while the workers seal the large
      // files; a restore of these very bytes then need not run it (SnapshotManifest.catalogCheck).
      const structure = catalogCopy ? structuralCheck(catalogCopy) : null;
      const settled = await work;
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      if (structure?.length) throw new UserError('source-damaged', `the copy of the catalog is damaged (${structure.slice(0, 3).join('; ')}); nothing damaged was stored. Run lifeline verify --deep on the data root`);
      for (const [i, first] of samePacked) Object.assign(manifestFiles[i]!, { blob: manifestFiles[first]!.blob, offset: manifestFiles[first]!.offset });
      checked = await fulltext;
      if (checked && structure) checked = { ...checked, structure: true };
      // The scratch copy is sealed and checked: gone before the flush, which (the repository on
      // the data root's filesystem) would otherwise write it out only for it to be deleted.
      if (catalogCopy) fs.rmSync(catalogCopy, { force: true });
      // Every blob durable under its name before the manifest that names them.
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    // 4. The manifest last, by atomic rename (after one flush of the blobs).
    const setMeta = db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    setMeta.run(memoKey, JSON.stringify({ generation, sha256: catalog.sha256, size: catalog.size, ...(checked ? { checked } : {}) } satisfies CatalogMemo));
    // Where this snapshot's packed files lie (all durable now): a backup without the passphrase
    // cannot read the manifests to learn it (packedContent).
    const packed = new Map<string, [string, string, number]>();
    for (const f of manifestFiles) if (f.offset !== undefined) packed.set(f.sha256, [f.sha256, f.blob, f.offset]);
    setMeta.run(packsKey, JSON.stringify([...packed.values()]));
    const manifest: SnapshotManifest = {
      format: 'lifeline-snapshot',
      version: 1,
      id: randomBytes(4).toString('hex'),
      time: new Date().toISOString(),
      host: os.hostname(),
      lifelineVersion: appVersion(),
      knowledgeBases: kbs,
      files: manifestFiles,
      ...(checked ? { catalogCheck: { sha256: catalog.sha256, sqlite: checked.sqlite, fulltext: 'ok' as const, ...(checked.structure ? { structure: 'ok' as const } : {}) } } : {}),
      sha256sums: sha256sumsOf(manifestFiles),
    };
    const snapshot = await repo.writeSnapshot(manifest);
    return { repo: repo.dir, snapshot: snapshot.replace(/\.age$/, ''), files: files.length, newFiles, bytesTotal, bytesWritten, durationMs: Date.now() - started, pruned: [] };
  } catch (err) {
    throw driveError(err, repo.dir);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Decrypts and re-hashes every blob of every snapshot (or a rotating sample), naming damage by snapshot and file. */
export async function verifyRepository(repo: Repository, options: { sample?: number; ctx?: JobContext } = {}): Promise<BackupVerifyResult> {
  repo.requireRead();
  const snapshots = repo.snapshotFiles();
  const uses = new Map<string, { snapshot: string; file: string; sha256: string; size: number; offset?: number }[]>();
  const damaged: BackupVerifyResult['damaged'] = [];
  for (const s of snapshots) {
    let m: SnapshotManifest;
    try {
      m = repo.readSnapshot(s);
    } catch (err) {
      damaged.push({ snapshot: s.replace(/\.age$/, ''), file: '(manifest)', blob: '', reason: (err as Error).message });
      continue;
    }
    for (const f of m.files) {
      const list = uses.get(f.blob) ?? [];
      list.push({ snapshot: s.replace(/\.age$/, ''), file: f.path, sha256: f.sha256, size: f.size, offset: f.offset });
      uses.set(f.blob, list);
    }
  }
  let blobs = [...uses.keys()].sort();
  if (options.sample && options.sample < blobs.length) {
    // A rotating sample: a different window each day, so every blob is read within days.
    const start = (Math.floor(Date.now() / 86_400_000) * options.sample) % blobs.length;
    blobs = [...blobs.slice(start), ...blobs.slice(0, start)].slice(0, options.sample);
  }
  // A pack holds the files the manifests place in it (each once); any other blob, one file.
  const contents = (blob: string) => {
    const u = uses.get(blob)!;
    if (u[0]!.offset === undefined) return [u[0]!];
    const seen = new Map<string, (typeof u)[number]>();
    for (const x of u) if (x.offset !== undefined) seen.set(`${x.sha256}@${x.offset}`, x);
    return [...seen.values()];
  };
  const inBlob = new Map(blobs.map((b) => [b, contents(b)]));
  const blobBytes = (blob: string) => inBlob.get(blob)!.reduce((s, x) => s + x.size, 0);
  const bytesTotal = blobs.reduce((s, b) => s + blobBytes(b), 0);
  let bytesChecked = 0;
  let done = 0;
  // A few blobs at a time (large ones on worker threads); damage is listed in blob order.
  const reasons: (string | null)[] = blobs.map(() => null);
  await forEachLimit(blobs, CONCURRENCY, async (blob, i) => {
    throwIfCancelled(options.ctx?.signal);
    const u = uses.get(blob)!;
    try {
      if (!repo.hasBlob(blob)) throw new BlobDamagedError(blob, 'is missing from the repository');
      if (u[0]!.offset === undefined) await repo.checkBlob(blob, u[0]!.sha256);
      else await repo.checkPack(blob, inBlob.get(blob)! as { sha256: string; offset: number; size: number }[]);
    } catch (err) {
      if (!(err instanceof BlobDamagedError)) throw driveError(err, repo.dir);
      reasons[i] = err.message;
    }
    bytesChecked += blobBytes(blob);
    options.ctx?.progress({ done: ++done, total: blobs.length, bytesDone: bytesChecked, bytesTotal });
  });
  for (const [i, blob] of blobs.entries()) {
    const reason = reasons[i];
    if (reason !== null && reason !== undefined) for (const x of uses.get(blob)!) damaged.push({ snapshot: x.snapshot, file: x.file, blob, reason });
  }
  return { ok: damaged.length === 0, snapshots: snapshots.length, blobsChecked: blobs.length, bytesChecked, damaged };
}

/**
 * Retention (the reference site's policy, README "Retention"):
 * - snapshots, which hold the knowledge indexes: the newest of each of the last `keepDaily` days,
 *   and all of the last 24 hours (snapshotsToKeep);
 * - original documents: for good. A document that no kept snapshot names any more (deleted from
 *   the data root since) stays named by a retained manifest (`<time>-<id>.retained.age`, see
 *   SnapshotManifest.retained) in place of the newest snapshot that had it;
 * - logs (the recovery reports): `keepLogDays`, in the retained manifests as well;
 * - model files: stored once (deduplicated).
 * Blobs that no remaining manifest names and that are not documents are removed.
 */
export function pruneRepository(
  repo: Repository,
  keepDaily: number,
  now = new Date(),
  keepLogDays = DEFAULT_KEEP_LOG_DAYS,
): { removedSnapshots: string[]; retained: string[]; removedBlobs: number } {
  repo.requireRead();
  const files = repo.snapshotFiles();
  const manifests = files.map((f) => ({ file: f, m: repo.readSnapshot(f) }));
  const keep = snapshotsToKeep(manifests.filter(({ m }) => !m.retained).map(({ file, m }) => ({ file, time: m.time })), keepDaily, now);
  const logCutoff = new Date(now.getTime() - keepLogDays * 86_400_000).toISOString();
  // Documents the kept snapshots name; then, newest first, what each other snapshot alone still
  // holds: documents not named yet, and logs within their days.
  const named = new Set<string>();
  for (const { file, m } of manifests) if (keep.has(file)) for (const f of m.files) if (f.class === 'documents') named.add(f.sha256);
  /** Retained manifests to write: in place of a full snapshot, or of a retained one that changed. */
  const toWrite: SnapshotManifest[] = [];
  /** Retained manifests rewritten in place: what they name now is in toWrite, not in their old files. */
  const rewritten = new Set<string>();
  // A retained manifest beside the snapshot it replaces (a prune cut short between the two): the
  // snapshot is the whole truth, and its retained manifest is written again from it below.
  const base = (f: string) => f.replace(/(\.retained)?\.age$/, '');
  const fullBases = new Set(manifests.filter(({ m }) => !m.retained).map(({ file }) => base(file)));
  const superseded = new Set(manifests.filter(({ file, m }) => m.retained && fullBases.has(base(file))).map(({ file }) => file));
  const newestFirst = (a: { m: SnapshotManifest }, b: { m: SnapshotManifest }) => (a.m.time === b.m.time ? Number(!!a.m.retained) - Number(!!b.m.retained) : a.m.time < b.m.time ? 1 : -1);
  for (const { file, m } of [...manifests].sort(newestFirst)) {
    if (keep.has(file) || superseded.has(file)) continue;
    const held = m.files.filter((f) => (f.class === 'documents' && !named.has(f.sha256)) || (f.class === 'logs' && m.time > logCutoff));
    for (const f of held) if (f.class === 'documents') named.add(f.sha256);
    if (held.length === 0) continue;
    if (m.retained && held.length === m.files.length) {
      keep.add(file); // unchanged
      continue;
    }
    const r: SnapshotManifest = { ...m, knowledgeBases: [], files: held, sha256sums: sha256sumsOf(held), retained: true };
    delete r.catalogCheck;
    toWrite.push(r);
    if (m.retained) {
      keep.add(file); // rewritten in place, under the same name
      rewritten.add(file);
    }
  }
  for (const file of superseded) {
    if (toWrite.some((m) => base(repo.manifestName(m)) === base(file))) {
      keep.add(file); // written again, under the same name
      rewritten.add(file);
    }
  }
  const removedSnapshots = files.filter((f) => !keep.has(f));
  const live = new Set<string>();
  const documents = new Set<string>();
  for (const { file, m } of manifests) {
    for (const f of m.files) {
      if (f.class === 'documents') documents.add(f.blob);
      if (keep.has(file) && !rewritten.has(file)) live.add(f.blob);
    }
  }
  for (const m of toWrite) for (const f of m.files) live.add(f.blob);
  // The retained manifests before the snapshots they replace go (a crash in between leaves both:
  // the next prune replaces the snapshot again, by the same name).
  const retained = toWrite.map((m) => repo.writeManifest(m).replace(/\.age$/, ''));
  // Manifests first, then blobs: a crash in between leaves only unreferenced blobs.
  for (const f of removedSnapshots) repo.removeSnapshot(f);
  // Temp files of interrupted backups (a new blob is only named once it is durable; until then
  // a crash leaves it as a temp file).
  repo.removeStaleTemps();
  let removedBlobs = 0;
  for (const b of repo.allBlobs()) {
    if (!live.has(b) && !documents.has(b)) {
      repo.removeBlob(b);
      removedBlobs++;
    }
  }
  return { removedSnapshots: removedSnapshots.map((f) => f.replace(/\.age$/, '')), retained, removedBlobs };
}

/** A manifest's files in `sha256sum` format (SnapshotManifest.sha256sums). */
function sha256sumsOf(files: readonly ManifestFile[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}`).join('\n') + '\n';
}

/**
 * The snapshots the retention keeps (`snaps` oldest first): the newest of each of the last
 * `keepDaily` days, everything from the last 24 hours (a manual backup before a risky change and
 * the nightly one are both kept until the day has passed), and always the newest.
 */
export function snapshotsToKeep(snaps: readonly { file: string; time: string }[], keepDaily: number, now = new Date()): Set<string> {
  const byDay = new Map<string, { file: string; time: string }>();
  for (const s of snaps) {
    const day = s.time.slice(0, 10);
    const prev = byDay.get(day);
    if (!prev || prev.time < s.time) byDay.set(day, s);
  }
  const cutoff = new Date(now.getTime() - keepDaily * 86_400_000).toISOString().slice(0, 10);
  const keepDays = [...byDay.keys()].sort().reverse().filter((d) => d > cutoff).slice(0, keepDaily);
  const keep = new Set(keepDays.map((d) => byDay.get(d)!.file));
  const recent = new Date(now.getTime() - 86_400_000).toISOString();
  for (const s of snaps) if (s.time > recent) keep.add(s.file);
  if (keep.size === 0 && snaps.length) keep.add(snaps[snaps.length - 1]!.file); // never prune the last snapshot
  return keep;
}

/**
 * How many full snapshots of the repository in `dir` are past the daily retention, from their file
 * names alone (a snapshot is named by its time, see Repository.writeSnapshot): what waits for a
 * prune when backups are made with the write key, which cannot prune. (Retained manifests, small
 * and mostly kept for good, are not counted.) 0 when the folder cannot be read.
 */
export function snapshotsPastRetention(dir: string, keepDaily: number, now = new Date()): number {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, 'snapshots')).filter((n) => n.endsWith('.age') && !n.startsWith('.')).sort();
  } catch {
    return 0;
  }
  const snaps = names.flatMap((file) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z-[0-9a-f]+\.age$/.exec(file);
    return m ? [{ file, time: `${m[1]}:${m[2]}:${m[3]}.${m[4]}Z` }] : [];
  });
  return snaps.length - snapshotsToKeep(snaps, keepDaily, now).size;
}

/**
 * VACUUM INTO `dest` without syncing it: a scratch copy needs no durability (SQLite syncs a
 * VACUUM INTO output under the connection's `synchronous`, which is set back afterwards; it does
 * not change how the live catalog itself is written, as VACUUM INTO does not write it).
 */
function vacuumIntoScratch(db: Db, dest: string): void {
  const was = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = OFF');
  try {
    db.prepare('VACUUM INTO ?').run(dest);
  } finally {
    db.pragma(`synchronous = ${was}`);
  }
}

interface FileList {
  documents: { h: string; size: number }[];
  segments: { file: string; sha256: string; bytes: number; ann_file: string | null; ann_sha256: string | null }[];
  kbs: SnapshotManifest['knowledgeBases'];
}

function listFiles(db: Database.Database): FileList {
  return {
    documents: db.prepare('SELECT DISTINCT blob_sha256 AS h, size FROM document').all() as FileList['documents'],
    segments: db.prepare('SELECT file, sha256, bytes, ann_file, ann_sha256 FROM segment').all() as FileList['segments'],
    kbs: db
      .prepare(
        `SELECT k.name, k.embedder_id AS embedder, (SELECT count(*) FROM document d WHERE d.kb_id = k.id) AS documents,
                (SELECT count(*) FROM chunk c WHERE c.kb_id = k.id) AS chunks FROM kb k WHERE k.deleted_at IS NULL ORDER BY k.name`,
      )
      .all() as SnapshotManifest['knowledgeBases'],
  };
}

/**
 * Files already stored in packs that are still in the repository, by sha256 (a pack is reachable
 * only through the manifests that place files in it): from every snapshot's manifest when the
 * repository is unlocked; with only a write key, from what the last backup of this data root to
 * it recorded (`remembered`, JSON [sha256, blob, offset][]). A manifest or record that cannot be
 * read contributes nothing: what it named is stored again.
 */
function packedContent(repo: Repository, remembered: () => string | undefined): Map<string, { blob: string; offset: number }> {
  const out = new Map<string, { blob: string; offset: number }>();
  const present = new Map<string, boolean>();
  if (!repo.canRead) {
    let list: unknown;
    try {
      list = JSON.parse(remembered() ?? '[]');
    } catch {
      list = [];
    }
    for (const e of Array.isArray(list) ? list : []) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || !Number.isSafeInteger(e[2])) continue;
      const [sha, blob, offset] = e as [string, string, number];
      let ok = present.get(blob);
      if (ok === undefined) present.set(blob, (ok = /^[0-9a-f]{64}$/.test(blob) && repo.hasBlob(blob)));
      if (ok) out.set(sha, { blob, offset });
    }
    return out;
  }
  for (const s of repo.snapshotFiles()) {
    let m: SnapshotManifest;
    try {
      m = repo.readSnapshot(s);
    } catch {
      continue;
    }
    for (const f of m.files) {
      if (f.offset === undefined || out.has(f.sha256)) continue;
      let ok = present.get(f.blob);
      if (ok === undefined) present.set(f.blob, (ok = repo.hasBlob(f.blob)));
      if (ok) out.set(f.sha256, { blob: f.blob, offset: f.offset });
    }
  }
  return out;
}

function justHashed(hashedNow: HashedNow | undefined, f: Candidate): boolean {
  const h = hashedNow?.get(path.resolve(f.abs));
  if (!h || h.sha256 !== f.sha256) return false;
  try {
    const st = fs.statSync(f.abs);
    return st.size === h.size && st.mtimeMs === h.mtimeMs;
  } catch {
    return false;
  }
}

function safeSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
