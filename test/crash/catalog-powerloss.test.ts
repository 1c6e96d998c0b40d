// SQLite commits under power loss. SQLite writes through its own native VFS, so the catalog is
// observed at the file level: a real ingest (openLifeline + knowledge.ingest) runs while the
// recording layer logs the data files (blobs, segments, SHA256SUMS) together with the WAL's size
// at each of their operations. Afterwards the WAL is cut at every frame boundary, torn inside
// frames, and given a garbage tail (a sector the disk never wrote); the data files are taken as
// they stood when the WAL had that length — with everything written, and with every unsynced
// write and directory entry lost. Each state is checked from the files (checkDataRoot) and then
// opened with the real app, which sweeps, resumes and self-heals: the catalog must pass
// integrity_check, every referenced segment match its sha256, every document be whole or absent,
// and the documents be a prefix of the committed sequence, never a mix.
import { vi } from 'vitest';

vi.mock('node:fs', async () => (await import('./powerloss.js')).recordingFsModule());
vi.mock('fs', async () => (await import('./powerloss.js')).recordingFsModule());

import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { splitDocument } from '../../electron/core/kb/splitter.js';
import { isTempName } from '../../electron/core/store/atomic.js';
import { tempDir } from '../helpers/env.js';
import { checkDataRoot } from '../helpers/invariants.js';
import { type Recording, type Tree, type Variant, analyze, buildTree, materialize, realFs, recorder, scratchDir, treeKey } from './powerloss.js';

// Each openLifeline adds a process 'exit' listener for its lock (released, never removed).
process.setMaxListeners(0);
const t = tempDir('lifeline-catalog-powerloss-');
const scratch = scratchDir('lifeline-catalog-states-');
afterAll(() => {
  t.cleanup();
  scratch.cleanup();
});

const DOCS = Array.from({ length: 6 }, (_, i) => ({
  name: `doc-${i + 1}.md`,
  bytes: Buffer.from(`# 值班手册 ${i + 1}\n\n${Array.from({ length: 3 }, (_, p) => `第${i + 1}号手册第${p}段：断电后先确认UPS状态，再检查${i + 1}号机柜的磁盘阵列，记录编号${(i + 1) * 10 + p}。`).join('\n\n')}\n`),
}));
/** Ingest calls, in order: each is one job (staging, one group commit, clean-up, SHA256SUMS). */
const CALLS = [[0, 1], [2], [3], [4, 5]];

interface WalFrame {
  start: number;
  end: number;
  commit: boolean;
}

function walFrames(wal: Buffer): { pageSize: number; frames: WalFrame[] } {
  const pageSize = wal.readUInt32BE(8);
  const size = 24 + pageSize;
  const frames: WalFrame[] = [];
  for (let start = 32; start + size <= wal.length; start += size) frames.push({ start, end: start + size, commit: wal.readUInt32BE(start + 4) !== 0 });
  return { pageSize, frames };
}

interface CatalogState {
  /** What the WAL holds: its first `length` bytes, with bytes from `garbageFrom` on zeroed. */
  length: number;
  garbageFrom?: number;
  /** The WAL bytes known intact (for the durability check). */
  intact: number;
  what: string;
}

describe('the catalog under power loss (WAL cut, torn and garbage tails; data files with unsynced writes lost)', () => {
  it('always opens to a prefix of the committed documents, whole, with every referenced file sound', async () => {
    const data = path.join(t.dir, 'data');
    const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
    app.knowledge.createKb('ops');
    const expected = new Map<string, number>();
    for (const d of DOCS) expected.set(d.name, splitDocument(await parseDocument(d.name, d.bytes)).length);

    const mainFile = path.join(data, 'catalog.sqlite');
    const walFile = `${mainFile}-wal`;
    const walSize = () => (realFs.existsSync(walFile) ? realFs.statSync(walFile).size : 0);
    const mainBefore = realFs.readFileSync(mainFile);
    const walBefore = realFs.readFileSync(walFile);
    const exclude = (rel: string) => rel.startsWith('catalog.sqlite') || rel === 'lifeline.lock';
    let lastWal = -1;
    const noteWal = () => {
      const n = walSize();
      if (n !== lastWal) recorder.mark('wal', (lastWal = n));
    };
    recorder.start(data, { exclude, onBeforeOp: noteWal });
    noteWal();
    const returnedAt: number[] = [];
    for (const call of CALLS) {
      await app.knowledge.ingest('ops', call.map((i) => DOCS[i]!));
      noteWal();
      returnedAt.push(walSize());
    }
    const rec = recorder.stop();
    const mainAfter = realFs.readFileSync(mainFile);
    const wal = realFs.readFileSync(walFile);
    await app.close();
    expect(rec.unsupported).toEqual([]);
    // The WAL only grew (no checkpoint rewrote the main file or restarted the log): every
    // shorter WAL is a state the disk really passed through.
    expect(mainAfter.equals(mainBefore), 'a checkpoint ran during the workload').toBe(true);
    expect(wal.subarray(0, walBefore.length).equals(walBefore)).toBe(true);

    const { pageSize, frames } = walFrames(wal);
    const commits = frames.filter((f) => f.commit);
    // Committed documents, in order: the prefix each call completes.
    const docsThrough = CALLS.map((_, i) => CALLS.slice(0, i + 1).flat().length);

    // Crash points in the WAL, from where the workload began (the WAL before it — schema and
    // knowledge base — was committed and synced by the first start).
    const states: CatalogState[] = [{ length: walBefore.length, intact: walBefore.length, what: 'cut where the workload began' }];
    frames.forEach((f, i) => {
      if (f.end <= walBefore.length) return;
      const next = frames[i + 1];
      const boundaryOfCommit = f.commit || next?.commit === true;
      states.push({ length: f.end, intact: f.end, what: `cut after frame ${i + 1}${f.commit ? ' (a commit)' : ''}` });
      if (boundaryOfCommit || i % 7 === 0) {
        states.push({ length: f.start + 12, intact: f.start, what: `torn in the header of frame ${i + 1}` });
        states.push({ length: f.start + 24 + pageSize / 2, intact: f.start, what: `torn in the page of frame ${i + 1}` });
      }
      if (f.commit) states.push({ length: f.end, garbageFrom: f.start + 24 + pageSize / 2, intact: f.start, what: `frame ${i + 1} (a commit) with its last half never written (zeros)` });
    });

    // The data files as they stood when the WAL had a given length.
    const walAtOp: number[] = [];
    let w = 0;
    for (const op of rec.ops) {
      if (op.kind === 'mark' && op.label === 'wal') w = op.data as number;
      walAtOp.push(w);
    }
    /** The log prefixes a crash may have cut while the WAL had this length. */
    const prefixesFor = (len: number): number[] => {
      const after = walAtOp.findIndex((x) => x > len);
      const last = after < 0 ? rec.ops.length : after;
      const at = walAtOp.findIndex((x) => x >= len);
      const first = at < 0 ? rec.ops.length : at;
      const out: number[] = [];
      for (let p = first; p <= last; p++) if (p === first || (rec.ops[p - 1]!.kind !== 'close' && rec.ops[p - 1]!.kind !== 'mark')) out.push(p);
      return out;
    };
    const fsVariants = (r: Recording, prefix: number): { name: string; tree: Tree }[] => {
      const a = analyze(r, prefix);
      const lose: Variant = { cuts: new Map([...a.unsyncedByDir.keys()].map((d) => [d, 0])), data: new Map(a.pendingInos.map((i) => [i, 'lost'])) };
      const all = buildTree(r, a, { cuts: new Map(), data: new Map() });
      const durable = buildTree(r, a, lose);
      return treeKey(all) === treeKey(durable) ? [{ name: 'data files as written', tree: all }] : [{ name: 'data files as written', tree: all }, { name: 'unsynced data files and entries lost', tree: durable }];
    };

    const order = DOCS.map((d) => d.name);
    const prefixLength = (names: string[]) => {
      const sorted = [...names].sort();
      const j = sorted.length;
      return JSON.stringify(sorted) === JSON.stringify(order.slice(0, j).sort()) ? j : -1;
    };
    const namesIn = (dir: string) => {
      const db = new Database(path.join(dir, 'catalog.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT name FROM document').all() as { name: string }[]).map((r) => r.name);
      } finally {
        db.close();
      }
    };

    const work = path.join(scratch.dir, 'state');
    const violations: { state: string; messages: string[] }[] = [];
    let explored = 0;
    let opened = 0;
    let lastCleanJ = 0;
    const started = Date.now();
    for (const s of states) {
      for (const prefix of prefixesFor(s.length))
      for (const v of fsVariants(rec, prefix)) {
        explored++;
        const msgs: string[] = [];
        materialize(v.tree, work);
        realFs.writeFileSync(path.join(work, 'catalog.sqlite'), mainBefore);
        {
          const bytes = Buffer.from(wal.subarray(0, s.length));
          if (s.garbageFrom !== undefined) bytes.fill(0, s.garbageFrom);
          realFs.writeFileSync(path.join(work, 'catalog.sqlite-wal'), bytes);
        }
        const pre = checkDataRoot(work, expected);
        msgs.push(...pre.violations.map((x) => `from the files: ${x}`));
        const j = prefixLength(namesIn(work));
        if (j < 0) msgs.push(`from the files: the documents {${namesIn(work).sort().join(', ')}} are not a prefix of the committed sequence`);
        // Durability: a call that returned had its commit fsynced; an intact WAL that long keeps it.
        const mustHave = docsThrough.filter((_, i) => returnedAt[i]! <= s.intact).pop() ?? 0;
        if (j >= 0 && j < mustHave) msgs.push(`from the files: ${j} documents, but ${mustHave} were committed and synced within the intact WAL`);
        if (s.garbageFrom === undefined && s.length === s.intact) {
          if (j >= 0 && j < lastCleanJ) msgs.push(`a longer WAL holds fewer documents (${j} < ${lastCleanJ})`);
          if (j >= 0) lastCleanJ = j;
        }
        {
          opened++;
          const next = await openLifeline({ dataDir: work, shell: 'cli', seedDemo: false });
          try {
            const report = await next.verify(false);
            msgs.push(...report.problems.filter((p) => p.severity === 'error').map((p) => `after start-up, verify: ${p.code} ${p.path}: ${p.message}`));
          } finally {
            await next.close();
          }
          const post = checkDataRoot(work, expected);
          msgs.push(...post.violations.map((x) => `after start-up: ${x}`));
          const jPost = prefixLength(namesIn(work));
          if (jPost < 0) msgs.push(`after start-up the documents {${namesIn(work).sort().join(', ')}} are not a prefix of the committed sequence`);
          else if (j >= 0 && jPost < j) msgs.push(`after start-up ${jPost} documents, before it ${j}: a committed document was lost`);
          const temps = (realFs.readdirSync(work, { recursive: true }) as string[]).filter((f) => isTempName(path.basename(f)));
          if (temps.length) msgs.push(`after start-up temp files remain: ${temps.join(', ')}`);
        }
        if (msgs.length) violations.push({ state: `WAL ${s.what} (${s.length} bytes${s.garbageFrom !== undefined ? `, zeros from ${s.garbageFrom}` : ''}), data files after log entry ${prefix} (${v.name})`, messages: msgs });
      }
    }
    console.log(
      `catalog power-loss harness: WAL of ${frames.length} frames (${commits.length} commits, page ${pageSize} B), ${states.length} WAL crash points × the data-file states of that moment; ${opened} states opened with the real app, ${Date.now() - started} ms`,
    );
    console.log(`catalog power-loss harness: crash states explored: ${explored}, invariant violations: ${violations.length}`);
    for (const v of violations.slice(0, 5)) console.log(`  VIOLATION ${v.state}\n    ${v.messages.join('\n    ')}`);
    expect(violations).toEqual([]);
    expect(commits.length).toBeGreaterThanOrEqual(CALLS.length * 2);

    // Control: the same WAL cuts with the data files of the start (a catalog committed before
    // its files were written) must be caught.
    const before = buildTree(rec, analyze(rec, 0), { cuts: new Map(), data: new Map() });
    let caught = 0;
    for (const f of commits.filter((c) => c.end > walBefore.length)) {
      materialize(before, work);
      realFs.writeFileSync(path.join(work, 'catalog.sqlite'), mainBefore);
      realFs.writeFileSync(path.join(work, 'catalog.sqlite-wal'), wal.subarray(0, f.end));
      if (checkDataRoot(work, expected).violations.length) caught++;
    }
    console.log(`  control (catalog commits without their data files): ${caught} of ${commits.filter((c) => c.end > walBefore.length).length} commit points caught`);
    expect(caught).toBeGreaterThan(0);
  }, 120_000);
});
