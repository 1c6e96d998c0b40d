// After a full restore swaps the verified files in, the app reloads its indexes: the approximate
// index the staged verify loaded is used as it is (not read, hashed and loaded a second time), and
// search answers as it did before the backup.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
let t: { dir: string; cleanup: () => void };
afterAll(() => t?.cleanup());

let openLifeline: typeof import('../../electron/core/app.js').openLifeline;
beforeAll(async () => {
  // A small threshold, read when the vectors module loads: the demo knowledge base gets an IVF index.
  process.env.LIFELINE_ANN_MIN_VECTORS = '40';
  ({ openLifeline } = await import('../../electron/core/app.js'));
  t = tempDir('lifeline-reload-');
});

describe('the reload after a full restore', () => {
  it('uses the approximate index the staged verify loaded, and searches as before the backup', async () => {
    const live = path.join(t.dir, 'live');
    const app = await openLifeline({ dataDir: live, shell: 'cli' }); // the demo knowledge base
    const ivf = (fs.readdirSync(path.join(live, 'segments')) as string[]).filter((f) => f.endsWith('.ivf'));
    expect(ivf).toHaveLength(1);
    const question = '如何请假？';
    const before = (await app.knowledge.search(question)).map((p) => p.chunkId);
    await app.runBackup(path.join(t.dir, 'repo'), PASS);
    await app.close();

    const restored = path.join(t.dir, 'restored');
    fs.mkdirSync(restored);
    const target = await openLifeline({ dataDir: restored, shell: 'cli', seedDemo: false });
    const { indexFiles } = await import('../../electron/core/vectors/segments.js');
    const reads = vi.spyOn(indexFiles, 'read');
    try {
      const r = await target.runRestore(path.join(t.dir, 'repo'), PASS);
      expect(r.staged.verify.ok).toBe(true);
      // Loaded once, by the staged verify; the reload after the swap did not load it again.
      const ivfReads = reads.mock.calls.filter(([p]) => typeof p === 'string' && p.endsWith('.ivf'));
      expect(ivfReads).toHaveLength(1);
      expect(String(ivfReads[0]![0])).toContain('.restore-staging-');
    } finally {
      reads.mockRestore();
    }
    const kb = target.knowledge.listKbs()[0]!;
    const segs = target.knowledge.segmentsOf((target.knowledge as unknown as { requireKb(n: string): { id: number } }).requireKb(kb.name).id);
    expect(segs.some((s) => s.approximate)).toBe(true);
    expect((await target.knowledge.search(question)).map((p) => p.chunkId)).toEqual(before);
    await target.close();
  }, 120_000);
});
