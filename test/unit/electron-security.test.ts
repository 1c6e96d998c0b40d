import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  describeBlockedRequest,
  isAllowedRequestUrl,
  isAppUrl,
  isLoopbackHost,
  rendererFileForUrl,
  secureWebPreferences,
  withContentSecurityPolicy,
} from '../../electron/security.js';

describe('the app origin', () => {
  it('is app://lifeline and the console starts at its index.html', () => {
    expect(APP_ORIGIN).toBe('app://lifeline');
    expect(APP_ENTRY_URL).toBe('app://lifeline/index.html');
  });

  it('matches app://lifeline URLs and nothing that only looks like them', () => {
    expect(isAppUrl('app://lifeline/index.html')).toBe(true);
    expect(isAppUrl('app://lifeline/assets/x.js?v=1#top')).toBe(true);
    expect(isAppUrl('app://lifeline.evil.example/')).toBe(false);
    expect(isAppUrl('app://lifeline@evil.example/')).toBe(false);
    expect(isAppUrl('app://evil.example/lifeline')).toBe(false);
    expect(isAppUrl('app://lifeline:8080/')).toBe(false);
    expect(isAppUrl('https://lifeline/')).toBe(false);
    expect(isAppUrl('file:///app/lifeline/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('the network allow-list', () => {
  it('allows the app, DevTools, data: URLs and loopback http(s)/ws(s)', () => {
    for (const url of [
      'app://lifeline/index.html',
      'devtools://devtools/bundled/inspector.html',
      'data:image/png;base64,AAAA',
      'http://127.0.0.1:8080/x',
      'http://127.45.6.7/',
      'https://localhost:3000/api/ask',
      'ws://[::1]:9229/',
      'wss://localhost/',
      'http://127.1/', // normalised to 127.0.0.1 by the URL parser
    ]) {
      expect(isAllowedRequestUrl(url), url).toBe(true);
    }
  });

  it('refuses the LAN, the internet, file: and anything that merely mentions localhost', () => {
    for (const url of [
      'http://10.0.0.5/',
      'https://example.com/',
      'http://192.168.1.10:7860/',
      'http://128.0.0.1/',
      'http://localhost.evil.example/',
      'http://127.0.0.1.nip.io/',
      'http://user:pw@127.0.0.1/',
      'http://[::2]/',
      'ftp://127.0.0.1/',
      'file:///etc/passwd',
      'app://evil/',
      'blob:https://example.com/uuid',
      'garbage',
    ]) {
      expect(isAllowedRequestUrl(url), url).toBe(false);
    }
  });

  it('knows loopback hosts by name and by 127.0.0.0/8', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('LOCALHOST.')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('10.127.0.1')).toBe(false);
  });

  it('describes a blocked request by scheme and host only, never its path or query', () => {
    const line = describeBlockedRequest('https://tracker.example:8443/collect/patient-42?token=s3cret#x');
    expect(line).toBe('https://tracker.example:8443');
    expect(line).not.toContain('s3cret');
    expect(line).not.toContain('patient');
  });
});

describe('the content security policy', () => {
  it('is exactly the policy of the design, same as the renderer meta tag', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('is added to response headers, and a policy already there is kept (both then apply)', () => {
    expect(withContentSecurityPolicy({ 'content-type': ['text/html'] })).toEqual({
      'content-type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
    expect(withContentSecurityPolicy(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(withContentSecurityPolicy({ 'content-security-policy': ["default-src 'none'"] })).toEqual({
      'content-security-policy': ["default-src 'none'", CONTENT_SECURITY_POLICY],
    });
  });
});

describe('the window webPreferences', () => {
  it('isolate and sandbox the page and turn every Node and legacy door off', () => {
    const prefs = secureWebPreferences('/x/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/x/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
    });
  });
});

describe('mapping an app:// URL to a renderer file', () => {
  const root = path.resolve('/srv/lifeline/dist/renderer');

  it('maps the origin and / to index.html and a path to the file below the root', () => {
    expect(rendererFileForUrl(root, 'app://lifeline')).toBe(path.join(root, 'index.html'));
    expect(rendererFileForUrl(root, 'app://lifeline/')).toBe(path.join(root, 'index.html'));
    expect(rendererFileForUrl(root, 'app://lifeline/assets/index-abc.js?x=1')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(rendererFileForUrl(root, 'app://lifeline/%E4%B8%AD%E6%96%87.svg')).toBe(path.join(root, '中文.svg'));
  });

  it('refuses every way of climbing out of the root, and other hosts', () => {
    for (const url of [
      'app://lifeline/..%2f..%2fetc%2fpasswd',
      'app://lifeline/assets/..%2F..%2F..%2Fetc%2Fpasswd',
      'app://lifeline/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      'app://lifeline/..%5c..%5cetc%5cpasswd',
      'app://lifeline/a\\..\\..\\etc\\passwd',
      'app://lifeline/index.html%00.png',
      'app://lifeline/assets/..%2findex.html', // stays inside, but a `..` is refused all the same
      'app://lifeline/%E0%A4%A', // malformed percent-encoding
      'app://evil/index.html',
      'https://lifeline/index.html',
    ]) {
      expect(rendererFileForUrl(root, url), url).toBeNull();
    }
  });
});
