// Small documents are stored in packs (a tar archive per blob): a backup of thousands of
// documents writes a few files to the drive. What a user relies on: the standard tar reads a pack,
// an unchanged document is never stored again (wherever it was stored before, in a pack or as a
// blob of its own by an earlier version), a damaged pack names every document in it, and a
// manifest that places a file where its pack does not hold it is caught.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { verifyRepository } from '../../electron/core/backup/backup.js';
import { PackBuilder, packMember, tarHeader } from '../../electron/core/backup/pack.js';
import { type ManifestFile, type SnapshotManifest, Repository } from '../../electron/core/backup/repo.js';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const hasTar = spawnSync('tar', ['--version']).status === 0;

describe('a pack', () => {
  it.skipIf(!hasTar)('is a tar archive the standard tar lists and extracts, each member named by its sha256', () => {
    const t = tempDir('lifeline-pack-');
    try {
      const contents = [0, 1, 511, 512, 513, 4096, 70_000].map((n) => crypto.randomBytes(n));
      const b = new PackBuilder();
      const offsets = contents.map((c) => b.add(sha(c), c));
      expect(b.add(sha(contents[2]!), contents[2]!)).toBe(offsets[2]); // the same content once
      const { parts, sha256, bytes } = b.finish();
      const archive = Buffer.concat(parts);
      expect(archive.length).toBe(bytes);
      expect(sha(archive)).toBe(sha256);
      fs.writeFileSync(path.join(t.dir, 'p.tar'), archive);
      const out = path.join(t.dir, 'out');
      fs.mkdirSync(out);
      const x = spawnSync('tar', ['-xf', path.join(t.dir, 'p.tar'), '-C', out], { encoding: 'utf8' });
      expect(x.status, x.stderr).toBe(0);
      expect(fs.readdirSync(out).sort()).toEqual(contents.map(sha).sort());
      for (const [i, c] of contents.entries()) {
        expect(fs.readFileSync(path.join(out, sha(c))).equals(c)).toBe(true);
        expect(packMember(archive, sha(c), offsets[i]!, c.length)!.equals(c)).toBe(true);
      }
      // A manifest that points elsewhere gets nothing.
      expect(packMember(archive, sha(contents[1]!), offsets[0]!, 1)).toBeNull();
      expect(packMember(archive, sha(contents[6]!), offsets[6]! + 512, 10)).toBeNull();
      expect(packMember(archive, sha(contents[6]!), offsets[6]!, archive.length)).toBeNull();
      expect(() => tarHeader('x'.repeat(101), 1)).toThrow(/too long/);
    } finally {
      t.cleanup();
    }
  });
});

describe('documents in packs', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let live = '';
  let repoDir = '';
  const manifests = async (): Promise<SnapshotManifest[]> => {
    const repo = await Repository.open(repoDir, PASS);
    return repo.snapshotFiles().map((f) => repo.readSnapshot(f));
  };
  const docs = (m: SnapshotManifest): ManifestFile[] => m.files.filter((f) => f.class === 'documents');

  beforeAll(async () => {
    t = tempDir('lifeline-packs-');
    live = path.join(t.dir, 'live');
    repoDir = path.join(t.dir, 'repo');
    app = await openLifeline({ dataDir: live, shell: 'cli' }); // the demo knowledge base
    await app.whenReady();
  }, 60_000);
  afterAll(async () => {
    await app.close();
    t.cleanup();
  });

  it('go into one pack on the first backup, and a new document adds a pack of its own: the others are not stored again', async () => {
    const first = await app.runBackup(repoDir, PASS);
    const [m1] = await manifests();
    const d1 = docs(m1!);
    expect(d1.length).toBe(5);
    expect(new Set(d1.map((d) => d.blob)).size).toBe(1);
    expect(d1.every((d) => typeof d.offset === 'number')).toBe(true);
    // Fewer files on the drive than files backed up: the five documents are one.
    const onDrive = (fs.readdirSync(path.join(repoDir, 'data'), { recursive: true }) as string[]).filter((f) => f.endsWith('.age'));
    expect(onDrive.length).toBe(first.files - 4);

    const src = path.join(t.dir, 'new.md');
    fs.writeFileSync(src, '# 夜班交接\n夜班交接须在22:00前完成，并记录在交接本上。\n');
    const report = await app.knowledge.ingest('demo', [{ name: 'night-shift.md', path: src }]);
    expect(report.files.map((f) => f.status)).toEqual(['added']);
    const second = await app.runBackup(repoDir, PASS);
    const m2 = (await manifests())[1]!;
    const d2 = docs(m2);
    expect(d2.length).toBe(6);
    // The five documents are where they were; the new one is in a new pack.
    for (const d of d1) expect(d2.find((x) => x.sha256 === d.sha256)).toMatchObject({ blob: d.blob, offset: d.offset });
    const added = d2.find((x) => !d1.some((d) => d.sha256 === x.sha256))!;
    expect(added.blob).not.toBe(d1[0]!.blob);
    // New: the document, the catalog and the knowledge base's new segment; nothing else.
    expect(second.newFiles).toBeLessThanOrEqual(4);
    expect(second.newFiles).toBeGreaterThanOrEqual(2);
    const third = await app.runBackup(repoDir, PASS);
    expect(third).toMatchObject({ newFiles: 0, bytesWritten: 0 });
  }, 60_000);

  it('verify names every document of a damaged pack, in every snapshot that has it', async () => {
    const pack = docs((await manifests())[0]!)[0]!.blob;
    const file = path.join(repoDir, 'data', pack.slice(0, 2), `${pack}.age`);
    const saved = fs.readFileSync(file);
    try {
      const b = Buffer.from(saved);
      b[b.length - 30]! ^= 0x40;
      fs.writeFileSync(file, b);
      const v = await verifyRepository(await Repository.open(repoDir, PASS));
      expect(v.ok).toBe(false);
      const named = v.damaged.filter((d) => d.blob === pack);
      expect(named.length).toBe(5 * 3); // five documents in each of the three snapshots
      expect(new Set(named.map((d) => d.snapshot)).size).toBe(3);
      expect(named.every((d) => d.file.startsWith('blobs/'))).toBe(true);
    } finally {
      fs.writeFileSync(file, saved);
    }
    expect((await verifyRepository(await Repository.open(repoDir, PASS))).ok).toBe(true);
  }, 60_000);

  it('a manifest that places a document where its pack does not hold it fails verify and restore, naming the file', async () => {
    const repo = await Repository.open(repoDir, PASS);
    const latest = repo.snapshotFiles().at(-1)!;
    const m = repo.readSnapshot(latest);
    const victim = docs(m)[0]!;
    const forged: SnapshotManifest = { ...m, id: 'f0f0f0f0', time: new Date(Date.now() + 1000).toISOString(), files: m.files.map((f) => (f === victim ? { ...f, offset: f.offset! + 512 } : f)) };
    const name = await repo.writeSnapshot(forged);
    try {
      const v = await verifyRepository(repo);
      expect(v.damaged.some((d) => d.snapshot === name.replace(/\.age$/, '') && d.file === victim.path)).toBe(true);
      const target = path.join(t.dir, 'restore-forged');
      fs.mkdirSync(target);
      const other = await openLifeline({ dataDir: target, shell: 'cli', seedDemo: false });
      try {
        await expect(other.runRestore(repoDir, PASS, 'f0f0f0f0')).rejects.toThrow(/blobs\/.*does not hold.*nothing was changed/);
        expect(fs.readdirSync(target).filter((n) => n.startsWith('.restore-staging'))).toEqual([]);
      } finally {
        await other.close();
      }
    } finally {
      repo.removeSnapshot(name);
    }
  }, 60_000);

  it('documents stored as blobs of their own (before packs) restore as they are, and are not stored again', async () => {
    // A snapshot as the earlier version wrote it: every document a blob named by its own hash.
    const repo = await Repository.open(repoDir, PASS);
    const m = repo.readSnapshot(repo.snapshotFiles().at(-1)!);
    const w = repo.blobWriter();
    const files: ManifestFile[] = [];
    for (const f of m.files) {
      if (f.class !== 'documents') {
        files.push(f);
        continue;
      }
      const blob = repo.blobName(f.sha256);
      await w.put(path.join(live, f.path), blob, { sha256: f.sha256 });
      files.push({ path: f.path, sha256: f.sha256, size: f.size, blob, class: f.class });
    }
    await w.finish();
    const old: SnapshotManifest = { ...m, id: 'a1a1a1a1', time: new Date(Date.now() + 2000).toISOString(), files };
    await repo.writeSnapshot(old);
    const target = path.join(t.dir, 'restore-old');
    fs.mkdirSync(target);
    const other = await openLifeline({ dataDir: target, shell: 'cli', seedDemo: false });
    try {
      const r = await other.runRestore(repoDir, PASS, 'a1a1a1a1');
      expect(r.staged.verify.ok).toBe(true);
      expect(r.after).toEqual([expect.objectContaining({ name: 'demo', documents: 6 })]);
    } finally {
      await other.close();
    }
    // The next backup finds every document stored (some as blobs of their own now) and adds none.
    const next = await app.runBackup(repoDir, PASS);
    expect(next.newFiles).toBe(0);
    const latest = (await manifests()).at(-1)!;
    expect(docs(latest).every((d) => d.offset === undefined ? repo.hasBlob(d.blob) && d.blob === repo.blobName(d.sha256) : true)).toBe(true);
    expect((await verifyRepository(await Repository.open(repoDir, PASS))).ok).toBe(true);
  }, 60_000);
});
