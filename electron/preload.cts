// Preload of the console window: exposes `window.lifeline` (PreloadBridge in api/contract.ts)
// and nothing else. The page never sees `ipcRenderer`, only two functions that check every
// method name before it crosses into the main process.
//
// Why this file copies the allow-list and the channel names instead of importing them: the
// window is sandboxed, and a sandboxed preload runs as one CommonJS script whose `require`
// knows only 'electron' and a few built-ins ('events', 'timers', 'url') — it cannot load any
// other file of ours, and it cannot be an ES module (hence .cts → .cjs). Only type imports
// (erased at compile time) are allowed below. test/unit/electron-preload.test.ts fails when
// these copies drift from electron/api/contract.ts.
import type { ApiEvent, ApiMethod, ApiResult, PreloadBridge } from './api/contract.js';

/** Copy of IPC_INVOKE from api/contract.ts. */
const IPC_INVOKE = 'lifeline:invoke';
/** Copy of IPC_EVENT from api/contract.ts. */
const IPC_EVENT = 'lifeline:event';
/** Copy of API_METHODS from api/contract.ts. */
const PRELOAD_API_METHODS = [
  'app.info',
  'app.ready',
  'kb.list',
  'kb.create',
  'kb.rename',
  'kb.delete',
  'kb.deleted',
  'kb.undelete',
  'kb.purge',
  'kb.documents',
  'kb.deleteDocument',
  'kb.compact',
  'kb.reembed',
  'kb.upload',
  'ask',
  'ask.cancel',
  'models.list',
  'models.useChat',
  'integrity.verify',
  'integrity.repair',
  'health.summary',
  'chatchat.inspect',
  'chatchat.import',
  'backup.targets',
  'backup.mount',
  'backup.init',
  'backup.run',
  'backup.snapshots',
  'backup.verify',
  'backup.restore',
  'backup.rollback',
  'backup.status',
  'backup.setPolicy',
  'wizard.current',
  'wizard.start',
  'wizard.check',
  'wizard.action',
  'wizard.goto',
  'wizard.finish',
  'doctor.run',
  'reports.list',
  'reports.get',
  'reports.pdf',
  'golden.sets',
  'golden.save',
  'golden.run',
  'golden.baseline',
  'drills.run',
  'drills.history',
  'drills.schedule',
  'drills.setSchedule',
  'jobs.list',
  'jobs.cancel',
] as const satisfies readonly ApiMethod[];

// Compile-time half of the drift check: a method added to the contract but not above fails the
// typecheck here, naming the missing method ("does not satisfy the constraint 'never'").
type MissingFromPreload = Exclude<ApiMethod, (typeof PRELOAD_API_METHODS)[number]>;
type EveryContractMethodListed<Missing extends never> = Missing;
type PreloadCoversContract = EveryContractMethodListed<MissingFromPreload>;

/** The part of Electron's ipcRenderer this preload uses. */
interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

interface PreloadElectron {
  contextBridge: { exposeInMainWorld(apiKey: string, api: unknown): void };
  ipcRenderer: IpcRendererLike;
}

/**
 * A failed call as the page sees it. contextBridge copies only an Error's message into the
 * page (custom properties such as `code` are dropped on the way), so the stable code is also
 * appended to the message as ` [code]`; inside the preload `code` is a property as well.
 */
class LifelineCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${message} [${code}]`);
    this.name = 'LifelineCallError';
  }
}

function isApiResult(value: unknown): value is ApiResult {
  if (typeof value !== 'object' || value === null) return false;
  const ok = (value as { ok?: unknown }).ok;
  return ok === true || ok === false;
}

function unwrapResult(method: string, result: unknown): unknown {
  if (!isApiResult(result)) throw new LifelineCallError('bad-response', `${method}: the main process sent an unexpected reply`);
  if (result.ok) return result.value;
  const code = typeof result.error?.code === 'string' ? result.error.code : 'internal';
  const message = typeof result.error?.message === 'string' ? result.error.message : `${method} failed`;
  throw new LifelineCallError(code, message);
}

function createPreloadBridge(ipc: IpcRendererLike): PreloadBridge {
  const invoke = async (method: unknown, request: unknown): Promise<unknown> => {
    if (typeof method !== 'string' || !(PRELOAD_API_METHODS as readonly string[]).includes(method)) {
      throw new LifelineCallError('unknown-method', `unknown API method: ${String(method)}`);
    }
    const result = await ipc.invoke(IPC_INVOKE, method, request === undefined ? {} : request);
    return unwrapResult(method, result);
  };

  const onEvent = (listener: (event: ApiEvent) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('lifeline.onEvent needs a listener function');
    // Only the payload reaches the page, never the IpcRendererEvent (it carries `sender`).
    const forward = (_event: unknown, payload: unknown): void => {
      try {
        listener(payload as ApiEvent);
      } catch (err) {
        console.error('lifeline: an event listener threw', err);
      }
    };
    ipc.on(IPC_EVENT, forward);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipc.removeListener(IPC_EVENT, forward);
    };
  };

  return { invoke: invoke as PreloadBridge['invoke'], onEvent };
}

function exposeLifelineBridge(electron: PreloadElectron): void {
  electron.contextBridge.exposeInMainWorld('lifeline', createPreloadBridge(electron.ipcRenderer));
}

exposeLifelineBridge(require('electron') as PreloadElectron);

// For unit tests, which run this script with a fake `require('electron')`; the page never
// sees these exports.
export = { IPC_INVOKE, IPC_EVENT, PRELOAD_API_METHODS, createPreloadBridge, exposeLifelineBridge };
