// `npm run bench`: one JSON line per measurement, each with its reference measured in the same
// run, so figures compare across machines as ratios. Later issues add their benchmarks here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLifeline } from '../electron/core/app.js';
import { HashEmbedder } from '../electron/core/models/hashEmbedder.js';
import { resourcesDir } from '../electron/core/util/appRoot.js';

interface Line {
  bench: string;
  [k: string]: unknown;
}

function emit(line: Line): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function timeEach(n: number, fn: (i: number) => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

async function timeEachAsync(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

async function retrievalOnDemo(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-bench-'));
  try {
    const app = await openLifeline({ dataDir: dir, shell: 'cli' });
    const questions = JSON.parse(fs.readFileSync(path.join(resourcesDir(), 'golden', 'demo.json'), 'utf8')).questions.map((q: { question: string }) => q.question) as string[];
    const kb = app.db.prepare("SELECT id FROM kb WHERE name = 'demo'").get() as { id: number };
    const segments = app.knowledge.segmentsOf(kb.id);
    const embedder = new HashEmbedder();
    const queryVecs = questions.map((q) => Array.from(embedder.embedSync([q])));
    const N = 400;
    for (let i = 0; i < 20; i++) await app.knowledge.ask({ question: questions[i % questions.length]! });
    const endToEnd = await timeEachAsync(N, (i) => app.knowledge.ask({ question: questions[i % questions.length]! }));
    // Reference: the FAISS search alone, same queries, same segments.
    const faissOnly = timeEach(N, (i) => segments.forEach((s) => s.index.search(queryVecs[i % queryVecs.length]!, Math.min(32, s.index.ntotal()))));
    emit({
      bench: 'ask.demo.latency',
      what: 'end-to-end ask (embed, FAISS, FTS5, fusion, extractive answer) on the demo knowledge base',
      queries: N,
      chunks: (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n,
      p50Ms: round(percentile(endToEnd, 50)),
      p99Ms: round(percentile(endToEnd, 99)),
      reference: 'faiss-node flat search alone, same queries',
      refP50Ms: round(percentile(faissOnly, 50)),
      refP99Ms: round(percentile(faissOnly, 99)),
      ratioP50: round(percentile(endToEnd, 50) / percentile(faissOnly, 50)),
    });
    await app.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

emit({ bench: 'machine', node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memGiB: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString() });
await retrievalOnDemo();
