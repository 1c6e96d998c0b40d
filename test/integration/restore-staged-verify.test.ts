// What the staged verify of a restore may skip, and what it still proves. A restore hashes every
// file as it decrypts it, so the deep verify of the staging folder does not hash those bytes again
// (documents, segments) and the models folder's checksum cache is seeded with the proven hashes
// (a multi-GB model is not hashed twice); integrity_check, the segment loads and the self-search
// still run, and a file whose recorded hash differs from the restore's is hashed as usual.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLifeline, verifyStagedRoot } from '../../electron/core/app.js';
import { MODELS_CACHE_FILE, scanModels } from '../../electron/core/models/registry.js';
import { encodeGguf } from '../../electron/core/models/tinyGguf.js';
import { startDeepCatalogChecks, structuralCheck } from '../../electron/core/backup/catalogChecks.js';
import { REPO_ROOT, tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** A GGUF file the registry accepts (architecture only), padded with random bytes past 4 MiB. */
function paddedModel(file: string, bytes: number): Buffer {
  const head = encodeGguf([{ key: 'general.architecture', type: 'string', value: 'llama' }], []);
  const all = Buffer.concat([head, crypto.randomBytes(bytes - head.length)]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, all);
  return all;
}

/** Why fsyncs cannot be traced here, or null when they can. */
function straceUnavailable(): string | null {
  if (process.platform !== 'linux') return 'strace is Linux only';
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) return 'strace is not installed (apt-get install strace)';
  const probe = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fsync', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `strace cannot trace here (ptrace not permitted?): ${probe.stderr.trim()}`;
}

let t: ReturnType<typeof tempDir>;
let restored = '';
let model: Buffer;

beforeAll(async () => {
  t = tempDir('lifeline-staged-');
  const live = path.join(t.dir, 'live');
  model = paddedModel(path.join(live, 'models', 'weights.gguf'), 6_000_000);
  const app = await openLifeline({ dataDir: live, shell: 'cli' }); // the demo knowledge base
  await app.runBackup(path.join(t.dir, 'repo'), PASS);
  await app.close();
  restored = path.join(t.dir, 'restored');
  fs.mkdirSync(restored);
  const target = await openLifeline({ dataDir: restored, shell: 'cli', seedDemo: false });
  const r = await target.runRestore(path.join(t.dir, 'repo'), PASS);
  expect(r.staged.verify.ok).toBe(true);
  await target.close();
}, 120_000);
afterAll(() => t.cleanup());

/** A copy of the restored root to damage, with the manifest-like map a restore would pass. */
function stagedCopy(name: string): { dir: string; hashes: Map<string, string> } {
  const dir = path.join(t.dir, name);
  fs.cpSync(restored, dir, { recursive: true, preserveTimestamps: true });
  fs.rmSync(path.join(dir, 'lifeline.lock'), { force: true });
  const hashes = new Map<string, string>();
  for (const sub of ['blobs', 'segments']) {
    for (const f of fs.readdirSync(path.join(dir, sub), { recursive: true }) as string[]) {
      const p = path.join(dir, sub, f);
      if (fs.statSync(p).isFile()) hashes.set(`${sub}/${f.split(path.sep).join('/')}`, sha(fs.readFileSync(p)));
    }
  }
  return { dir, hashes };
}

describe('the staged verify of a restore', () => {
  it('gets the models checksum cache seeded with the hashes the restore proved: the model is not hashed again', async () => {
    const modelsDir = path.join(restored, 'models');
    const cache = JSON.parse(fs.readFileSync(path.join(modelsDir, MODELS_CACHE_FILE), 'utf8')) as { version: number; entries: Record<string, { bytes: number; mtimeMs: number; sha256: string }> };
    const st = fs.statSync(path.join(modelsDir, 'weights.gguf'));
    expect(cache.version).toBe(1);
    expect(cache.entries['weights.gguf']).toEqual({ bytes: model.length, mtimeMs: st.mtimeMs, sha256: sha(model) });
    let hashed = 0;
    const entries = await scanModels(modelsDir, { hashFile: async () => (hashed++, 'x'.repeat(64)) });
    expect(hashed).toBe(0);
    expect(entries.find((e) => e.name === 'weights.gguf')).toMatchObject({ sha256: sha(model), bytes: model.length });
    expect(sha(fs.readFileSync(path.join(modelsDir, 'weights.gguf')))).toBe(sha(model));
  });

  it('passes on an intact copy with the restore-computed hashes', async () => {
    const { dir, hashes } = stagedCopy('intact');
    const { report } = await verifyStagedRoot(dir, { hashes });
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(report.checked.vectorsSelfSearched).toBeGreaterThan(0);
  });

  it('still self-searches every segment: vectors that do not find themselves are found, with or without known hashes', async () => {
    const { dir, hashes } = stagedCopy('bad-vectors');
    const db = new Database(path.join(dir, 'catalog.sqlite'));
    const seg = db.prepare('SELECT id, file, dimension, vectors FROM segment ORDER BY vectors DESC LIMIT 1').get() as { id: number; file: string; dimension: number; vectors: number };
    expect(seg.vectors).toBeGreaterThan(2);
    // Row 0 becomes a tenth of row 1: searching it, row 1 scores ten times higher than row 0 itself.
    const file = path.join(dir, seg.file);
    const b = fs.readFileSync(file);
    const at = (row: number, j: number) => 45 + (row * seg.dimension + j) * 4;
    for (let j = 0; j < seg.dimension; j++) b.writeFloatLE(b.readFloatLE(at(1, j)) * 0.1, at(0, j));
    fs.writeFileSync(file, b);
    db.prepare('UPDATE segment SET sha256 = ?, ann_file = NULL, ann_sha256 = NULL WHERE id = ?').run(sha(b), seg.id);
    db.close();
    hashes.set(seg.file, sha(b));
    for (const known of [{ hashes }, undefined]) {
      const { report } = await verifyStagedRoot(dir, known);
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.code)).toContain('segment-self-search');
    }
  });

  it('hashes a document again when the restore-computed hash is not the recorded one', async () => {
    const { dir, hashes } = stagedCopy('bad-doc');
    const [rel] = [...hashes.keys()].filter((k) => k.startsWith('blobs/'));
    const file = path.join(dir, rel!);
    const b = fs.readFileSync(file);
    b[0]! ^= 1; // same size, other content
    fs.writeFileSync(file, b);
    hashes.set(rel!, sha(b)); // what a restore would have computed for these bytes
    const { report } = await verifyStagedRoot(dir, { hashes });
    expect(report.problems.map((p) => [p.code, p.path])).toContainEqual(['document-corrupt', rel]);
  });

  it('runs the full-text check on another thread with the same verdict as the staged verify running it itself', async () => {
    const intact = stagedCopy('catalog-intact');
    const ok = await startDeepCatalogChecks(path.join(intact.dir, 'catalog.sqlite'));
    expect(ok).toEqual({ fulltext: { error: null } });
    expect((await verifyStagedRoot(intact.dir, { hashes: intact.hashes, catalog: ok! })).report.ok).toBe(true);

    // A full-text entry for a chunk that does not exist: the index disagrees with the chunks.
    const bad = stagedCopy('catalog-fts');
    const db = new Database(path.join(bad.dir, 'catalog.sqlite'));
    db.prepare('INSERT INTO chunk_fts(rowid, text) VALUES (?, ?)').run(987654321, 'a phantom chunk nobody wrote');
    db.close();
    const found = await startDeepCatalogChecks(path.join(bad.dir, 'catalog.sqlite'));
    expect(found).not.toBeNull();
    expect(found).not.toEqual(ok);
    const codes = async (catalog?: typeof found) =>
      (await verifyStagedRoot(bad.dir, { hashes: bad.hashes, catalog: catalog ?? undefined })).report.problems.filter((p) => p.severity === 'error').map((p) => p.code).sort();
    const withWorker = await codes(found);
    expect(withWorker.length).toBeGreaterThan(0);
    expect(withWorker).toEqual(await codes(undefined));

    // The structural check a restore runs as the catalog lands: its findings are what the staged
    // verify reports, and it is not run a second time there.
    expect(structuralCheck(path.join(intact.dir, 'catalog.sqlite'))).toEqual([]);
    const told = await verifyStagedRoot(intact.dir, { hashes: intact.hashes, catalog: { fulltext: { error: null }, structure: ['page 7 is never used'] } });
    expect(told.report.problems.filter((p) => p.code === 'catalog-corrupt').map((p) => p.message)).toEqual(['page 7 is never used']);

    // A catalog file that is not SQLite at all: the check cannot run; the worker says so.
    const junk = path.join(t.dir, 'junk.sqlite');
    fs.writeFileSync(junk, crypto.randomBytes(8192));
    const j = await startDeepCatalogChecks(junk);
    expect(j?.fulltext).toEqual({ error: expect.stringMatching(/not a database/) });
    expect(structuralCheck(junk)).toEqual([expect.stringMatching(/not a database/)]);
  });
});

describe('flushing a restore', () => {
  // On a journaling filesystem each fsync waits for the data written before it: one inside the
  // staged check would wait for the whole restore's flush, which runs meanwhile. Staging is
  // flushed once, as a whole (sync -f), before the swap relies on it; a crash before discards it.
  it.skipIf(straceUnavailable() !== null)('no file in staging is fsynced on its own: the check writes nothing durable, the folder is flushed whole', () => {
    const passFile = path.join(t.dir, 'pass');
    fs.writeFileSync(passFile, PASS, { mode: 0o600 });
    const dest = path.join(t.dir, 'traced');
    fs.mkdirSync(dest);
    const trace = path.join(t.dir, 'fsync.trace');
    const r = spawnSync(
      'strace',
      ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync,syncfs', '-o', trace, process.execPath, path.join(REPO_ROOT, 'scripts', 'lifeline.mjs'), 'restore', '--repo', path.join(t.dir, 'repo'), '--data', dest, '--passphrase-file', passFile, '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).staged.verify.ok).toBe(true);
    const calls = fs.readFileSync(trace, 'utf8').split('\n');
    const fsyncs = calls.filter((l) => /\bf(data)?sync\(\d+</.test(l));
    // The tracer sees the fsyncs there are (the live root's own, the swap's journal and folders),
    // and the one flush of staging.
    expect(fsyncs.length).toBeGreaterThan(0);
    expect(calls.some((l) => /\bsyncfs\(\d+<[^>]*\.restore-staging-/.test(l))).toBe(true);
    expect(fsyncs.filter((l) => l.includes('.restore-staging-'))).toEqual([]);
  });
});
