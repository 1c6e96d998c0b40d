// Helpers of the security suites: a real `lifeline serve` child process whose whole stdout and
// stderr are kept (the secrets suite greps them), raw HTTP requests that may carry any Host,
// Origin or Authorization header (or none), and folder snapshots to prove nothing was written
// where it should not be. Only loopback and this machine's own addresses are ever contacted.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { LIFELINE_BIN } from '../helpers/cli.js';

export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly token: string;
  readonly url: string;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  data: string;
  /** Extra arguments after `serve` (e.g. --no-demo). */
  args?: readonly string[];
  /** The server's working directory (where a relative path given to the API would land). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** --json (default) or the human output (token parsed from the printed address). */
  json?: boolean;
  timeoutMs?: number;
}

/** Starts `lifeline serve` on loopback and resolves once it printed its address. */
export function startServe(options: ServeOptions): Promise<ServeProcess> {
  const json = options.json ?? true;
  const argv = [LIFELINE_BIN, 'serve', '--data', options.data, ...(json ? ['--json'] : []), ...(options.args ?? [])];
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LIFELINE_HOME: undefined, ...options.env },
  });
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeline serve printed no address within ${options.timeoutMs ?? 30_000} ms; stderr: ${err}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (c: string) => {
      out += c;
      const info = json ? parseJsonLine(out) : parseHumanOutput(out);
      if (!info) return;
      child.stdout.off('data', onData);
      child.stdout.on('data', (more: string) => (out += more));
      clearTimeout(timer);
      resolve({
        child,
        ...info,
        stdout: () => out,
        stderr: () => err,
        stop: async () => {
          if (exitCode === undefined) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lifeline serve exited with ${code}: ${err}`));
    });
  });
}

function parseJsonLine(text: string): { port: number; token: string; url: string } | null {
  const nl = text.indexOf('\n');
  if (nl < 0) return null;
  const info = JSON.parse(text.slice(0, nl)) as { port: number; token: string; url: string };
  return { port: info.port, token: info.token, url: info.url };
}

function parseHumanOutput(text: string): { port: number; token: string; url: string } | null {
  const m = /open: (http:\/\/127\.0\.0\.1:(\d+)\/)#token=(\S+)/.exec(text);
  return m ? { url: m[1]!, port: Number(m[2]), token: m[3]! } : null;
}

export interface RawResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent exactly as given. A Host header here replaces the default `127.0.0.1:<port>`. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The address to connect to (default 127.0.0.1). */
  address?: string;
  /** Send no Host header at all. */
  noHost?: boolean;
}

/** One HTTP request with exactly the headers given (browsers would refuse to send some of them). */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = req.noHost ? { ...req.headers } : { Host: `127.0.0.1:${port}`, ...req.headers };
    const r = http.request({ host: req.address ?? '127.0.0.1', port, method: req.method ?? 'GET', path: req.path, headers, setHost: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    r.setTimeout(20_000, () => r.destroy(new Error(`no answer to ${req.method ?? 'GET'} ${req.path}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** POST /api/<method> with the token; the parsed answer. */
export async function api<T = any>(s: Pick<ServeProcess, 'port' | 'token'>, method: string, body: unknown): Promise<{ status: number; body: T }> {
  const r = await rawRequest(s.port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (r.body ? JSON.parse(r.body) : null) as T };
}

/** Polls /readyz until the start-up finished (demo seeded, indexes loaded). */
export async function waitReady(port: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await rawRequest(port, { path: '/readyz' });
    if (r.status === 200 && JSON.parse(r.body).status === 'ready') return;
    if (Date.now() > until) throw new Error(`not ready after ${timeoutMs} ms: ${r.body}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Relative path → "type size sha256 mode" for every entry below `dir` (symlinks not followed). */
export function snapshotTree(dir: string, options: { exclude?: readonly string[] } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const excluded = new Set((options.exclude ?? []).map((p) => path.resolve(p)));
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const p = path.join(abs, e.name);
      if (excluded.has(p)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        out.set(r, `dir ${(st.mode & 0o7777).toString(8)}`);
        walk(p, r);
      } else if (st.isSymbolicLink()) out.set(r, `symlink ${fs.readlinkSync(p)}`);
      else out.set(r, `file ${st.size} ${createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`);
    }
  };
  walk(dir, '');
  return out;
}

/** What changed between two snapshots, in words (empty when nothing did). */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of after) if (!before.has(k)) changes.push(`added ${k}`);
  else if (before.get(k) !== v) changes.push(`changed ${k}`);
  for (const k of before.keys()) if (!after.has(k)) changes.push(`removed ${k}`);
  return changes;
}
