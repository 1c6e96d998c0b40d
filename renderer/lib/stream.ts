// Streamed answer text: `answer.delta` events carry new pieces for one ask, named by the
// streamId the console chose. Pure, apart from the random id.
import type { ApiEvent } from '../../electron/api/contract.js';

export interface StreamText {
  readonly streamId: string;
  readonly text: string;
}

/** Appends a delta of this stream; events of other streams (or other kinds) change nothing. */
export function applyDelta(current: StreamText | null, event: ApiEvent): StreamText | null {
  if (!current || !event || event.type !== 'answer.delta') return current;
  if (event.streamId !== current.streamId || typeof event.text !== 'string' || event.text === '') return current;
  return { streamId: current.streamId, text: current.text + event.text };
}

/** A random stream id: crypto.randomUUID where available (secure contexts), else built from getRandomValues. */
export function newStreamId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
