// The preload as the sandbox runs it: compiled by the project's TypeScript compiler to
// CommonJS, then executed inside the same wrapper Electron's sandboxed renderer uses, with a
// `require` that knows only 'electron' (a fake) — so a preload that needed any other module
// would fail here as it would in the real window.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS, type ApiEvent, type ApiResult, IPC_EVENT, IPC_INVOKE, type PreloadBridge } from '../../electron/api/contract.js';
import { startLifelineShell } from '../../electron/main.js';
import { createFakeElectron, createFakeLifelineCore } from '../helpers/fakeElectron.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let outDir: string;
let preloadSource: string;

beforeAll(() => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-preload-'));
  const config = {
    extends: path.join(repoRoot, 'tsconfig.json'),
    compilerOptions: {
      outDir: path.join(outDir, 'out'),
      rootDir: repoRoot,
      noEmit: false,
      sourceMap: false,
      noCheck: true, // type errors are the typecheck's business; this test is about behaviour
      typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
    },
    include: [],
    files: [path.join(repoRoot, 'electron', 'preload.cts')],
  };
  const configPath = path.join(outDir, 'tsconfig.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', configPath], { encoding: 'utf8' });
  const compiled = path.join(outDir, 'out', 'electron', 'preload.cjs');
  if (!fs.existsSync(compiled)) throw new Error(`tsc did not emit preload.cjs:\n${r.stdout}${r.stderr}`);
  preloadSource = fs.readFileSync(compiled, 'utf8');
});
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

/** A fake ipcRenderer: records invokes, answers with `reply`, lets the test push events. */
class FakeIpcRenderer {
  readonly invokes: { channel: string; args: unknown[] }[] = [];
  readonly listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  reply: (channel: string, ...args: unknown[]) => Promise<unknown> = async () => ({ ok: true, value: null });
  /** What an IpcRendererEvent carries; the page must never see it. */
  readonly ipcEvent = { sender: { send: () => {}, secret: 'IPC-RENDERER' }, ports: [], senderId: 0 };

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invokes.push({ channel, args });
    return this.reply(channel, ...args);
  }
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    this.listeners.set(
      channel,
      (this.listeners.get(channel) ?? []).filter((l) => l !== listener),
    );
    return this;
  }
  /** Plays the main process sending on `channel`. */
  push(channel: string, payload: unknown): void {
    for (const l of this.listeners.get(channel) ?? []) l(this.ipcEvent, payload);
  }
  count(channel: string): number {
    return this.listeners.get(channel)?.length ?? 0;
  }
}

interface PreloadExports {
  IPC_INVOKE: string;
  IPC_EVENT: string;
  PRELOAD_API_METHODS: readonly string[];
}

/** Runs the compiled preload the way Electron's sandboxed renderer does. */
function runPreload() {
  const ipc = new FakeIpcRenderer();
  const exposed = new Map<string, unknown>();
  const required: string[] = [];
  const electron = {
    contextBridge: {
      exposeInMainWorld(key: string, api: unknown) {
        exposed.set(key, api);
      },
    },
    ipcRenderer: ipc,
  };
  const sandboxRequire = (name: string): unknown => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name}`); // what the sandbox says for anything else
  };
  const sandboxProcess = { type: 'renderer', sandboxed: true, contextIsolated: true, platform: 'linux', versions: {}, env: {} };
  const module = { exports: {} as unknown };
  const wrapper = new Function('require', 'process', 'Buffer', 'global', 'setImmediate', 'clearImmediate', 'exports', 'module', preloadSource);
  wrapper(sandboxRequire, sandboxProcess, undefined, globalThis, setImmediate, clearImmediate, module.exports, module);
  const bridge = exposed.get('lifeline') as PreloadBridge | undefined;
  if (!bridge) throw new Error('the preload did not expose window.lifeline');
  return { ipc, exposed, required, bridge, exports: module.exports as PreloadExports };
}

describe('the preload', () => {
  it('keeps its copy of the method allow-list equal to API_METHODS of the contract', () => {
    const { exports } = runPreload();
    expect([...exports.PRELOAD_API_METHODS]).toEqual([...API_METHODS]);
  });

  it('uses the channel names of the contract', () => {
    const { exports } = runPreload();
    expect(exports.IPC_INVOKE).toBe(IPC_INVOKE);
    expect(exports.IPC_EVENT).toBe(IPC_EVENT);
  });

  it('needs nothing but electron, so it runs in a sandboxed renderer', () => {
    const { required } = runPreload();
    expect(required).toEqual(['electron']);
  });

  it('exposes exactly window.lifeline with invoke and onEvent, and no ipcRenderer', () => {
    const { exposed, bridge, ipc } = runPreload();
    expect([...exposed.keys()]).toEqual(['lifeline']);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'onEvent']);
    expect(typeof bridge.invoke).toBe('function');
    expect(typeof bridge.onEvent).toBe('function');
    expect(Object.values(bridge)).not.toContain(ipc);
  });

  it('sends a contract call on the invoke channel and resolves with the value', async () => {
    const { bridge, ipc } = runPreload();
    ipc.reply = async () => ({ ok: true, value: [{ name: 'demo' }] }) satisfies ApiResult;
    await expect(bridge.invoke('kb.list', {})).resolves.toEqual([{ name: 'demo' }]);
    expect(ipc.invokes).toEqual([{ channel: IPC_INVOKE, args: ['kb.list', {}] }]);
  });

  it('refuses a method outside the allow-list without sending anything', async () => {
    const { bridge, ipc } = runPreload();
    const invoke = bridge.invoke as (method: unknown, request: unknown) => Promise<unknown>;
    for (const method of ['app.quit', 'constructor', '__proto__', 'toString', 42, null]) {
      await expect(invoke(method, {}), String(method)).rejects.toMatchObject({ code: 'unknown-method' });
    }
    expect(ipc.invokes).toEqual([]);
  });

  it('turns an ok:false reply into an Error carrying the message and the code', async () => {
    const { bridge, ipc } = runPreload();
    ipc.reply = async () => ({ ok: false, error: { code: 'not-ready', message: 'Lifeline is still loading its indexes' } }) satisfies ApiResult;
    const err = await bridge.invoke('ask', { question: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'not-ready' });
    // contextBridge keeps only the message, so the code travels in it too
    expect((err as Error).message).toBe('Lifeline is still loading its indexes [not-ready]');
  });

  it('rejects a reply that is not an ApiResult', async () => {
    const { bridge, ipc } = runPreload();
    ipc.reply = async () => 'surprise';
    await expect(bridge.invoke('app.info', {})).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('passes only the event payload to listeners, never the IpcRendererEvent', () => {
    const { bridge, ipc } = runPreload();
    const seen: unknown[][] = [];
    bridge.onEvent((...args: unknown[]) => seen.push(args));
    const event: ApiEvent = { type: 'ready', ready: { status: 'ready', phase: 'ready', percent: 100 } };
    ipc.push(IPC_EVENT, event);
    expect(seen).toEqual([[event]]);
    expect(JSON.stringify(seen)).not.toContain('IPC-RENDERER');
  });

  it('returns an unsubscribe function that stops the events (and is safe to call twice)', () => {
    const { bridge, ipc } = runPreload();
    const seen: unknown[] = [];
    const other: unknown[] = [];
    const unsubscribe = bridge.onEvent((e) => seen.push(e));
    bridge.onEvent((e) => other.push(e));
    expect(ipc.count(IPC_EVENT)).toBe(2);
    unsubscribe();
    unsubscribe();
    expect(ipc.count(IPC_EVENT)).toBe(1);
    ipc.push(IPC_EVENT, { type: 'job' });
    expect(seen).toEqual([]);
    expect(other).toHaveLength(1);
  });

  it('keeps delivering to other listeners when one throws', () => {
    const { bridge, ipc } = runPreload();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: unknown[] = [];
    bridge.onEvent(() => {
      throw new Error('screen bug');
    });
    bridge.onEvent((e) => seen.push(e));
    ipc.push(IPC_EVENT, { type: 'job' });
    expect(seen).toHaveLength(1);
    expect(errors).toHaveBeenCalled();
    errors.mockRestore();
  });
});

describe('a call from the console window, end to end', () => {
  it('travels preload → main → core and back, and a refused call surfaces as an Error', async () => {
    const electron = createFakeElectron();
    const core = createFakeLifelineCore();
    const shell = startLifelineShell(electron, { openLifeline: core.openLifeline, rendererDir: os.tmpdir(), preloadPath: '/p.cjs', env: {}, log: () => {} });
    await electron.app.emitReady();
    await shell.started;
    const win = electron.windows[0];
    if (!win) throw new Error('no window');

    const { bridge, ipc } = runPreload();
    // The preload's ipcRenderer talks to the fake main process as the console's top frame.
    ipc.reply = (channel, ...args) => electron.invoke(channel, win.webContents, win.webContents.mainFrame, ...args);
    await expect(bridge.invoke('app.info', {})).resolves.toMatchObject({ name: 'Lifeline', shell: 'electron' });
    expect(core.handlerCalls.map((c) => c.method)).toEqual(['app.info']);

    win.webContents.mainFrame.url = 'https://evil.example/';
    await expect(bridge.invoke('kb.list', {})).rejects.toMatchObject({ code: 'forbidden-sender' });
    expect(core.handlerCalls).toHaveLength(1);
  });
});
