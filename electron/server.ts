// The headless shell: the console and its API over HTTP on loopback only, guarded by a
// per-launch token. Tests drive the console through this in real Chromium; sites without a
// desktop open it in any browser on the same machine.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ApiEvent, isApiMethod } from './api/contract.js';
import { callApi } from './api/handlers.js';
import type { LifelineApp } from './core/app.js';
import { appRoot } from './core/util/appRoot.js';
import { CONTENT_SECURITY_POLICY } from './security.js';
import { createMetrics } from './core/metrics/metrics.js';

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Folder with the built console (default dist/renderer). */
  staticDir?: string;
  /** Fixed token (tests); a random one per launch otherwise. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The address to open, with the token in the fragment (never sent to the server in logs). */
  consoleUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
/** kb.upload carries a document as base64: 64 MiB of file is about 86 MiB of JSON. */
const MAX_UPLOAD_BODY = 90 << 20;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || /^(::ffff:)?127\./.test(addr);
}

export async function startServer(app: LifelineApp, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`refusing to listen on ${host}: the console serves loopback addresses only (127.0.0.1, ::1, localhost)`);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const staticDir = path.resolve(options.staticDir ?? path.join(appRoot(), 'dist', 'renderer'));
  const sseClients = new Set<http.ServerResponse>();
  const metrics = createMetrics(app);
  const unsubscribe = app.onEvent((e: ApiEvent) => {
    const line = `data: ${JSON.stringify(e)}\n\n`;
    for (const res of sseClients) res.write(line);
  });
  let port = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: err.message } });
      else res.end();
    });
  });

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`]);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    setCommonHeaders(res);
    if (!isLoopbackAddress(req.socket.remoteAddress)) return sendJson(res, 403, { error: { code: 'not-loopback', message: 'only this machine may connect' } });
    // DNS-rebinding guard: the Host header must name this loopback address.
    if (!allowedHosts().has(String(req.headers.host ?? '').toLowerCase())) return sendJson(res, 421, { error: { code: 'bad-host', message: 'unexpected Host header' } });
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().has(origin.replace(/^http:\/\//, '').toLowerCase())) {
      return sendJson(res, 403, { error: { code: 'bad-origin', message: 'cross-origin requests are refused' } });
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const p = url.pathname;
    if (p === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (p === '/metrics') {
      // Read-only counts and timestamps, no document content: served without the token so a
      // local Prometheus can scrape it (the server listens on loopback only).
      const text = await metrics.metrics();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
      return void res.end(text);
    }
    if (p === '/readyz') {
      const s = app.ready();
      return sendJson(res, s.status === 'failed' ? 503 : 200, s);
    }
    if (p.startsWith('/api/')) {
      if (!hasToken(req)) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong token: open the address printed by `lifeline serve`' } });
      if (p === '/api/events' && req.method === 'GET') return openEvents(req, res);
      let method: string;
      try {
        method = decodeURIComponent(p.slice('/api/'.length));
      } catch {
        return sendJson(res, 400, { error: { code: 'bad-path', message: 'malformed API path' } });
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'method-not-allowed', message: 'use POST' } });
      if (!isApiMethod(method)) return sendJson(res, 404, { error: { code: 'unknown-method', message: `unknown API method: ${method}` } });
      let body: unknown;
      try {
        body = await readJson(req, method === 'kb.upload' ? MAX_UPLOAD_BODY : MAX_BODY);
      } catch (err) {
        return sendJson(res, 400, { error: { code: 'bad-request', message: (err as Error).message } });
      }
      const result = await callApi(app.handlers, method, body);
      if (result.ok) return sendJson(res, 200, result.value);
      const status = ERROR_STATUS[result.error.code] ?? 400;
      return sendJson(res, status, { error: result.error });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'method-not-allowed', message: 'read-only' } });
    return serveStatic(p, res);
  }

  function hasToken(req: http.IncomingMessage): boolean {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/.exec(auth);
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    return given.length === tokenBuf.length && timingSafeEqual(given, tokenBuf);
  }

  function openEvents(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(`retry: 2000\n\ndata: ${JSON.stringify({ type: 'ready', ready: app.ready() } satisfies ApiEvent)}\n\n`);
    sseClients.add(res);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.on('close', () => {
      clearInterval(beat);
      sseClients.delete(res);
    });
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return sendJson(res, 400, { error: { code: 'bad-path', message: 'malformed path' } });
    }
    if (rel.includes('\0')) return sendJson(res, 400, { error: { code: 'bad-path', message: 'malformed path' } });
    const file = path.resolve(staticDir, '.' + path.posix.normalize('/' + rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return sendJson(res, 403, { error: { code: 'bad-path', message: 'outside the console folder' } });
    let target = file;
    if (!fs.existsSync(target) || fs.statSync(target).isDirectory()) target = path.join(staticDir, 'index.html');
    if (!fs.existsSync(target)) return sendJson(res, 503, { error: { code: 'console-not-built', message: `the console is not built (${staticDir}); run npm run build` } });
    const real = fs.realpathSync(target);
    if (!real.startsWith(fs.realpathSync(staticDir) + path.sep)) return sendJson(res, 403, { error: { code: 'bad-path', message: 'outside the console folder' } });
    res.writeHead(200, { 'Content-Type': MIME[path.extname(real)] ?? 'application/octet-stream', 'Cache-Control': real.endsWith('index.html') ? 'no-store' : 'max-age=3600' });
    fs.createReadStream(real).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${port}/`;
  return {
    url,
    consoleUrl: `${url}#token=${token}`,
    port,
    token,
    async close() {
      unsubscribe();
      for (const r of sseClients) r.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

const ERROR_STATUS: Record<string, number> = { internal: 500, 'not-ready': 503, 'data-root-busy': 409, 'read-only': 409, 'no-such-kb': 404, 'no-such-document': 404 };

function setCommonHeaders(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(data);
}

async function readJson(req: http.IncomingMessage, maxBody: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/.test(type)) throw new Error('send the request as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBody) throw new Error(`request body larger than ${maxBody} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('the request body is not valid JSON');
  }
}
