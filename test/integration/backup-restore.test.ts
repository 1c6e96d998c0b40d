// Backups to a real ext4 filesystem on a loop device (the "USB drive"), restored into an empty
// folder and over a live data root; a flipped byte in any blob is reported by verify; a wrong
// passphrase, a full drive and a drive pulled mid-restore change nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { decryptWithPassphrase } from '../../electron/core/backup/age.js';
import { lifeline } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/env.js';
import { canUseLoopDevices, createLoopDrive, detachAllLoopDrives, type LoopDrive } from '../helpers/loopdev.js';

const loop = canUseLoopDevices();
if (!loop.ok) console.warn(`skipping the USB-drive backup tests: ${loop.reason}`);
const PASS = 'correct horse battery staple';
const QUESTIONS = ['如何请假？', 'What should I do before powering the disks after a power cut?', '阿莫西林成人一次服用多少？', 'What are the visiting hours on general wards?'];

function answers(data: string): string[] {
  return QUESTIONS.map((q) => {
    const r = lifeline(['ask', q, '--json', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    const { tookMs: _t, ...rest } = r.json();
    // Row ids are internal: a restored knowledge base gets new ones; everything else must match.
    return JSON.stringify(rest, (k, v) => (k === 'chunkId' ? undefined : v));
  });
}

const blobFiles = (repo: string) =>
  (fs.readdirSync(path.join(repo, 'data'), { recursive: true }) as string[]).map((f) => path.join(repo, 'data', f)).filter((f) => f.endsWith('.age'));

describe.skipIf(!loop.ok)('backups on a USB drive (loop-mounted ext4)', () => {
  const t = tempDir();
  const data = path.join(t.dir, 'live');
  const passFile = path.join(t.dir, 'pass.txt');
  let drive: LoopDrive;
  let repo: string;
  let good: string[];

  beforeAll(() => {
    fs.writeFileSync(passFile, PASS + '\n', { mode: 0o600 });
    drive = createLoopDrive({ sizeMiB: 48, label: 'LIFELINE-USB' });
    repo = path.join(drive.mountpoint, 'lifeline-backups');
    good = answers(data);
  });
  afterAll(() => {
    detachAllLoopDrives();
    t.cleanup();
  });

  it('makes an encrypted snapshot, and a second backup of an unchanged root adds only a manifest', () => {
    const first = lifeline(['backup', '--repo', repo, '--passphrase-file', passFile, '--json', '--data', data]);
    expect(first.status, first.stderr).toBe(0);
    const r1 = first.json();
    expect(r1.newFiles).toBe(r1.files);
    expect(fs.existsSync(path.join(repo, 'lifeline-repo.json'))).toBe(true);
    // Blob names do not reveal the content hashes the drive's files would have.
    const sums = fs.readFileSync(path.join(data, 'SHA256SUMS'), 'utf8');
    for (const b of blobFiles(repo)) expect(sums).not.toContain(path.basename(b, '.age'));
    const second = lifeline(['backup', '--repo', repo, '--passphrase-file', passFile, '--json', '--data', data]).json();
    expect(second).toMatchObject({ newFiles: 0, bytesWritten: 0 });
    expect(fs.readdirSync(path.join(repo, 'snapshots'))).toHaveLength(2);
  });

  it('can be decrypted by hand with the standard age tool', () => {
    const key = path.join(t.dir, 'repo.key');
    // The key file is passphrase-encrypted in the age format; the age CLI asks on a terminal,
    // so the identity is unwrapped here and the blob decrypted by `age -d -i`.
    return decryptWithPassphrase(fs.readFileSync(path.join(repo, 'keys', 'repo-key.age')), PASS).then((id) => {
      fs.writeFileSync(key, id, { mode: 0o600 });
      const list = lifeline(['backups', 'list', '--repo', repo, '--passphrase-file', passFile, '--json']).json();
      expect(list.length).toBe(2);
      const snap = fs.readdirSync(path.join(repo, 'snapshots')).sort()[0]!;
      const manifest = spawnSync('age', ['-d', '-i', key, path.join(repo, 'snapshots', snap)], { encoding: 'utf8' });
      expect(manifest.status, manifest.stderr).toBe(0);
      const m = JSON.parse(manifest.stdout) as { files: { path: string; blob: string; sha256: string; offset?: number }[] };
      const sha256sum = (b: Buffer) => spawnSync('sha256sum', { input: b, encoding: 'utf8' }).stdout.split(' ')[0];
      const decrypt = (blob: string) => spawnSync('age', ['-d', '-i', key, path.join(repo, 'data', blob.slice(0, 2), `${blob}.age`)], { maxBuffer: 64 << 20 });
      // A file of its own (the catalog): age -d gives its bytes.
      const catalog = m.files.find((f) => f.path === 'catalog.sqlite')!;
      expect(catalog.offset).toBeUndefined();
      const out = decrypt(catalog.blob);
      expect(out.status).toBe(0);
      expect(sha256sum(out.stdout)).toBe(catalog.sha256);
      // The documents are packed: age -d gives a tar archive whose members are named by sha256.
      const docs = m.files.filter((f) => f.path.startsWith('blobs/'));
      expect(docs.length).toBe(5);
      expect(new Set(docs.map((d) => d.blob)).size).toBe(1);
      const pack = decrypt(docs[0]!.blob);
      expect(pack.status).toBe(0);
      expect(spawnSync('tar', ['-tf', '-'], { input: pack.stdout, encoding: 'utf8' }).stdout.trim().split('\n').sort()).toEqual(docs.map((d) => d.sha256).sort());
      for (const d of docs) expect(sha256sum(spawnSync('tar', ['-xOf', '-', d.sha256], { input: pack.stdout }).stdout)).toBe(d.sha256);
    });
  });

  it('restores into an empty folder (a replacement machine) and answers exactly as the original', () => {
    const fresh = path.join(t.dir, 'replacement');
    fs.mkdirSync(fresh);
    const r = lifeline(['restore', '--repo', repo, '--passphrase-file', passFile, '--json', '--data', fresh]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.json().staged.verify.ok).toBe(true);
    expect(r.json().after).toEqual([expect.objectContaining({ name: 'demo', documents: 5 })]);
    expect(answers(fresh)).toEqual(good);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: fresh }).status).toBe(0);
  });

  it('refuses a wrong passphrase with exit 2 and changes nothing', () => {
    const bad = path.join(t.dir, 'bad.txt');
    fs.writeFileSync(bad, 'not the passphrase');
    const before = fs.readdirSync(data).sort();
    const r = lifeline(['restore', '--repo', repo, '--passphrase-file', bad, '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/wrong passphrase/);
    expect(fs.readdirSync(data).sort()).toEqual(before);
    expect(answers(data)).toEqual(good);
  });

  it('restores over a live data root, keeps the previous one, and rolls back', () => {
    // Change the live root after the backup: a new knowledge base the snapshot does not have.
    writeFiles(t.dir, { 'extra/new.md': '# 新制度\n夜班交接须在22:00前完成。' });
    expect(lifeline(['kb', 'create', 'night', '--data', data]).status).toBe(0);
    expect(lifeline(['ingest', path.join(t.dir, 'extra'), '--kb', 'night', '--data', data]).status).toBe(0);
    const r = lifeline(['restore', '--repo', repo, '--passphrase-file', passFile, '--json', '--data', data]).json();
    expect(r.before.map((k: { name: string }) => k.name)).toEqual(['demo', 'night']);
    expect(r.after.map((k: { name: string }) => k.name)).toEqual(['demo']);
    expect(fs.existsSync(r.previous)).toBe(true);
    expect(answers(data)).toEqual(good);
    expect(lifeline(['restore', '--rollback', '--data', data]).status).toBe(0);
    expect(lifeline(['kb', 'list', '--json', '--data', data]).json().map((k: { name: string }) => k.name)).toEqual(['demo', 'night']);
  });

  it('restores one knowledge base and leaves the others as they are', () => {
    // Live: demo (with one document removed since the backup) and night (not in the snapshot).
    expect(lifeline(['kb', 'remove-document', 'demo', 'visitor-policy.md', '--data', data]).status).toBe(0);
    const r = lifeline(['restore', '--repo', repo, '--kb', 'demo', '--passphrase-file', passFile, '--json', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    const kbs = lifeline(['kb', 'list', '--json', '--data', data]).json();
    expect(kbs.map((k: { name: string; documents: number }) => [k.name, k.documents])).toEqual([
      ['demo', 5],
      ['night', 1],
    ]);
    // The replaced demo is kept as a deleted knowledge base (recoverable), not thrown away.
    expect(lifeline(['kb', 'deleted', '--json', '--data', data]).json().map((k: { name: string }) => k.name)).toEqual(['demo']);
    expect(answers(data)).toEqual(good);
    expect(lifeline(['verify', '--deep', '--data', data]).status).toBe(0);
    const missing = lifeline(['restore', '--repo', repo, '--kb', 'nope', '--passphrase-file', passFile, '--data', data]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no knowledge base named "nope"/);
  });

  it('reports a flipped byte or a truncated blob by snapshot and file, with exit 1', () => {
    const blobs = blobFiles(repo);
    const victim = blobs[0]!;
    const saved = fs.readFileSync(victim);
    try {
      const b = Buffer.from(saved);
      b[b.length - 20]! ^= 0x01;
      fs.writeFileSync(victim, b);
      const v = lifeline(['backups', 'verify', '--repo', repo, '--passphrase-file', passFile, '--json']);
      expect(v.status).toBe(1);
      const damaged = v.json().damaged;
      expect(damaged.length).toBeGreaterThanOrEqual(1);
      expect(damaged[0]).toMatchObject({ blob: path.basename(victim, '.age') });
      expect(damaged[0].file).toBeTruthy();
      expect(damaged[0].snapshot).toBeTruthy();
      fs.writeFileSync(victim, saved.subarray(0, saved.length - 100));
      expect(lifeline(['backups', 'verify', '--repo', repo, '--passphrase-file', passFile]).status).toBe(1);
    } finally {
      fs.writeFileSync(victim, saved);
    }
    expect(lifeline(['backups', 'verify', '--repo', repo, '--passphrase-file', passFile]).status).toBe(0);
  });
});

describe.skipIf(!loop.ok)('a full or pulled drive', () => {
  const t = tempDir();
  afterEach(() => detachAllLoopDrives());
  afterAll(() => t.cleanup());

  it('reports a full drive plainly and leaves the repository valid', () => {
    const data = path.join(t.dir, 'big');
    const passFile = path.join(t.dir, 'pass.txt');
    fs.writeFileSync(passFile, PASS);
    lifeline(['ask', 'x', '--data', data]);
    const drive = createLoopDrive({ sizeMiB: 8, label: 'TINY' });
    const repo = path.join(drive.mountpoint, 'repo');
    expect(lifeline(['backup', '--repo', repo, '--passphrase-file', passFile, '--data', data]).status).toBe(0);
    // A document larger than the space left on the drive.
    const big = path.join(t.dir, 'docs', 'big.txt');
    fs.mkdirSync(path.dirname(big), { recursive: true });
    fs.writeFileSync(big, Array.from({ length: 120_000 }, (_, i) => `第${i}行：随机内容${(i * 7919) % 100003}。`).join('\n'));
    expect(lifeline(['kb', 'create', 'big', '--data', data]).status).toBe(0);
    expect(lifeline(['ingest', big, '--kb', 'big', '--data', data]).status).toBe(0);
    const r = lifeline(['backup', '--repo', repo, '--passphrase-file', passFile, '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/disk is full/);
    // The repository still holds its first snapshot, intact, and no temp files.
    expect(lifeline(['backups', 'verify', '--repo', repo, '--passphrase-file', passFile]).status).toBe(0);
    expect(lifeline(['backups', 'list', '--repo', repo, '--passphrase-file', passFile, '--json']).json()).toHaveLength(1);
    const leftovers = (fs.readdirSync(path.join(repo, 'data'), { recursive: true }) as string[]).filter((f) => f.includes('.tmp-'));
    expect(leftovers).toEqual([]);
  }, 120_000);

  it('leaves the live data root untouched when the drive is pulled in the middle of a restore', async () => {
    const data = path.join(t.dir, 'live2');
    const passFile = path.join(t.dir, 'pass2.txt');
    fs.writeFileSync(passFile, PASS);
    const good = answers(data);
    // A month of recovery reports: each is a blob of its own (the documents share one pack), so
    // the restore still has files to read from the drive when it is pulled.
    fs.mkdirSync(path.join(data, 'reports'), { recursive: true });
    for (let d = 1; d <= 24; d++) fs.writeFileSync(path.join(data, 'reports', `recovery-2026-11-${String(d).padStart(2, '0')}.html`), `<p>${'report '.repeat(8000)}${d}</p>`);
    const drive = createLoopDrive({ sizeMiB: 32, label: 'PULLME' });
    const repo = path.join(drive.mountpoint, 'repo');
    expect(lifeline(['backup', '--repo', repo, '--passphrase-file', passFile, '--data', data]).status).toBe(0);
    const before = fs.readdirSync(data).sort();
    const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
    let pulled = false;
    const off = app.jobs.onUpdate((j) => {
      if (j.kind === 'restore' && j.done >= 1 && j.done < j.total && !pulled) {
        pulled = true;
        drive.pull();
      }
    });
    await expect(app.runRestore(repo, PASS)).rejects.toThrow(/pulled out|stopped answering|disappeared/);
    off();
    expect(pulled).toBe(true);
    await app.close();
    expect(fs.readdirSync(data).filter((n) => !n.startsWith('catalog.sqlite-')).sort()).toEqual(before.filter((n) => !n.startsWith('catalog.sqlite-')));
    expect(answers(data)).toEqual(good);
  }, 120_000);
});
