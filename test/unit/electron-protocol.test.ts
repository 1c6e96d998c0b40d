// The app:// protocol handler on a real folder: it serves the built renderer and nothing else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppProtocolHandler } from '../../electron/main.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/security.js';

const SECRET = 'root:x:0:0:SECRET-OUTSIDE-THE-RENDERER';
let base: string;
let rendererDir: string;
let serve: (request: Request) => Promise<Response>;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-protocol-'));
  rendererDir = path.join(base, 'dist', 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeline</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'index-abc.js'), 'console.log("console");');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'style.css'), 'body{}');
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
  fs.mkdirSync(path.join(base, 'dist', 'electron'));
  fs.writeFileSync(path.join(base, 'dist', 'electron', 'main.js'), SECRET);
  // Symlinks planted inside the renderer folder that lead out of it.
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(rendererDir, 'leak.txt'));
  fs.symlinkSync(base, path.join(rendererDir, 'up'));
  serve = createAppProtocolHandler(rendererDir);
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const get = (url: string, init?: RequestInit) => serve(new Request(url, init));

describe('the app:// protocol handler', () => {
  it('serves index.html for the origin, with its content type, the CSP and nosniff', async () => {
    for (const url of ['app://lifeline/', 'app://lifeline/index.html', 'app://lifeline']) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(await res.text()).toContain('<title>Lifeline</title>');
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('serves the built assets with their content types', async () => {
    const js = await get('app://lifeline/assets/index-abc.js?v=2');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log("console");');
    expect((await get('app://lifeline/assets/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('refuses path traversal in every encoding and never returns a file from outside', async () => {
    for (const url of [
      'app://lifeline/../secret.txt',
      'app://lifeline/../../secret.txt',
      'app://lifeline/../../../../../../etc/passwd',
      'app://lifeline/%2e%2e/%2e%2e/secret.txt',
      'app://lifeline/..%2f..%2fsecret.txt',
      'app://lifeline/..%2F..%2Fsecret.txt',
      'app://lifeline/assets/..%2f..%2f..%2fsecret.txt',
      'app://lifeline/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://lifeline/..%5c..%5csecret.txt',
      'app://lifeline/..\\..\\secret.txt',
      'app://lifeline/..%2f..%2felectron%2fmain.js',
      'app://lifeline/..%252f..%252fsecret.txt',
      'app://lifeline/index.html%00',
    ]) {
      const res = await get(url);
      expect(res.status, url).not.toBe(200);
      expect(await res.text(), url).not.toContain('SECRET');
    }
    expect((await get('app://lifeline/..%2f..%2fsecret.txt')).status).toBe(403);
  });

  it('refuses symlinks inside the renderer folder that lead outside it', async () => {
    for (const url of ['app://lifeline/leak.txt', 'app://lifeline/up/secret.txt', 'app://lifeline/up/dist/electron/main.js']) {
      const res = await get(url);
      expect(res.status, url).toBe(403);
      expect(await res.text(), url).not.toContain('SECRET');
    }
  });

  it('refuses every method but GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
      const init: RequestInit = method === 'POST' || method === 'PUT' || method === 'PATCH' ? { method, body: 'x' } : { method };
      const res = await get('app://lifeline/index.html', init);
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
    }
  });

  it('answers 404 for a missing file or a folder, 403 for another host', async () => {
    expect((await get('app://lifeline/nope.js')).status).toBe(404);
    expect((await get('app://lifeline/assets')).status).toBe(404);
    expect((await get('app://elsewhere/index.html')).status).toBe(403);
  });

  it('answers 404, not a crash, while the renderer has not been built', async () => {
    const handler = createAppProtocolHandler(path.join(base, 'not-built-yet'));
    const res = await handler(new Request('app://lifeline/index.html'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });
});
