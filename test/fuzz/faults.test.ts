// File-level faults in a real data root. One sound data root is built with the CLI: the demo
// knowledge base (with an approximate .ivf index), its golden set, a tiny chat model (the chat
// model in use for the model faults), and the models cache. Then, for every kind of file Lifeline writes and reads —
// catalog.sqlite, a segment .faiss, an .ivf, a blob, SHA256SUMS, golden/demo.json, the model
// .gguf, lifeline.lock, models/.lifeline-models.json — a fresh copy gets one fault: truncated, a
// byte flipped, replaced with garbage, replaced by a directory, or made read-only (a read-only
// bind mount, since root ignores chmod 000; skipped with the reason when mounting is not allowed).
// On each copy:
//   1. `lifeline verify --deep` runs first (before any start-up repair) and must report the
//      damage — exit 1 with a problem naming the file, or exit 2 with a message naming it — and
//      never print a stack trace;
//   2. then the real app is opened on it (openLifeline in a sandbox child, so a hang or crash is
//      a failure) and asked a question: it works (self-healing where the file is derived) or
//      fails with a message naming the file.
// Faults whose file is never read or never reported would be listed as it.fails with the bug named
// (none today: the last ones, fixed, are plain tests at the end).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, lifeline } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { writeTinyLlamaGguf } from '../helpers/gguf.js';
import { lifelineAsync, limiter } from './support/cli-async.js';
import { FUZZ_SEED, seeded } from './support/mutate.js';
import { type Outcome, SandboxPool, describeOutcome } from './support/sandbox.js';

const ENV = { LIFELINE_ANN_MIN_VECTORS: '40' };
const QUESTION = '如何请假？';

type Kind = 'catalog' | 'segment' | 'ivf' | 'blob' | 'sums' | 'golden' | 'model' | 'lock' | 'models-cache';
type Fault = 'truncate' | 'flip' | 'garbage' | 'directory' | 'read-only';
const KINDS: Kind[] = ['catalog', 'segment', 'ivf', 'blob', 'sums', 'golden', 'model', 'lock', 'models-cache'];
const FAULTS: Fault[] = ['truncate', 'flip', 'garbage', 'directory', 'read-only'];
/**
 * Files Lifeline only ever reads (content-addressed segments, .ivf and blobs; model files): a
 * read-only mount of one is not a fault, so that variant runs only for the files it writes.
 */
const NEVER_WRITTEN: Kind[] = ['segment', 'ivf', 'blob', 'model'];
const DAMAGE: Fault[] = ['truncate', 'flip', 'garbage', 'directory'];

let t: ReturnType<typeof tempDir>;
let golden = '';
let pool: SandboxPool;

/** A read-only bind mount needs CAP_SYS_ADMIN; without it the read-only variant is skipped, with the reason. */
const canMount = (() => {
  const probe = tempDir('lifeline-fuzz-mount-');
  try {
    const f = path.join(probe.dir, 'probe');
    fs.writeFileSync(f, 'x');
    if (spawnSync('mount', ['--bind', f, f]).status !== 0) return false;
    spawnSync('umount', [f]);
    return true;
  } catch {
    return false;
  } finally {
    probe.cleanup();
  }
})();
const NO_MOUNT = 'no permission to bind-mount here, and chmod 000 means nothing to root';
const mounted: string[] = [];

function files(root: string, sub: string, ext: string): string[] {
  const dir = path.join(root, sub);
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => f.endsWith(ext) && fs.statSync(f).isFile());
}

/** The file of each kind in a data root. */
function target(root: string, kind: Kind): string {
  switch (kind) {
    case 'catalog':
      return path.join(root, 'catalog.sqlite');
    case 'segment':
      return files(root, 'segments', '.faiss')[0]!;
    case 'ivf':
      return files(root, 'segments', '.ivf')[0]!;
    case 'blob':
      return files(root, 'blobs', '')[0]!;
    case 'sums':
      return path.join(root, 'SHA256SUMS');
    case 'golden':
      return path.join(root, 'golden', 'demo.json');
    case 'model':
      return path.join(root, 'models', 'tiny-llama.gguf');
    case 'lock':
      return path.join(root, 'lifeline.lock');
    case 'models-cache':
      return path.join(root, 'models', '.lifeline-models.json');
  }
}

function useChatModel(root: string, name: string): void {
  const db = new Database(path.join(root, 'catalog.sqlite'));
  try {
    db.prepare("INSERT INTO meta(key, value) VALUES ('chat_model', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(name);
  } finally {
    db.close();
  }
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** Applies the fault; false when it cannot be applied here (the case is then skipped). */
function applyFault(file: string, kind: Kind, fault: Fault): boolean {
  const r = seeded(900 + KINDS.indexOf(kind) * 10 + FAULTS.indexOf(fault));
  // A lock left by a process of another machine: it exists only while a process runs.
  if (kind === 'lock') fs.writeFileSync(file, JSON.stringify({ pid: 999_999, host: 'ward-pc-2', since: '2026-01-01T00:00:00Z', command: 'lifeline serve' }) + '\n');
  const bytes = fs.readFileSync(file);
  switch (fault) {
    case 'truncate':
      fs.truncateSync(file, kind === 'catalog' ? 4096 : Math.floor(bytes.length / 2));
      return true;
    case 'flip': {
      // A byte the format can notice: the b-tree page type of the catalog's page 2, the GGUF
      // version, the FAISS dimension; elsewhere the middle byte.
      const at = kind === 'catalog' ? 4096 : kind === 'model' ? 4 : kind === 'segment' || kind === 'ivf' ? 5 : Math.floor(bytes.length / 2);
      bytes[at]! ^= 0x5a;
      fs.writeFileSync(file, bytes);
      return true;
    }
    case 'garbage':
      fs.writeFileSync(file, Buffer.from(r.bytes(Math.max(64, bytes.length))));
      return true;
    case 'directory':
      fs.rmSync(file);
      fs.mkdirSync(file);
      fs.writeFileSync(path.join(file, 'inside'), 'a folder where a file should be');
      return true;
    case 'read-only':
      if (!canMount) return false;
      sh('mount', ['--bind', file, file]);
      mounted.push(file);
      sh('mount', ['-o', 'remount,ro,bind', file]);
      return true;
  }
}

function unmount(file: string): void {
  const i = mounted.indexOf(file);
  if (i < 0) return;
  // Lazily when busy: a process that failed to start may still hold the file open.
  if (spawnSync('umount', [file]).status !== 0) spawnSync('umount', ['-l', file]);
  mounted.splice(i, 1);
}

interface AskValue {
  mode: string;
  covered: boolean;
  citations: string[];
  repaired: string[];
  after: { ok: boolean; problems: string[] } | { error: string };
}

interface FaultRun {
  kind: Kind;
  fault: Fault;
  root: string;
  file: string;
  /** Relative to the data root, forward slashes: what verify's problems name. */
  rel: string;
  verify: CliResult;
  ask: Outcome;
  /** `golden run` after the fault (golden kind only). */
  goldenRun?: CliResult;
}

const STACK = /\n\s+at .+[:(].*\d+:\d+|node:internal|^\s+at [\w.<>[\]]+ \(/m;
const runs = new Map<string, FaultRun>();
let skipped: string[] = [];

function run(kind: Kind, fault: Fault): FaultRun {
  const r = runs.get(`${kind}/${fault}`);
  if (!r) throw new Error(`${kind}/${fault} did not run${skipped.some((s) => s.startsWith(`${kind}/${fault} `)) ? ' (skipped: read-only bind mounts are not allowed here)' : ''}`);
  return r;
}

function problemsOf(v: CliResult): { code: string; path: string; severity: string; message: string }[] {
  try {
    return v.json().problems ?? [];
  } catch {
    return [];
  }
}

/** verify reported the damage: exit 1 with a problem naming the file, or exit 2 with a message naming it; no stack trace. */
function expectVerifyReports(r: FaultRun): void {
  const ctx = `${r.kind}/${r.fault}: verify exit ${r.verify.status}, stdout ${r.verify.stdout.slice(0, 400)} stderr ${r.verify.stderr.slice(0, 400)}`;
  expect(r.verify.stderr + r.verify.stdout, ctx).not.toMatch(STACK);
  if (r.verify.status === 2) {
    expect(r.verify.stderr, ctx).toContain(path.basename(r.file));
    return;
  }
  expect(r.verify.status, ctx).toBe(1);
  expect(problemsOf(r.verify).map((p) => p.path), ctx).toContain(r.rel);
}

function expectAskWorks(r: FaultRun): AskValue {
  expect(r.ask.kind, `${r.kind}/${r.fault}: ${describeOutcome(r.ask)}`).toBe('ok');
  const v = (r.ask as { value: AskValue }).value;
  expect(v.covered, `${r.kind}/${r.fault}: ${JSON.stringify(v)}`).toBe(true);
  expect(v.citations.length).toBeGreaterThan(0);
  return v;
}

function expectAskFailsNamingTheFile(r: FaultRun): void {
  const ctx = `${r.kind}/${r.fault}: ${describeOutcome(r.ask)}`;
  expect(r.ask.kind, ctx).toBe('error');
  expect((r.ask as { error: { message: string } }).error.message, ctx).toContain(path.basename(r.file));
}

beforeAll(async () => {
  console.log(`faults: FUZZ_SEED=${FUZZ_SEED}`);
  t = tempDir('lifeline-fuzz-faults-');
  golden = path.join(t.dir, 'golden-root');
  // The demo knowledge base (an .ivf from 40 vectors up), a golden set and its baseline, a tiny
  // chat model in use, the models cache; verified clean.
  const ask = lifeline(['ask', QUESTION, '--json', '--data', golden], { env: ENV });
  expect(ask.status, ask.stderr).toBe(0);
  expect(lifeline(['golden', 'baseline', '--kb', 'demo', '--data', golden], { env: ENV }).status).toBe(0);
  writeTinyLlamaGguf(path.join(golden, 'models', 'tiny-llama.gguf'));
  expect(lifeline(['models', 'use-chat', 'none', '--data', golden], { env: ENV }).status).toBe(0);
  const v = lifeline(['verify', '--deep', '--json', '--data', golden], { env: ENV });
  expect(v.status, v.stdout + v.stderr).toBe(0);
  for (const k of KINDS) if (k !== 'lock') expect(fs.existsSync(target(golden, k)), k).toBe(true);

  console.log(canMount ? 'read-only faults: read-only bind mounts' : `read-only faults: SKIPPED — ${NO_MOUNT}`);

  pool = new SandboxPool(2, { env: ENV });
  const cli = limiter(2);
  const started = Date.now();
  const all: Promise<void>[] = [];
  for (const kind of KINDS) {
    for (const fault of FAULTS) {
      if (fault === 'read-only' && NEVER_WRITTEN.includes(kind)) {
        skipped.push(`${kind}/${fault} (never written)`);
        continue;
      }
      const root = path.join(t.dir, `${kind}-${fault}`);
      fs.cpSync(golden, root, { recursive: true });
      // Answers are extractive (quick, deterministic) except for the model kind, where the tiny
      // model is the chat model in use, as `lifeline models use-chat tiny-llama.gguf` records it.
      if (kind === 'model') useChatModel(root, 'tiny-llama.gguf');
      const file = target(root, kind);
      if (!applyFault(file, kind, fault)) {
        skipped.push(`${kind}/${fault} (no bind mounts)`);
        continue;
      }
      all.push(
        (async () => {
          try {
            const verify = await cli(() => lifelineAsync(['verify', '--deep', '--json', '--data', root], { env: ENV, timeoutMs: 60_000 }));
            const goldenRun = kind === 'golden' ? await cli(() => lifelineAsync(['golden', 'run', '--kb', 'demo', '--data', root], { env: ENV, timeoutMs: 60_000 })) : undefined;
            const ask = await pool.run('askApp', { dataDir: root, question: QUESTION }, 60_000);
            runs.set(`${kind}/${fault}`, { kind, fault, root, file, rel: path.relative(root, file).split(path.sep).join('/'), verify, ask, goldenRun });
          } finally {
            unmount(file);
          }
        })(),
      );
    }
  }
  await Promise.all(all);
  console.log(`faults: ${runs.size} fault runs in ${((Date.now() - started) / 1000).toFixed(1)} s${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`);
  for (const r of runs.values()) {
    const problems = problemsOf(r.verify).map((p) => `${p.severity} ${p.code} ${p.path}`).join('; ');
    console.log(`  ${r.kind}/${r.fault}: verify exit ${r.verify.status} [${problems}]${r.verify.status === 2 ? ` ${r.verify.stderr.trim().split('\n').pop()}` : ''}; ask ${describeOutcome(r.ask).slice(0, 220)}`);
  }
}, 240_000);

afterAll(() => {
  for (const f of [...mounted]) unmount(f);
  pool?.close();
  t?.cleanup();
});

describe(`faults in the files of a data root (FUZZ_SEED=${FUZZ_SEED})`, () => {
  it('never prints a stack trace, and never hangs or crashes the app, whatever the fault', () => {
    expect(runs.size).toBeGreaterThanOrEqual(KINDS.length * DAMAGE.length);
    for (const r of runs.values()) {
      expect(r.verify.stderr + r.verify.stdout, `${r.kind}/${r.fault}`).not.toMatch(STACK);
      expect([0, 1, 2], `${r.kind}/${r.fault}`).toContain(r.verify.status);
      expect(['ok', 'error'], `${r.kind}/${r.fault}: ${describeOutcome(r.ask)}`).toContain(r.ask.kind);
    }
  });

  it('a truncated or garbage catalog.sqlite: verify reports catalog-corrupt (exit 1); the app refuses to start, naming the catalog and saying to restore', () => {
    for (const f of ['truncate', 'garbage'] as const) {
      const r = run('catalog', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify)[0]).toMatchObject({ code: 'catalog-corrupt', path: 'catalog.sqlite' });
      expectAskFailsNamingTheFile(r);
      expect((r.ask as { error: { message: string } }).error.message).toMatch(/restore/);
    }
  });

  it('a damaged vector segment (.faiss): verify reports it (exit 1); the app rebuilds it at start-up and answers', () => {
    for (const f of DAMAGE) {
      const r = run('segment', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify).find((p) => p.path === r.rel)).toMatchObject({ severity: 'error', code: 'segment-corrupt' });
      const v = expectAskWorks(r);
      // Rebuilt, except where a folder squats the segment's (content-addressed) name.
      if (f !== 'directory') expect(v.after, f).toMatchObject({ ok: true, problems: [] });
    }
  });

  it('a damaged approximate index (.ivf): verify reports it (exit 1, ann-corrupt); the app answers from the exact segment', () => {
    for (const f of DAMAGE) {
      const r = run('ivf', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify).find((p) => p.path === r.rel)).toMatchObject({ code: 'ann-corrupt' });
      expectAskWorks(r);
    }
  });

  it('a damaged original document (blob): verify reports it (exit 1, needs a restore); the app still answers from the catalog', () => {
    for (const f of DAMAGE) {
      const r = run('blob', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify).find((p) => p.path === r.rel)).toMatchObject({ severity: 'error', code: 'document-corrupt' });
      expectAskWorks(r);
    }
  });

  it('a damaged SHA256SUMS is rewritten by the deep verify (self-healing); one that cannot be rewritten (a folder, read-only) is a named error (exit 2)', () => {
    const sound = fs.readFileSync(path.join(golden, 'SHA256SUMS'), 'utf8');
    for (const f of ['truncate', 'flip', 'garbage'] as const) {
      const r = run('sums', f);
      if (r.verify.status === 0) expect(fs.readFileSync(r.file, 'utf8'), f).toBe(sound);
      else expectVerifyReports(r);
      expectAskWorks(r);
    }
    for (const f of canMount ? (['directory', 'read-only'] as const) : (['directory'] as const)) {
      const r = run('sums', f);
      expect(r.verify.status, r.verify.stderr).toBe(2);
      expectVerifyReports(r);
      expectAskWorks(r);
      expect((expectAskWorks(r).after as { error?: string }).error ?? '', f).toContain('SHA256SUMS');
    }
  });

  it('a damaged golden set: the app answers, and `lifeline golden run` refuses it with a message naming golden/demo.json (exit 2)', () => {
    for (const f of DAMAGE) {
      const r = run('golden', f);
      expectAskWorks(r);
      expect(r.goldenRun!.status, `${f}: ${r.goldenRun!.stdout}${r.goldenRun!.stderr}`).toBe(2);
      expect(r.goldenRun!.stderr, f).toContain('golden/demo.json');
      expect(r.goldenRun!.stderr, f).not.toMatch(STACK);
    }
  });

  it('a damaged chat model (.gguf): verify reports model-damaged (exit 1); the app answers extractively', () => {
    for (const f of ['truncate', 'flip', 'garbage'] as const) {
      const r = run('model', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify).find((p) => p.path === r.rel)).toMatchObject({ code: 'model-damaged' });
      expect(expectAskWorks(r).mode).toBe('extractive');
    }
  });

  it('lifeline.lock holding garbage is taken over (self-healing); one that is a folder or read-only is a named error (exit 2) and the app refuses to start, naming it', () => {
    for (const f of ['truncate', 'flip', 'garbage'] as const) {
      const r = run('lock', f);
      expect(r.verify.status, `${f}: ${r.verify.stderr}`).toBe(0);
      expectAskWorks(r);
    }
    for (const f of canMount ? (['directory', 'read-only'] as const) : (['directory'] as const)) {
      const r = run('lock', f);
      expect(r.verify.status, r.verify.stderr).toBe(2);
      expectVerifyReports(r);
      expectAskFailsNamingTheFile(r);
    }
  });

  it('a damaged models cache is ignored and rewritten (self-healing): verify is clean and the app answers', () => {
    for (const f of canMount ? (['truncate', 'flip', 'garbage', 'read-only'] as const) : (['truncate', 'flip', 'garbage'] as const)) {
      const r = run('models-cache', f);
      expect(r.verify.status, `${f}: ${r.verify.stdout}${r.verify.stderr}`).toBe(0);
      expectAskWorks(r);
      if (f !== 'read-only') expect(() => JSON.parse(fs.readFileSync(r.file, 'utf8')), f).not.toThrow();
    }
  });

  // ---- formerly known bugs (BUG-CATALOG-ERROR-UNNAMED, BUG-STARTUP-LEAKS-LOCK,
  // BUG-VERIFY-IGNORES-GOLDEN-SETS, BUG-VERIFY-MISSING-CHAT-MODEL, BUG-MODELS-CACHE-FOLDER-UNREPORTED),
  // kept as the properties they guard -------------------------------------------------------

  // store/catalog.ts catalogError + core/app.ts: any SQLite error while opening or starting on the
  // catalog (not only a bad header) comes out naming catalog.sqlite and the problem: damage
  // further in (page 2's b-tree type byte flipped), a folder in its place, a read-only mount.
  // `lifeline verify` reports it as a problem with the restore hint (exit 1, no stack trace).
  for (const [f, code, msg] of [
    ['flip', 'catalog-corrupt', /the catalog is damaged \(database disk image is malformed\).*restore/],
    ['directory', 'catalog-unreadable', /cannot be opened.*a folder is where the catalog file should be.*restore/],
    ['read-only', 'catalog-read-only', /the catalog is read-only \(attempt to write a readonly database\).*mount/],
  ] as const) {
    const title = `a catalog.sqlite with ${f === 'flip' ? 'a damaged page' : f === 'directory' ? 'a folder in its place' : 'a read-only mount'}: verify reports ${code} naming the file (exit 1, restore), and the app refuses to start naming it`;
    if (f === 'read-only' && !canMount) {
      it.skip(`${title} (skipped: ${NO_MOUNT})`, () => undefined);
      continue;
    }
    it(title, () => {
      const r = run('catalog', f);
      expectVerifyReports(r);
      expect(r.verify.status, r.verify.stderr).toBe(1);
      const p = problemsOf(r.verify)[0]!;
      expect(p).toMatchObject({ code, severity: 'error', path: 'catalog.sqlite', repair: 'restore' });
      expect(p.message).toContain('catalog.sqlite');
      expect(p.message).toMatch(msg);
      expectAskFailsNamingTheFile(r);
      expect((r.ask as { error: { message: string } }).error.message).toMatch(msg);
    });
  }

  // core/app.ts openLifeline: everything after the lock is taken (opening the catalog, the first
  // writes to it such as meta running_since, the start-up checks, the wiring after them) runs
  // inside one try that closes the catalog and releases the lock when start-up fails.
  it('after a start-up that fails on a damaged catalog, the lock is released: a second open in the same process names the catalog again, not "in use by process <itself>"', async () => {
    const root = path.join(t.dir, 'open-twice');
    fs.cpSync(golden, root, { recursive: true });
    applyFault(target(root, 'catalog'), 'catalog', 'flip');
    const o = await pool.run('openTwice', { dataDir: root }, 60_000);
    console.log(`open twice after a failed start: ${describeOutcome(o)}`);
    expect(o.kind).toBe('ok');
    const v = (o as { value: { first: { code: string | null; message: string } | null; lockLeft: boolean; second: { code: string | null; message: string } | null } }).value;
    expect(v.first).toMatchObject({ code: 'catalog-corrupt' });
    expect(v.first!.message).toContain('catalog.sqlite');
    expect(v.lockLeft).toBe(false);
    expect(v.second).toMatchObject({ code: 'catalog-corrupt' });
  }, 60_000);

  // integrity/verify.ts goldenProblems: every golden set must read and validate, baselines and
  // last runs must be JSON objects (golden-set-damaged, a warning: answers are not affected).
  it('a damaged golden/demo.json (truncated, flipped, garbage, a folder): verify reports golden-set-damaged naming it (exit 1)', () => {
    for (const f of DAMAGE) {
      const r = run('golden', f);
      expectVerifyReports(r);
      expect(problemsOf(r.verify).find((p) => p.path === r.rel), f).toMatchObject({ code: 'golden-set-damaged', repair: 'restore' });
    }
  });

  // core/app.ts modelProblems: the chat model chosen with `models use-chat` (meta chat_model) that
  // is not among the scanned models (here a folder of the same name) is chat-model-missing.
  it('a folder where the chosen chat model models/tiny-llama.gguf should be: verify reports chat-model-missing (exit 1); the app answers extractively', () => {
    const r = run('model', 'directory');
    expectVerifyReports(r);
    const p = problemsOf(r.verify).find((x) => x.path === r.rel);
    expect(p).toMatchObject({ code: 'chat-model-missing' });
    expect(p!.message).toContain('is a folder');
    expect(expectAskWorks(r).mode).toBe('extractive');
  });

  // models/registry.ts modelsCacheProblem: a cache that is not a file can never be rewritten, so
  // every start would re-hash every model; verify says so (a warning), the app still answers.
  it('a folder where models/.lifeline-models.json should be: verify reports models-cache-unusable naming it (exit 1); the app answers', () => {
    const r = run('models-cache', 'directory');
    expectVerifyReports(r);
    expect(problemsOf(r.verify).find((p) => p.path === r.rel)).toMatchObject({ code: 'models-cache-unusable', severity: 'warning' });
    expectAskWorks(r);
  });
});
