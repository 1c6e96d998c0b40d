// Child side of the fuzz sandbox (see sandbox.ts): runs one case at a time against the real
// product code and reports what came back, how the error looked from inside (instanceof checks
// against the product's own error classes), and the peak RSS of the case. Uncaught exceptions
// and unhandled rejections are reported as fatal and end the process, as they would in the app.
import fs from 'node:fs';
import { type Generate, generate } from './mutate.js';

interface Request {
  id: number;
  op: string;
  args: Record<string, unknown>;
}

let current = 0;
/** RSS (kB) after the last full garbage collection. */
let lastCollected = 0;

function rssKb(): { rss: number; hwm: number } {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) };
}

function resetPeak(): void {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux or not allowed: the peak then covers the whole life of the process
  }
}

async function errorInfo(err: unknown): Promise<Record<string, unknown>> {
  const { LoadError } = await import('../../../electron/core/kb/formats/types.js');
  const { PickleError } = await import('../../../electron/core/chatchat/pickle.js');
  const { AgeError } = await import('../../../electron/core/backup/age.js');
  const { GgufError } = await import('../../../electron/core/models/gguf.js');
  const { UserError } = await import('../../../electron/api/handlers.js');
  const { SegmentError } = await import('../../../electron/core/vectors/segments.js');
  const e = err as { name?: unknown; message?: unknown; code?: unknown; file?: unknown; reason?: unknown; stack?: unknown; constructor?: { name?: string } } | null;
  return {
    name: String(e?.name ?? typeof err),
    constructorName: err === null || err === undefined ? String(err) : (e?.constructor?.name ?? typeof err),
    message: String(e?.message ?? err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    file: typeof e?.file === 'string' ? e.file : undefined,
    reason: typeof e?.reason === 'string' ? e.reason : undefined,
    isLoadError: err instanceof LoadError,
    isPickleError: err instanceof PickleError,
    isAgeError: err instanceof AgeError,
    isGgufError: err instanceof GgufError,
    isUserError: err instanceof UserError,
    isSegmentError: err instanceof SegmentError,
    stack: typeof e?.stack === 'string' ? e.stack.split('\n').slice(0, 12).join('\n') : undefined,
  };
}

const bytesOf = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer));

// Repositories opened once per child (each open costs one scrypt).
const repos = new Map<string, unknown>();

const OPS: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
  async parse(a) {
    const { parseDocument } = await import('../../../electron/core/kb/loaders.js');
    const bytes = a.generate ? generate(a.generate as Generate) : bytesOf(a.bytes);
    const doc = await parseDocument(String(a.name), bytes);
    return { format: doc.format, units: doc.units.length, chars: doc.units.reduce((n, u) => n + u.text.length, 0) };
  },
  /**
   * parseDocument while a timer measures how long the event loop is ever blocked. Ends when the
   * parse does, or after `budgetMs` with the parse still running (`pending`): a parser that keeps
   * the process responsive may take its time (and its own timeouts then apply).
   */
  async parseResponsive(a) {
    const { parseDocument } = await import('../../../electron/core/kb/loaders.js');
    const bytes = a.generate ? generate(a.generate as Generate) : bytesOf(a.bytes);
    let last = Date.now();
    let maxLagMs = 0;
    const tick = setInterval(() => {
      const now = Date.now();
      maxLagMs = Math.max(maxLagMs, now - last - 20);
      last = now;
    }, 20);
    try {
      const parse = parseDocument(String(a.name), bytes).then(
        (doc) => ({ done: true, units: doc.units.length, error: null as unknown }),
        (err: unknown) => ({ done: true, units: 0, error: err }),
      );
      const budget = new Promise<{ done: false }>((r) => setTimeout(() => r({ done: false }), Number(a.budgetMs ?? 1500)));
      const r = await Promise.race([parse, budget]);
      const error = r.done && r.error ? ((await errorInfo(r.error)) as { isLoadError: boolean; message: string; constructorName: string }) : null;
      return { pending: !r.done, units: r.done ? r.units : 0, maxLagMs, error: error && { isLoadError: error.isLoadError, message: error.message, constructorName: error.constructorName } };
    } finally {
      clearInterval(tick);
    }
  },
  async unpickle(a) {
    const { unpickle, describe } = await import('../../../electron/core/chatchat/pickle.js');
    return describe(unpickle(bytesOf(a.bytes)));
  },
  async decodeFaissPickle(a) {
    const { decodeFaissPickle } = await import('../../../electron/core/chatchat/pickle.js');
    const d = decodeFaissPickle(bytesOf(a.bytes));
    return { docs: d.docs.size, idMap: d.idMap.size, badDocs: d.badDocs.length, flavor: d.flavor };
  },
  async inspectChatchat(a) {
    const { inspectChatchat } = await import('../../../electron/core/chatchat/index.js');
    const r = await inspectChatchat(String(a.dir), { deep: a.deep === true });
    return {
      ok: r.ok,
      problems: [...r.problems.map((p) => p.code), ...r.knowledgeBases.flatMap((k) => [...k.problems.map((p) => p.code), ...k.vectorStores.flatMap((v) => v.problems.map((p) => p.code))])],
      statuses: r.knowledgeBases.flatMap((k) => k.vectorStores.map((v) => v.status)),
    };
  },
  async decodeFlatHeader(a) {
    const { decodeFlatHeader } = await import('../../../electron/core/vectors/faissFormat.js');
    const b = bytesOf(a.bytes);
    return decodeFlatHeader(b, typeof a.total === 'number' ? a.total : b.byteLength);
  },
  async gguf(a) {
    const { readGgufMetadata } = await import('../../../electron/core/models/gguf.js');
    const info = await readGgufMetadata(String(a.file));
    return { architecture: info.architecture, kind: info.kind, tensors: info.tensorCount, keys: Object.keys(info.metadata).length };
  },
  async pickleCase(a) {
    return OPS[String(a.op)]!(a);
  },
  async ageCase(a) {
    return OPS[a.kind === 'stream' ? 'ageDecryptStream' : 'ageDecryptBuffer']!(a);
  },
  async ageDecryptBuffer(a) {
    const age = await import('../../../electron/core/backup/age.js');
    return { bytes: age.decryptBuffer(bytesOf(a.bytes), String(a.identity)).length };
  },
  async ageDecryptStream(a) {
    const age = await import('../../../electron/core/backup/age.js');
    let n = 0;
    // A small-chunk source, so the streaming header/payload state machine sees split boundaries.
    const src = bytesOf(a.bytes);
    const step = Number(a.step ?? 4096);
    async function* chunks() {
      for (let i = 0; i < src.length; i += step) yield src.subarray(i, i + step);
    }
    await age.decryptFile(chunks(), String(a.identity), (c: Buffer) => {
      n += c.length;
    });
    return { bytes: n };
  },
  async agePassphrase(a) {
    const age = await import('../../../electron/core/backup/age.js');
    return { bytes: (await age.decryptWithPassphrase(bytesOf(a.bytes), String(a.passphrase))).length };
  },
  async readSnapshot(a) {
    const { Repository } = await import('../../../electron/core/backup/repo.js');
    const dir = String(a.repoDir);
    let repo = repos.get(dir) as Awaited<ReturnType<typeof Repository.open>> | undefined;
    if (!repo) {
      repo = await Repository.open(dir, String(a.passphrase));
      repos.set(dir, repo);
    }
    const m = repo.readSnapshot(String(a.file));
    return { id: m.id, files: Array.isArray(m.files) ? m.files.length : typeof m.files, format: m.format };
  },
  /**
   * The real app on a data root: open it, create the knowledge base if needed, ingest a folder
   * (as `lifeline ingest` does), verify deeply, list the documents, ask a question, close.
   */
  async ingestFolder(a) {
    const { openLifeline } = await import('../../../electron/core/app.js');
    const { KnowledgeService } = await import('../../../electron/core/kb/knowledge.js');
    const kb = String(a.kb);
    const app = await openLifeline({ dataDir: String(a.dataDir), shell: 'cli', seedDemo: false });
    try {
      if (!app.knowledge.listKbs().some((k) => k.name === kb)) app.knowledge.createKb(kb);
      const report = await app.knowledge.ingest(kb, KnowledgeService.collectInputs([String(a.folder)]));
      const verify = await app.verify(true);
      const documents = app.knowledge.documents(kb).map((d) => ({ name: d.name, chunks: d.chunks }));
      const answer = typeof a.question === 'string' ? await app.answer({ question: a.question, kb }) : null;
      const pending = (app.db.prepare("SELECT count(*) AS n FROM ingest_item WHERE state = 'pending'").get() as { n: number }).n;
      const chunks = (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
      return {
        report,
        verify: { ok: verify.ok, problems: verify.problems.map((p) => `${p.severity} ${p.code} ${p.path}: ${p.message}`), checked: verify.checked },
        documents,
        chunks,
        pending,
        citations: answer?.citations.map((c) => c.document) ?? [],
      };
    } finally {
      await app.close();
    }
  },
  /** The real app on a (damaged) data root: open it (start-up repairs included), ask, verify again, close. */
  async askApp(a) {
    const { openLifeline } = await import('../../../electron/core/app.js');
    const app = await openLifeline({ dataDir: String(a.dataDir), shell: 'cli', seedDemo: false });
    try {
      const answer = await app.answer({ question: String(a.question) });
      let after: { ok: boolean; problems: string[] } | { error: string };
      try {
        const v = await app.verify(true);
        after = { ok: v.ok, problems: v.problems.map((p) => `${p.severity} ${p.code} ${p.path}`) };
      } catch (err) {
        after = { error: (err as Error).message };
      }
      return {
        mode: answer.mode,
        covered: answer.covered,
        citations: answer.citations.map((c) => c.document),
        repaired: app.startup.repaired?.actions.map((x) => `${x.ok ? 'done' : 'FAILED'} ${x.action}`) ?? [],
        after,
      };
    } finally {
      await app.close();
    }
  },
  /**
   * Opens the app twice in this process: what a console's "try again" does after a failed start.
   * Returns both errors (or null) and whether lifeline.lock was left behind after the first.
   */
  async openTwice(a) {
    const { openLifeline } = await import('../../../electron/core/app.js');
    const attempt = async () => {
      try {
        const app = await openLifeline({ dataDir: String(a.dataDir), shell: 'cli', seedDemo: false });
        await app.close();
        return null;
      } catch (err) {
        const e = err as { code?: unknown; message?: unknown };
        return { code: typeof e.code === 'string' ? e.code : null, message: String(e.message ?? err) };
      }
    };
    const first = await attempt();
    const lockLeft = fs.existsSync(`${String(a.dataDir)}/lifeline.lock`);
    const second = await attempt();
    return { first, lockLeft, second };
  },
  // Harness self-checks: a case that never ends, one that kills the process, one that leaks.
  async selftestHang() {
    for (;;) {
      // a synchronous hang: no timer inside this process could stop it
    }
  },
  async selftestCrash() {
    process.kill(process.pid, 'SIGSEGV');
    return null;
  },
  async selftestReject() {
    void Promise.reject(new TypeError('an unhandled rejection'));
    await new Promise((r) => setTimeout(r, 50));
    return 'survived';
  },
  async selftestMemory(a) {
    const mb = Number(a.mb ?? 600);
    const keep = Buffer.alloc(mb * 1024 * 1024, 1);
    await new Promise((r) => setTimeout(r, 1000));
    return keep.length;
  },
};

async function handle(req: Request): Promise<void> {
  current = req.id;
  const fn = OPS[req.op];
  // Garbage of the previous cases is not this case's memory: collect it once it adds up (a full
  // collection costs ~20 ms, too much to pay before every small case).
  if (rssKb().rss > lastCollected + 64 * 1024) {
    (globalThis as { gc?: () => void }).gc?.();
    lastCollected = rssKb().rss;
  }
  resetPeak();
  const before = rssKb().rss;
  process.send!({ id: req.id, started: { beforeMb: Math.round(before / 1024) } });
  const started = Date.now();
  let outcome: Record<string, unknown>;
  try {
    if (!fn) throw new Error(`unknown op ${req.op}`);
    const value = await fn(req.args ?? {});
    outcome = { kind: 'ok', value };
  } catch (err) {
    outcome = { kind: 'error', error: await errorInfo(err) };
  }
  const ms = Date.now() - started;
  const peak = rssKb().hwm;
  // Rejections a library leaves behind surface a little later: give them the time to, so that
  // they are charged to this case (the fatal handler then ends the process before we answer).
  const settle = Number(req.args?.settleMs ?? 0);
  if (settle > 0) await new Promise((r) => setTimeout(r, settle));
  if (fatalPending) return; // the fatal report wins: this process is about to end
  process.send!({ id: req.id, outcome: { ...outcome, ms, mem: { beforeMb: Math.round(before / 1024), peakMb: Math.round(peak / 1024) } } });
}

async function fatal(event: string, err: unknown): Promise<void> {
  try {
    process.send!({ id: current, fatal: { event, ...(await errorInfo(err)) } }, () => process.exit(70));
  } catch {
    process.exit(70);
  }
}
let fatalPending = false;
process.on('uncaughtException', (err) => {
  fatalPending = true;
  void fatal('uncaughtException', err);
});
process.on('unhandledRejection', (err) => {
  fatalPending = true;
  void fatal('unhandledRejection', err);
});

let chain = Promise.resolve();
process.on('message', (req: Request) => {
  chain = chain.then(() => handle(req));
});
process.on('disconnect', () => process.exit(0));
