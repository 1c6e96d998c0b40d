// Durable writes, the one way every file except the catalog is written (DESIGN.md invariant 2):
// temp file in the same directory → write all bytes → fsync → close → rename → fsync the
// directory. A crash at any instant leaves either the old file or the complete new one; a
// leftover temp file is recognisable by its name and swept at start-up.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256File } from '../util/hash.js';

const TEMP_MARK = '.tmp-';

/** Temp files this module creates look like `.name.tmp-<pid>-<random>`. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

function writeAll(fd: number, data: Uint8Array, file: string): void {
  let off = 0;
  while (off < data.byteLength) {
    const n = fs.writeSync(fd, data, off, data.byteLength - off);
    if (n <= 0) throw new Error(`${file}: short write (${off} of ${data.byteLength} bytes)`);
    off += n;
  }
}

/**
 * Write `data` to `target` atomically and durably. Parent directories are created (and synced).
 * Throws with the target's name on any failure (ENOSPC included) and leaves no temp file behind.
 * `durable: false`: atomic only (no fsync), for a scratch root that is flushed whole before
 * anything trusts it (see OpenOptions.scratch in app.ts).
 */
export function writeFileAtomic(target: string, data: Uint8Array | string | readonly Uint8Array[], opts: { durable?: boolean } = {}): void {
  const durable = opts.durable !== false;
  const dir = path.dirname(target);
  ensureDir(dir);
  const tmp = tempPathFor(target);
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (const part of parts) writeAll(fd, part, target);
    if (durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, target);
    if (durable) fsyncDir(dir);
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw annotate(err, target);
  }
}

/** mkdir -p that fsyncs each directory it creates and its parent, so the new entries survive a power cut. */
export function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  const parent = path.dirname(dir);
  if (parent !== dir) ensureDir(parent);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw annotate(err, dir);
  }
  fsyncDir(parent);
}

/** Rename then fsync both directories: used to swap whole folders (restore, rollback). */
export function renameDurable(from: string, to: string): void {
  fs.renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}

function annotate(err: unknown, file: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.message === 'string' && !e.message.includes(file)) {
    const wrapped = new Error(`${file}: ${describeErrno(e)}`) as NodeJS.ErrnoException;
    if (e.code) wrapped.code = e.code;
    wrapped.cause = err;
    return wrapped;
  }
  return e instanceof Error ? e : new Error(String(err));
}

export function describeErrno(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC); nothing was changed — free space and try again';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${e.code}); check the owner and mode of this path`;
    case 'EIO':
      return 'input/output error (EIO): the disk or drive may be failing or was removed';
    case 'EROFS':
      return 'the filesystem is read-only (EROFS): it may have been remounted read-only after errors';
    default:
      return e.message;
  }
}

/**
 * Writes a file named by its content's sha256 unless a sound copy is already there. A damaged
 * copy under the same name (bit rot, a torn write the disk reported as done) is replaced, so
 * writing the same content again heals it.
 */
export function writeContentAddressed(target: string, data: Uint8Array, hash: string): void {
  if (fs.existsSync(target)) {
    try {
      if (fs.statSync(target).size === data.byteLength && sha256File(target) === hash) return;
    } catch {
      /* unreadable: rewrite it */
    }
  }
  writeFileAtomic(target, data);
}
