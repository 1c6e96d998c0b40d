// The HTTP API of a real `lifeline serve` process, attacked the way another program on this
// machine, a web page in the operator's browser (cross-origin, DNS rebinding) or a machine on
// the LAN would: every contract method must refuse a call without the per-launch token, with a
// wrong one, with a foreign Host or Origin, and over GET; the server must listen on loopback only.
// (test/unit/server.test.ts checks one method of an in-process server; this covers all of them,
// the real process, the LAN side and the CLI's --host.)
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS } from '../../electron/api/contract.js';
import { LIFELINE_BIN, lifeline } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { type RawResponse, type ServeProcess, api, rawRequest, startServe } from './serveProcess.js';

const t = tempDir('lifeline-sec-http-');
const data = path.join(t.dir, 'data');
const media = path.join(t.dir, 'media');
fs.mkdirSync(media);
const env = { LIFELINE_MEDIA_ROOTS: media };
let server: ServeProcess;

/**
 * One body for every method, naming things a successful call would leave behind (a knowledge
 * base, a repository folder, a recovery run): after all the refusals none of them may exist.
 */
const PWNED_REPO = path.join(t.dir, 'pwned-repo');
const PROBE_BODY = JSON.stringify({
  name: 'pwned',
  newName: 'pwned2',
  confirm: 'pwned',
  kb: 'pwned',
  question: '如何请假？',
  repo: PWNED_REPO,
  passphrase: 'pwned-passphrase',
  dir: path.join(t.dir, 'pwned-dir'),
  operator: 'pwned',
  step: 'hardware',
  id: 'pwned',
  streamId: 'pwned',
  set: { kb: 'pwned', version: 1, questions: [] },
  dailyAt: '03:33',
  scenario: 'index-lost',
  monthlyDay: 3,
});

beforeAll(async () => {
  server = await startServe({ data, args: ['--no-demo'], env });
});
afterAll(async () => {
  await server?.stop();
  t.cleanup();
});

function expectGuardHeaders(r: RawResponse, what: string): void {
  expect(r.headers['content-security-policy'], what).toContain("default-src 'self'");
  expect(r.headers['x-content-type-options'], what).toBe('nosniff');
  expect(r.headers['x-frame-options'], what).toBe('DENY');
  // No CORS door is ever opened: a page of another origin cannot read any answer.
  expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')), what).toEqual([]);
}

/** The token with one character changed (same length, so the comparison itself runs). */
function wrongToken(token: string): string {
  const c = token[token.length - 1] === 'A' ? 'B' : 'A';
  return token.slice(0, -1) + c;
}

/** TCP sockets in LISTEN state owned by process `pid` (by socket inode), as "tcp|tcp6 addr:port". */
function listeningSocketsOf(pid: number): string[] {
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    }
  } catch {
    return []; // already gone
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) out.push(`${table} ${cols[1]}`);
    }
  }
  return out;
}

describe('the per-launch token', () => {
  it('lets a call that carries the token through (the control for every refusal below)', async () => {
    const info = await api(server, 'app.info', {});
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ name: 'Lifeline', shell: 'server', dataRoot: data });
    expect(server.token.length).toBeGreaterThanOrEqual(32);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it.each(API_METHODS.map((m) => [m]))('%s refuses no token, a wrong token, a foreign Host, a foreign Origin and GET', async (method) => {
    const p = `/api/${method}`;
    const json = { 'Content-Type': 'application/json' };
    const good = { ...json, Authorization: `Bearer ${server.token}` };
    const post = (headers: Record<string, string>, extra: { path?: string; noHost?: boolean } = {}) =>
      rawRequest(server.port, { method: 'POST', path: extra.path ?? p, headers, body: PROBE_BODY, noHost: extra.noHost });

    // [what, response, status, answered by Node's HTTP parser itself (no JSON body of ours)]
    const refusals: [string, Promise<RawResponse>, number, boolean?][] = [
      ['no token', post(json), 401],
      ['wrong token', post({ ...json, Authorization: `Bearer ${wrongToken(server.token)}` }), 401],
      ['a prefix of the token', post({ ...json, Authorization: `Bearer ${server.token.slice(0, 16)}` }), 401],
      ['the token twice', post({ ...json, Authorization: `Bearer ${server.token}${server.token}` }), 401],
      ['the token as Basic credentials', post({ ...json, Authorization: `Basic ${Buffer.from(`x:${server.token}`).toString('base64')}` }), 401],
      ['the token without a scheme', post({ ...json, Authorization: server.token }), 401],
      ['the token in the query string', post(json, { path: `${p}?token=${server.token}` }), 401],
      ['the token in a cookie', post({ ...json, Cookie: `token=${server.token}` }), 401],
      ['a foreign Host (DNS rebinding)', post({ ...good, Host: 'evil.example' }), 421],
      ['a foreign Host naming a loopback address on another port', post({ ...good, Host: `127.0.0.1:${server.port === 1 ? 2 : server.port - 1}` }), 421],
      ['a rebinding name that starts like ours', post({ ...good, Host: `127.0.0.1.evil.example:${server.port}` }), 421],
      // HTTP/1.1 without Host: Node's parser answers 400 before Lifeline sees the request.
      ['no Host header', post(good, { noHost: true }), 400, true],
      ['a foreign Origin', post({ ...good, Origin: 'http://evil.example' }), 403],
      ['a foreign Origin on this port', post({ ...good, Origin: `https://evil.example:${server.port}` }), 403],
      ['the opaque Origin of a sandboxed frame or file: page', post({ ...good, Origin: 'null' }), 403],
      ['an https Origin of our own host (another origin)', post({ ...good, Origin: `https://127.0.0.1:${server.port}` }), 403],
      ['GET without the token', rawRequest(server.port, { path: p }), 401],
      ['GET with the token', rawRequest(server.port, { path: p, headers: { Authorization: `Bearer ${server.token}` } }), 405],
      ['GET with the token and a query', rawRequest(server.port, { path: `${p}?question=x`, headers: { Authorization: `Bearer ${server.token}` } }), 405],
      ['PUT with the token', rawRequest(server.port, { method: 'PUT', path: p, headers: good, body: PROBE_BODY }), 405],
      ['a CORS preflight', rawRequest(server.port, { method: 'OPTIONS', path: p, headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } }), 403],
    ];
    for (const [what, pending, status, byNode] of refusals) {
      const r = await pending;
      expect(r.status, `${method}: ${what}`).toBe(status);
      if (byNode) continue;
      expect(JSON.parse(r.body).error.code, `${method}: ${what}`).toMatch(/^(unauthorized|bad-host|bad-origin|method-not-allowed)$/);
      expectGuardHeaders(r, `${method}: ${what}`);
    }
  });

  it('let none of those refused calls reach the core', async () => {
    const kbs = (await api(server, 'kb.list', {})).body as { name: string }[];
    expect(kbs.map((k) => k.name)).not.toContain('pwned');
    expect((await api(server, 'kb.deleted', {})).body).toEqual([]);
    expect((await api(server, 'jobs.list', {})).body).toEqual([]);
    expect((await api(server, 'wizard.current', {})).body).toBeNull();
    const status = (await api(server, 'backup.status', {})).body as { lastAttempt: unknown; policy: { dailyAt: string } };
    expect(status.lastAttempt).toBeNull();
    expect(status.policy.dailyAt).not.toBe('03:33');
    expect((await api(server, 'golden.sets', {})).body).toEqual([]);
    expect(fs.existsSync(PWNED_REPO)).toBe(false);
    expect(fs.existsSync(path.join(t.dir, 'pwned-dir'))).toBe(false);
  });

  it('refuses the token of an earlier launch: a restarted server has a new one', async () => {
    const other = tempDir('lifeline-sec-http-relaunch-');
    try {
      const dir = path.join(other.dir, 'data');
      const first = await startServe({ data: dir, args: ['--no-demo'], env });
      const firstToken = first.token;
      await first.stop();
      const second = await startServe({ data: dir, args: ['--no-demo'], env });
      try {
        expect(second.token).not.toBe(firstToken);
        const r = await rawRequest(second.port, { method: 'POST', path: '/api/app.info', headers: { Authorization: `Bearer ${firstToken}`, 'Content-Type': 'application/json' }, body: '{}' });
        expect(r.status).toBe(401);
      } finally {
        await second.stop();
      }
    } finally {
      other.cleanup();
    }
  });
});

describe('the event stream (SSE)', () => {
  /** Opens /api/events and returns the status, headers and the first chunk (then hangs up). */
  function openEvents(headers: Record<string, string>, pathname = '/api/events'): Promise<{ status: number; type: string; first: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: pathname, headers: { Host: `127.0.0.1:${server.port}`, ...headers }, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.once('data', (c: string) => {
          resolve({ status: res.statusCode!, type: String(res.headers['content-type']), first: c });
          req.destroy();
        });
        res.once('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), first: '' }));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no answer from /api/events')));
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
  }

  it('needs the token: none, a wrong one, one in the query string, a foreign Host or Origin are refused', async () => {
    const good = { Authorization: `Bearer ${server.token}` };
    const cases: [string, Promise<{ status: number; type: string; first: string }>, number][] = [
      ['no token', openEvents({}), 401],
      ['wrong token', openEvents({ Authorization: `Bearer ${wrongToken(server.token)}` }), 401],
      ['the token in the query string (EventSource style)', openEvents({}, `/api/events?token=${server.token}`), 401],
      ['a foreign Host', openEvents({ ...good, Host: 'evil.example' }), 421],
      ['a foreign Origin', openEvents({ ...good, Origin: 'http://evil.example' }), 403],
    ];
    for (const [what, pending, status] of cases) {
      const r = await pending;
      expect(r.status, what).toBe(status);
      expect(r.type, what).toMatch(/^application\/json/);
      expect(r.first, what).not.toContain('"type":"ready"');
    }
  });

  it('streams events to a client with the token', async () => {
    const r = await openEvents({ Authorization: `Bearer ${server.token}` });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/event-stream/);
    expect(r.first).toContain('"type":"ready"');
  });
});

describe('loopback only', () => {
  const nonLoopback = Object.entries(os.networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ name, family: a.family, address: a.family === 'IPv6' && a.address.startsWith('fe80:') ? `${a.address}%${name}` : a.address })),
  );

  it('listens on 127.0.0.1 only (the kernel’s socket table)', () => {
    const hex = server.port.toString(16).toUpperCase().padStart(4, '0');
    const listening: string[] = [];
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue;
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
        const [addr, port] = cols[1]!.split(':') as [string, string];
        if (port === hex) listening.push(`${table.endsWith('6') ? 'tcp6' : 'tcp'} ${addr}`);
      }
    }
    // 0100007F is 127.0.0.1 in the kernel's little-endian hex; 00000000 would be 0.0.0.0.
    expect(listening).toEqual(['tcp 0100007F']);
  });

  it.skipIf(nonLoopback.length === 0)(
    `cannot be reached on this machine's own non-loopback addresses (${nonLoopback.map((a) => a.address).join(', ') || 'none found'})`,
    async () => {
      for (const a of nonLoopback) {
        // Local traffic: these are addresses of this machine's own interfaces.
        const outcome = await new Promise<string>((resolve) => {
          const sock = net.connect({ host: a.address, port: server.port, family: a.family === 'IPv6' ? 6 : 4 });
          sock.setTimeout(3000, () => {
            sock.destroy();
            resolve('timeout');
          });
          sock.once('connect', () => {
            sock.destroy();
            resolve('connected');
          });
          sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        expect(outcome, `${a.name} ${a.address}`).not.toBe('connected');
        expect(outcome, `${a.name} ${a.address}`).toBe('ECONNREFUSED');
      }
    },
  );

  const refusedHosts = ['0.0.0.0', '::', '[::]', '::ffff:127.0.0.1', 'localhost.evil.example', '127.0.0.1.evil.example', ...nonLoopback.map((a) => a.address)];
  it(`refuses \`serve --host\` for anything but loopback (${refusedHosts.join(', ')}): says why and never listens`, async () => {
    const outcomes = await Promise.all(
      refusedHosts.map(async (host, i) => {
        const child = spawn(process.execPath, [LIFELINE_BIN, 'serve', '--json', '--no-demo', '--host', host, '--data', path.join(t.dir, `refused-${i}`)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        const until = Date.now() + 20_000;
        while (!/refusing/.test(stderr) && child.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        const sockets = child.pid ? listeningSocketsOf(child.pid) : [];
        child.kill('SIGKILL');
        await exited;
        return { host, stdout, stderr, sockets };
      }),
    );
    for (const o of outcomes) {
      expect(o.stderr, o.host).toMatch(/refusing to listen on .*loopback addresses only/);
      expect(o.stdout, o.host).not.toMatch(/"token"|#token=/);
      expect(o.sockets, o.host).toEqual([]);
    }
  });

  // BUG (electron/cli.ts serve()): when startServer() refuses the host (or cannot listen, e.g.
  // EADDRINUSE), runCli returns EXIT_ERROR but the LifelineApp opened just before is never
  // closed: its drive watcher interval keeps the event loop alive, so `lifeline serve --host
  // 0.0.0.0` prints the refusal and then hangs forever, holding the data root's lock
  // (lifeline.lock names the hung pid, every later write command gets data-root-busy). Fix: close
  // the app when startServer throws (try/catch around it in serve()).
  it('exits with status 2 after refusing --host 0.0.0.0 (and releases the data root)', () => {
    const dir = path.join(t.dir, 'refused-exit');
    const r = lifeline(['serve', '--json', '--no-demo', '--host', '0.0.0.0', '--data', dir], { env, timeoutMs: 8000 });
    expect(r.stderr).toMatch(/loopback/);
    expect(r.status).toBe(2);
    expect(fs.existsSync(path.join(dir, 'lifeline.lock'))).toBe(false);
  });

  it('accepts the loopback forms (--host ::1) and then answers only [::1]', async () => {
    const s = await startServe({ data: path.join(t.dir, 'v6'), args: ['--no-demo', '--host', '::1'], env });
    try {
      expect(s.url).toBe(`http://[::1]:${s.port}/`);
      const ok = await rawRequest(s.port, { address: '::1', method: 'POST', path: '/api/app.info', headers: { Host: `[::1]:${s.port}`, Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }, body: '{}' });
      expect(ok.status).toBe(200);
      await expect(rawRequest(s.port, { address: '127.0.0.1', path: '/healthz' })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await s.stop();
    }
  });
});
