// SHA-256 of file contents on another core. A backup encrypts and a restore decrypts on the main
// thread; hashing the same bytes there too (to check them against the manifest) would double its
// work, so large files are hashed by a worker thread reading the same open file (a file
// descriptor is shared by all threads of the process, so it is the same inode even if the path
// is replaced meanwhile). Small files are hashed in place: a message costs more than their hash.
//
// The worker's code is plain CommonJS held in a string (eval), so it runs the same from the
// TypeScript sources (tests), from dist/ and inside a packaged app, with only node: built-ins.
// Where a worker cannot be started, everything is hashed on the calling thread instead.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const buf = Buffer.allocUnsafe(1 << 20);
const jobs = new Map();
parentPort.on('message', (m) => {
  let job = jobs.get(m.id);
  try {
    if (m.op === 'start') {
      jobs.set(m.id, { hash: crypto.createHash('sha256'), bytes: 0 });
      return;
    }
    if (!job) throw new Error('unknown hash job ' + m.id);
    if (m.op === 'range' || m.op === 'file') {
      // Hashes [start, start + length) of fd, or from start to the end of the file.
      let pos = m.start;
      let left = m.op === 'range' ? m.length : Infinity;
      while (left > 0) {
        const n = fs.readSync(m.fd, buf, 0, Math.min(buf.length, left), pos);
        if (n === 0) {
          if (m.op === 'range') throw new Error('the file ended ' + left + ' bytes early');
          break;
        }
        job.hash.update(n === buf.length ? buf : buf.subarray(0, n));
        job.bytes += n;
        pos += n;
        left -= n;
      }
      if (m.op === 'range') return;
    }
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, sha256: job.hash.digest('hex'), bytes: job.bytes });
  } catch (err) {
    jobs.delete(m.id);
    if (job) job.failed = true;
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err), code: err && err.code });
  }
});
`;

/** Files at least this large are hashed by the worker. */
export const OFFLOAD_BYTES = 4 << 20;

interface Pending {
  resolve(r: { sha256: string; bytes: number }): void;
  reject(err: Error): void;
}

let worker: Worker | null = null;
let workerBroken = false;
let nextId = 1;
const pending = new Map<number, Pending>();

function getWorker(): Worker | null {
  if (worker || workerBroken) return worker;
  if (os.availableParallelism() < 2) {
    workerBroken = true; // one core: a worker only adds messages
    return null;
  }
  try {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m: { id: number; sha256?: string; bytes?: number; error?: string; code?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.error !== undefined) p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
      else p.resolve({ sha256: m.sha256!, bytes: m.bytes! });
    });
    const die = (err: Error) => {
      workerBroken = true;
      worker = null;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    w.on('error', die);
    w.on('exit', (code) => die(new Error(`the hashing worker exited (${code})`)));
    w.unref();
    worker = w;
  } catch {
    workerBroken = true;
  }
  return worker;
}

/**
 * A SHA-256 of bytes that are in an open file: either fed in order (`range` after each write
 * lands, `update` for bytes in hand) or the whole file at once (`rest`). The file descriptor must
 * stay open until `digest()` resolves.
 */
export interface FileHash {
  /** Hashes `length` bytes of the file at `start` (contiguous with what came before). */
  range(fd: number, start: number, length: number): void;
  /** Hashes from `start` to the end of the file, then finishes. */
  rest(fd: number, start: number): void;
  digest(): Promise<{ sha256: string; bytes: number }>;
}

/** A hash computed by the worker when there is one, else on this thread (same results). */
export function fileHash(): FileHash {
  const w = getWorker();
  if (!w) return localHash();
  const id = nextId++;
  let result: Promise<{ sha256: string; bytes: number }> | null = null;
  const finish = () => {
    result ??= new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.ref();
    });
    return result;
  };
  // Registered at once, so a failure in a range is kept until digest() asks for it.
  const p = finish();
  p.catch(() => undefined);
  w.postMessage({ op: 'start', id });
  let ended = false;
  return {
    range(fd, start, length) {
      if (length > 0) w.postMessage({ op: 'range', id, fd, start, length });
    },
    rest(fd, start) {
      ended = true;
      w.postMessage({ op: 'file', id, fd, start });
    },
    digest() {
      if (!ended) w.postMessage({ op: 'end', id });
      ended = true;
      return p;
    },
  };
}

function localHash(): FileHash {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  const read = (fd: number, start: number, length: number) => {
    let pos = start;
    let left = length;
    while (left > 0) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), pos);
      if (n === 0) {
        if (Number.isFinite(left)) throw new Error(`the file ended ${left} bytes early`);
        break;
      }
      h.update(buf.subarray(0, n));
      bytes += n;
      pos += n;
      left -= n;
    }
  };
  return {
    range: (fd, start, length) => read(fd, start, length),
    rest: (fd, start) => read(fd, start, Infinity),
    digest: async () => ({ sha256: h.digest('hex'), bytes }),
  };
}
