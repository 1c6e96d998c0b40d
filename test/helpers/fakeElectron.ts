// A recording FAKE of the parts of Electron that electron/main.ts uses (its `ElectronLike`), for
// unit tests on a machine where the Electron binary cannot run. It records what main.ts
// registers (window options, IPC handlers, webRequest listeners, protocol handlers, app and
// web-contents listeners) and lets a test play Electron's side: emit `ready`, navigate, open a
// window, send an IPC call from some frame, make a network request.
//
// Where Electron enforces an order, the fake does too: registerSchemesAsPrivileged and
// enableSandbox throw after `ready`; protocol.handle and new BrowserWindow throw before it.
//
// Also here: createFakeLifelineCore(), a stand-in for the core's openLifeline. The real core is
// tested elsewhere; these tests only check that the shell routes calls and events correctly.
import { API_METHODS, type ApiEvent, type ApiMethod, type ApiResult, type AppInfo } from '../../electron/api/contract.js';
import type { ApiHandlers } from '../../electron/api/handlers.js';
import type { OpenOptions } from '../../electron/core/app.js';
import type {
  AppSchemePrivileges,
  BrowserWindowLike,
  ElectronLike,
  HeadersDetailsLike,
  InvokeEventLike,
  MainWindowOptions,
  RequestDetailsLike,
  SessionLike,
  ShellCore,
  WebContentsLike,
  WebFrameLike,
} from '../../electron/main.js';

type Listener = (...args: never[]) => unknown;

/** Listener bookkeeping shared by the fake app, windows and web contents. */
class FakeEmitter {
  readonly listeners = new Map<string, Listener[]>();
  private readonly onceListeners = new Set<Listener>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    this.onceListeners.add(listener);
    return this.on(event, listener);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener with `args`, like EventEmitter#emit. */
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) {
      if (this.onceListeners.has(l)) {
        this.onceListeners.delete(l);
        this.listeners.set(
          event,
          (this.listeners.get(event) ?? []).filter((x) => x !== l),
        );
      }
      (l as (...a: unknown[]) => unknown)(...args);
    }
  }
}

/** An Electron-style preventable event. */
export interface FakeEvent {
  preventDefault(): void;
  readonly defaultPrevented: boolean;
  readonly url?: string;
}

export function fakeEvent(extra: { url?: string } = {}): FakeEvent {
  let prevented = false;
  return {
    ...extra,
    preventDefault() {
      prevented = true;
    },
    get defaultPrevented() {
      return prevented;
    },
  };
}

export class FakeWebFrame implements WebFrameLike {
  constructor(
    public url: string,
    public parent: FakeWebFrame | null = null,
  ) {}
}

let nextWebContentsId = 1;

export class FakeWebContents extends FakeEmitter implements WebContentsLike {
  readonly id = nextWebContentsId++;
  readonly mainFrame = new FakeWebFrame('about:blank');
  destroyed = false;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | null = null;

  isDestroyed(): boolean {
    return this.destroyed;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed'); // as Electron does
    this.sent.push({ channel, args });
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpenHandler = handler;
  }

  /** Plays `will-navigate` / `will-redirect` as Electron does; true when main.ts prevented it. */
  attemptNavigation(kind: 'will-navigate' | 'will-redirect', url: string): boolean {
    const event = fakeEvent({ url });
    this.emit(kind, event, url);
    return event.defaultPrevented;
  }

  /** Plays a page's `window.open(url)`; returns the handler's verdict (Electron allows when none is set). */
  attemptWindowOpen(url: string): 'allow' | 'deny' {
    return this.windowOpenHandler ? this.windowOpenHandler({ url }).action : 'allow';
  }

  /** Plays a page adding a <webview>; true when main.ts prevented it. */
  attemptAttachWebview(): boolean {
    const event = fakeEvent();
    this.emit('will-attach-webview', event, {}, { src: 'https://example.com/' });
    return event.defaultPrevented;
  }

  /** An iframe inside this page. */
  childFrame(url: string): FakeWebFrame {
    return new FakeWebFrame(url, this.mainFrame);
  }
}

export class FakeApp extends FakeEmitter {
  isReady = false;
  singleInstanceLockAvailable = true;
  sandboxEnabled = false;
  userDataPath = '/fake/userData';
  quitRequests = 0;
  /** True once a quit went through (before-quit was not prevented). */
  quitted = false;
  private resolveReady!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });

  constructor(private readonly record: (call: string) => void) {
    super();
  }

  requestSingleInstanceLock(): boolean {
    this.record('app.requestSingleInstanceLock');
    return this.singleInstanceLockAvailable;
  }

  enableSandbox(): void {
    if (this.isReady) throw new Error('app.enableSandbox() can only be called before app is ready');
    this.record('app.enableSandbox');
    this.sandboxEnabled = true;
  }

  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  getPath(name: 'userData'): string {
    if (name !== 'userData') throw new Error(`fake app.getPath: unexpected ${String(name)}`);
    return this.userDataPath;
  }

  /** Like Electron: emits before-quit; the quit happens only if no listener prevented it. */
  quit(): void {
    this.quitRequests++;
    this.record('app.quit');
    const event = fakeEvent();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.quitted = true;
  }

  /** Plays Electron becoming ready; resolves after the whenReady() continuations ran. */
  async emitReady(): Promise<void> {
    this.isReady = true;
    this.record('app.ready');
    this.emit('ready');
    this.resolveReady();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

export class FakeSession implements SessionLike {
  beforeRequest: ((details: RequestDetailsLike, callback: (response: { cancel: boolean }) => void) => void) | null = null;
  headersReceived:
    | ((details: HeadersDetailsLike, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void)
    | null = null;
  permissionRequestHandler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
  permissionCheckHandler: ((webContents: unknown, permission: string) => boolean) | null = null;

  readonly webRequest = {
    onBeforeRequest: (listener: NonNullable<FakeSession['beforeRequest']>): void => {
      this.beforeRequest = listener;
    },
    onHeadersReceived: (listener: NonNullable<FakeSession['headersReceived']>): void => {
      this.headersReceived = listener;
    },
  };

  setPermissionRequestHandler(handler: NonNullable<FakeSession['permissionRequestHandler']>): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: NonNullable<FakeSession['permissionCheckHandler']>): void {
    this.permissionCheckHandler = handler;
  }

  /** Plays a request from a page; 'cancel' or 'allow' as decided by the listener ('allow' when none). */
  request(url: string): 'cancel' | 'allow' | 'no-answer' {
    if (!this.beforeRequest) return 'allow';
    let answer: 'cancel' | 'allow' | 'no-answer' = 'no-answer';
    this.beforeRequest({ url }, (response) => {
      answer = response.cancel ? 'cancel' : 'allow';
    });
    return answer;
  }

  /** Plays a response arriving; returns the headers the page will see. */
  responseHeaders(url: string, headers: Record<string, string[]>): Record<string, string[]> | undefined {
    if (!this.headersReceived) return headers;
    let out: Record<string, string[]> | undefined;
    let answered = false;
    this.headersReceived({ url, responseHeaders: headers }, (response) => {
      answered = true;
      out = response.responseHeaders ?? headers;
    });
    if (!answered) throw new Error('onHeadersReceived listener never called back');
    return out;
  }

  /** Plays a page asking for a permission (camera, notifications…); true when granted. */
  askPermission(permission: string): boolean {
    if (!this.permissionRequestHandler) return true; // Electron grants by default
    let granted: boolean | undefined;
    this.permissionRequestHandler({}, permission, (g) => {
      granted = g;
    });
    if (granted === undefined) throw new Error('permission request never answered');
    return granted;
  }

  checkPermission(permission: string): boolean {
    return this.permissionCheckHandler ? this.permissionCheckHandler({}, permission) : true;
  }
}

export interface FakeElectron extends ElectronLike {
  app: FakeApp;
  session: { readonly defaultSession: FakeSession };
  /** Every call that must happen in order, e.g. 'protocol.registerSchemesAsPrivileged', 'app.ready'. */
  readonly calls: string[];
  /** Every window main.ts created, with the options it passed. */
  readonly windows: FakeBrowserWindow[];
  readonly privilegedSchemes: { scheme: string; privileges: AppSchemePrivileges }[];
  readonly protocolHandlers: Map<string, (request: Request) => Promise<Response>>;
  readonly ipcHandlers: Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<ApiResult>>;
  applicationMenu: 'default' | null;
  /** Plays an IPC invoke from `frame` of `sender`; `senderFrame` null models a frame already gone. */
  invoke(channel: string, sender: FakeWebContents, frame: FakeWebFrame | null, ...args: unknown[]): Promise<ApiResult>;
  /** Plays a request to the registered handler of the URL's scheme. */
  fetchProtocol(url: string, init?: RequestInit): Promise<Response>;
  /** A web contents Electron created on its own (a devtools page, a popup), announced to the app. */
  createWebContents(): FakeWebContents;
}

export interface FakeBrowserWindow extends BrowserWindowLike {
  readonly options: MainWindowOptions;
  readonly webContents: FakeWebContents;
  readonly loadedUrls: string[];
  visible: boolean;
  focused: boolean;
  minimized: boolean;
  /** Plays Electron's 'ready-to-show'. */
  emitReadyToShow(): void;
  /** Plays the operator closing the window. */
  close(): void;
}

export function createFakeElectron(): FakeElectron {
  const calls: string[] = [];
  const record = (call: string): void => {
    calls.push(call);
  };
  const app = new FakeApp(record);
  const defaultSession = new FakeSession();
  const windows: FakeBrowserWindow[] = [];
  const privilegedSchemes: FakeElectron['privilegedSchemes'] = [];
  const protocolHandlers: FakeElectron['protocolHandlers'] = new Map();
  const ipcHandlers: FakeElectron['ipcHandlers'] = new Map();

  const announce = (contents: FakeWebContents): void => {
    app.emit('web-contents-created', fakeEvent(), contents);
  };

  class BrowserWindow extends FakeEmitter implements FakeBrowserWindow {
    readonly webContents = new FakeWebContents();
    readonly loadedUrls: string[] = [];
    visible = false;
    focused = false;
    minimized = false;
    private destroyed = false;

    constructor(readonly options: MainWindowOptions) {
      super();
      if (!app.isReady) throw new Error('Cannot create BrowserWindow before app is ready');
      record('new BrowserWindow');
      windows.push(this);
      announce(this.webContents);
      if (options.show !== false) this.visible = true;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    restore(): void {
      this.minimized = false;
    }
    show(): void {
      this.visible = true;
    }
    focus(): void {
      this.focused = true;
    }
    loadURL(url: string): Promise<void> {
      this.loadedUrls.push(url);
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    emitReadyToShow(): void {
      this.emit('ready-to-show');
    }
    close(): void {
      this.destroyed = true;
      this.webContents.destroyed = true;
      this.emit('closed');
      if (windows.every((w) => w.isDestroyed())) app.emit('window-all-closed');
    }
  }

  const fake: FakeElectron = {
    app,
    BrowserWindow,
    ipcMain: {
      handle(channel, listener) {
        if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        record(`ipcMain.handle ${channel}`);
        ipcHandlers.set(channel, listener);
      },
    },
    protocol: {
      registerSchemesAsPrivileged(schemes) {
        if (app.isReady) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
        record('protocol.registerSchemesAsPrivileged');
        privilegedSchemes.push(...schemes);
      },
      handle(scheme, handler) {
        if (!app.isReady) throw new Error('protocol.handle must be called after app is ready');
        record(`protocol.handle ${scheme}`);
        protocolHandlers.set(scheme, handler);
      },
    },
    session: { defaultSession },
    Menu: {
      setApplicationMenu(menu) {
        fake.applicationMenu = menu;
      },
    },
    nativeTheme: { shouldUseDarkColors: false },
    calls,
    windows,
    privilegedSchemes,
    protocolHandlers,
    ipcHandlers,
    applicationMenu: 'default',
    async invoke(channel, sender, frame, ...args) {
      const handler = ipcHandlers.get(channel);
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      const event: InvokeEventLike = { sender, senderFrame: frame };
      // Electron passes the reply through the structured clone algorithm.
      return structuredClone(await handler(event, ...args));
    },
    fetchProtocol(url, init) {
      const scheme = new URL(url).protocol.replace(/:$/, '');
      const handler = protocolHandlers.get(scheme);
      if (!handler) throw new Error(`no protocol handler for ${scheme}:`);
      return handler(new Request(url, init));
    },
    createWebContents() {
      const contents = new FakeWebContents();
      announce(contents);
      return contents;
    },
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------

export interface FakeLifelineCore {
  /** Pass as ShellOptions.openLifeline. */
  openLifeline(options: OpenOptions): Promise<ShellCore>;
  readonly openCalls: OpenOptions[];
  /** Every call that reached the core's handlers. */
  readonly handlerCalls: { method: ApiMethod; request: unknown }[];
  /** Pushes an event as the core would (job progress, readiness). */
  emit(event: ApiEvent): void;
  listenerCount(): number;
  closeCalls: number;
}

/**
 * A stand-in for the core's openLifeline: records how it was opened and every call it gets.
 * `failOpen` makes opening reject (an unreadable data root); `closeNever` makes close() hang.
 */
export function createFakeLifelineCore(options: { failOpen?: Error; closeNever?: boolean } = {}): FakeLifelineCore {
  const openCalls: OpenOptions[] = [];
  const handlerCalls: FakeLifelineCore['handlerCalls'] = [];
  const listeners = new Set<(event: ApiEvent) => void>();

  const info: AppInfo = { name: 'Lifeline', version: '0.0.0-fake', shell: 'electron', dataRoot: '/fake/data', dataRootWarning: null, uncleanShutdown: false };
  // Canned answers for the calls tests look at; every other contract method answers null.
  const answers: Partial<Record<ApiMethod, unknown>> = {
    'app.info': info,
    'app.ready': { status: 'ready', phase: 'ready', percent: 100 },
    ask: { answer: 'fake answer', covered: false, citations: [], mode: 'extractive', tookMs: 1 },
  };
  const handlers = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (request: unknown) => {
        handlerCalls.push({ method, request });
        return answers[method] ?? null;
      },
    ]),
  ) as unknown as ApiHandlers;

  const core: FakeLifelineCore = {
    openCalls,
    handlerCalls,
    closeCalls: 0,
    async openLifeline(opts) {
      openCalls.push(opts);
      if (options.failOpen) throw options.failOpen;
      return {
        handlers,
        onEvent(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        close() {
          core.closeCalls++;
          return options.closeNever ? new Promise<void>(() => {}) : Promise.resolve();
        },
      };
    },
    emit(event) {
      for (const l of listeners) l(event);
    },
    listenerCount: () => listeners.size,
  };
  return core;
}
