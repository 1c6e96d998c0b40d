// Retention, as the reference site keeps its backups: the knowledge indexes (in the snapshots)
// daily for 7 days, original documents always, models once. What a user relies on: a prune
// removes exactly the snapshots past the retention and the blobs only they used, never an original
// document, and the repository still verifies and restores; and where backups are made with the
// write key (which cannot prune), the Backups status says how many snapshots wait for a prune.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { pruneRepository, snapshotsPastRetention, snapshotsToKeep, verifyRepository } from '../../electron/core/backup/backup.js';
import { Repository, type SnapshotManifest } from '../../electron/core/backup/repo.js';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const DAY = 86_400_000;

describe('which snapshots the retention keeps', () => {
  const now = new Date('2026-11-27T03:00:00.000Z');
  const at = (daysAgo: number, hour: number) => new Date(now.getTime() - daysAgo * DAY).toISOString().slice(0, 11) + `${String(hour).padStart(2, '0')}:00:00.000Z`;

  it('keeps the newest of each of the last 7 days, everything from the last 24 hours, and always the newest', () => {
    // Two a day (02:00 and 14:00) for 12 days, and one an hour ago.
    const snaps = [];
    for (let d = 12; d >= 1; d--) for (const h of [2, 14]) snaps.push({ file: `s-${d}-${h}`, time: at(d, h) });
    snaps.push({ file: 'now', time: new Date(now.getTime() - 3_600_000).toISOString() });
    const keep = snapshotsToKeep(snaps, 7, now);
    // Days 1..6 ago keep their 14:00 one; today keeps "now"; the last 24 hours keep yesterday's 14:00 too (already kept).
    expect([...keep].sort()).toEqual(['now', 's-1-14', 's-2-14', 's-3-14', 's-4-14', 's-5-14', 's-6-14'].sort());
    // Nothing new for a month: the newest stays even though it is past the retention.
    expect([...snapshotsToKeep(snaps.slice(0, 4), 7, new Date(now.getTime() + 30 * DAY))]).toEqual(['s-11-14']);
  });
});

describe('a prune', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let repoDir = '';
  let oldCatalogBlob = '';
  let docsBlobs: string[] = [];
  let manualBlob = '';

  beforeAll(async () => {
    t = tempDir('lifeline-retention-');
    repoDir = path.join(t.dir, 'repo');
    app = await openLifeline({ dataDir: path.join(t.dir, 'live'), shell: 'cli' }); // the demo knowledge base
    await app.whenReady();
    // A manual too large for a pack: a blob of its own, which only the old snapshots will name.
    const manual = path.join(t.dir, 'manual.md');
    fs.writeFileSync(manual, Array.from({ length: 20_000 }, (_, i) => `第${i}条：停电后先检查UPS与交换机，再重启容器。`).join('\n'));
    await app.knowledge.ingest('demo', [{ name: 'manual.md', path: manual }]);
    await app.runBackup(repoDir, PASS);
    const repo = await Repository.open(repoDir, PASS);
    const [first] = repo.snapshotFiles();
    const m1 = repo.readSnapshot(first!);
    oldCatalogBlob = m1.files.find((f) => f.path === 'catalog.sqlite')!.blob;
    docsBlobs = [...new Set(m1.files.filter((f) => f.class === 'documents').map((f) => f.blob))];
    manualBlob = m1.files.find((f) => f.class === 'documents' && f.offset === undefined)!.blob;
    // That snapshot as if made 10, 9 and 8 days ago (the same files), and the original gone.
    for (const daysAgo of [10, 9, 8]) {
      const old: SnapshotManifest = { ...m1, id: `0${daysAgo}`.padStart(8, 'a'), time: new Date(Date.now() - daysAgo * DAY).toISOString() };
      await repo.writeSnapshot(old);
    }
    repo.removeSnapshot(first!);
    // A new process: nothing unlocked in memory, so the next backup is by write key.
    await app.close();
    app = await openLifeline({ dataDir: path.join(t.dir, 'live'), shell: 'cli' });
    await app.whenReady();
    // Then the knowledge changes, and today's backup stores a new catalog.
    const src = path.join(t.dir, 'new.md');
    fs.writeFileSync(src, '# 夜班交接\n夜班交接须在22:00前完成。\n');
    await app.knowledge.ingest('demo', [{ name: 'night-shift.md', path: src }]);
    app.knowledge.deleteDocument('demo', 'manual.md');
    expect((await app.runBackup(repoDir)).pruneDeferred).toBe(true); // by write key: it prunes nothing
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    t.cleanup();
  });

  it('waits, when backups are made by write key, and the Backups status says how many snapshots wait', async () => {
    expect(snapshotsPastRetention(repoDir, 7)).toBe(3);
    expect(app.backupStatus().pruneDue).toEqual([{ repo: repoDir, snapshots: 3 }]);
  });

  it('removes the snapshots past the retention and the blobs only they used, keeps every original document, and leaves a repository that verifies', async () => {
    const repo = await Repository.open(repoDir, PASS);
    const r = pruneRepository(repo, 7);
    expect(r.removedSnapshots.length).toBe(3);
    expect(repo.snapshotFiles().length).toBe(1);
    expect(repo.hasBlob(oldCatalogBlob)).toBe(false); // the old catalog: only the pruned snapshots had it
    expect(r.removedBlobs).toBeGreaterThanOrEqual(1);
    // Original documents: always, even one no kept snapshot names any more.
    expect(repo.readSnapshot(repo.snapshotFiles()[0]!).files.some((f) => f.blob === manualBlob)).toBe(false);
    for (const b of [...docsBlobs, manualBlob]) expect(repo.hasBlob(b)).toBe(true);
    expect((await verifyRepository(repo)).ok).toBe(true);
    expect(snapshotsPastRetention(repoDir, 7)).toBe(0);
    expect(app.backupStatus().pruneDue).toEqual([]);
  });
});
