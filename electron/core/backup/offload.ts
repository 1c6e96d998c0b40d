// Work a backup or restore hands to worker threads, so it runs on the other cores while the main
// thread goes on with the many small files: hashing (SHA-256 of an open file's bytes) and the
// bulk of the age format — sealing a large file's STREAM payload (64 KiB ChaCha20-Poly1305
// chunks) and opening one — with its plaintext hashed in the same pass.
//
// The main thread keeps everything that needs a key other than the payload key: it builds and
// authenticates age headers (age.ts prepareEncryption / openPayload) and hands a worker only the
// file's payload key. A worker that fails to open a payload says only that it failed; the caller
// then decrypts on the main thread, which names the failure exactly (truncated, tampered).
//
// The workers' code is plain CommonJS in a string (eval), so it runs the same from the TypeScript
// sources (tests), from dist/ and inside a packaged app, with only node: built-ins. Where workers
// cannot start, or Node's crypto lacks ChaCha20-Poly1305 (Electron's BoringSSL), callers get
// `available() === false` / a local hash and do the work themselves.
//
// Blobs are read, and blobs and restored models written, past the page cache (O_DIRECT): see the
// worker's source and sink.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cryptoBackend } from './age.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
// A backup's bulk work (m.bg: sealing, hashing) yields to the main thread (the console's
// requests) and to the catalog checks, which are its longest part: with 2 cores a 1 GB backup
// ended ~0.35 s sooner (median of 5 alternating runs). A restore's decryption is its longest part
// (the largest file ends last), so it keeps the main thread's priority: ~0.16 s sooner (6 runs).
// On Linux this sets this thread's nice value only; elsewhere it would set the whole process's,
// so it is not done there. Raising it back needs the privilege to; without it, a worker that
// sealed stays below (slower, nothing else). "The main thread's priority" is the one this thread
// started with (an operator may have started Lifeline under nice).
const base = (() => { try { return require('node:os').getPriority(0); } catch { return 0; } })();
let nice = base, raiseRefused = false;
function priorityFor(bg) {
  if (process.platform !== 'linux') return;
  const want = bg ? Math.max(base, 10) : base;
  if (want === nice || (want < nice && raiseRefused)) return;
  try { require('node:os').setPriority(0, want); nice = want; } catch { if (want < nice) raiseRefused = true; }
}
const CHUNK = 65536, TAG = 16, CT_CHUNK = CHUNK + TAG, IO = 1 << 20;
const rbuf = Buffer.allocUnsafe(IO);
const hashes = new Map();

function nonce(counter, last) {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}
function seal(key, counter, last, plain, out) {
  const c = crypto.createCipheriv('chacha20-poly1305', key, nonce(counter, last), { authTagLength: TAG });
  out.push(c.update(plain));
  c.final();
  out.push(c.getAuthTag());
}
function open(key, counter, last, sealed) {
  if (sealed.length < TAG) return null;
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce(counter, last), { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = d.update(sealed.subarray(0, sealed.length - TAG));
  try { d.final(); } catch { return null; }
  return body;
}
function writeAll(fd, list) {
  list = list.filter((b) => b.length > 0);
  while (list.length > 0) {
    let n = fs.writevSync(fd, list);
    if (n === 0) throw new Error('write made no progress');
    const rest = [];
    for (const b of list) {
      if (n >= b.length) n -= b.length;
      else { rest.push(n > 0 ? b.subarray(n) : b); n = 0; }
    }
    list = rest;
  }
}
function hashRange(h, fd, start, length) {
  let pos = start, left = length, bytes = 0;
  while (left > 0) {
    const n = fs.readSync(fd, rbuf, 0, Math.min(IO, left), pos);
    if (n === 0) {
      if (Number.isFinite(left)) throw new Error('the file ended ' + left + ' bytes early');
      break;
    }
    h.update(n === IO ? rbuf : rbuf.subarray(0, n));
    bytes += n; pos += n; left -= n;
  }
  return bytes;
}

// Where a file's bytes go, and where they come from. m.direct (the file written) and m.directRead
// (the file read): with O_DIRECT, through page-aligned buffers (the base of a WebAssembly memory
// is), DIO bytes per call, straight between the drive and this thread — none of it copied into
// the page cache. On the VM this was measured on, writing a new file through the page cache cost
// the kernel 1.1 s of CPU per 640 MB (a fresh page per 4 KiB), against 0.03 s direct (dd, same
// disk); and 1 GB of backup data also pushed that much of what the running app had cached out of
// memory. Reading direct, a restore or verify reads each blob from the drive itself, once, not
// from what the page cache may still hold. Direct I/O waits for the drive, so each direct file
// has one read ahead and one write behind (on the thread pool) while this thread decrypts or
// seals. A file written so is not in the page cache afterwards: for files nothing reads back
// soon (blobs, restored models). Where the filesystem refuses O_DIRECT (tmpfs, some network
// filesystems), at open or at a call, the rest goes through the page cache.
const ALIGN = 4096, DIO = 4 << 20;
const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_DIRECT } = fs.constants;
const aligned = [];
// The i-th (0 to 3) page-aligned buffer of this worker, all four in one memory (jobs run one at a
// time: see the message handler).
function alignedBuffer(i) {
  if (aligned.length === 0) {
    const mem = Buffer.from(new WebAssembly.Memory({ initial: (4 * DIO) >> 16, maximum: (4 * DIO) >> 16 }).buffer);
    for (let k = 0; k < 4; k++) aligned.push(mem.subarray(k * DIO, (k + 1) * DIO));
  }
  return aligned[i];
}
// True when the buffers are there (a WebAssembly memory reserves some 10 GB of address space:
// under a tight \`ulimit -v\` it may not be had, and the file then goes through the page cache).
function haveAligned() {
  try { alignedBuffer(0); return true; } catch { return false; }
}
const readAt = (fd, buf, off, len, pos) => new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
const writeAt = (fd, buf, off, len, pos) => new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
// m.mockRefusingDirect (tests only: this machine's filesystems all take O_DIRECT): 'open' acts as a
// filesystem that refuses it at open, 'io' as one that refuses each direct read or write.
const refused = () => Object.assign(new Error('EINVAL (mockRefusingDirect)'), { code: 'EINVAL' });
function openDirect(m, file, flags, mode) {
  if (!O_DIRECT || m.mockRefusingDirect === 'open' || !haveAligned()) return null;
  try { return fs.openSync(file, flags | O_DIRECT, mode); } catch (err) { if (err.code === 'EINVAL') return null; throw err; }
}

// Reads src from \`start\`: await next() is a view of the next bytes (valid until the call after
// it), null at the end.
function source(m, start) {
  const fd = m.directRead ? openDirect(m, m.src, O_RDONLY) : null;
  let plain = fd === null ? fs.openSync(m.src, 'r') : null;
  let pos = start;
  const readPlain = () => {
    const n = fs.readSync(plain, rbuf, 0, IO, pos);
    if (n === 0) return null;
    pos += n;
    return n === IO ? rbuf : rbuf.subarray(0, n);
  };
  if (plain !== null) return { next: async () => readPlain(), close() { fs.closeSync(plain); } };
  // From the aligned block below start; one read ahead (buffers 0 and 1). A short read (the end)
  // or a refused one: the rest through the page cache.
  let skip = start % ALIGN, i = 0, ahead = null, ended = false;
  pos -= skip;
  const issue = () => {
    const buf = alignedBuffer(i);
    const at = pos;
    const p = (m.mockRefusingDirect === 'io' ? Promise.reject(refused()) : readAt(fd, buf, 0, DIO, at)).then((n) => ({ buf, n }), (err) => { if (err.code === 'EINVAL') return { buf, n: -1 }; throw err; });
    p.catch(() => undefined); // awaited by next()
    pos += DIO;
    i ^= 1;
    return { p, at };
  };
  return {
    async next() {
      if (!ended) {
        const cur = ahead ?? issue();
        ahead = null;
        const { buf, n } = await cur.p;
        if (n === DIO) {
          ahead = issue();
          const v = buf.subarray(skip);
          skip = 0;
          return v;
        }
        ended = true;
        pos = cur.at + Math.max(n, skip);
        plain = fs.openSync(m.src, 'r');
        if (n > skip) { const v = buf.subarray(skip, n); skip = 0; return v; }
        skip = 0;
      }
      return readPlain();
    },
    async close() {
      if (ahead) await ahead.p.catch(() => undefined);
      fs.closeSync(fd);
      if (plain !== null) fs.closeSync(plain);
    },
  };
}

// Creates dest (m.mode): await write(list) takes the buffers' bytes, await end() writes what is
// left (direct: the last block padded, then the file cut to its size).
function sink(m) {
  const fd = m.direct ? openDirect(m, m.dest, O_WRONLY | O_CREAT | O_TRUNC, m.mode) : null;
  if (fd === null) {
    const plainFd = fs.openSync(m.dest, 'w', m.mode);
    return { async write(list) { writeAll(plainFd, list); }, async end() {}, sync: () => fs.fsyncSync(plainFd), async close() { fs.closeSync(plainFd); } };
  }
  // Buffers 2 and 3: one fills while the other is written (one write behind).
  let i = 2, buf = alignedBuffer(i), fill = 0, pos = 0, behind = null, plain = null;
  // buf[0, n) at \`at\`; after a refused or short direct write, the rest through a second descriptor.
  const put = async (b, n, at) => {
    let off = 0;
    while (off < n) {
      if (plain === null) {
        let w = 0;
        try { w = await (m.mockRefusingDirect === 'io' ? Promise.reject(refused()) : writeAt(fd, b, off, n - off, at + off)); } catch (err) { if (err.code !== 'EINVAL') throw err; }
        off += w;
        if (w > 0 && w % ALIGN === 0) continue;
        plain = fs.openSync(m.dest, 'r+');
        continue;
      }
      const w = fs.writeSync(plain, b, off, n - off, at + off);
      if (w === 0) throw new Error('write made no progress');
      off += w;
    }
  };
  const spill = async (n) => {
    if (behind) await behind;
    behind = put(buf, n, pos);
    behind.catch(() => undefined); // awaited by the next spill or end
    pos += n;
    i = i === 2 ? 3 : 2;
    buf = alignedBuffer(i);
    fill = 0;
  };
  return {
    async write(list) {
      for (const b of list) {
        let off = 0;
        while (off < b.length) {
          const k = Math.min(DIO - fill, b.length - off);
          b.copy(buf, fill, off, off + k);
          fill += k; off += k;
          if (fill === DIO) await spill(DIO);
        }
      }
    },
    async end() {
      if (fill > 0) {
        const size = pos + fill;
        const padded = fill % ALIGN !== 0;
        const n = Math.ceil(fill / ALIGN) * ALIGN;
        buf.fill(0, fill, n);
        await spill(n);
        await behind;
        if (padded) fs.ftruncateSync(fd, size);
      } else if (behind) {
        await behind;
      }
    },
    sync() { fs.fsyncSync(fd); if (plain !== null) fs.fsyncSync(plain); },
    async close() {
      if (behind) await behind.catch(() => undefined);
      fs.closeSync(fd);
      if (plain !== null) fs.closeSync(plain);
    },
  };
}

// Runs body with the key, src open for reading from \`start\` (see source) and dest created
// (m.mode, see sink); the key is wiped and both files closed whatever body does.
async function withFiles(m, start, body) {
  const key = Buffer.from(m.key);
  let input = null, out = null;
  try {
    input = source(m, start);
    out = sink(m);
    return await body(key, input, out);
  } finally {
    key.fill(0);
    if (input !== null) await input.close();
    if (out !== null) await out.close();
  }
}

// Encrypts src into dest (created, mode): the preamble, then the sealed payload; hashes the
// plaintext unless m.hash is false (its sha256 was taken moments ago).
function sealFile(m) {
  return withFiles(m, 0, async (key, input, sink) => {
    const h = m.hash === false ? null : crypto.createHash('sha256');
    const cur = Buffer.allocUnsafe(CHUNK);
    let fill = 0, counter = 0, pos = 0, out = [Buffer.from(m.preamble)], outBytes = out[0].length, total = 0;
    for (;;) {
      const buf = await input.next();
      if (buf === null) break;
      const n = buf.length;
      pos += n;
      if (h) h.update(buf);
      let off = 0;
      while (off < n) {
        if (fill === CHUNK) {
          seal(key, counter++, false, cur, out); // more data follows: not the last chunk
          outBytes += CT_CHUNK;
          fill = 0;
        }
        if (fill === 0 && n - off > CHUNK) {
          // A whole chunk with more after it in this read: sealed where it lies.
          seal(key, counter++, false, buf.subarray(off, off + CHUNK), out);
          outBytes += CT_CHUNK;
          off += CHUNK;
          continue;
        }
        const k = Math.min(CHUNK - fill, n - off);
        buf.copy(cur, fill, off, off + k);
        fill += k; off += k;
      }
      if (outBytes >= IO) { for (const b of out) total += b.length; await sink.write(out); out = []; outBytes = 0; }
    }
    seal(key, counter++, true, cur.subarray(0, fill), out);
    for (const b of out) total += b.length;
    await sink.write(out);
    await sink.end();
    if (m.fsync) sink.sync();
    return { sha256: h ? h.digest('hex') : null, plaintextBytes: pos, ciphertextBytes: total };
  });
}

// Decrypts the payload of src (sealed chunks from m.offset) into dest; hashes the plaintext unless
// m.hash is false (another worker hashes what lands: m.progressEvery, then a { progress } message
// with the bytes written so far each time that many more are in the file; not with m.direct).
// Any failure is only "failed": the caller decrypts again on its thread to say exactly why.
function openFile(m) {
  return withFiles(m, m.offset, async (key, input, sink) => {
    const cur = Buffer.allocUnsafe(CT_CHUNK);
    let fill = 0, counter = 0, out = [], outBytes = 0, plain = 0;
    const h = m.hash === false ? null : crypto.createHash('sha256');
    let written = 0, told = 0;
    const emit = (p) => { if (h) h.update(p); out.push(p); outBytes += p.length; plain += p.length; };
    const flush = async () => {
      await sink.write(out); written += outBytes; out = []; outBytes = 0;
      if (m.progressEvery && written - told >= m.progressEvery) { told = written; parentPort.postMessage({ id: m.id, progress: written }); }
    };
    for (;;) {
      const buf = await input.next();
      if (buf === null) break;
      const n = buf.length;
      let off = 0;
      while (off < n) {
        if (fill === CT_CHUNK) {
          const p = open(key, counter++, false, cur); // more data follows: not the last chunk
          if (p === null) return { failed: true };
          emit(p);
          fill = 0;
        }
        if (fill === 0 && n - off > CT_CHUNK) {
          // A whole chunk with more after it in this read: opened where it lies.
          const p = open(key, counter++, false, buf.subarray(off, off + CT_CHUNK));
          if (p === null) return { failed: true };
          emit(p);
          off += CT_CHUNK;
          continue;
        }
        const k = Math.min(CT_CHUNK - fill, n - off);
        buf.copy(cur, fill, off, off + k);
        fill += k; off += k;
      }
      if (outBytes >= IO) await flush();
    }
    const p = open(key, counter, true, cur.subarray(0, fill));
    if (p === null || (p.length === 0 && counter > 0)) return { failed: true };
    emit(p);
    await sink.write(out);
    await sink.end();
    if (m.fsync) sink.sync();
    return { sha256: h ? h.digest('hex') : null, plaintextBytes: plain };
  });
}

// One job at a time, in the order sent (a job may wait for the drive; the aligned buffers are
// this worker's). The buffers (16 MiB) are let go after a few idle seconds.
let queue = Promise.resolve(), waiting = 0;
parentPort.on('message', (m) => {
  waiting++;
  // (handle answers every failure itself; were it ever to throw, the next jobs still run.)
  queue = queue.then(() => handle(m)).catch(() => undefined).finally(() => {
    if (--waiting === 0) setTimeout(() => { if (waiting === 0) aligned.length = 0; }, 5000).unref();
  });
});
async function handle(m) {
  let reply;
  priorityFor(m.bg === true);
  try {
    if (m.op === 'seal') reply = await sealFile(m);
    else if (m.op === 'open') reply = await openFile(m);
    else if (m.op === 'hash-start') { hashes.set(m.id, { h: crypto.createHash('sha256'), bytes: 0 }); return; }
    else {
      const job = hashes.get(m.id);
      if (!job) return; // failed earlier: its error was sent
      if (m.op === 'hash-range') { job.bytes += hashRange(job.h, m.fd, m.start, m.length); return; }
      if (m.op === 'hash-rest') job.bytes += hashRange(job.h, m.fd, m.start, Infinity);
      hashes.delete(m.id);
      reply = { sha256: job.h.digest('hex'), bytes: job.bytes };
    }
  } catch (err) {
    hashes.delete(m.id);
    reply = { error: String((err && err.message) || err), code: err && err.code };
  }
  parentPort.postMessage({ id: m.id, ...reply });
}
`;

interface Reply {
  id: number;
  error?: string;
  code?: string;
  failed?: boolean;
  [k: string]: unknown;
}

interface Slot {
  worker: Worker;
  jobs: number;
  /** Bytes of the jobs queued on this worker and not yet answered (what it has left to read). */
  bytes: number;
}

const pendingReplies = new Map<number, { slot: Slot; bytes: number; resolve(r: Reply): void; reject(err: Error): void; onProgress?: (bytes: number) => void }>();
let slots: Slot[] | null = null;
let broken = false;
let nextId = 1;

/** Worker threads: one per core beyond the main thread's, at least one, at most three. */
function pool(): Slot[] | null {
  if (slots || broken) return slots;
  const cores = os.availableParallelism();
  if (cores < 2) {
    broken = true;
    return null;
  }
  const made: Slot[] = [];
  try {
    for (let i = 0; i < Math.min(3, Math.max(2, cores - 1)); i++) {
      const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), jobs: 0, bytes: 0 };
      slot.worker.on('message', (m: Reply) => {
        const p = pendingReplies.get(m.id);
        if (!p) return;
        if (typeof m.progress === 'number') {
          p.onProgress?.(m.progress);
          return;
        }
        pendingReplies.delete(m.id);
        slot.bytes -= p.bytes;
        if (--slot.jobs === 0) slot.worker.unref();
        if (m.error !== undefined) p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
        else p.resolve(m);
      });
      const die = (err: Error) => {
        broken = true;
        slots = null;
        for (const [id, p] of pendingReplies) {
          if (p.slot !== slot) continue;
          pendingReplies.delete(id);
          p.reject(err);
        }
      };
      slot.worker.on('error', die);
      slot.worker.on('exit', (code) => die(new Error(`a backup worker thread exited (${code})`)));
      slot.worker.unref();
      made.push(slot);
    }
  } catch {
    for (const s of made) void s.worker.terminate();
    broken = true;
    return null;
  }
  slots = made;
  return slots;
}

/**
 * The worker with the fewest bytes still to go through (then the fewest jobs): with one large
 * model and a few segments, counting jobs alone left one worker with most of the data. `besides`:
 * another than that one (null when there is no other).
 */
function leastBusy(besides?: Slot): Slot | null {
  const p = pool()?.filter((s) => s !== besides);
  if (!p?.length) return null;
  return p.reduce((a, b) => (b.bytes < a.bytes || (b.bytes === a.bytes && b.jobs < a.jobs) ? b : a));
}

/**
 * Sends a job of `bytes` (for the balance between workers) to `slot`; the promise settles with its
 * reply. `onProgress` receives the job's progress messages, if it sends any.
 */
function call(slot: Slot, msg: Record<string, unknown>, bytes = 0, onProgress?: (bytes: number) => void): Promise<Reply> {
  const id = (msg.id as number | undefined) ?? nextId++;
  const p = new Promise<Reply>((resolve, reject) => pendingReplies.set(id, { slot, bytes, resolve, reject, onProgress }));
  slot.bytes += bytes;
  if (slot.jobs++ === 0) slot.worker.ref();
  slot.worker.postMessage({ ...msg, id });
  return p;
}

/** True when sealing and opening can be handed to workers (native ChaCha20-Poly1305, threads). */
export function available(): boolean {
  return cryptoBackend().aead === 'node' && pool() !== null;
}

/**
 * Encrypts `src` into the new file `dest` on a worker: `preamble` (the age header and payload
 * nonce, from prepareEncryption) then the payload sealed with `payloadKey`. Returns the plaintext's
 * sha256 (null with `hash: false`, for a file hashed moments ago) and sizes. `size`: the file's
 * size, for the balance between workers. `direct`: `dest` is written past the page cache (see the
 * worker's sink); `mockRefusingDirect`, for tests only, acts as a filesystem that refuses it.
 * Zeroes the caller's copy of the key.
 */
export async function sealFile(
  src: string,
  dest: string,
  preamble: Buffer,
  payloadKey: Buffer,
  opts: { fsync: boolean; mode: number; hash?: boolean; size?: number; direct?: boolean; mockRefusingDirect?: 'open' | 'io' },
): Promise<{ sha256: string | null; plaintextBytes: number; ciphertextBytes: number }> {
  const slot = leastBusy();
  if (!slot) throw new Error('no worker thread for sealing');
  const key = Uint8Array.from(payloadKey);
  payloadKey.fill(0);
  const hash = opts.hash ?? true;
  // Sealing alone is about half the work of sealing and hashing (ChaCha20-Poly1305 runs at about
  // twice SHA-256's speed here).
  const r = await call(slot, { op: 'seal', bg: true, src, dest, preamble, key, fsync: opts.fsync, mode: opts.mode, hash, direct: opts.direct === true, mockRefusingDirect: opts.mockRefusingDirect }, hash ? (opts.size ?? 0) : (opts.size ?? 0) / 2);
  return { sha256: (r.sha256 as string | null) ?? null, plaintextBytes: r.plaintextBytes as number, ciphertextBytes: r.ciphertextBytes as number };
}

/** From this size a file is decrypted by one worker and hashed by another, as it lands (see openFile). */
export const SHARED_OPEN_MIN = 48 << 20;
/** How much lands between two of the decrypting worker's progress messages (each one more range for the hashing worker). */
const PROGRESS_EVERY = 8 << 20;

/**
 * Decrypts the payload of the age file `src` (sealed chunks from `offset`, key from openPayload)
 * into the new file `dest` on a worker. Null when the payload does not open (the caller finds out
 * why by decrypting it itself); I/O errors reject. Zeroes the caller's copy of the key.
 *
 * A large file (`size` ≥ SHARED_OPEN_MIN) is decrypted by one worker and hashed by another from
 * the file, a range at a time as it lands: the decryption and the hash each take about as long,
 * and one worker doing both was the last thing a restore waited for (the model file). What is
 * hashed is then what is in `dest`.
 *
 * `src` is read past the page cache (see the worker's source): from the drive itself. With
 * `direct`, `dest` is written so too, and hashed in memory as it is decrypted, on one worker (read
 * back, it would come from the drive). `mockRefusingDirect`: as sealFile's.
 */
export async function openFile(
  src: string,
  offset: number,
  dest: string,
  payloadKey: Buffer,
  opts: { fsync: boolean; mode: number; size?: number; direct?: boolean; mockRefusingDirect?: 'open' | 'io' },
): Promise<{ sha256: string; plaintextBytes: number } | null> {
  const slot = leastBusy();
  if (!slot) throw new Error('no worker thread for opening');
  const key = Uint8Array.from(payloadKey);
  payloadKey.fill(0);
  const size = opts.size ?? 0;
  const direct = opts.direct === true && dest !== '/dev/null';
  // A file written past the page cache is hashed in memory as it is decrypted (read back, it would
  // come from the drive).
  const hasher = size >= SHARED_OPEN_MIN && dest !== '/dev/null' && !direct ? leastBusy(slot) : null;
  if (!hasher) {
    const r = await call(slot, { op: 'open', src, offset, dest, key, fsync: opts.fsync, mode: opts.mode, direct, directRead: true, mockRefusingDirect: opts.mockRefusingDirect }, size);
    if (r.failed) return null;
    return { sha256: r.sha256 as string, plaintextBytes: r.plaintextBytes as number };
  }
  const hash = hashOn(hasher, size, false);
  let fd: number | null = null;
  let fed = 0;
  // Raised in the worker's message handler, an error would end the process: kept for below.
  let feedError: unknown = null;
  try {
    const r = await call(slot, { op: 'open', src, offset, dest, key, fsync: opts.fsync, mode: opts.mode, hash: false, progressEvery: PROGRESS_EVERY, directRead: true, mockRefusingDirect: opts.mockRefusingDirect }, size, (landed) => {
      if (feedError !== null) return;
      try {
        fd ??= fs.openSync(dest, 'r');
        hash.range(fd, fed, landed - fed);
        fed = landed;
      } catch (err) {
        feedError = err;
      }
    });
    if (r.failed) return null;
    if (feedError !== null) throw feedError;
    fd ??= fs.openSync(dest, 'r');
    hash.rest(fd, fed);
    const { sha256, bytes } = await hash.digest();
    // The file holds what was decrypted, and nothing else.
    return { sha256: bytes === r.plaintextBytes ? sha256 : `(${bytes} bytes in the file, ${r.plaintextBytes as number} decrypted)`, plaintextBytes: r.plaintextBytes as number };
  } finally {
    // A failed decryption leaves the hash unfinished: ended without reading, its answer ignored.
    await hash.digest().catch(() => undefined);
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * A SHA-256 of bytes that are in an open file: either fed in order (`range` after each write
 * lands) or the whole file at once (`rest`). The file descriptor must stay open until `digest()`
 * settles.
 */
export interface FileHash {
  /** Hashes `length` bytes of the file at `start` (contiguous with what came before). */
  range(fd: number, start: number, length: number): void;
  /** Hashes from `start` to the end of the file, then finishes. */
  rest(fd: number, start: number): void;
  digest(): Promise<{ sha256: string; bytes: number }>;
}

/**
 * A hash computed by a worker when there is one, else on this thread (same results). `size`: the
 * bytes to hash, when known (for the balance between workers). `bg`: a backup's (below the main
 * thread's priority).
 */
export function fileHash(size = 0, bg = false): FileHash {
  const slot = leastBusy();
  return slot ? hashOn(slot, size, bg) : localHash();
}

function hashOn(slot: Slot, size: number, bg: boolean): FileHash {
  const id = nextId++;
  const result = call(slot, { op: 'hash-start', id, bg }, size);
  result.catch(() => undefined); // kept for digest()
  let ended = false;
  return {
    range(fd, start, length) {
      if (length > 0) slot.worker.postMessage({ op: 'hash-range', id, bg, fd, start, length });
    },
    rest(fd, start) {
      ended = true;
      slot.worker.postMessage({ op: 'hash-rest', id, bg, fd, start });
    },
    async digest() {
      if (!ended) slot.worker.postMessage({ op: 'hash-end', id, bg });
      ended = true;
      const r = await result;
      return { sha256: r.sha256 as string, bytes: r.bytes as number };
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

/** The sha256 of a whole file, hashed on a worker thread (here when there is none). */
export async function sha256FileOffThread(file: string): Promise<string> {
  return (await hashWholeFile(file)).sha256;
}

async function hashWholeFile(file: string, bg = true): Promise<{ sha256: string; size: number; mtimeMs: number }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const st = await fh.stat();
    const h = fileHash(st.size, bg);
    h.rest(fh.fd, 0);
    const { sha256, bytes } = await h.digest();
    return { sha256, size: bytes === st.size ? st.size : -1, mtimeMs: st.mtimeMs };
  } finally {
    await fh.close();
  }
}

/** What a file hashed just now held: its sha256, with the size and mtime it had then. */
export type HashedNow = ReadonlyMap<string, { sha256: string; size: number; mtimeMs: number }>;

/**
 * A `hashFile` for the models registry that hashes on a worker thread and remembers what it
 * hashed (absolute path → sha256, size, mtime): a backup that runs right after does not hash
 * those files a second time while it encrypts them, unless their size or mtime has changed.
 * Hashed at the main thread's priority, not below as a backup's other bulk work: each model waits
 * for its hash before it is encrypted, and the largest file starting last ended last (a 645 MB
 * model's hash took 1.7 s below the catalog checks and the unlock, against 0.4 s of work).
 */
export function recordingHasher(): { hashFile(file: string): Promise<string>; hashed: HashedNow } {
  const hashed = new Map<string, { sha256: string; size: number; mtimeMs: number }>();
  return {
    hashed,
    async hashFile(file) {
      const r = await hashWholeFile(file, false);
      if (r.size >= 0) hashed.set(path.resolve(file), r);
      return r.sha256;
    },
  };
}
