// Parent side of the fuzz sandbox: every case runs in a separate Node process (child.ts, the
// TypeScript sources loaded through ts-hooks.mjs), so a case that hangs — even in synchronous
// code that no Promise.race could interrupt — is killed at its hard time limit and reported as a
// hang, a native crash (SIGSEGV, SIGABRT, V8 out of memory) is reported as a crash instead of
// taking the test runner down, and the memory a case needs is measured in isolation (the child
// resets its peak-RSS counter before each case and reports the peak after).
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(HERE, 'child.ts');
const REGISTER = path.join(HERE, 'register.mjs');

/** How a thrown error looked from inside the child (instanceof checks are made there). */
export interface ErrorInfo {
  name: string;
  constructorName: string;
  message: string;
  code?: string;
  /** Set for LoadError/GgufError: the file the error names. */
  file?: string;
  reason?: string;
  isLoadError: boolean;
  isPickleError: boolean;
  isAgeError: boolean;
  isGgufError: boolean;
  isUserError: boolean;
  isSegmentError: boolean;
  stack?: string;
}

export interface Memory {
  /** RSS just before the case, MB. */
  beforeMb: number;
  /** Peak RSS during the case, MB (VmHWM after resetting it). */
  peakMb: number;
}

export type Outcome =
  | { kind: 'ok'; value: unknown; ms: number; mem: Memory }
  | { kind: 'error'; error: ErrorInfo; ms: number; mem: Memory }
  | { kind: 'hang'; ms: number; stderr: string }
  /** Killed by the parent's watchdog when its RSS grew more than the call's memory limit. */
  | { kind: 'memory'; ms: number; mem: Memory; limitMb: number }
  | { kind: 'crash'; ms: number; code: number | null; signal: string | null; fatal?: ErrorInfo & { event: string }; stderr: string };

interface Pending {
  id: number;
  child: ChildProcess;
  resolve: (o: Outcome) => void;
  started: number;
  timer: NodeJS.Timeout;
  /** RSS of the child when the case started (MB), once the child said so. */
  beforeMb?: number;
  peakMb: number;
  watch?: NodeJS.Timeout;
}

function rssMbOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

class Sandbox {
  private child: ChildProcess | null = null;
  private pending: Pending | null = null;
  private nextId = 1;
  private stderr = '';
  private fatal: (ErrorInfo & { event: string }) | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly heapMb: number,
  ) {}

  private start(): ChildProcess {
    this.stderr = '';
    this.fatal = undefined;
    const child = fork(CHILD, [], {
      execPath: process.execPath,
      execArgv: ['--enable-source-maps', '--expose-gc', `--max-old-space-size=${this.heapMb}`, '--import', REGISTER],
      env: { ...process.env, ...this.env, NODE_OPTIONS: '' },
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    child.on('message', (m: { id: number; outcome?: Outcome; started?: { beforeMb: number }; fatal?: ErrorInfo & { event: string } }) => {
      if (m.fatal) {
        this.fatal = m.fatal;
        return;
      }
      const p = this.pending;
      if (!p || p.id !== m.id) return;
      if (m.started) {
        p.beforeMb = m.started.beforeMb;
        return;
      }
      if (!m.outcome) return;
      this.finish(p);
      p.resolve(m.outcome);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const p = this.pending;
      if (!p || p.child !== child) return; // a child killed at its time or memory limit: already answered
      this.finish(p);
      p.resolve({ kind: 'crash', ms: Date.now() - p.started, code, signal, fatal: this.fatal, stderr: this.stderr });
    });
    this.child = child;
    return child;
  }

  private finish(p: Pending): void {
    clearTimeout(p.timer);
    if (p.watch) clearInterval(p.watch);
    if (this.pending === p) this.pending = null;
  }

  private kill(child: ChildProcess): void {
    child.kill('SIGKILL');
    if (this.child === child) this.child = null;
  }

  /**
   * Runs one case. `timeoutMs` is a hard limit (the child is killed: a hang); `memoryMb` limits
   * how far the child's RSS may grow over its size at the start of the case (killed: 'memory'),
   * watched from here every 25 ms so that even a child stuck in synchronous code is caught.
   * `fresh` starts a new child first: memory a previous case left resident (V8 keeps freed heap
   * pages) would otherwise hide part of this case's growth.
   */
  call(op: string, args: unknown, timeoutMs: number, memoryMb = Infinity, fresh = false): Promise<Outcome> {
    if (this.pending) throw new Error('sandbox: one call at a time');
    if (fresh && this.child) this.kill(this.child);
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise<Outcome>((resolve) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        const p = this.pending;
        this.finish(p);
        const stderr = this.stderr;
        this.kill(child);
        resolve({ kind: 'hang', ms: Date.now() - started, stderr });
      }, timeoutMs);
      const p: Pending = { id, child, resolve, started, timer, peakMb: 0 };
      if (Number.isFinite(memoryMb)) {
        p.watch = setInterval(() => {
          const rss = rssMbOf(child.pid);
          if (rss === null || p.beforeMb === undefined) return;
          p.peakMb = Math.max(p.peakMb, rss);
          if (rss - p.beforeMb <= memoryMb || this.pending !== p) return;
          this.finish(p);
          this.kill(child);
          resolve({ kind: 'memory', ms: Date.now() - started, mem: { beforeMb: p.beforeMb, peakMb: rss }, limitMb: memoryMb });
        }, 25);
      }
      this.pending = p;
      child.send({ id, op, args });
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

/** A few sandboxes working through a queue of cases. */
export class SandboxPool {
  private readonly boxes: Sandbox[];
  private readonly idle: Sandbox[];
  private readonly waiting: ((b: Sandbox) => void)[] = [];

  constructor(size: number, opts: { env?: NodeJS.ProcessEnv; heapMb?: number } = {}) {
    this.boxes = Array.from({ length: size }, () => new Sandbox(opts.env ?? {}, opts.heapMb ?? 2048));
    this.idle = [...this.boxes];
  }

  /** Wall time the sandboxes spent on calls, and how much of it the cases themselves took (ms). */
  busyMs = 0;
  caseMs = 0;
  restarts = 0;

  async run(op: string, args: unknown, timeoutMs: number, memoryMb?: number, opts: { fresh?: boolean } = {}): Promise<Outcome> {
    const box = this.idle.pop() ?? (await new Promise<Sandbox>((r) => this.waiting.push(r)));
    const t = Date.now();
    try {
      const o = await box.call(op, args, timeoutMs, memoryMb, opts.fresh);
      this.caseMs += o.ms;
      return o;
    } finally {
      this.busyMs += Date.now() - t;
      const next = this.waiting.shift();
      if (next) next(box);
      else this.idle.push(box);
    }
  }

  close(): void {
    for (const b of this.boxes) b.stop();
  }
}

/** One line describing an outcome, for failure messages and logs. */
export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok':
      return `ok in ${o.ms} ms (peak ${o.mem.peakMb - o.mem.beforeMb} MB over ${o.mem.beforeMb} MB): ${JSON.stringify(o.value)?.slice(0, 200)}`;
    case 'error':
      return `${o.error.constructorName}${o.error.code ? `(${o.error.code})` : ''} in ${o.ms} ms (peak +${o.mem.peakMb - o.mem.beforeMb} MB): ${o.error.message.slice(0, 300)}`;
    case 'hang':
      return `HANG: no answer within ${o.ms} ms (killed)`;
    case 'memory':
      return `MEMORY: RSS grew ${o.mem.peakMb - o.mem.beforeMb} MB (over ${o.mem.beforeMb} MB) within ${o.ms} ms, more than ${o.limitMb} MB (killed)`;
    case 'crash':
      return `CRASH after ${o.ms} ms: exit ${o.code} signal ${o.signal}${o.fatal ? ` — ${o.fatal.event}: ${o.fatal.constructorName}: ${o.fatal.message.slice(0, 300)}` : ''}; stderr: ${o.stderr.trim().split('\n').slice(-6).join(' | ').slice(0, 600)}`;
  }
}

/** Extra memory a case needed, MB (0 for hangs and crashes). */
export function growthMb(o: Outcome): number {
  return o.kind === 'ok' || o.kind === 'error' || o.kind === 'memory' ? o.mem.peakMb - o.mem.beforeMb : 0;
}
