// The Electron main process against a recording fake of Electron (the binary cannot run here)
// and a fake core (the real one is tested on its own). What is checked is main.ts's own
// behaviour: what it registers, and what its handlers answer when Electron calls them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS, type ApiEvent, IPC_EVENT, IPC_INVOKE } from '../../electron/api/contract.js';
import { builtPaths, startLifelineShell } from '../../electron/main.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/security.js';
import { type FakeLifelineCore, createFakeElectron, createFakeLifelineCore } from '../helpers/fakeElectron.js';

let rendererDir: string;

beforeAll(() => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-electron-main-'));
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeline</title>');
});
afterAll(() => fs.rmSync(rendererDir, { recursive: true, force: true }));

const PRELOAD = '/opt/lifeline/resources/app.asar/dist/electron/preload.cjs';

async function startShell(options: { env?: Record<string, string>; core?: FakeLifelineCore; closeTimeoutMs?: number } = {}) {
  const electron = createFakeElectron();
  const core = options.core ?? createFakeLifelineCore();
  const logs: string[] = [];
  const shell = startLifelineShell(electron, {
    openLifeline: core.openLifeline,
    rendererDir,
    preloadPath: PRELOAD,
    env: options.env ?? {},
    log: (line) => logs.push(line),
    closeTimeoutMs: options.closeTimeoutMs,
  });
  await electron.app.emitReady();
  await shell.started;
  const win = electron.windows[0];
  if (!win) throw new Error('no window was created');
  return { electron, core, logs, shell, win };
}

describe('starting the Electron shell', () => {
  it('registers app:// as a standard, secure scheme and enables the sandbox before Electron is ready', async () => {
    const { electron } = await startShell();
    const ready = electron.calls.indexOf('app.ready');
    expect(electron.calls.indexOf('protocol.registerSchemesAsPrivileged')).toBeGreaterThan(-1);
    expect(electron.calls.indexOf('protocol.registerSchemesAsPrivileged')).toBeLessThan(ready);
    expect(electron.calls.indexOf('app.enableSandbox')).toBeLessThan(ready);
    expect(electron.privilegedSchemes).toHaveLength(1);
    const [scheme] = electron.privilegedSchemes;
    expect(scheme?.scheme).toBe('app');
    expect(scheme?.privileges).toMatchObject({ standard: true, secure: true });
    expect(scheme?.privileges).not.toHaveProperty('bypassCSP');
  });

  it('opens one window with the locked-down webPreferences and the compiled preload', async () => {
    const { electron, win } = await startShell();
    expect(electron.windows).toHaveLength(1);
    expect(win.options.webPreferences).toEqual({
      preload: PRELOAD,
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
      navigateOnDragDrop: false,
      safeDialogs: true,
    });
    expect(win.options.title).toBe('Lifeline');
    expect(win.options.width).toBeGreaterThanOrEqual(1024);
    expect(win.options.backgroundColor).toMatch(/^#[0-9a-f]{6}$/i);
    expect(win.loadedUrls).toEqual(['app://lifeline/index.html']);
  });

  it('shows the window only once it is ready to show', async () => {
    const { win } = await startShell();
    expect(win.options.show).toBe(false);
    expect(win.visible).toBe(false);
    win.emitReadyToShow();
    expect(win.visible).toBe(true);
  });

  it('removes the application menu', async () => {
    const { electron } = await startShell();
    expect(electron.applicationMenu).toBeNull();
  });

  it('opens the core on the userData folder, as the Electron shell, without blocking on index loading', async () => {
    const { core } = await startShell();
    expect(core.openCalls).toEqual([{ dataDir: '/fake/userData', shell: 'electron', background: true }]);
  });

  it('opens the core on LIFELINE_HOME when it is set', async () => {
    const { core } = await startShell({ env: { LIFELINE_HOME: '/srv/lifeline-data' } });
    expect(core.openCalls[0]?.dataDir).toBe('/srv/lifeline-data');
  });

  it('serves the console from app://lifeline/ through the registered protocol handler, with the CSP', async () => {
    const { electron } = await startShell();
    const res = await electron.fetchProtocol('app://lifeline/index.html');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>Lifeline</title>');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const escape = await electron.fetchProtocol('app://lifeline/..%2f..%2f..%2fetc%2fpasswd');
    expect(escape.status).toBe(403);
  });

  it('lets a second copy hand over to the running one: it quits without a window or handlers', async () => {
    const electron = createFakeElectron();
    electron.app.singleInstanceLockAvailable = false;
    const core = createFakeLifelineCore();
    const shell = startLifelineShell(electron, { openLifeline: core.openLifeline, rendererDir, preloadPath: PRELOAD, env: {}, log: () => {} });
    expect(shell.primaryInstance).toBe(false);
    expect(electron.app.quitted).toBe(true);
    await electron.app.emitReady();
    expect(electron.windows).toHaveLength(0);
    expect(electron.ipcHandlers.size).toBe(0);
    expect(core.openCalls).toHaveLength(0);
  });

  it('brings the existing window forward when a second copy is started', async () => {
    const { electron, win } = await startShell();
    win.minimized = true;
    electron.app.emit('second-instance');
    expect(win.minimized).toBe(false);
    expect(win.visible).toBe(true);
    expect(win.focused).toBe(true);
  });
});

describe('where the compiled app finds its parts', () => {
  it('takes the console from ../renderer and the preload from ./preload.cjs next to main.js, also inside app.asar', () => {
    expect(builtPaths('file:///opt/Lifeline/resources/app.asar/dist/electron/main.js')).toEqual({
      rendererDir: '/opt/Lifeline/resources/app.asar/dist/renderer',
      preloadPath: '/opt/Lifeline/resources/app.asar/dist/electron/preload.cjs',
    });
  });
});

describe('navigation and new windows', () => {
  it('prevents navigating or redirecting the console away from the app origin', async () => {
    const { win, logs } = await startShell();
    expect(win.webContents.attemptNavigation('will-navigate', 'https://example.com/')).toBe(true);
    expect(win.webContents.attemptNavigation('will-redirect', 'http://10.0.0.5/login?token=abc')).toBe(true);
    expect(win.webContents.attemptNavigation('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(win.webContents.attemptNavigation('will-navigate', 'app://lifeline.evil.example/')).toBe(true);
    expect(logs.join('\n')).toContain('example.com');
    expect(logs.join('\n')).not.toContain('token=abc');
  });

  it('allows navigation inside the app origin', async () => {
    const { win } = await startShell();
    expect(win.webContents.attemptNavigation('will-navigate', 'app://lifeline/index.html#/recovery')).toBe(false);
    expect(win.webContents.attemptNavigation('will-redirect', 'app://lifeline/')).toBe(false);
  });

  it('denies window.open and <webview> in every web contents, including ones created later', async () => {
    const { electron, win } = await startShell();
    expect(win.webContents.attemptWindowOpen('https://example.com/')).toBe('deny');
    expect(win.webContents.attemptWindowOpen('app://lifeline/index.html')).toBe('deny');
    expect(win.webContents.attemptAttachWebview()).toBe(true);
    const later = electron.createWebContents();
    expect(later.attemptWindowOpen('https://example.com/')).toBe('deny');
    expect(later.attemptNavigation('will-navigate', 'https://example.com/')).toBe(true);
    expect(later.attemptAttachWebview()).toBe(true);
  });
});

describe('the session: air gap, CSP and permissions', () => {
  it('cancels requests to the LAN and the internet', async () => {
    const { electron } = await startShell();
    const session = electron.session.defaultSession;
    expect(session.request('http://10.0.0.5/')).toBe('cancel');
    expect(session.request('https://example.com')).toBe('cancel');
    expect(session.request('wss://updates.example.org/socket')).toBe('cancel');
    expect(session.request('file:///etc/passwd')).toBe('cancel');
  });

  it('lets through the app, loopback addresses, DevTools and data: URLs', async () => {
    const { electron } = await startShell();
    const session = electron.session.defaultSession;
    expect(session.request('http://127.0.0.1:8080/x')).toBe('allow');
    expect(session.request('ws://localhost:9000/')).toBe('allow');
    expect(session.request('http://[::1]:7860/')).toBe('allow');
    expect(session.request('app://lifeline/index.html')).toBe('allow');
    expect(session.request('app://lifeline/assets/index.js')).toBe('allow');
    expect(session.request('devtools://devtools/bundled/inspector.html')).toBe('allow');
    expect(session.request('data:image/png;base64,iVBORw0KGgo=')).toBe('allow');
  });

  it('logs a blocked host once, with its host and never its query string', async () => {
    const { electron, logs } = await startShell();
    const session = electron.session.defaultSession;
    session.request('https://example.com/a?token=s3cret');
    session.request('https://example.com/b?token=s3cret');
    session.request('http://10.0.0.5/');
    const blocked = logs.filter((l) => l.includes('blocked a request'));
    expect(blocked).toHaveLength(2);
    expect(blocked[0]).toContain('example.com');
    expect(blocked[1]).toContain('10.0.0.5');
    expect(logs.join('\n')).not.toContain('s3cret');
  });

  it('adds the CSP header to responses', async () => {
    const { electron } = await startShell();
    const headers = electron.session.defaultSession.responseHeaders('http://127.0.0.1:8080/', { 'Content-Type': ['text/html'] });
    expect(headers?.['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(headers?.['Content-Type']).toEqual(['text/html']);
  });

  it('denies every permission request and check', async () => {
    const { electron } = await startShell();
    const session = electron.session.defaultSession;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'usb']) {
      expect(session.askPermission(permission), permission).toBe(false);
      expect(session.checkPermission(permission), permission).toBe(false);
    }
  });
});

describe('IPC from the console to the core', () => {
  it('answers a call from the console window with the core’s reply', async () => {
    const { electron, core, win } = await startShell();
    const result = await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, 'ask', { question: '停电怎么办？' });
    expect(result).toEqual({ ok: true, value: expect.objectContaining({ answer: 'fake answer' }) });
    expect(core.handlerCalls).toEqual([{ method: 'ask', request: { question: '停电怎么办？' } }]);
  });

  it('routes every contract method from the console window to the core', async () => {
    const { electron, core, win } = await startShell();
    // reports.pdf is answered by the shell itself (it prints); test/unit/electron-pdf.test.ts covers it.
    const routed = API_METHODS.filter((m) => m !== 'reports.pdf');
    for (const method of routed) {
      const result = await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, method, { id: 'x' });
      expect(result.ok, method).toBe(true);
    }
    expect(core.handlerCalls.map((c) => c.method)).toEqual(routed);
  });

  it('refuses a call from a page of a foreign origin with forbidden-sender, without reaching the core', async () => {
    const { electron, core, win } = await startShell();
    win.webContents.mainFrame.url = 'https://evil.example/';
    const result = await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, 'kb.list', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden-sender' } });
    expect(core.handlerCalls).toEqual([]);
  });

  it('refuses a call from an iframe, even one showing the app origin', async () => {
    const { electron, core, win } = await startShell();
    const frame = win.webContents.childFrame('app://lifeline/index.html');
    const result = await electron.invoke(IPC_INVOKE, win.webContents, frame, 'kb.list', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden-sender' } });
    expect(core.handlerCalls).toEqual([]);
  });

  it('refuses a call from a web contents that is not one of its windows, or from a frame already gone', async () => {
    const { electron, core, win } = await startShell();
    const stranger = electron.createWebContents();
    stranger.mainFrame.url = 'app://lifeline/index.html';
    expect(await electron.invoke(IPC_INVOKE, stranger, stranger.mainFrame, 'kb.list', {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden-sender' },
    });
    expect(await electron.invoke(IPC_INVOKE, win.webContents, null, 'kb.list', {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden-sender' },
    });
    expect(core.handlerCalls).toEqual([]);
  });

  it('answers unknown-method for a method outside the contract, without reaching the core', async () => {
    const { electron, core, win } = await startShell();
    for (const method of ['app.quit', 'constructor', '__proto__', 42, undefined]) {
      const result = await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, method, {});
      expect(result, String(method)).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    }
    expect(core.handlerCalls).toEqual([]);
  });

  it('answers core-unavailable, naming the data folder, when the data root cannot be opened', async () => {
    const core = createFakeLifelineCore({ failOpen: new Error('EACCES: permission denied') });
    const { electron, win, logs } = await startShell({ core, env: { LIFELINE_HOME: '/mnt/broken' } });
    const result = await electron.invoke(IPC_INVOKE, win.webContents, win.webContents.mainFrame, 'app.info', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'core-unavailable' } });
    if (result.ok) throw new Error('unreachable');
    expect(result.error.message).toContain('/mnt/broken');
    expect(result.error.message).toContain('EACCES');
    expect(logs.join('\n')).toContain('/mnt/broken');
  });

  it('forwards core events to the console window, payload only', async () => {
    const { core, win } = await startShell();
    await vi.waitFor(() => expect(core.listenerCount()).toBe(1));
    const event: ApiEvent = { type: 'ready', ready: { status: 'ready', phase: 'ready', percent: 100 } };
    core.emit(event);
    expect(win.webContents.sent).toEqual([{ channel: IPC_EVENT, args: [event] }]);
  });

  it('does not send events to a closed window or to a page that is not the console', async () => {
    const { electron, core, win } = await startShell();
    await vi.waitFor(() => expect(core.listenerCount()).toBe(1));
    win.webContents.mainFrame.url = 'https://evil.example/';
    core.emit({ type: 'ready', ready: { status: 'initializing', phase: 'loading indexes', percent: 50 } });
    expect(win.webContents.sent).toEqual([]);
    win.webContents.mainFrame.url = 'app://lifeline/index.html';
    win.close();
    expect(() => core.emit({ type: 'ready', ready: { status: 'ready', phase: 'ready', percent: 100 } })).not.toThrow();
  });
});

describe('quitting', () => {
  it('quits when the last window closes, after closing the core', async () => {
    const { electron, core, win } = await startShell();
    win.close();
    await vi.waitFor(() => expect(electron.app.quitted).toBe(true));
    expect(core.closeCalls).toBe(1);
    expect(core.listenerCount()).toBe(0);
  });

  it('closes the core only once however often quit is asked', async () => {
    const { electron, core } = await startShell();
    electron.app.quit();
    electron.app.quit();
    await vi.waitFor(() => expect(electron.app.quitted).toBe(true));
    expect(core.closeCalls).toBe(1);
  });

  it('still quits when the core does not close in time, and says so', async () => {
    const core = createFakeLifelineCore({ closeNever: true });
    const { electron, logs } = await startShell({ core, closeTimeoutMs: 20 });
    electron.app.quit();
    await vi.waitFor(() => expect(electron.app.quitted).toBe(true));
    expect(logs.join('\n')).toContain('did not close');
  });

  it('quits without waiting when the core never opened', async () => {
    const core = createFakeLifelineCore({ failOpen: new Error('disk gone') });
    const { electron } = await startShell({ core });
    electron.app.quit();
    await vi.waitFor(() => expect(electron.app.quitted).toBe(true));
    expect(core.closeCalls).toBe(0);
  });
});
