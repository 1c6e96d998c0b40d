// Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security), one
// test per item, asserted against what electron/main.ts actually registers with Electron — played
// through the recording fake of test/helpers/fakeElectron.ts (the Electron binary cannot run
// here). test/unit/electron-*.test.ts cover the details; this is the compact audit list.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_INVOKE } from '../../electron/api/contract.js';
import { startLifelineShell } from '../../electron/main.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/security.js';
import { createFakeElectron, createFakeLifelineCore } from '../helpers/fakeElectron.js';

let rendererDir: string;
beforeAll(() => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-sec-checklist-'));
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeline</title>');
});
afterAll(() => fs.rmSync(rendererDir, { recursive: true, force: true }));

async function startShell() {
  const electron = createFakeElectron();
  const core = createFakeLifelineCore();
  const logs: string[] = [];
  const shell = startLifelineShell(electron, {
    openLifeline: core.openLifeline,
    rendererDir,
    preloadPath: '/opt/lifeline/dist/electron/preload.cjs',
    env: {},
    log: (line) => logs.push(line),
  });
  await electron.app.emitReady();
  await shell.started;
  const win = electron.windows[0];
  if (!win) throw new Error('no window was created');
  return { electron, core, logs, win, session: electron.session.defaultSession };
}

describe('Electron security checklist', () => {
  it('context isolation is enabled', async () => {
    const { electron } = await startShell();
    expect(electron.windows.length).toBeGreaterThan(0);
    for (const w of electron.windows) expect(w.options.webPreferences.contextIsolation).toBe(true);
  });

  it('the renderer is sandboxed (per window, and app.enableSandbox() before ready)', async () => {
    const { electron, win } = await startShell();
    expect(win.options.webPreferences.sandbox).toBe(true);
    expect(electron.app.sandboxEnabled).toBe(true);
    expect(electron.calls.indexOf('app.enableSandbox')).toBeLessThan(electron.calls.indexOf('app.ready'));
  });

  it('Node.js integration is off (page, workers, subframes)', async () => {
    const { win } = await startShell();
    expect(win.options.webPreferences).toMatchObject({ nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false });
  });

  it('webSecurity is on (no insecure content, no experimental features)', async () => {
    const { win } = await startShell();
    expect(win.options.webPreferences).toMatchObject({ webSecurity: true, allowRunningInsecureContent: false, experimentalFeatures: false });
  });

  it('a Content-Security-Policy header is on app responses', async () => {
    const { electron, session } = await startShell();
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'self'/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/object-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    for (const url of ['app://lifeline/index.html', 'app://lifeline/no-such-file.js', 'app://lifeline/..%2f..%2fetc%2fpasswd']) {
      const res = await electron.fetchProtocol(url);
      expect(res.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
    }
    // …and on every response the session receives (loopback services the console may call).
    expect(session.responseHeaders('http://127.0.0.1:7860/', {})?.['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    // The app scheme may not bypass it.
    expect(electron.privilegedSchemes[0]?.privileges).not.toHaveProperty('bypassCSP');
  });

  it('IPC senders are validated', async () => {
    const { electron, core, win } = await startShell();
    const refused = { ok: false, error: { code: 'forbidden-sender' } };
    win.webContents.mainFrame.url = 'https://evil.example/';
    expect(await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, 'kb.list', {})).toMatchObject(refused);
    win.webContents.mainFrame.url = 'app://lifeline/index.html';
    expect(await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.childFrame('app://lifeline/index.html'), 'kb.list', {})).toMatchObject(refused);
    const stranger = electron.createWebContents();
    stranger.mainFrame.url = 'app://lifeline/index.html';
    expect(await electron.invoke(IPC_INVOKE, stranger, stranger.mainFrame, 'kb.list', {})).toMatchObject(refused);
    expect(await electron.invoke(IPC_INVOKE, win.webContents, null, 'kb.list', {})).toMatchObject(refused);
    expect(core.handlerCalls).toEqual([]);
    // The console's own top frame is answered (the control).
    expect(await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, 'kb.list', {})).toMatchObject({ ok: true });
  });

  it('navigation is blocked', async () => {
    const { electron, win } = await startShell();
    for (const contents of [win.webContents, electron.createWebContents()]) {
      for (const url of ['https://example.com/', 'http://10.0.0.5/', 'http://127.0.0.1:7860/', 'file:///etc/passwd', 'app://lifeline.evil.example/', 'app://x@lifeline/']) {
        expect(contents.attemptNavigation('will-navigate', url), url).toBe(true);
        expect(contents.attemptNavigation('will-redirect', url), url).toBe(true);
      }
      expect(contents.attemptAttachWebview()).toBe(true);
    }
    expect(win.options.webPreferences.webviewTag).toBe(false);
    expect(win.options.webPreferences.navigateOnDragDrop).toBe(false);
  });

  it('window.open is blocked', async () => {
    const { electron, win } = await startShell();
    for (const contents of [win.webContents, electron.createWebContents()]) {
      for (const url of ['https://example.com/', 'app://lifeline/index.html', 'about:blank', 'javascript:alert(1)']) {
        expect(contents.attemptWindowOpen(url), url).toBe('deny');
      }
    }
    expect(electron.windows).toHaveLength(1);
  });

  it('permission requests are denied', async () => {
    const { session } = await startShell();
    for (const permission of ['media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'clipboard-sanitized-write', 'display-capture', 'hid', 'serial', 'usb', 'idle-detection', 'window-management', 'storage-access', 'unknown']) {
      expect(session.askPermission(permission), permission).toBe(false);
      expect(session.checkPermission(permission), permission).toBe(false);
    }
  });

  it('non-loopback requests are cancelled', async () => {
    const { session, logs } = await startShell();
    for (const url of [
      'https://example.com/',
      'http://10.0.0.5/',
      'http://192.168.1.10:7860/',
      'http://[fe80::1]/',
      'http://[2001:db8::1]/',
      'wss://updates.example.org/socket',
      'ftp://files.example.com/',
      'file:///etc/passwd',
      'http://localhost.evil.example/',
      'http://127.0.0.1.nip.io/',
      'http://user:pass@127.0.0.1/',
      'app://lifeline.evil.example/',
      'chrome-extension://abc/',
    ]) {
      expect(session.request(url), url).toBe('cancel');
    }
    for (const url of ['app://lifeline/index.html', 'http://127.0.0.1:7860/', 'http://localhost:8080/', 'http://[::1]:9000/', 'ws://127.0.0.1:9000/']) {
      expect(session.request(url), url).toBe('allow');
    }
    expect(logs.some((l) => l.includes('blocked a request to https://example.com'))).toBe(true);
  });
});
