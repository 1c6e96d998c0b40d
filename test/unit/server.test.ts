import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { type RunningServer, startServer } from '../../electron/server.js';
import { tempDir, writeFiles } from '../helpers/env.js';

/** A raw request, so tests can send the headers a browser would refuse to (Host, Origin). */
function request(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('the loopback HTTP server', () => {
  const t = tempDir();
  let app: LifelineApp;
  let server: RunningServer;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const web = path.join(t.dir, 'web');
    writeFiles(web, { 'index.html': '<!doctype html><title>console</title>', 'assets/app.js': 'console.log(1)' });
    writeFiles(t.dir, { 'secret.txt': 'do not serve me' });
    app = await openLifeline({ dataDir: path.join(t.dir, 'data'), shell: 'server' });
    server = await startServer(app, { staticDir: web });
    auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
  });
  afterAll(async () => {
    await server.close();
    await app.close();
    t.cleanup();
  });

  it('listens on 127.0.0.1 and prints an address that carries the token in the fragment', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.consoleUrl).toBe(`${server.url}#token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses to listen on a non-loopback address', async () => {
    await expect(startServer(app, { host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });

  it('answers a question over the API with the token', async () => {
    const r = await request(server.port, { method: 'POST', path: '/api/ask', headers: { ...auth, Host: `127.0.0.1:${server.port}` }, body: JSON.stringify({ question: '如何请假？' }) });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.covered).toBe(true);
    expect(body.citations[0].document).toBe('请假制度.md');
  });

  it('refuses API calls without the token or with a wrong one', async () => {
    const none = await request(server.port, { method: 'POST', path: '/api/kb.list', headers: { 'Content-Type': 'application/json', Host: `127.0.0.1:${server.port}` }, body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await request(server.port, { method: 'POST', path: '/api/kb.list', headers: { ...auth, Authorization: `Bearer ${server.token[0] === 'x' ? 'y' : 'x'}${server.token.slice(1)}`, Host: `127.0.0.1:${server.port}` }, body: '{}' });
    expect(wrong.status).toBe(401);
    const events = await request(server.port, { path: '/api/events', headers: { Host: `127.0.0.1:${server.port}` } });
    expect(events.status).toBe(401);
  });

  it('refuses a foreign Host header (DNS rebinding) and a cross-origin caller', async () => {
    const host = await request(server.port, { method: 'POST', path: '/api/kb.list', headers: { ...auth, Host: 'evil.example' }, body: '{}' });
    expect(host.status).toBe(421);
    const origin = await request(server.port, { method: 'POST', path: '/api/kb.list', headers: { ...auth, Host: `127.0.0.1:${server.port}`, Origin: 'http://evil.example' }, body: '{}' });
    expect(origin.status).toBe(403);
  });

  it('rejects unknown methods and bad bodies with a clear error', async () => {
    const unknown = await request(server.port, { method: 'POST', path: '/api/fs.readFile', headers: { ...auth, Host: `127.0.0.1:${server.port}` }, body: '{}' });
    expect(unknown.status).toBe(404);
    const bad = await request(server.port, { method: 'POST', path: '/api/ask', headers: { ...auth, Host: `127.0.0.1:${server.port}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toMatch(/not valid JSON/);
    const empty = await request(server.port, { method: 'POST', path: '/api/ask', headers: { ...auth, Host: `127.0.0.1:${server.port}` }, body: JSON.stringify({ question: ' ' }) });
    expect(JSON.parse(empty.body).error.code).toBe('empty-question');
  });

  it('serves the console with a Content-Security-Policy and never a file outside its folder', async () => {
    const index = await request(server.port, { path: '/', headers: { Host: `127.0.0.1:${server.port}` } });
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>console</title>');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const r = await request(server.port, { path: p, headers: { Host: `127.0.0.1:${server.port}` } });
      expect(r.body).not.toContain('do not serve me');
    }
  });

  it('reports liveness and readiness without the token, for monitoring', async () => {
    expect((await request(server.port, { path: '/healthz', headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
    const ready = JSON.parse((await request(server.port, { path: '/readyz', headers: { Host: `127.0.0.1:${server.port}` } })).body);
    expect(ready.status).toBe('ready');
  });

  it('streams job and readiness events to a client holding the token', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
        res.once('data', (c) => {
          resolve(String(c));
          req.destroy();
        });
      });
      req.on('error', reject);
    });
    expect(got).toContain('"type":"ready"');
  });
});
