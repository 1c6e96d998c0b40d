// Retention, as the reference site keeps its backups: the knowledge indexes (in the snapshots)
// daily for 7 days, original documents always, models once, logs 30 days. What a user relies on: a
// prune removes exactly the snapshots past the retention and the blobs only they used; a document
// deleted from the data root stays in the backups for good, across any number of prunes; the
// recovery reports stay 30 days; the repository still verifies; and where backups are made with
// the write key (which cannot prune), the Backups status says how many snapshots wait for a prune.
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
  let reportBlob = '';

  beforeAll(async () => {
    t = tempDir('lifeline-retention-');
    repoDir = path.join(t.dir, 'repo');
    app = await openLifeline({ dataDir: path.join(t.dir, 'live'), shell: 'cli' }); // the demo knowledge base
    await app.whenReady();
    // A manual too large for a pack: a blob of its own, which only the old snapshots will name.
    const manual = path.join(t.dir, 'manual.md');
    fs.writeFileSync(manual, Array.from({ length: 20_000 }, (_, i) => `第${i}条：停电后先检查UPS与交换机，再重启容器。`).join('\n'));
    await app.knowledge.ingest('demo', [{ name: 'manual.md', path: manual }]);
    // A recovery report (a log), on the data root at the first backup only.
    fs.mkdirSync(path.join(t.dir, 'live', 'reports'), { recursive: true });
    fs.writeFileSync(path.join(t.dir, 'live', 'reports', 'recovery-2026-11-17.md'), '# 恢复报告\n停电后恢复，用时 40 分钟。\n');
    await app.runBackup(repoDir, PASS);
    const repo = await Repository.open(repoDir, PASS);
    const [first] = repo.snapshotFiles();
    const m1 = repo.readSnapshot(first!);
    oldCatalogBlob = m1.files.find((f) => f.path === 'catalog.sqlite')!.blob;
    docsBlobs = [...new Set(m1.files.filter((f) => f.class === 'documents').map((f) => f.blob))];
    manualBlob = m1.files.find((f) => f.class === 'documents' && f.offset === undefined)!.blob;
    reportBlob = m1.files.find((f) => f.class === 'logs')!.blob;
    // That snapshot as if made 40, 10, 9 and 8 days ago (the same files), and the original gone.
    for (const daysAgo of [40, 10, 9, 8]) {
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
    fs.rmSync(path.join(t.dir, 'live', 'reports', 'recovery-2026-11-17.md'));
    expect((await app.runBackup(repoDir)).pruneDeferred).toBe(true); // by write key: it prunes nothing
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    t.cleanup();
  });

  it('waits, when backups are made by write key, and the Backups status says how many snapshots wait', async () => {
    expect(snapshotsPastRetention(repoDir, 7)).toBe(4);
    expect(app.backupStatus().pruneDue).toEqual([{ repo: repoDir, snapshots: 4 }]);
  });

  it('removes the snapshots past the retention and the blobs only they used, keeps every original document and the logs of 30 days, and leaves a repository that verifies', async () => {
    const repo = await Repository.open(repoDir, PASS);
    // A prune cut short (by an older version) left a retained manifest beside the 8-day-old
    // snapshot, naming only a document today's snapshot names as well: the snapshot decides what
    // its retained manifest holds, and that is not lost to the stale one.
    const full = repo.snapshotFiles().map((f) => repo.readSnapshot(f)).filter((m) => !m.retained);
    const eight = full[3]!;
    const stale = eight.files.filter((f) => f.class === 'documents' && f.offset !== undefined).slice(0, 1);
    repo.writeManifest({ ...eight, retained: true, knowledgeBases: [], files: stale, sha256sums: stale.map((f) => `${f.sha256}  ${f.path}`).join('\n') + '\n' });
    const r = pruneRepository(repo, 7);
    expect(r.removedSnapshots.length).toBe(4);
    expect(repo.hasBlob(oldCatalogBlob)).toBe(false); // the old catalog: only the pruned snapshots had it
    expect(r.removedBlobs).toBeGreaterThanOrEqual(1);
    // The three within 30 days are replaced by retained manifests: each keeps the report, and the
    // newest also the deleted manual. The one from 40 days ago goes entirely (its report is past
    // 30 days, and the manual is kept by the newer one).
    expect(r.retained.length).toBe(3);
    const left = repo.snapshotFiles();
    expect(left.filter((f) => f.endsWith('.retained.age')).length).toBe(3);
    expect(left.filter((f) => !f.endsWith('.retained.age')).length).toBe(1);
    const held = left.slice(0, 3).map((f) => repo.readSnapshot(f));
    for (const m of held) expect(m).toMatchObject({ retained: true, knowledgeBases: [] });
    expect(held.map((m) => m.files.map((f) => f.path).sort())).toEqual([
      ['reports/recovery-2026-11-17.md'],
      ['reports/recovery-2026-11-17.md'],
      [expect.stringMatching(/^blobs\//), 'reports/recovery-2026-11-17.md'],
    ]);
    expect(held[2]!.files.find((f) => f.class === 'documents')!.blob).toBe(manualBlob);
    expect(repo.hasBlob(reportBlob)).toBe(true);
    for (const b of [...docsBlobs, manualBlob]) expect(repo.hasBlob(b)).toBe(true);
    // A retained manifest is not a data root: restoring it is refused, saying why; the latest is the full one.
    expect(() => repo.findSnapshot(held[0]!.id)).toThrow(/holds only what the retention keeps/);
    expect(repo.findSnapshot().manifest.retained).toBeUndefined();
    expect((await verifyRepository(repo)).ok).toBe(true);
    expect(snapshotsPastRetention(repoDir, 7)).toBe(0);
    expect(app.backupStatus().pruneDue).toEqual([]);

    // 25 days on, the report is past its 30 days: two retained manifests go, the third keeps only the manual.
    const r2 = pruneRepository(repo, 7, new Date(Date.now() + 25 * DAY));
    expect(r2.removedSnapshots.length).toBe(2);
    expect(repo.snapshotFiles().length).toBe(2);
    expect(repo.hasBlob(reportBlob)).toBe(false);
    expect(repo.readSnapshot(repo.snapshotFiles()[0]!).files.map((f) => f.blob)).toEqual([manualBlob]);
    // A year on, and pruned again: the deleted manual is still there, still named.
    pruneRepository(repo, 7, new Date(Date.now() + 400 * DAY));
    expect(repo.hasBlob(manualBlob)).toBe(true);
    expect(repo.snapshotFiles().length).toBe(2);
    expect((await verifyRepository(repo)).ok).toBe(true);
  });
});
