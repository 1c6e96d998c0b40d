// Power loss during durable file writes (DESIGN.md invariants 2 and 3). The real code runs over
// the real filesystem while a recording layer (./powerloss.ts) logs every mutating call; then
// every prefix of that log, with every way a disk may lose unsynced data and directory entries,
// is materialised in a fresh folder and checked: each file is its old content or its complete
// new content (never torn under its final name), what returned is durable, leftovers are
// recognisable temp files, and a data root opens clean with the real app.
import { vi } from 'vitest';

// Small segments get their approximate (IVF) index too, so its files are in the crash states.
vi.hoisted(() => {
  process.env.LIFELINE_ANN_MIN_VECTORS = '2';
});
vi.mock('node:fs', async () => (await import('./powerloss.js')).recordingFsModule());
vi.mock('fs', async () => (await import('./powerloss.js')).recordingFsModule());

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { isTempName, writeFileAtomic } from '../../electron/core/store/atomic.js';
import { BlobStore } from '../../electron/core/store/blobs.js';
import { openCatalog } from '../../electron/core/store/catalog.js';
import { layoutOf } from '../../electron/core/store/dataRoot.js';
import { sweepLeftovers } from '../../electron/core/store/sweep.js';
import { tempDir } from '../helpers/env.js';
import { checkDataRoot } from '../helpers/invariants.js';
import { type CrashState, type ExploreResult, explore, realFs, recorder, replayMismatches, scratchDir, sha256Hex } from './powerloss.js';

// Each openLifeline adds a process 'exit' listener for its lock (released, never removed).
process.setMaxListeners(0);
const t = tempDir('lifeline-powerloss-');
const scratch = scratchDir('lifeline-powerloss-states-');
afterAll(() => {
  t.cleanup();
  scratch.cleanup();
});
const totals = { states: 0, violations: 0 };
afterAll(() => console.log(`atomic power-loss harness: crash states explored: ${totals.states}, invariant violations: ${totals.violations}`));

/** A folder for a workload, on the disk. */
function fresh(name: string): string {
  const dir = path.join(t.dir, name);
  realFs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Where a workload's crash states are materialised (scratch, see scratchDir). */
const statesDir = (name: string) => path.join(scratch.dir, name);

function report(name: string, r: ExploreResult): void {
  totals.states += r.states;
  totals.violations += r.violations.length;
  console.log(`${name}: ${r.prefixes} log prefixes, ${r.enumerated} crash states enumerated, ${r.states} distinct checked; crash states explored: ${r.states}, invariant violations: ${r.violations.length}`);
  for (const v of r.violations.slice(0, 5)) console.log(`  VIOLATION ${v.state}\n    ${v.messages.join('\n    ')}`);
}

const returnedLabels = (s: CrashState, prefix: string) => new Set(s.marks.filter((m) => m.label.startsWith(prefix)).map((m) => m.label.slice(prefix.length)));

function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of realFs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, r));
    else out.push(r);
  }
  return out;
}

describe('power loss during writeFileAtomic', () => {
  it('leaves every file old or complete-new, durable once the call returned, over existing files and into new folders', async () => {
    const root = fresh('atomic/root');
    const targets = new Map<string, { old?: Buffer; next: Buffer }>([
      ['SHA256SUMS', { old: Buffer.from('a'.repeat(64) + '  blobs/sha256/aa/x\n'.repeat(40)), next: Buffer.from('b'.repeat(64) + '  segments/y.faiss\n') }],
      ['golden/set.json', { old: Buffer.from('{"questions":[]}'), next: Buffer.from(JSON.stringify({ questions: Array.from({ length: 200 }, (_, i) => `问题 ${i}`) })) }],
      ['reports/run.txt', { old: Buffer.from('old report\n'), next: Buffer.from('') }],
      ['models/registry.json', { old: Buffer.from('{"v":1}'), next: Buffer.from('{"v":2}') }],
      ['a/b/c/new.bin', { next: Buffer.alloc(10_000, 7) }],
    ]);
    for (const [rel, { old }] of targets) {
      if (!old) continue;
      realFs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      realFs.writeFileSync(path.join(root, rel), old);
    }
    recorder.start(root);
    for (const [rel, { next }] of targets) {
      writeFileAtomic(path.join(root, rel), next);
      recorder.mark(`returned ${rel}`);
    }
    const rec = recorder.stop();
    expect(rec.unsupported).toEqual([]);
    expect(replayMismatches(rec)).toEqual([]);

    const r = await explore(rec, statesDir('atomic'), (dir, s) => {
      const msgs: string[] = [];
      const returned = returnedLabels(s, 'returned ');
      for (const [rel, { old, next }] of targets) {
        const p = path.join(dir, rel);
        if (!realFs.existsSync(p)) {
          if (old) msgs.push(`${rel}: vanished (the old file is gone, the new one is not there)`);
          else if (returned.has(rel)) msgs.push(`${rel}: missing although writeFileAtomic returned`);
          continue;
        }
        const got = realFs.readFileSync(p);
        if (got.equals(next)) continue;
        if (old && got.equals(old)) {
          if (returned.has(rel)) msgs.push(`${rel}: still the old content although writeFileAtomic returned`);
        } else msgs.push(`${rel}: torn under its final name (${got.length} bytes, neither the old ${old?.length ?? '-'} nor the new ${next.length})`);
      }
      for (const f of filesUnder(dir)) if (!targets.has(f) && !isTempName(path.basename(f))) msgs.push(`${f}: a leftover that is not recognisable as a temp file`);
      return msgs;
    });
    report('writeFileAtomic', r);
    expect(r.violations).toEqual([]);
    expect(r.states).toBeGreaterThan(20);
  });

  it('finds the torn and lost files of a writer that skips the fsyncs (the harness itself is sensitive)', async () => {
    const root = fresh('naive/root');
    realFs.writeFileSync(path.join(root, 'f.txt'), 'old content');
    recorder.start(root);
    // What writeFileAtomic must not be: temp + rename without any fsync.
    fs.writeFileSync(path.join(root, '.f.txt.tmp-1'), 'new content, longer than before');
    fs.renameSync(path.join(root, '.f.txt.tmp-1'), path.join(root, 'f.txt'));
    recorder.mark('returned');
    const rec = recorder.stop();
    const r = await explore(rec, statesDir('naive'), (dir, s) => {
      const got = realFs.existsSync(path.join(dir, 'f.txt')) ? realFs.readFileSync(path.join(dir, 'f.txt'), 'utf8') : '(missing)';
      if (got === 'new content, longer than before') return [];
      if (got === 'old content') return s.marks.length ? ['old content after return'] : [];
      return [`f.txt torn: ${JSON.stringify(got.slice(0, 20))}`];
    });
    console.log(`self-test (writer without fsync): ${r.states} crash states, ${r.violations.length} violations found as expected`);
    expect(r.violations.some((v) => v.messages.some((m) => m.includes('torn')))).toBe(true);
  });
});

describe('power loss in the blob store', () => {
  it('keeps every blob either absent or whole under its hash, heals a damaged copy, and keeps what put() returned', async () => {
    const root = fresh('blobs/root');
    const store = new BlobStore(path.join(root, 'blobs', 'sha256'));
    const docs = ['第一份文件：交接班记录。', 'Second document: UPS runtime checks.', '三、磁盘阵列告警处理流程。'.repeat(200), 'fourth'.repeat(3000)].map((s) => Buffer.from(s));
    const sound = Buffer.from('already stored, sound');
    const damaged = Buffer.from('stored earlier, then damaged on disk (a torn write reported as done)');
    // Before the recording: one sound blob, and one damaged copy under its right name.
    store.put(sound);
    const damagedHash = sha256Hex(damaged);
    realFs.mkdirSync(path.dirname(store.pathOf(damagedHash)), { recursive: true });
    realFs.writeFileSync(store.pathOf(damagedHash), damaged.subarray(0, 20));
    const puts = [sound, damaged, ...docs, docs[0]!];
    recorder.start(root);
    for (const b of puts) {
      store.put(b);
      recorder.mark(`returned ${sha256Hex(b)}`);
    }
    const rec = recorder.stop();
    expect(rec.unsupported).toEqual([]);
    expect(replayMismatches(rec)).toEqual([]);

    const r = await explore(rec, statesDir('blobs'), (dir, s) => {
      const msgs: string[] = [];
      const returned = returnedLabels(s, 'returned ');
      const blobsDir = path.join(dir, 'blobs', 'sha256');
      for (const f of filesUnder(blobsDir)) {
        const name = path.basename(f);
        if (isTempName(name)) continue;
        if (!/^[0-9a-f]{64}$/.test(name) || f.slice(0, 2) !== name.slice(0, 2)) {
          msgs.push(`blobs/sha256/${f}: not a content-addressed name`);
          continue;
        }
        const ok = sha256Hex(realFs.readFileSync(path.join(blobsDir, f))) === name;
        if (!ok && !(name === damagedHash && !returned.has(name))) msgs.push(`blobs/sha256/${f}: content does not match its name${name === damagedHash ? ' (the damaged copy was not healed although put() returned)' : ''}`);
      }
      for (const h of returned) {
        const p = path.join(blobsDir, h.slice(0, 2), h);
        if (!realFs.existsSync(p)) msgs.push(`blob ${h.slice(0, 12)}… missing although put() returned`);
      }
      return msgs;
    });
    report('blob store', r);
    expect(r.violations).toEqual([]);
  });

  it('a blob whose write was killed before its directory fsync is swept at the next start and written durably again', async () => {
    // A process was killed between rename and directory fsync: the blob is in the page cache
    // under its final name but not durable. The next start sweeps it (unreferenced), and the
    // next put writes it again with every fsync — so the catalog never references a blob the
    // disk might not keep. Without the sweep, put() would trust the file it finds (the control).
    const doc = Buffer.from('夜班交接：检查机房温度与湿度。');
    const hash = sha256Hex(doc);
    const scenario = async (name: string, sweep: boolean) => {
      const root = fresh(`${name}/root`);
      const layout = layoutOf(root);
      realFs.mkdirSync(layout.segments, { recursive: true });
      const db = openCatalog(path.join(root, 'catalog.sqlite'));
      const store = new BlobStore(layout.blobs);
      realFs.mkdirSync(path.dirname(store.pathOf(hash)), { recursive: true });
      recorder.start(root, { exclude: (rel) => rel.startsWith('catalog.sqlite') });
      // The killed process: temp written and fsynced, renamed, then SIGKILL (no directory fsync).
      const tmp = path.join(path.dirname(store.pathOf(hash)), `.${hash}.tmp-999-0000`);
      const fd = fs.openSync(tmp, 'wx');
      fs.writeSync(fd, doc);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, store.pathOf(hash));
      recorder.mark('killed');
      // The next start: sweep, then the same document is stored again and committed.
      if (sweep) sweepLeftovers(db, layout);
      store.put(doc);
      recorder.mark('catalog references the blob');
      const rec = recorder.stop();
      db.close();
      expect(rec.unsupported).toEqual([]);
      const blob = (dir: string) => path.join(dir, 'blobs', 'sha256', hash.slice(0, 2), hash);
      return explore(rec, statesDir(name), (dir, s) =>
        s.marks.some((m) => m.label === 'catalog references the blob') && !(realFs.existsSync(blob(dir)) && sha256Hex(realFs.readFileSync(blob(dir))) === hash)
          ? ['the catalog references a blob the power cut took away']
          : [],
      );
    };
    const r = await scenario('killed', true);
    report('blob after a kill, with the start-up sweep', r);
    expect(r.violations).toEqual([]);
    const control = await scenario('killed-control', false);
    console.log(`control (no sweep before put): ${control.states} crash states, ${control.violations.length} with a referenced blob lost, as expected`);
    expect(control.violations.length).toBeGreaterThan(0);
  });
});

describe('power loss while a knowledge base changes (blobs, segments, SHA256SUMS and the catalog referencing them)', () => {
  it('every crash state verifies from the files and opens clean with the real app', async () => {
    const data = path.join(t.dir, 'kb', 'data');
    const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
    app.knowledge.createKb('ops');
    const doc = (i: number) => ({
      name: `doc-${i}.md`,
      bytes: Buffer.from(`# 文件 ${i}\n\n${Array.from({ length: 4 }, (_, p) => `第${i}号文件第${p}段：值班人员应在${(i * 7 + p) % 24}点检查${i}号机柜的电源与磁盘指示灯，并记录编号${i * 100 + p}。`).join('\n\n')}\n`),
    });
    const exclude = (rel: string) => rel.startsWith('catalog.sqlite') || rel === 'lifeline.lock';
    const changes = () => (app.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    let seen = changes();
    const initialImage = app.db.serialize();
    // A catalog commit is durable when it returns (WAL, synchronous=FULL): the image of the
    // catalog after each commit is marked in the log where the commit happened.
    recorder.start(data, {
      exclude,
      onBeforeOp: () => {
        if (app.db.inTransaction) return;
        const n = changes();
        if (n !== seen) {
          seen = n;
          recorder.mark('catalog commit', app.db.serialize());
        }
      },
    });
    const step = async (label: string, fn: () => unknown) => {
      await fn();
      recorder.poke();
      recorder.mark(`returned ${label}`);
    };
    await step('ingest 1+2', () => app.knowledge.ingest('ops', [doc(1), doc(2)]));
    await step('ingest 3', () => app.knowledge.ingest('ops', [doc(3)]));
    await step('ingest 4 (an update of 1)', () => app.knowledge.ingest('ops', [{ ...doc(1), bytes: Buffer.concat([doc(1).bytes, Buffer.from('\n补充：更新后的第1号文件。\n')]) }]));
    await step('delete doc-2', () => app.knowledge.deleteDocument('ops', 'doc-2.md'));
    await step('compact', () => app.knowledge.compact('ops'));
    // A second knowledge base, deleted and purged: its segment files and blobs are removed after
    // the commit that forgets them.
    await step('create hr', () => app.knowledge.createKb('hr'));
    await step('ingest hr', () => app.knowledge.ingest('hr', [doc(7), { ...doc(3), name: 'shared-with-ops.md' }]));
    await step('delete hr', () => app.knowledge.deleteKb('hr', 'hr'));
    await step('purge hr', () => app.knowledge.purgeKb('hr', 'hr'));
    const rec = recorder.stop();
    await app.close();
    expect(rec.unsupported).toEqual([]);
    expect(replayMismatches(rec, exclude)).toEqual([]);

    const images = [initialImage, ...rec.ops.flatMap((op) => (op.kind === 'mark' && op.label === 'catalog commit' ? [op.data as Buffer] : []))];
    const docSetOf = (img: Buffer) => {
      // An image in WAL mode (header bytes 18-19 = 2) only deserialises as a rollback-journal one.
      const copy = Buffer.from(img);
      copy[18] = 1;
      copy[19] = 1;
      const db = new Database(copy);
      try {
        return (db.prepare('SELECT name FROM document ORDER BY name').all() as { name: string }[]).map((r) => r.name).join(',');
      } finally {
        db.close();
      }
    };
    const docSets = images.map(docSetOf);
    let opened = 0;
    const r = await explore(rec, statesDir('kb'), async (dir, s) => {
      const msgs: string[] = [];
      const commits = s.marks.filter((m) => m.label === 'catalog commit');
      const image = (commits[commits.length - 1]?.data as Buffer | undefined) ?? initialImage;
      realFs.writeFileSync(path.join(dir, 'catalog.sqlite'), image);
      const pre = checkDataRoot(dir);
      msgs.push(...pre.violations.map((v) => `from the files: ${v}`));
      // The next start sweeps leftovers and heals derived data; then it must verify clean.
      const next = await openLifeline({ dataDir: dir, shell: 'cli', seedDemo: false });
      opened++;
      try {
        const v = await next.verify(false);
        msgs.push(...v.problems.filter((p) => p.severity === 'error').map((p) => `after start-up, verify: ${p.code} ${p.path}: ${p.message}`));
        const docs = next.knowledge.documents('ops').map((d) => d.name).sort().join(',');
        if (docSets.indexOf(docs, commits.length) < 0) msgs.push(`after start-up the documents are {${docs}}, not a committed state at or after commit ${commits.length}`);
      } finally {
        await next.close();
      }
      const post = checkDataRoot(dir);
      msgs.push(...post.violations.map((v) => `after start-up: ${v}`));
      const left = filesUnder(dir).filter((f) => isTempName(path.basename(f)));
      if (left.length) msgs.push(`after start-up, temp files remain: ${left.join(', ')}`);
      return msgs;
    });
    report('knowledge base (ingest, update, delete, compact, purge)', r);
    const touched = (ext: string) => rec.ops.filter((op) => op.kind === 'rename' && op.to.endsWith(ext)).length;
    console.log(`  ${images.length - 1} catalog commits, ${touched('.faiss')} segment and ${touched('.ivf')} IVF files named, ${rec.ops.filter((op) => op.kind === 'unlink').length} files removed; the real app opened ${opened} crash states`);
    expect(touched('.ivf')).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);

    // Control: the same log with every directory fsync removed (a product that skipped them)
    // must show catalogs referencing files the power cut took away.
    const noDirSync = { ...rec, ops: rec.ops.filter((op) => op.kind !== 'dirfsync') };
    const control = await explore(noDirSync, statesDir('kb-control'), (dir, s) => {
      const commits = s.marks.filter((m) => m.label === 'catalog commit');
      realFs.writeFileSync(path.join(dir, 'catalog.sqlite'), (commits[commits.length - 1]?.data as Buffer | undefined) ?? initialImage);
      return checkDataRoot(dir).violations;
    }, { maxStates: 400 });
    console.log(`  control (same log without directory fsyncs): ${control.states} crash states, ${control.violations.length} violations found, as expected; e.g. ${control.violations[0]?.messages[0]}`);
    expect(control.violations.length).toBeGreaterThan(0);
  }, 120_000);
});
