// Reads documents off the main thread. Ingest, the HTTP server and the console share one process,
// and document parsers are third-party code fed with whatever the operator drops in: pdf.js can
// run synchronously for minutes on a 40 KB file, htmlparser2 and xmldom are quadratic on deep
// nesting, compressed streams unpack to gigabytes, and pdf.js leaves unhandled rejections behind.
// So every document is parsed in a worker thread (parseWorker.ts), and the pool here bounds it:
//   - time: a document that makes no progress for PARSE_STEP_LIMIT_MS (a PDF counts each page as
//     progress) or takes longer than PARSE_TOTAL_LIMIT_MS in all — the thread is terminated, which
//     stops even a synchronous loop, and the document is refused with a LoadError;
//   - memory: the process's RSS is watched while a document is read (the worker's heap and the
//     buffers outside it) — past PARSE_MEMORY_MB of growth, same outcome; the worker's V8 heap is
//     capped too (resourceLimits), so that a runaway heap ends the thread, never the process;
//   - failures: whatever happens inside the thread ends as a LoadError naming the file, never as a
//     crash of the process; a dead or terminated thread is replaced for the next document.
// Threads are reused across documents, at most MAX_WORKERS at a time (more documents queue), and
// ended after PARSE_IDLE_MS without work; idle threads never keep the process alive.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { unpackUnits } from './extract.js';
import { type DocumentFormat, LoadError, type ParsedUnit } from './formats/types.js';
import type { ParseReply, ParseRequest } from './parseWorker.js';

/** Longest a document may go without progress (the whole document, or one PDF page). */
export const PARSE_STEP_LIMIT_MS = 30_000;
/** Longest a document may take in all, however steadily it progresses. */
export const PARSE_TOTAL_LIMIT_MS = 10 * 60_000;
/**
 * The worker's V8 heap limit (old generation): the main thread's own. It is not the memory limit
 * (PARSE_MEMORY_MB is, watched from outside): it turns V8's out-of-memory abort, which would end
 * the process, into the end of the thread. A smaller heap would not be safer but slower: V8 sizes
 * its collector by this limit: at 384 MB, ingesting office files and PDFs took about a third
 * more CPU, most of it in garbage collection.
 */
export const PARSE_HEAP_MB = Math.max(512, Math.round(v8.getHeapStatistics().heap_size_limit / 1024 / 1024));
/**
 * How much the process's RSS may grow while a document is read: the worker's heap plus the
 * buffers outside it (a document's bytes, inflated streams) and the units handed back. (RSS is
 * the process's: while two documents are read at once, each may grow it by twice this.)
 */
export const PARSE_MEMORY_MB = 448;
const MAX_WORKERS = 2;
const PARSE_IDLE_MS = 60_000;
const RSS_POLL_MS = 50;
/** A worker whose heap holds more than this after a document is replaced rather than reused. */
const RECYCLE_HEAP_MB = 256;

export interface ParseLimits {
  stepMs: number;
  totalMs: number;
  memoryMb: number;
  heapMb: number;
}
const limits: ParseLimits = { stepMs: PARSE_STEP_LIMIT_MS, totalMs: PARSE_TOTAL_LIMIT_MS, memoryMb: PARSE_MEMORY_MB, heapMb: PARSE_HEAP_MB };

/** Changes the limits for the documents read from now on (tests use it); returns the previous ones. */
export function setParseLimits(next: Partial<ParseLimits>): ParseLimits {
  const previous = { ...limits };
  Object.assign(limits, next);
  pool.retireIdle(); // a thread's heap limit is set when it starts
  return previous;
}

interface Job {
  id: number;
  file: string;
  format: DocumentFormat;
  bytes: Uint8Array;
  resolve: (units: ParsedUnit[]) => void;
  reject: (err: Error) => void;
}

/** Where the worker's code is: next to this module once built; from the sources with a TypeScript loader. */
function workerEntry(): { url: URL; execArgv?: string[] } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./parseWorker.js', import.meta.url) };
  // Running from the TypeScript sources (Vitest, the fuzz sandbox): the worker is a plain Node
  // thread, so it loads them through the repository's type-stripping hooks (what the fuzz sandbox
  // uses; never part of a build).
  const hooks = fileURLToPath(new URL('../../../test/fuzz/support/register.mjs', import.meta.url));
  if (!fs.existsSync(hooks)) throw new Error(`the document parser cannot start from TypeScript sources without ${hooks}`);
  return { url: new URL('./parseWorker.ts', import.meta.url), execArgv: ['--enable-source-maps', '--import', hooks] };
}

const seconds = (ms: number) => `${ms < 10_000 ? Math.round(ms / 100) / 10 : Math.round(ms / 1000)} s`;

class ParseThread {
  readonly worker: Worker;
  job: Job | null = null;
  /** Set once the thread ended (terminated, crashed or retired): it takes no more work. */
  dead = false;
  private ready = false;
  private step = '';
  private stepTimer: NodeJS.Timeout | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private rssTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private startupError: Error | null = null;
  private readonly heapMb = limits.heapMb;

  constructor(private readonly pool: ParsePool) {
    const { url, execArgv } = workerEntry();
    this.worker = new Worker(url, {
      ...(execArgv ? { execArgv } : {}),
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      name: 'lifeline-parse',
    });
    this.worker.on('message', (m: ParseReply | { ready: true }) => this.onMessage(m));
    this.worker.on('error', (err: Error & { code?: string }) => this.onError(err));
    this.worker.on('exit', (code) => this.onExit(code));
    this.worker.unref();
  }

  run(job: Job): void {
    clearTimeout(this.idleTimer);
    this.job = job;
    this.step = '';
    this.worker.ref();
    this.armStepTimer();
    const { totalMs, memoryMb } = limits;
    this.totalTimer = setTimeout(() => this.fail(`took longer than ${seconds(totalMs)} to read in all; it is damaged or too large to read here`), totalMs);
    const rssBase = process.memoryUsage.rss();
    this.rssTimer = setInterval(() => {
      const grownMb = (process.memoryUsage.rss() - rssBase) / 1024 / 1024;
      if (grownMb > memoryMb * this.pool.busy()) this.fail(`needs more than ${memoryMb} MB of memory to read: it is too large to read in one piece (split it), damaged, or built to exhaust memory`);
    }, RSS_POLL_MS);
    // A private copy of exactly these bytes, moved to the thread (the caller keeps its own).
    const bytes = new Uint8Array(job.bytes);
    const req: ParseRequest = { id: job.id, file: job.file, format: job.format, bytes };
    this.worker.postMessage(req, [bytes.buffer]);
  }

  private armStepTimer(): void {
    clearTimeout(this.stepTimer);
    const { stepMs } = limits;
    this.stepTimer = setTimeout(() => this.fail(`took longer than ${seconds(stepMs)} to read${this.step ? ` (${this.step})` : ''}; it is damaged, or too complex to read here`), stepMs);
  }

  private onMessage(m: ParseReply | { ready: true }): void {
    if ('ready' in m) {
      this.ready = true;
      return;
    }
    const job = this.job;
    if (!job || m.id !== job.id) return;
    if ('step' in m) {
      this.step = m.step;
      this.armStepTimer();
      return;
    }
    this.finishJob();
    if ('units' in m) job.resolve(unpackUnits(m.units));
    else if ('reason' in m) job.reject(new LoadError(job.file, m.reason));
    else job.reject(new Error(`the document parser failed on ${job.file}: ${m.failure}`));
    if (m.heapMb > RECYCLE_HEAP_MB) this.retire();
    else this.pool.idle(this);
  }

  /** Ends the current document with a LoadError and the thread with it (a runaway parser cannot be stopped otherwise). */
  private fail(reason: string): void {
    const job = this.job;
    if (!job) return;
    this.finishJob();
    job.reject(new LoadError(job.file, reason));
    this.retire();
  }

  private onError(err: Error & { code?: string }): void {
    const job = this.job;
    if (!this.ready && !job) {
      this.startupError = err;
      return;
    }
    if (!job) return;
    this.finishJob();
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      job.reject(new LoadError(job.file, `needs more than ${this.heapMb} MB of memory to read: it is too large to read in one piece (split it), damaged, or built to exhaust memory`));
    } else if (!this.ready) {
      job.reject(new Error(`the document parser could not start: ${err.message}`));
    } else {
      // An exception thrown outside the parse's own promise chain (a library's timer or callback).
      const line = String(err.message ?? err).split('\n')[0]!.slice(0, 200);
      job.reject(new LoadError(job.file, `the reader failed on it: ${line}`));
    }
  }

  private onExit(code: number): void {
    this.dead = true;
    clearTimeout(this.idleTimer);
    const job = this.job;
    if (job) {
      this.finishJob();
      job.reject(this.ready ? new LoadError(job.file, `the reader stopped while reading it (exit code ${code})`) : new Error(`the document parser could not start${this.startupError ? `: ${this.startupError.message}` : ` (exit code ${code})`}`));
    }
    this.pool.gone(this);
  }

  private finishJob(): void {
    clearTimeout(this.stepTimer);
    clearTimeout(this.totalTimer);
    clearInterval(this.rssTimer);
    this.job = null;
    this.worker.unref();
  }

  /** Waits for the next document; ends the thread after PARSE_IDLE_MS without one. */
  park(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.retire(), PARSE_IDLE_MS);
    this.idleTimer.unref();
  }

  retire(): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idleTimer);
    this.pool.gone(this);
    void this.worker.terminate().catch(() => undefined);
  }
}

class ParsePool {
  private readonly threads = new Set<ParseThread>();
  private readonly free: ParseThread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;

  parse(file: string, format: DocumentFormat, bytes: Uint8Array): Promise<ParsedUnit[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, file, format, bytes, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      let t = this.free.pop();
      while (t?.dead) t = this.free.pop();
      if (!t) {
        if (this.threads.size >= MAX_WORKERS) return;
        try {
          t = new ParseThread(this);
        } catch (err) {
          const job = this.queue.shift()!;
          job.reject(new Error(`the document parser could not start: ${(err as Error).message}`));
          continue;
        }
        this.threads.add(t);
      }
      t.run(this.queue.shift()!);
    }
  }

  /** Ends the threads waiting for work (the next documents start new ones). */
  retireIdle(): void {
    for (const t of [...this.free]) t.retire();
  }

  /** How many documents are being read now. */
  busy(): number {
    let n = 0;
    for (const t of this.threads) if (t.job) n++;
    return Math.max(1, n);
  }

  idle(t: ParseThread): void {
    if (t.dead) return;
    this.free.push(t);
    t.park();
    this.dispatch();
  }

  gone(t: ParseThread): void {
    this.threads.delete(t);
    const i = this.free.indexOf(t);
    if (i >= 0) this.free.splice(i, 1);
    this.dispatch();
  }
}

const pool = new ParsePool();

/** The units of a document, read in a parse worker within the limits above; or a LoadError naming `file`. */
export function parseInWorker(file: string, format: DocumentFormat, bytes: Uint8Array): Promise<ParsedUnit[]> {
  return pool.parse(file, format, bytes);
}
