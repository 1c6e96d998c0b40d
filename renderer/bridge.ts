// The one object the screens talk to. Inside Electron it is the preload's `window.lifeline`
// (IPC); in a browser opened on `lifeline serve` it is HTTP with a bearer token. No screen
// knows which.
import type { ApiEvent, ApiMethod, ApiRequest, ApiResponse, PreloadBridge } from '../electron/api/contract.js';
import { SseParser, backoffMs } from './lib/sse.js';
import { TOKEN_STORAGE_KEY, hashWithoutToken, tokenFromHash } from './lib/token.js';

declare global {
  interface Window {
    lifeline?: PreloadBridge;
  }
}

export type BridgeMode = 'electron' | 'http' | 'no-token';
/** The push channel: `unauthorized` means the token was refused and nothing will retry. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized';

/** Options of a large call (an upload): abort it, and learn how much of the request was sent. */
export interface CallOptions {
  signal?: AbortSignal;
  /** 0..1 of the request body sent; 1 once it is all on its way (the core is then working on it). */
  onSent?: (fraction: number) => void;
}

export interface Bridge extends PreloadBridge {
  readonly mode: BridgeMode;
  /** Like invoke, for large requests: reports upload progress where the transport knows it, and can be aborted. */
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>, options?: CallOptions): Promise<ApiResponse<M>>;
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

/** A failed call: `message` is for the operator, `code` for programs, `status` the HTTP status if any. */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

export function isAborted(err: unknown): boolean {
  return err instanceof BridgeError && err.code === 'aborted';
}

function abortedError(): BridgeError {
  return new BridgeError('aborted', 'aborted');
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof BridgeError && (err.status === 401 || err.code === 'unauthorized' || err.code === 'no-token');
}

function electronBridge(preload: PreloadBridge): Bridge {
  return {
    mode: 'electron',
    invoke: (method, request) => preload.invoke(method, request),
    call(method, request, options = {}) {
      const { signal, onSent } = options;
      if (signal?.aborted) return Promise.reject(abortedError());
      // IPC hands the whole request over at once; an abort only stops waiting for the answer.
      const pending = preload.invoke(method, request);
      onSent?.(1);
      if (!signal) return pending;
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(abortedError());
        signal.addEventListener('abort', onAbort, { once: true });
        pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    onEvent: (listener) => preload.onEvent(listener),
    onConnection(listener) {
      listener('connected');
      return () => {};
    },
  };
}

function noTokenBridge(): Bridge {
  return {
    mode: 'no-token',
    invoke: () => Promise.reject(new BridgeError('no-token', 'no access token')),
    call: () => Promise.reject(new BridgeError('no-token', 'no access token')),
    onEvent: () => () => {},
    onConnection(listener) {
      listener('unauthorized');
      return () => {};
    },
  };
}

function errorOf(body: unknown): { code?: string; message?: string } {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') return e as { code?: string; message?: string };
  }
  return {};
}

/** The answer of POST /api/<method>: the value, or a BridgeError with the core's message. */
function answerOf<T>(status: number, statusText: string, text: string): T {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (status < 200 || status > 299) {
    const e = errorOf(body);
    const code = e.code ?? (status === 401 ? 'unauthorized' : status === 413 ? 'too-large' : `http-${status}`);
    throw new BridgeError(code, e.message ?? `HTTP ${status} ${statusText}`.trim(), status);
  }
  return body as T;
}

function httpBridge(token: string): Bridge {
  const auth = `Bearer ${token}`;
  const eventListeners = new Set<(event: ApiEvent) => void>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let connection: ConnectionState = 'connecting';
  let running = false;
  let session = 0; // bumped by stop(), so a stream of an earlier session never reconnects
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const setConnection = (state: ConnectionState) => {
    if (state === connection) return;
    connection = state;
    for (const l of connectionListeners) l(state);
  };

  const emit = (data: string) => {
    let event: ApiEvent;
    try {
      event = JSON.parse(data) as ApiEvent;
    } catch {
      return; // a malformed event is dropped, the stream goes on
    }
    if (!event || typeof event !== 'object' || typeof event.type !== 'string') return;
    for (const l of eventListeners) l(event);
  };

  async function connect(id: number): Promise<void> {
    controller = new AbortController();
    const parser = new SseParser();
    try {
      const res = await fetch('/api/events', {
        headers: { Authorization: auth, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (id !== session) return;
      if (res.status === 401 || res.status === 403) {
        stop();
        setConnection('unauthorized');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      failures = 0;
      setConnection('connected');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) emit(message.data);
      }
    } catch {
      // dropped or refused: retried below unless stopped
    }
    if (id !== session) return;
    setConnection('reconnecting');
    timer = setTimeout(() => void connect(id), backoffMs(failures++));
  }

  const start = () => {
    if (running) return;
    running = true;
    void connect(++session);
  };
  function stop(): void {
    running = false;
    session++;
    clearTimeout(timer);
    controller?.abort();
  }

  return {
    mode: 'http',
    async invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> {
      let res: Response;
      try {
        res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(request ?? {}),
          cache: 'no-store',
        });
      } catch (err) {
        throw new BridgeError('unreachable', err instanceof Error ? err.message : String(err));
      }
      return answerOf<ApiResponse<M>>(res.status, res.statusText, await res.text());
    },
    // XMLHttpRequest rather than fetch: only it reports how much of a request body was sent.
    call<M extends ApiMethod>(method: M, request: ApiRequest<M>, options: CallOptions = {}): Promise<ApiResponse<M>> {
      const { signal, onSent } = options;
      return new Promise<ApiResponse<M>>((resolve, reject) => {
        if (signal?.aborted) return reject(abortedError());
        const xhr = new XMLHttpRequest();
        const onAbort = () => xhr.abort();
        const settle = () => signal?.removeEventListener('abort', onAbort);
        xhr.open('POST', `/api/${method}`);
        xhr.setRequestHeader('Authorization', auth);
        xhr.setRequestHeader('Content-Type', 'application/json');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.responseType = 'text';
        if (onSent) {
          xhr.upload.onprogress = (e) => {
            if (e.lengthComputable && e.total > 0) onSent(Math.min(1, e.loaded / e.total));
          };
          xhr.upload.onload = () => onSent(1);
        }
        xhr.onload = () => {
          settle();
          onSent?.(1);
          try {
            resolve(answerOf<ApiResponse<M>>(xhr.status, xhr.statusText, xhr.responseText));
          } catch (err) {
            reject(err);
          }
        };
        xhr.onerror = () => {
          settle();
          reject(new BridgeError('unreachable', `${method}: the connection to the core failed`));
        };
        xhr.onabort = () => {
          settle();
          reject(abortedError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        xhr.send(JSON.stringify(request ?? {}));
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      start();
      return () => {
        eventListeners.delete(listener);
        if (eventListeners.size === 0) stop();
      };
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(connection);
      return () => connectionListeners.delete(listener);
    },
  };
}

/** Takes the token from "#token=…" (then removes it from the address bar) or from this tab's session. */
function takeToken(): string | null {
  const fromHash = tokenFromHash(window.location.hash);
  if (fromHash) {
    try {
      sessionStorage.setItem(TOKEN_STORAGE_KEY, fromHash);
    } catch {
      // storage disabled: the token still works until the page reloads
    }
    const { pathname, search, hash } = window.location;
    history.replaceState(history.state, '', pathname + search + hashWithoutToken(hash));
    return fromHash;
  }
  try {
    return sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

function createBridge(): Bridge {
  if (window.lifeline) return electronBridge(window.lifeline);
  const token = takeToken();
  if (token) return httpBridge(token);
  // The operator may paste the printed address into this same tab: a hash change does not reload.
  window.addEventListener('hashchange', () => {
    if (tokenFromHash(window.location.hash) && takeToken()) window.location.reload();
  });
  return noTokenBridge();
}

export const bridge: Bridge = createBridge();
