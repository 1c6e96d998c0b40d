// The deep full-text check (FTS5's index against the chunks' text, the costliest part of a
// restore's staged verify) runs when the backup is made, on the catalog copy it stores. A backup
// never stores a catalog that fails it, and records that it passed; a restore of those very bytes
// (same sha256, same SQLite) keeps that outcome, and runs the check itself in every other case.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { sqliteVersion } from '../../electron/core/backup/catalogChecks.js';
import { Repository, type SnapshotManifest } from '../../electron/core/backup/repo.js';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

describe('the catalog check of a backup', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let repoDir = '';

  beforeAll(async () => {
    t = tempDir('lifeline-catcheck-');
    repoDir = path.join(t.dir, 'repo');
    app = await openLifeline({ dataDir: path.join(t.dir, 'live'), shell: 'cli' }); // the demo knowledge base
    await app.whenReady();
    await app.runBackup(repoDir, PASS);
  }, 60_000);
  afterAll(async () => {
    await app.close();
    t.cleanup();
  });

  const latest = async () => {
    const repo = await Repository.open(repoDir, PASS);
    return { repo, manifest: repo.readSnapshot(repo.snapshotFiles().at(-1)!) };
  };

  it('is recorded in the manifest with the catalog it passed on and the SQLite it ran under, also when the catalog is reused', async () => {
    const { manifest } = await latest();
    const catalog = manifest.files.find((f) => f.path === 'catalog.sqlite')!;
    expect(manifest.catalogCheck).toEqual({ sha256: catalog.sha256, sqlite: sqliteVersion(), fulltext: 'ok', structure: 'ok' });
    await app.runBackup(repoDir, PASS); // nothing changed: the stored catalog is reused, and its record with it
    expect((await latest()).manifest.catalogCheck).toEqual(manifest.catalogCheck);
  }, 60_000);

  /** Writes a snapshot like the latest one, but with `catalog` (a file) as its catalog and `check` as its record. */
  async function snapshotWithCatalog(catalog: string, id: string, check: SnapshotManifest['catalogCheck']): Promise<void> {
    const { repo, manifest } = await latest();
    const bytes = fs.readFileSync(catalog);
    const blob = repo.blobName(sha(bytes));
    await repo.putFile(catalog, blob, { sha256: sha(bytes) });
    const files = manifest.files.map((f) => (f.path === 'catalog.sqlite' ? { ...f, sha256: sha(bytes), size: bytes.length, blob } : f));
    const { catalogCheck: _old, ...rest } = manifest;
    await repo.writeSnapshot({ ...rest, id, time: new Date(Date.now() + 1000).toISOString(), files, ...(check ? { catalogCheck: check } : {}) });
  }

  /** A copy of the live catalog whose full-text index lists a chunk that does not exist. */
  function damagedCatalog(): string {
    const file = path.join(t.dir, `damaged-${crypto.randomBytes(3).toString('hex')}.sqlite`);
    app.db.prepare('VACUUM INTO ?').run(file);
    const db = new Database(file);
    db.prepare('INSERT INTO chunk_fts(rowid, text) VALUES (?, ?)').run(987654321, 'a phantom chunk nobody wrote');
    db.pragma('journal_mode = DELETE');
    db.close();
    return file;
  }

  async function restoreInto(name: string, id: string) {
    const dir = path.join(t.dir, name);
    fs.mkdirSync(dir);
    const other = await openLifeline({ dataDir: dir, shell: 'cli', seedDemo: false });
    try {
      return await other.runRestore(repoDir, PASS, id);
    } finally {
      await other.close();
    }
  }

  it('is run by the restore itself when the snapshot has no record (an older version) or one from another SQLite, and a damaged index is refused', async () => {
    const damaged = damagedCatalog();
    await snapshotWithCatalog(damaged, 'b0b0b0b0', undefined);
    await expect(restoreInto('no-record', 'b0b0b0b0')).rejects.toThrow(/did not verify.*fulltext/);
    await snapshotWithCatalog(damaged, 'b1b1b1b1', { sha256: sha(fs.readFileSync(damaged)), sqlite: '3.0.0', fulltext: 'ok' });
    await expect(restoreInto('other-sqlite', 'b1b1b1b1')).rejects.toThrow(/did not verify.*fulltext/);
  }, 60_000);

  it('is not run again by a restore of the very catalog it passed on (same sha256, same SQLite): the recorded outcome stands', async () => {
    // A record that claims the check passed on exactly these bytes is believed: proof that the
    // restore does not repeat it (a record for other bytes would not be, as the test above shows).
    const damaged = damagedCatalog();
    await snapshotWithCatalog(damaged, 'b2b2b2b2', { sha256: sha(fs.readFileSync(damaged)), sqlite: sqliteVersion(), fulltext: 'ok' });
    const r = await restoreInto('recorded', 'b2b2b2b2');
    expect(r.staged.verify.problems.map((p) => p.code)).not.toContain('fulltext-mismatch');
  }, 60_000);

  it('does not let a catalog with a damaged page through, with or without a record for its bytes', async () => {
    const file = path.join(t.dir, 'torn.sqlite');
    app.db.prepare('VACUUM INTO ?').run(file);
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    const pages = db.pragma('page_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, crypto.randomBytes(size), 0, size, Math.floor(pages / 2) * size); // a page in the middle, torn
    fs.closeSync(fd);
    await snapshotWithCatalog(file, 'b3b3b3b3', { sha256: sha(fs.readFileSync(file)), sqlite: sqliteVersion(), fulltext: 'ok' });
    await expect(restoreInto('torn', 'b3b3b3b3')).rejects.toThrow(/did not verify.*catalog-corrupt/);
    // Even a record that claims both checks passed on these bytes does not get it live: the
    // staged copy cannot be opened to verify the rest.
    await snapshotWithCatalog(file, 'b4b4b4b4', { sha256: sha(fs.readFileSync(file)), sqlite: sqliteVersion(), fulltext: 'ok', structure: 'ok' });
    await expect(restoreInto('torn-recorded', 'b4b4b4b4')).rejects.toThrow(/restored copy (did not verify|could not be opened).*nothing was changed/);
  }, 60_000);

  it('refuses to back up a catalog whose full-text index does not match its chunks, and stores no snapshot', async () => {
    const fresh = path.join(t.dir, 'repo-2');
    app.db.prepare('INSERT INTO chunk_fts(rowid, text) VALUES (?, ?)').run(987654321, 'a phantom chunk nobody wrote');
    await expect(app.runBackup(fresh, PASS)).rejects.toThrow(/full-text index does not match its chunks.*lifeline repair/);
    expect(fs.existsSync(path.join(fresh, 'snapshots')) ? fs.readdirSync(path.join(fresh, 'snapshots')) : []).toEqual([]);
    await app.repair();
    const ok = await app.runBackup(fresh, PASS);
    expect(ok.newFiles).toBeGreaterThan(0);
  }, 60_000);
});
