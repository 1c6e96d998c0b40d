// Bytes → base64 for uploads, in pieces: no giant string built one character at a time, and
// the async form hands the event loop back every megabyte so the console stays responsive
// while a 64 MiB file is encoded. Pure: only `btoa`, which browsers and Node both have.

/** Bytes per encoded piece: a multiple of 3, so pieces concatenate without padding in between. */
export const BASE64_PIECE = 3 * 16384;
/** Bytes per String.fromCharCode call (well below any engine's argument limit). */
const CALL = 8192;

function encodePiece(bytes: Uint8Array, start: number, end: number): string {
  const binary: string[] = [];
  for (let i = start; i < end; i += CALL) {
    const part = bytes.subarray(i, Math.min(i + CALL, end));
    binary.push(String.fromCharCode.apply(null, part as unknown as number[]));
  }
  return btoa(binary.join(''));
}

/** Standard base64 (with padding) of `bytes`, synchronously. */
export function bytesToBase64(bytes: Uint8Array, piece = BASE64_PIECE): string {
  const step = Math.max(3, piece - (piece % 3));
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += step) parts.push(encodePiece(bytes, i, Math.min(i + step, bytes.length)));
  return parts.join('');
}

export interface EncodeOptions {
  /** Called with (bytes encoded, total) as the encoding advances. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes between two yields to the event loop (default 1 MiB). */
  yieldEvery?: number;
  piece?: number;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function abortError(): Error {
  const err = new Error('aborted');
  err.name = 'AbortError';
  return err;
}

/** The same encoding as bytesToBase64, yielding to the event loop between pieces. */
export async function bytesToBase64Async(bytes: Uint8Array, options: EncodeOptions = {}): Promise<string> {
  const piece = options.piece ?? BASE64_PIECE;
  const step = Math.max(3, piece - (piece % 3));
  const yieldEvery = options.yieldEvery ?? 1 << 20;
  const parts: string[] = [];
  let sinceYield = 0;
  for (let i = 0; i < bytes.length; i += step) {
    if (options.signal?.aborted) throw abortError();
    const end = Math.min(i + step, bytes.length);
    parts.push(encodePiece(bytes, i, end));
    sinceYield += end - i;
    if (sinceYield >= yieldEvery && end < bytes.length) {
      sinceYield = 0;
      options.onProgress?.(end, bytes.length);
      await yieldToEventLoop();
    }
  }
  if (options.signal?.aborted) throw abortError();
  options.onProgress?.(bytes.length, bytes.length);
  return parts.join('');
}
