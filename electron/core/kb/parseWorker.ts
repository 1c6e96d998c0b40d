// The parse worker: a worker thread that reads documents for parsePool.ts, one at a time. It
// receives { id, file, format, bytes } and answers { id, units } or { id, reason } (a LoadError),
// with { id, step } messages in between when a parser makes progress (a PDF page), which the
// pool's watchdog counts. The pool terminates this thread when a document takes too long or needs
// too much memory, so nothing here has to stop a runaway parser.
import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { type PackedUnits, extractUnits, packUnits } from './extract.js';
import { type DocumentFormat, LoadError } from './formats/types.js';

export interface ParseRequest {
  id: number;
  file: string;
  format: DocumentFormat;
  bytes: Uint8Array;
}

export type ParseReply =
  | { id: number; step: string }
  | { id: number; units: PackedUnits; heapMb: number }
  | { id: number; reason: string; heapMb: number }
  /** Not a LoadError: a bug in a parser or here, reported as such. */
  | { id: number; failure: string; heapMb: number };

const port = parentPort;
if (!port) throw new Error('parseWorker.ts runs as a worker thread (see parsePool.ts)');

// Libraries leave rejected promises behind that nobody awaits: pdf.js prefetches the other page
// objects of a damaged page tree and never looks at them again. The document's outcome is its
// parse's own promise; such a leftover says nothing more and must not end the thread.
process.on('unhandledRejection', () => undefined);

const heapMb = () => Math.round(v8.getHeapStatistics().used_heap_size / 1024 / 1024);

port.on('message', async (req: ParseRequest) => {
  let reply: ParseReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const units = await extractUnits(req.file, req.format, req.bytes, { progress: (step) => port.postMessage({ id: req.id, step } satisfies ParseReply) });
    const packed = packUnits(units);
    transfer = packed.transfer;
    reply = { id: req.id, units: packed.packed, heapMb: heapMb() };
  } catch (err) {
    reply = err instanceof LoadError ? { id: req.id, reason: err.reason, heapMb: heapMb() } : { id: req.id, failure: String((err as Error)?.stack ?? err), heapMb: heapMb() };
  }
  port.postMessage(reply, transfer);
});
port.postMessage({ ready: true });
