// Backups without the passphrase (README "Backups without the passphrase"): once a data root has
// unlocked a repository, later backups to it use the write key it remembers — the repository's
// public recipient and blob-name key — so scheduled backups need no passphrase file on the
// machine, and nothing on the machine can decrypt the drive. What a user relies on: the backup
// made that way restores like any other, stores nothing twice (packed documents included), leaves
// no secret on the data root, and refuses a drive whose marker was rewritten or replaced.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { verifyRepository } from '../../electron/core/backup/backup.js';
import { Repository } from '../../electron/core/backup/repo.js';
import { UserError } from '../../electron/api/handlers.js';
import { LIFELINE_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const codeOf = (e: unknown) => (e instanceof UserError ? e.code : String(e));
const listAll = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
/** Every byte under `dir`, as one buffer (to look for secrets). */
const allBytes = (dir: string) => Buffer.concat(listAll(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile()).map((f) => fs.readFileSync(f)));

describe('a backup without the passphrase', () => {
  let t: ReturnType<typeof tempDir>;
  let live = '';
  let repoDir = '';
  let app: LifelineApp;

  beforeAll(async () => {
    t = tempDir('lifeline-writekey-');
    live = path.join(t.dir, 'live');
    repoDir = path.join(t.dir, 'repo');
    const first = await openLifeline({ dataDir: live, shell: 'cli' }); // the demo knowledge base
    await first.whenReady();
    expect(first.canBackUpWithoutPassphrase(repoDir)).toBe(false); // no repository there yet
    await expect(first.runBackup(repoDir)).rejects.toThrow(/creating one needs a passphrase/);
    await first.runBackup(repoDir, PASS);
    await first.close();
    // A new process: nothing unlocked in memory, only what the data root remembers.
    app = await openLifeline({ dataDir: live, shell: 'cli' });
    await app.whenReady();
  }, 90_000);
  afterAll(async () => {
    await app?.close().catch(() => undefined);
    t.cleanup();
  });

  it('runs after the first, stores only what is new (packed documents included), and restores like any other', async () => {
    expect(app.canBackUpWithoutPassphrase(repoDir)).toBe(true);
    const src = path.join(t.dir, 'new.md');
    fs.writeFileSync(src, '# 夜班交接\n夜班交接须在22:00前完成，并记录在交接本上。\n');
    expect((await app.knowledge.ingest('demo', [{ name: 'night-shift.md', path: src }])).files.map((f) => f.status)).toEqual(['added']);
    const r = await app.runBackup(repoDir);
    expect(r.pruneDeferred).toBe(true);
    // The new document, the catalog and the new segment: the five packed documents are not stored again.
    expect(r.newFiles).toBeGreaterThanOrEqual(2);
    expect(r.newFiles).toBeLessThanOrEqual(4);
    const again = await app.runBackup(repoDir);
    expect(again).toMatchObject({ newFiles: 0, bytesWritten: 0 });

    // With the passphrase, the repository reads as usual: the snapshots, every blob sound.
    const repo = await Repository.open(repoDir, PASS);
    const snaps = repo.snapshotFiles();
    expect(snaps.length).toBe(3);
    const m = repo.readSnapshot(snaps[1]!);
    expect(m.files.filter((f) => f.class === 'documents').length).toBe(6);
    const first = repo.readSnapshot(snaps[0]!);
    for (const d of first.files.filter((f) => f.class === 'documents')) {
      expect(m.files.find((f) => f.sha256 === d.sha256)).toMatchObject({ blob: d.blob, offset: d.offset });
    }
    expect((await verifyRepository(repo)).ok).toBe(true);

    // The restored root (an empty folder: a replacement machine) holds the new document.
    const restored = path.join(t.dir, 'restored');
    fs.mkdirSync(restored);
    const other = await openLifeline({ dataDir: restored, shell: 'cli', seedDemo: false });
    try {
      await other.runRestore(repoDir, PASS, snaps[1]!.replace(/\.age$/, ''));
      const kb = other.knowledge.listKbs().find((k) => k.name === 'demo')!;
      expect(kb.documents).toBe(6);
      // A restore unlocked the repository: the restored root backs up to it without the passphrase too.
      expect(other.canBackUpWithoutPassphrase(repoDir)).toBe(true);
    } finally {
      await other.close();
    }
  }, 120_000);

  it('leaves no secret on the data root, and its write key is not in the backups', async () => {
    const bytes = allBytes(live);
    expect(bytes.includes(Buffer.from('AGE-SECRET-KEY-'))).toBe(false);
    expect(bytes.includes(Buffer.from(PASS))).toBe(false);
    // The catalog a backup stores holds no write key (another data root restored from it starts without one).
    const repo = await Repository.open(repoDir, PASS);
    const m = repo.readSnapshot(repo.snapshotFiles().at(-1)!);
    const cat = m.files.find((f) => f.path === 'catalog.sqlite')!;
    const out = path.join(t.dir, 'catalog-from-backup.sqlite');
    await repo.getFile(cat.blob, cat.sha256, out);
    const db = new Database(out, { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'backup%'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('cannot read the repository: snapshots, verify and restore still need the passphrase', async () => {
    const repo = Repository.forWriting(repoDir, JSON.parse(app.db.prepare("SELECT value FROM meta WHERE key LIKE 'backup_writekey:%'").pluck().get() as string));
    expect(repo.canRead).toBe(false);
    expect(() => repo.readSnapshot(repo.snapshotFiles()[0]!)).toThrow(/needs its passphrase/);
    await expect(verifyRepository(repo)).rejects.toThrow(/needs its passphrase/);
  });

  it('refuses a drive whose marker names another recipient, or another repository in that folder, writing nothing', async () => {
    const marker = path.join(repoDir, 'lifeline-repo.json');
    const original = fs.readFileSync(marker, 'utf8');
    const before = listAll(repoDir);
    try {
      // Someone with the drive points the marker at their own key: no backup may be encrypted to it.
      const { generateIdentity } = await import('../../electron/core/backup/age.js');
      fs.writeFileSync(marker, JSON.stringify({ ...JSON.parse(original), recipient: generateIdentity().recipient }));
      const err = await app.runBackup(repoDir).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('repo-marker-altered');
      expect((err as Error).message).toContain(marker);
      expect(listAll(repoDir)).toEqual(before);
      // Another repository at the same path (the drive re-initialised): its first backup needs the passphrase.
      fs.writeFileSync(marker, JSON.stringify({ ...JSON.parse(original), id: 'feedfacefeedface' }));
      expect(app.canBackUpWithoutPassphrase(repoDir)).toBe(false);
      expect(codeOf(await app.runBackup(repoDir).catch((e: unknown) => e))).toBe('passphrase-needed');
      expect(listAll(repoDir)).toEqual(before);
    } finally {
      fs.writeFileSync(marker, original);
    }
  });

  it('runs on schedule with no passphrase file on the machine; a target it never unlocked fails, and says why', async () => {
    const never = path.join(t.dir, 'never-unlocked');
    await Repository.init(never, 'another passphrase 5678');
    await app.handlers['backup.setPolicy']({ targets: [repoDir, never], dailyAt: '00:00', passphraseFile: null });
    app.db.prepare("DELETE FROM meta WHERE key = 'last_backup_attempt'").run(); // due now
    const count = () => fs.readdirSync(path.join(repoDir, 'snapshots')).filter((n) => n.endsWith('.age')).length;
    const before = count();
    await app.runScheduledBackups();
    expect(count()).toBe(before + 1);
    const st = app.backupStatus();
    expect(st.lastGood?.repo).toBe(repoDir);
    expect(st.lastAttempt).toMatchObject({ repo: never, ok: false });
    expect(st.lastAttempt?.error).toMatch(/has not backed up to the repository in .*never-unlocked before: the first backup to it needs its passphrase/);
    expect(fs.readdirSync(path.join(never, 'snapshots'))).toEqual([]);
    await app.runScheduledBackups(); // done for today: nothing runs again
    expect(count()).toBe(before + 1);
  });

  it('from the command line: no passphrase asked (no terminal, no file), and the line says pruning waits for it', async () => {
    await app.close(); // the command takes the data root's lock
    const cli = LIFELINE_BIN;
    const r = spawnSync(process.execPath, [cli, 'backup', '--repo', repoDir, '--data', live, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ newFiles: 0, pruneDeferred: true });
    // A repository it never unlocked still needs the passphrase (and says how to give it).
    const r2 = spawnSync(process.execPath, [cli, 'backup', '--repo', path.join(t.dir, 'elsewhere'), '--data', live], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/--passphrase-file/);
  }, 240_000);

  it('is still possible after a restore over the live data root, which keeps this machine\'s schedule and backup record', async () => {
    app = await openLifeline({ dataDir: live, shell: 'cli' });
    await app.whenReady();
    const other = path.join(t.dir, 'second-drive');
    await app.runBackup(other, 'a second passphrase 42'); // another repository, unlocked once
    await app.handlers['backup.setPolicy']({ targets: [repoDir, other], dailyAt: '03:15', keepLogDays: 40 });
    const before = app.backupStatus();
    await app.runRestore(repoDir, PASS);
    const after = app.backupStatus();
    expect(after.policy).toEqual(before.policy);
    expect(after.lastGood).toEqual(before.lastGood);
    // A new process (nothing unlocked in memory): both write keys are on the restored root.
    await app.close();
    app = await openLifeline({ dataDir: live, shell: 'cli' });
    await app.whenReady();
    expect(app.canBackUpWithoutPassphrase(other)).toBe(true);
    expect(app.canBackUpWithoutPassphrase(repoDir)).toBe(true);
    expect((await app.runBackup(other)).pruneDeferred).toBe(true);
  }, 120_000);
});
