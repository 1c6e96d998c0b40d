// The Electron main process: one sandboxed window showing the console from `app://lifeline/`,
// one IPC channel to the core, and the air gap enforced in code (every request that is not the
// app itself or a loopback address is cancelled and logged).
//
// Everything here takes the Electron API as a parameter (`ElectronLike`, the narrow part of it
// this file uses), so unit tests drive it with a recording fake (test/helpers/fakeElectron.ts).
// The last lines import the real `electron` and the real core only when running inside
// Electron's main process; importing this module from plain Node does nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiEvent, type ApiResult, IPC_EVENT, IPC_INVOKE } from './api/contract.js';
import { callApi } from './api/handlers.js';
import type { LifelineApp, OpenOptions } from './core/app.js';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  CONTENT_SECURITY_POLICY,
  type SecureWebPreferences,
  contentTypeFor,
  describeBlockedRequest,
  isAllowedRequestUrl,
  isAppUrl,
  isInside,
  rendererFileForUrl,
  secureWebPreferences,
  withContentSecurityPolicy,
} from './security.js';

// ---------------------------------------------------------------------------------------------
// The part of Electron this file uses. The real module is checked against these types where
// it is passed in at the bottom of this file.

export interface PreventableEvent {
  preventDefault(): void;
}

export interface NavigationEvent extends PreventableEvent {
  /** Electron ≥ 25 puts the target on the event; the positional `url` argument is deprecated. */
  readonly url?: string;
}

export interface WebFrameLike {
  readonly url: string;
  readonly parent: WebFrameLike | null;
}

export interface WebContentsLike {
  readonly id: number;
  readonly mainFrame: WebFrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate', listener: (event: NavigationEvent, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
}

export interface MainWindowOptions {
  title: string;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  backgroundColor: string;
  autoHideMenuBar: boolean;
  webPreferences: SecureWebPreferences;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

export interface InvokeEventLike {
  readonly sender: WebContentsLike;
  readonly senderFrame: WebFrameLike | null;
}

export interface RequestDetailsLike {
  url: string;
}

export interface HeadersDetailsLike {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionLike {
  readonly webRequest: {
    onBeforeRequest(listener: (details: RequestDetailsLike, callback: (response: { cancel: boolean }) => void) => void): void;
    onHeadersReceived(
      listener: (details: HeadersDetailsLike, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void,
    ): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

export interface AppSchemePrivileges {
  standard: boolean;
  secure: boolean;
  supportFetchAPI: boolean;
  codeCache: boolean;
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: AppSchemePrivileges }[]): void;
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
}

export interface AppLike {
  requestSingleInstanceLock(): boolean;
  enableSandbox(): void;
  whenReady(): Promise<unknown>;
  getPath(name: 'userData'): string;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
  on(event: 'before-quit', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): unknown;
}

export interface ElectronLike {
  app: AppLike;
  BrowserWindow: new (options: MainWindowOptions) => BrowserWindowLike;
  ipcMain: { handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<ApiResult>): void };
  protocol: ProtocolLike;
  session: { readonly defaultSession: SessionLike };
  Menu: { setApplicationMenu(menu: null): void };
  nativeTheme: { readonly shouldUseDarkColors: boolean };
}

export type Logger = (line: string) => void;

/** What the shell needs of the opened core (electron/core/app.ts's LifelineApp has more). */
export type ShellCore = Pick<LifelineApp, 'handlers' | 'onEvent' | 'close'>;

const defaultLog: Logger = (line) => console.log(`[lifeline] ${line}`);

// ---------------------------------------------------------------------------------------------
// The app:// protocol: the built renderer, nothing else.

/** Must run before the app is ready: `app://` becomes a standard, secure origin. */
export function registerAppScheme(protocol: ProtocolLike): void {
  protocol.registerSchemesAsPrivileged([
    // No bypassCSP, no corsEnabled: the console is one origin and obeys its own CSP.
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/** File access of the protocol handler; Electron's fs also reads inside app.asar. */
export interface RendererFiles {
  realpath(file: string): Promise<string>;
  readFile(file: string): Promise<Uint8Array>;
}

// The callback forms, because those are the ones Electron's asar support patches everywhere.
const nodeRendererFiles: RendererFiles = {
  realpath: (file) => new Promise((resolve, reject) => fs.realpath(file, (err, p) => (err ? reject(err) : resolve(p)))),
  readFile: (file) => new Promise((resolve, reject) => fs.readFile(file, (err, data) => (err ? reject(err) : resolve(data)))),
};

function plainResponse(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      ...extra,
    },
  });
}

/**
 * Serves `app://lifeline/<path>` from `rendererRoot`. Refuses every method but GET, any path
 * that leaves the folder — lexically (`..`, encoded or not) or through a symlink (real paths are
 * compared) — and answers with the console's CSP.
 */
export function createAppProtocolHandler(rendererRoot: string, files: RendererFiles = nodeRendererFiles): (request: Request) => Promise<Response> {
  let realRoot: Promise<string> | null = null;
  return async (request) => {
    if (request.method !== 'GET') return plainResponse(405, 'method not allowed', { Allow: 'GET' });
    const file = rendererFileForUrl(rendererRoot, request.url);
    if (file === null) return plainResponse(403, 'forbidden');
    let real: string;
    try {
      realRoot ??= files.realpath(rendererRoot);
      const root = await realRoot.catch((err: unknown) => {
        realRoot = null; // the renderer may be built later; look again next time
        throw err;
      });
      real = await files.realpath(file);
      if (!isInside(root, real)) return plainResponse(403, 'forbidden');
    } catch {
      return plainResponse(404, 'not found');
    }
    let body: Uint8Array;
    try {
      body = await files.readFile(real);
    } catch {
      return plainResponse(404, 'not found'); // a directory, or gone since realpath
    }
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': contentTypeFor(real),
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Guards on every web contents and on the session.

/** The console never leaves its origin, never opens windows and never embeds a <webview>. */
export function installNavigationGuards(contents: WebContentsLike, log: Logger = defaultLog): void {
  const stayInApp = (event: NavigationEvent, url: string): void => {
    const target = event.url ?? url;
    if (isAppUrl(target)) return;
    event.preventDefault();
    log(`blocked navigation to ${describeBlockedRequest(target)}`);
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked a new window for ${describeBlockedRequest(url)}`);
    return { action: 'deny' };
  });
}

/**
 * The air gap and the permission policy of the console's session: requests outside the app
 * origin and loopback are cancelled (each host logged once, never its path or query), every
 * response gets the CSP, every permission (camera, notifications, USB, …) is denied.
 */
export function installSessionGuards(session: SessionLike, log: Logger = defaultLog): void {
  const loggedHosts = new Set<string>();
  session.webRequest.onBeforeRequest((details, callback) => {
    if (isAllowedRequestUrl(details.url)) {
      callback({ cancel: false });
      return;
    }
    const where = describeBlockedRequest(details.url);
    if (!loggedHosts.has(where)) {
      loggedHosts.add(where);
      log(`blocked a request to ${where}: Lifeline works offline and only talks to this computer (further requests there are blocked without a log line)`);
    }
    callback({ cancel: true });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    // DevTools pages come with their own policy; ours would break them.
    if (details.url.startsWith('devtools:')) callback({});
    else callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  const denied = new Set<string>();
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    if (!denied.has(permission)) {
      denied.add(permission);
      log(`denied the permission "${permission}"`);
    }
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}

// ---------------------------------------------------------------------------------------------
// IPC.

/**
 * True when a call comes from the top frame of one of our windows showing the app origin. An
 * iframe, a page that somehow navigated away, or a frame already gone is not trusted.
 */
export function isTrustedSender(event: InvokeEventLike, isOurWebContents: (contents: WebContentsLike) => boolean): boolean {
  let frame: WebFrameLike | null;
  try {
    frame = event.senderFrame; // Electron may throw for a frame that navigated or was destroyed
  } catch {
    return false;
  }
  if (!frame || !isOurWebContents(event.sender)) return false;
  const isMainFrame = frame === event.sender.mainFrame || frame.parent === null;
  return isMainFrame && isAppUrl(frame.url);
}

export interface InvokeDeps {
  /** The opened core; rejects when the data root could not be opened. */
  core(): Promise<ShellCore>;
  isTrustedSender(event: InvokeEventLike): boolean;
  /** Prints a report's HTML to PDF (the desktop app's answer to `reports.pdf`). */
  printPdf?(html: string): Promise<Buffer>;
}

/** The `ipcMain.handle(IPC_INVOKE, …)` listener: sender check, then the shared dispatcher. */
export function createInvokeHandler(deps: InvokeDeps): (event: InvokeEventLike, ...args: unknown[]) => Promise<ApiResult> {
  return async (event, method, request) => {
    if (!deps.isTrustedSender(event)) {
      return {
        ok: false,
        error: { code: 'forbidden-sender', message: 'this call did not come from the Lifeline console window and was refused' },
      };
    }
    let lifeline: ShellCore;
    try {
      lifeline = await deps.core();
    } catch (err) {
      return { ok: false, error: { code: 'core-unavailable', message: err instanceof Error ? err.message : String(err) } };
    }
    if (method === 'reports.pdf' && deps.printPdf) {
      const report = await callApi(lifeline.handlers, 'reports.get', request);
      if (!report.ok) return report;
      try {
        const { id, html } = report.value as { id: string; html: string };
        return { ok: true, value: { id, pdfBase64: (await deps.printPdf(html)).toString('base64') } };
      } catch (err) {
        return { ok: false, error: { code: 'pdf-failed', message: `the report could not be printed to PDF: ${err instanceof Error ? err.message : String(err)}` } };
      }
    }
    return callApi(lifeline.handlers, method, request);
  };
}

/** A window that can only render the given HTML (no script, no preload, no network) and print it. */
export interface PrintWindowLike {
  readonly webContents: { printToPDF(options: { printBackground: boolean; pageSize: string }): Promise<Buffer> };
  loadURL(url: string): Promise<void>;
  destroy(): void;
}

/**
 * Prints a self-contained report page to PDF in a hidden, sandboxed window with JavaScript off;
 * the page arrives as a data: URL, so nothing is fetched.
 */
export async function printReportToPdf(BrowserWindow: new (options: object) => PrintWindowLike, html: string): Promise<Buffer> {
  const win = new BrowserWindow({
    show: false,
    width: 900,
    height: 1200,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false, webSecurity: true, images: false, spellcheck: false },
  });
  try {
    await win.loadURL(`data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`);
    return await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
  } finally {
    win.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Windows and the application's life.

export function mainWindowOptions(preloadPath: string, dark: boolean): MainWindowOptions {
  return {
    title: 'Lifeline',
    width: 1280,
    height: 840,
    minWidth: 900,
    minHeight: 600,
    show: false, // shown on ready-to-show: no white flash, no half-drawn console
    backgroundColor: dark ? '#0f1419' : '#f6f7f9', // --bg of renderer/styles.css
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  };
}

export function createMainWindow(electron: Pick<ElectronLike, 'BrowserWindow' | 'nativeTheme'>, preloadPath: string, log: Logger = defaultLog): BrowserWindowLike {
  const win = new electron.BrowserWindow(mainWindowOptions(preloadPath, electron.nativeTheme.shouldUseDarkColors));
  win.once('ready-to-show', () => win.show());
  win.loadURL(APP_ENTRY_URL).catch((err: unknown) => {
    log(`the console page did not load (${err instanceof Error ? err.message : String(err)}); is dist/renderer built?`);
  });
  return win;
}

export interface ShellOptions {
  openLifeline(options: OpenOptions): Promise<ShellCore>;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** The compiled preload (dist/electron/preload.cjs). */
  preloadPath: string;
  /** Where LIFELINE_HOME is read from (default process.env). */
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** How long quitting waits for the core to close (default 15 s). */
  closeTimeoutMs?: number;
}

export interface LifelineShell {
  /** Settles once the app is ready and the window is created (never rejects). */
  readonly started: Promise<void>;
  /** False when another instance already runs; this one then quits at once. */
  readonly primaryInstance: boolean;
  windows(): BrowserWindowLike[];
}

/** The data root: $LIFELINE_HOME when set, else Electron's userData folder. */
export function electronDataDir(app: Pick<AppLike, 'getPath'>, env: Record<string, string | undefined>): string {
  const home = env.LIFELINE_HOME?.trim();
  return home ? home : app.getPath('userData');
}

/**
 * Wires everything. Call before the app is ready (it registers the app scheme and the
 * sandbox); the rest happens on `ready`.
 */
export function startLifelineShell(electron: ElectronLike, options: ShellOptions): LifelineShell {
  const { app } = electron;
  const log = options.log ?? defaultLog;
  const env = options.env ?? process.env;

  registerAppScheme(electron.protocol);
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    log('Lifeline is already running; bringing that window forward instead');
    app.quit();
    return { started: Promise.resolve(), primaryInstance: false, windows: () => [] };
  }

  const windows = new Set<BrowserWindowLike>();
  const ourContents = new Set<WebContentsLike>();
  let core: Promise<ShellCore> | null = null;
  let stopForwarding: (() => void) | null = null;
  let ready = false;

  const openWindow = (): BrowserWindowLike => {
    const win = createMainWindow(electron, options.preloadPath, log);
    const contents = win.webContents;
    windows.add(win);
    ourContents.add(contents);
    win.on('closed', () => {
      windows.delete(win);
      ourContents.delete(contents);
    });
    return win;
  };

  const broadcast = (event: ApiEvent): void => {
    for (const win of windows) {
      if (win.isDestroyed() || win.webContents.isDestroyed()) continue;
      if (!isAppUrl(win.webContents.mainFrame.url)) continue; // never hand events to a foreign page
      win.webContents.send(IPC_EVENT, event);
    }
  };

  const openCore = (): Promise<ShellCore> => {
    const dataDir = electronDataDir(app, env);
    // background: the window shows at once and reports `initializing` while indexes load.
    const opening = options.openLifeline({ dataDir, shell: 'electron', background: true }).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      log(`could not open the data root ${dataDir}: ${reason}`);
      throw new Error(`Lifeline could not open its data in ${dataDir}: ${reason}. Check that the folder exists and is writable, or set LIFELINE_HOME.`);
    });
    opening.then(
      (lifeline) => {
        stopForwarding = lifeline.onEvent(broadcast);
      },
      () => {}, // reported by every call through `core-unavailable`
    );
    return opening;
  };

  app.on('web-contents-created', (_event, contents) => installNavigationGuards(contents, log));
  app.on('second-instance', () => {
    const [win] = windows;
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (ready && windows.size === 0) openWindow();
  });

  let coreClosed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (coreClosed || core === null) return;
    event.preventDefault(); // quit again once the core has closed its files
    if (closing) return;
    closing = true;
    void closeCore(core, () => stopForwarding?.(), options.closeTimeoutMs ?? 15_000, log).finally(() => {
      coreClosed = true;
      app.quit();
    });
  });

  const started = app.whenReady().then(
    () => {
      ready = true;
      electron.Menu.setApplicationMenu(null);
      installSessionGuards(electron.session.defaultSession, log);
      electron.protocol.handle(APP_SCHEME, createAppProtocolHandler(options.rendererDir));
      core = openCore();
      const lifeline = core;
      electron.ipcMain.handle(
        IPC_INVOKE,
        createInvokeHandler({
          core: () => lifeline,
          isTrustedSender: (event) => isTrustedSender(event, (c) => ourContents.has(c)),
          printPdf: (html) => printReportToPdf(electron.BrowserWindow as unknown as new (options: object) => PrintWindowLike, html),
        }),
      );
      openWindow();
    },
    (err: unknown) => log(`Electron did not start: ${err instanceof Error ? err.message : String(err)}`),
  );

  return { started, primaryInstance: true, windows: () => [...windows] };
}

async function closeCore(core: Promise<ShellCore>, stopForwarding: () => void, timeoutMs: number, log: Logger): Promise<void> {
  let lifeline: ShellCore;
  try {
    lifeline = await core;
  } catch {
    return; // never opened: nothing to close
  }
  stopForwarding();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([lifeline.close().then(() => 'closed' as const), timeout]);
    if (outcome === 'timeout') log(`the core did not close within ${timeoutMs} ms; quitting anyway (its writes are crash-safe)`);
  } catch (err) {
    log(`closing the core failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point. dist/electron/main.js → ../renderer and ./preload.cjs; the same layout holds
// inside app.asar. `process.type` is 'browser' only in Electron's main process (not in plain
// Node, not under ELECTRON_RUN_AS_NODE), so unit tests can import this module safely.

export function builtPaths(mainModuleUrl: string): { rendererDir: string; preloadPath: string } {
  const here = path.dirname(fileURLToPath(mainModuleUrl));
  return { rendererDir: path.join(here, '..', 'renderer'), preloadPath: path.join(here, 'preload.cjs') };
}

if (process.versions.electron !== undefined && process.type === 'browser') {
  // As in the CLI: a library's stray rejection (pdf.js on some damaged PDFs) is logged, not fatal.
  process.on('unhandledRejection', (err) => defaultLog(`a background error was ignored: ${err instanceof Error ? err.message : String(err)}`));
  // Top-level await: Electron emits `ready` only after the entry module has settled, so the
  // scheme registration inside startLifelineShell still happens before `ready`. (Never await
  // whenReady() here: that would deadlock.)
  const electronModule = await import('electron');
  const electron: ElectronLike = electronModule.default ?? electronModule;
  // The core is loaded on `ready`, not here: if it cannot load (a native addon built for the
  // wrong ABI, say), the window still opens and every call reports why, instead of a crash.
  const openLifeline: ShellOptions['openLifeline'] = async (options) => (await import('./core/app.js')).openLifeline(options);
  startLifelineShell(electron, { openLifeline, ...builtPaths(import.meta.url) });
}
