// `npm run bench`: one JSON line per measurement, each with its reference measured in the same
// run, so figures compare across machines as ratios. `--quick` uses smaller sizes.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import faissNode from 'faiss-node';
import { openLifeline } from '../electron/core/app.js';
import { writeFileAtomic } from '../electron/core/store/atomic.js';
import { sha256 } from '../electron/core/util/hash.js';
import { HashEmbedder } from '../electron/core/models/hashEmbedder.js';
import { appRoot, resourcesDir } from '../electron/core/util/appRoot.js';
import { loadSegment, writeSegment } from '../electron/core/vectors/segments.js';

const QUICK = process.argv.includes('--quick');
const BIG = QUICK ? 20_000 : 100_000;
const SMALL = QUICK ? 2_000 : 10_000;

interface Line {
  bench: string;
  [k: string]: unknown;
}

function emit(line: Line): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function timeEach(n: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = nowMs();
    await fn(i);
    out.push(nowMs() - t);
  }
  return out.sort((a, b) => a - b);
}

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lifeline-bench-${name}-`));
}

/** Deterministic Chinese + English documents that look like ward procedures. */
function syntheticDoc(i: number, paragraphs: number): string {
  const out = [`# 第${i}号操作规程 Procedure ${i}`];
  for (let p = 0; p < paragraphs; p++) {
    out.push(
      `## 第${p}节\n第${i}号规程第${p}节规定：值班人员应在${(i + p) % 24}点检查${(i * 13 + p) % 97}号机柜的电源、磁盘与网络指示灯，发现异常立即拨打分机${6000 + ((i + p) % 400)}。` +
        `Check rack ${(i * 13 + p) % 97} at ${(i + p) % 24}:00 and record reading ${i * 1000 + p} in the log book；若指示灯为红色，应先等待30秒再重新上电。`,
    );
  }
  return out.join('\n\n') + '\n';
}

function pythonFaiss(): string | null {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return null;
  const r = spawnSync(py, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? py : null;
}

// -- ingestion --------------------------------------------------------------------------------
async function ingestThroughput(): Promise<void> {
  const docsDir = tmp('docs');
  const n = QUICK ? 300 : 1500;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const text = syntheticDoc(i, 8);
    bytes += Buffer.byteLength(text);
    fs.writeFileSync(path.join(docsDir, `proc-${i}.md`), text);
  }
  const data = tmp('ingest');
  const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
  app.knowledge.createKb('bench');
  const t0 = nowMs();
  const report = await app.knowledge.ingest('bench', (await import('../electron/core/kb/knowledge.js')).KnowledgeService.collectInputs([docsDir]));
  const ms = nowMs() - t0;
  const chunks = (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
  await app.close();
  // Reference: the floor of a durable ingest — read, sha256 and durably write each file once.
  const floorDir = tmp('floor');
  const t1 = nowMs();
  for (const f of fs.readdirSync(docsDir)) {
    const b = fs.readFileSync(path.join(docsDir, f));
    writeFileAtomic(path.join(floorDir, sha256(b)), b);
  }
  const floorMs = nowMs() - t1;
  emit({
    bench: 'ingest.throughput',
    what: 'ingest Markdown documents with the default embedder (stage, parse, split, embed, FAISS segment, FTS5, catalog commit)',
    documents: report.added,
    chunks,
    mb: round(bytes / 2 ** 20),
    ms: round(ms, 1),
    chunksPerSec: Math.round((chunks * 1000) / ms),
    mbPerSec: round(bytes / 2 ** 20 / (ms / 1000)),
    reference: 'read + sha256 + durable write (fsync, rename, fsync dir) of each file: the floor of any durable ingest',
    refMs: round(floorMs, 1),
    ratio: round(ms / floorMs),
  });
  for (const d of [docsDir, data, floorDir]) fs.rmSync(d, { recursive: true, force: true });
}

// -- segment build ------------------------------------------------------------------------------
function segmentBuild(): void {
  const dim = 384;
  const n = BIG;
  const vecs = new Float32Array(n * dim);
  for (let i = 0; i < vecs.length; i++) vecs[i] = Math.sin(i * 0.37) * 0.1;
  const dir = tmp('seg');
  const t0 = nowMs();
  const seg = writeSegment(dir, vecs, dim, 'ip');
  const ours = nowMs() - t0;
  const t1 = nowMs();
  const ix = new faissNode.IndexFlatIP(dim);
  ix.add(Array.from(vecs));
  ix.write(path.join(dir, 'ref.faiss'));
  const ref = nowMs() - t1;
  const same = fs.readFileSync(path.join(dir, seg.file)).equals(fs.readFileSync(path.join(dir, 'ref.faiss')));
  emit({
    bench: 'segment.build',
    what: `write a FAISS flat segment of ${n}×${dim} from a Float32Array (encode, sha256, durable write)`,
    vectors: n,
    ms: round(ours, 1),
    reference: "faiss-node IndexFlatIP.add(Array.from(vectors)) + write()",
    refMs: round(ref, 1),
    speedup: round(ref / ours, 1),
    identicalBytes: same,
  });
  fs.rmSync(dir, { recursive: true, force: true });
}

// -- query latency at 10k and 100k chunks, and cold open ----------------------------------------
async function buildKb(chunksWanted: number): Promise<{ data: string; questions: string[] }> {
  const docsDir = tmp('qdocs');
  const perDoc = 50; // each section is one chunk
  const docs = Math.ceil(chunksWanted / perDoc);
  for (let i = 0; i < docs; i++) fs.writeFileSync(path.join(docsDir, `proc-${i}.md`), syntheticDoc(i, perDoc));
  const data = tmp(`kb${chunksWanted}`);
  const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
  app.knowledge.createKb('bench');
  const { KnowledgeService } = await import('../electron/core/kb/knowledge.js');
  await app.knowledge.ingest('bench', KnowledgeService.collectInputs([docsDir]));
  await app.close();
  fs.rmSync(docsDir, { recursive: true, force: true });
  const questions = Array.from({ length: 50 }, (_, q) => {
    const i = (q * 7919) % docs;
    const p = (q * 31) % perDoc;
    return q % 2 ? `第${i}号规程第${p}节应检查几号机柜？` : `Which rack is checked at ${(i + p) % 24}:00 with reading ${i * 1000 + p}?`;
  });
  return { data, questions };
}

async function queryLatency(size: number, data: string, questions: string[]): Promise<void> {
  const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
  const chunks = (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
  for (let i = 0; i < 10; i++) await app.knowledge.ask({ question: questions[i % questions.length]! });
  const N = 200;
  const e2e = await timeEach(N, (i) => app.knowledge.ask({ question: questions[i % questions.length]! }));
  // FAISS search alone through faiss-node, same vectors and queries.
  const kbId = (app.db.prepare("SELECT id FROM kb WHERE name = 'bench'").get() as { id: number }).id;
  const segs = app.knowledge.segmentsOf(kbId);
  const emb = new HashEmbedder();
  const qv = questions.map((q) => Array.from(emb.embedSync([q])));
  const faissOnly = await timeEach(N, (i) => segs.forEach((s) => s.index.search(qv[i % qv.length]!, 32)));
  const segRows = app.db.prepare('SELECT file, sha256 FROM segment WHERE kb_id = ?').all(kbId) as { file: string; sha256: string }[];
  const segFiles = segRows.map((r) => path.join(data, r.file));
  // Recall@10 of the searched indexes against an exhaustive flat search of the same segments.
  const approximate = segs.some((s) => s.approximate);
  const annParams = (app.db.prepare('SELECT ann_params AS p FROM segment WHERE kb_id = ? AND ann_params IS NOT NULL LIMIT 1').get(kbId) as { p: string } | undefined)?.p;
  let recall: number | null = null;
  if (approximate) {
    const flats = segRows.map((r) => loadSegment(data, r.file, r.sha256).index);
    let hit = 0;
    for (const q of qv) {
      const truth = new Set(flats.flatMap((f) => f.search(q, 10).labels));
      const got = segs.flatMap((s) => s.index.search(q, 10).labels);
      hit += got.filter((l) => truth.has(l)).length;
    }
    recall = round(hit / (qv.length * 10));
  }
  await app.close();
  // Reference: the same FAISS search in Python (Debian's python3-faiss), when installed.
  let py: { p50: number; p99: number } | null = null;
  const python = pythonFaiss();
  if (python) {
    const qfile = path.join(data, 'queries.f32');
    fs.writeFileSync(qfile, Buffer.from(new Float32Array(qv.flat()).buffer));
    const script = `
import faiss, numpy as np, time, sys, json
idx = [faiss.read_index(f) for f in sys.argv[2:]]
q = np.fromfile(sys.argv[1], dtype='float32').reshape(-1, ${emb.dimension})
t = []
for i in range(${N}):
    s = time.perf_counter()
    for ix in idx: ix.search(q[i % len(q)].reshape(1, -1), 32)
    t.append((time.perf_counter() - s) * 1000)
t.sort()
print(json.dumps({"p50": t[len(t)//2], "p99": t[min(len(t)-1, int(len(t)*0.99))]}))`;
    const r = spawnSync(python, ['-c', script, qfile, ...segFiles], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status === 0) py = JSON.parse(r.stdout.trim());
  }
  emit({
    bench: `ask.latency.${size >= 1000 ? `${size / 1000}k` : size}`,
    what: 'end-to-end ask (embed, FAISS flat search, FTS5 trigram search, fusion, extractive answer)',
    chunks,
    p50Ms: round(pct(e2e, 50)),
    p99Ms: round(pct(e2e, 99)),
    faissNodeSearchP50Ms: round(pct(faissOnly, 50)),
    index: approximate ? `IVF ${annParams}` : 'flat',
    recallAt10VsFlat: recall,
    reference: py ? "the same FAISS search in Python (Debian's python3-faiss, OMP_NUM_THREADS=1)" : 'python3-faiss not installed (apt-get install python3-faiss): no Python reference',
    refP50Ms: py ? round(py.p50) : null,
    refP99Ms: py ? round(py.p99) : null,
    ratioP50: py ? round(pct(e2e, 50) / py.p50, 2) : null,
  });
}

async function verifyFast(data: string): Promise<void> {
  const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false, maintenance: false });
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = nowMs();
    const r = await app.verify(false);
    runs.push(nowMs() - t);
    if (!r.ok) throw new Error(`verify found problems: ${JSON.stringify(r.problems)}`);
  }
  // Reference: stat every file of the data root once (the floor of any size check).
  const t = nowMs();
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else {
        fs.statSync(path.join(d, e.name));
        files++;
      }
    }
  };
  walk(data);
  const ref = nowMs() - t;
  runs.sort((a, b) => a - b);
  emit({
    bench: 'verify.fast',
    what: 'lifeline verify (fast: quick_check, sizes, segment headers, id maps, embedder files)',
    chunks: BIG,
    ms: round(runs[0]!, 1),
    reference: `stat of every file in the data root (${files} files)`,
    refMs: round(ref, 1),
    ratio: round(runs[0]! / ref, 1),
  });
  await app.close();
}

/** A model-sized file: a minimal GGUF header and random weights (the registry treats it as a model). */
function writePaddingModel(file: string, bytes: number): void {
  const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (x: string) => Buffer.concat([u64(Buffer.byteLength(x)), Buffer.from(x)]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), str('general.architecture'), u32(8), str('llama')]));
  const block = Buffer.alloc(8 << 20);
  for (let left = bytes; left > 0; left -= block.length) {
    randomFillSync(block);
    fs.writeSync(fd, block, 0, Math.min(block.length, left));
  }
  fs.closeSync(fd);
}

function dirBytes(d: string): number {
  let n = 0;
  for (const e of fs.readdirSync(d, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size;
  return n;
}

function timeCmd(cmd: string, env: NodeJS.ProcessEnv = {}): number | null {
  const t = nowMs();
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(`bench: reference command failed: ${cmd}\n${r.stderr}\n`);
    return null;
  }
  return nowMs() - t;
}

const has = (bin: string) => spawnSync('bash', ['-c', `command -v ${bin}`]).status === 0;

/** Backup, unchanged re-backup, verify and restore of a data root padded to ~1 GB, against tar | age, restic and sha256sum. */
async function backupBench(data: string): Promise<void> {
  const target = QUICK ? 200 << 20 : 1 << 30;
  const now = dirBytes(data);
  if (now < target) writePaddingModel(path.join(data, 'models', 'bench-weights.gguf'), target - now);
  const gb = dirBytes(data) / 2 ** 30;
  const work = tmp('backup');
  const pass = 'bench passphrase 1234';
  const app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false, maintenance: false });
  const repoDir = path.join(work, 'repo');
  const t1 = nowMs();
  const full = await app.runBackup(repoDir, pass);
  const fullMs = nowMs() - t1;
  const t2 = nowMs();
  const again = await app.runBackup(repoDir, pass);
  const againMs = nowMs() - t2;
  const { Repository } = await import('../electron/core/backup/repo.js');
  const { verifyRepository } = await import('../electron/core/backup/backup.js');
  const repo = await Repository.open(repoDir, pass);
  const t3 = nowMs();
  const v = await verifyRepository(repo);
  const verifyMs = nowMs() - t3;
  await app.close();
  const restoreDir = path.join(work, 'restored');
  fs.mkdirSync(restoreDir);
  const target2 = await openLifeline({ dataDir: restoreDir, shell: 'cli', seedDemo: false, maintenance: false });
  const t4 = nowMs();
  await target2.runRestore(repoDir, pass);
  const restoreMs = nowMs() - t4;
  await target2.close();
  // References, same data, same disk.
  const { generateIdentity } = await import('../electron/core/backup/age.js');
  const { recipient } = generateIdentity();
  const tarAge = has('age') ? timeCmd(`tar -cf - -C '${data}' . | age -r ${recipient} -o '${work}/tar.age' && sync -f '${work}/tar.age'`) : null;
  const sumMs = timeCmd(`cd '${data}' && find . -type f -print0 | xargs -0 sha256sum > /dev/null`);
  let restic: { backup: number | null; restore: number | null } | null = null;
  if (has('restic')) {
    const env = { RESTIC_PASSWORD: pass, RESTIC_REPOSITORY: `${work}/restic`, RESTIC_CACHE_DIR: `${work}/restic-cache` };
    timeCmd('restic init -q', env);
    restic = { backup: timeCmd(`restic backup -q '${data}'`, env), restore: timeCmd(`restic restore -q latest --target '${work}/restic-restored'`, env) };
  }
  const round2 = (x: number | null | undefined) => (x === null || x === undefined ? null : round(x, 2));
  emit({
    bench: 'backup.full',
    what: 'first backup of a data root into an empty encrypted repository (catalog copy, sha-named blobs, age encryption, fsync)',
    gb: round2(gb),
    ms: round(fullMs, 0),
    mbPerSec: Math.round((gb * 1024) / (fullMs / 1000)),
    reference: "tar | age -r (the standard tools, same data and disk)",
    refMs: tarAge === null ? null : round(tarAge, 0),
    speedVsTarAge: tarAge === null ? null : round2(tarAge / fullMs),
    resticMs: restic?.backup === null || !restic ? null : round(restic.backup!, 0),
    speedVsRestic: restic?.backup ? round2(restic.backup / fullMs) : null,
    files: full.files,
  });
  emit({ bench: 'backup.unchanged', what: 'second backup of the unchanged data root (only a new manifest)', gb: round2(gb), ms: round(againMs, 0), msPerGb: round(againMs / gb, 0), newFiles: again.newFiles, bytesWritten: again.bytesWritten });
  emit({ bench: 'backup.verify', what: 'decrypt and re-hash every blob of the repository', gb: round2(gb), ms: round(verifyMs, 0), ok: v.ok, reference: 'sha256sum of every file of the data root', refMs: round2(sumMs), ratio: sumMs ? round2(verifyMs / sumMs) : null });
  emit({
    bench: 'restore.full',
    what: 'restore into an empty data root: decrypt into staging, deep verify there (checksums, integrity_check, segment load), swap in',
    gb: round2(gb),
    ms: round(restoreMs, 0),
    reference: 'restic restore latest (no verification)',
    refMs: restic?.restore ? round(restic.restore, 0) : null,
    speedVsRestic: restic?.restore ? round2(restic.restore / restoreMs) : null,
  });
  fs.rmSync(work, { recursive: true, force: true });
}

function coldOpen(data: string, question: string): void {
  const bin = path.join(appRoot(), 'scripts', 'lifeline.mjs');
  const runs = QUICK ? 2 : 3;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = nowMs();
    const r = spawnSync(process.execPath, [bin, 'ask', question, '--json', '--data', data], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cold open failed: ${r.stderr}`);
    times.push(nowMs() - t);
  }
  const refTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = nowMs();
    spawnSync(process.execPath, ['-e', "require('better-sqlite3'); require('faiss-node')"]);
    refTimes.push(nowMs() - t);
  }
  times.sort((a, b) => a - b);
  refTimes.sort((a, b) => a - b);
  emit({
    bench: 'cold-open.first-answer',
    what: 'a new `lifeline ask` process on a data root: open catalog, verify and load segments, answer',
    chunks: BIG,
    ms: round(times[0]!, 1),
    reference: 'a bare node process that only loads better-sqlite3 and faiss-node',
    refMs: round(refTimes[0]!, 1),
    ratio: round(times[0]! / refTimes[0]!, 2),
  });
}

async function demoLatency(): Promise<void> {
  const dir = tmp('demo');
  const app = await openLifeline({ dataDir: dir, shell: 'cli' });
  const questions = (JSON.parse(fs.readFileSync(path.join(resourcesDir(), 'golden', 'demo.json'), 'utf8')).questions as { question: string }[]).map((q) => q.question);
  for (let i = 0; i < 20; i++) await app.knowledge.ask({ question: questions[i % questions.length]! });
  const e2e = await timeEach(400, (i) => app.knowledge.ask({ question: questions[i % questions.length]! }));
  const kbId = (app.db.prepare("SELECT id FROM kb WHERE name = 'demo'").get() as { id: number }).id;
  const segs = app.knowledge.segmentsOf(kbId);
  const emb = new HashEmbedder();
  const qv = questions.map((q) => Array.from(emb.embedSync([q])));
  const faissOnly = await timeEach(400, (i) => segs.forEach((s) => s.index.search(qv[i % qv.length]!, Math.min(32, s.index.ntotal()))));
  emit({
    bench: 'ask.demo.latency',
    what: 'end-to-end ask on the demo knowledge base',
    chunks: (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n,
    p50Ms: round(pct(e2e, 50)),
    p99Ms: round(pct(e2e, 99)),
    reference: 'faiss-node flat search alone, same queries',
    refP50Ms: round(pct(faissOnly, 50)),
    ratioP50: round(pct(e2e, 50) / pct(faissOnly, 50), 1),
  });
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

emit({ bench: 'machine', node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memGiB: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString(), quick: QUICK });
await demoLatency();
await ingestThroughput();
segmentBuild();
for (const size of [SMALL, BIG]) {
  const t = nowMs();
  const { data, questions } = await buildKb(size);
  const buildMs = nowMs() - t;
  emit({ bench: `kb.build.${size / 1000}k`, what: 'ingest used to build the query benchmark knowledge base', chunks: size, ms: round(buildMs, 0), chunksPerSec: Math.round((size * 1000) / buildMs) });
  await queryLatency(size, data, questions);
  if (size === BIG) {
    coldOpen(data, questions[1]!);
    await verifyFast(data);
    await backupBench(data);
  }
  fs.rmSync(data, { recursive: true, force: true });
}
