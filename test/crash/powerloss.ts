// Power-loss simulation for file writes (STYLE.md "LevelDB / RocksDB": fault-injection tests drop
// unsynced writes). Two halves:
//
//   1. A recording layer over the REAL node:fs. A test file mocks node:fs with
//      `recordingFsModule()`: every call goes to the real module; while a recording is active,
//      each mutating call on a path inside the recorded folder is also logged with the data
//      needed to replay it (open/create, write with its bytes and offset, truncate, fsync,
//      directory fsync, close, rename, unlink, mkdir, recursive removal).
//   2. Crash states. For every prefix of the log, the variants a real disk may hold after a
//      power cut are built from the initial tree and the log:
//        - bytes written to a file since its last fsync are kept, lost, or torn (the first half
//          of the unsynced bytes kept, the rest of the extended size zero-filled);
//        - directory entries created, renamed or removed since their directory's last fsync may
//          be lost — per directory in order (a directory keeps a prefix of its unsynced entry
//          operations; a rename across directories survives only if both directories keep it).
//      Each state is materialised in a fresh folder with the real fs and handed to a check.
//      Limits of the model: directories keep entries in order but independently of each other,
//      without cross-directory causality (an rmdir whose renames-out were lost is not refused):
//      fine for the workloads here, which rename within one directory. fs.promises and other
//      async writes are not replayed: a workload that uses them under the root is refused
//      (Recording.unsupported), so nothing is explored with operations missing.
//
// This module must not import node:fs through ESM (the test mocks it): it takes the real module
// with require(), which vitest's mocking does not touch.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const realFs = require('node:fs') as typeof import('node:fs');

// ---- the log ---------------------------------------------------------------------------------

/** Paths are relative to the recorded root, forward slashes; the root itself is ".". */
export type FsOp =
  | { kind: 'create'; path: string; ino: number }
  | { kind: 'write'; path: string; ino: number; pos: number; data: Buffer }
  | { kind: 'truncate'; path: string; ino: number; size: number }
  | { kind: 'fsync'; path: string; ino: number }
  | { kind: 'dirfsync'; path: string }
  | { kind: 'close'; path: string; ino: number }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'unlink'; path: string }
  | { kind: 'mkdir'; path: string }
  | { kind: 'rmdir'; path: string }
  /** Not a file operation: a point in time the test names (a call returned, the catalog committed). */
  | { kind: 'mark'; label: string; data?: unknown };

export interface TreeSnapshot {
  dirs: string[];
  /** path → logical inode */
  files: Map<string, number>;
  /** logical inode → content */
  contents: Map<number, Buffer>;
}

export interface Recording {
  root: string;
  initial: TreeSnapshot;
  ops: FsOp[];
  /** Mutating calls under the root that the layer cannot replay (async APIs, unknown files). */
  unsupported: string[];
}

interface FdInfo {
  rel: string;
  dir: boolean;
  ino: number;
  pos: number;
  append: boolean;
}

interface Active {
  root: string;
  exclude: (rel: string) => boolean;
  onBeforeOp?: () => void;
  ops: FsOp[];
  fds: Map<number, FdInfo>;
  inos: Map<string, number>;
  nextIno: number;
  initial: TreeSnapshot;
  unsupported: string[];
  inHook: boolean;
}

let active: Active | null = null;

function relUnder(p: unknown): string | null {
  if (!active) return null;
  let s: string;
  if (typeof p === 'string') s = p;
  else if (p instanceof URL) s = fileURLToPath(p);
  else if (Buffer.isBuffer(p)) s = p.toString();
  else return null;
  const rel = path.relative(active.root, path.resolve(s));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const posix = rel === '' ? '.' : rel.split(path.sep).join('/');
  return active.exclude(posix) ? null : posix;
}

function push(op: FsOp): void {
  active!.ops.push(op);
}

function hook(): void {
  if (!active || active.inHook || !active.onBeforeOp) return;
  active.inHook = true;
  try {
    active.onBeforeOp();
  } finally {
    if (active) active.inHook = false;
  }
}

function inoKey(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

function newIno(st: { dev: number; ino: number }): number {
  const id = active!.nextIno++;
  active!.inos.set(inoKey(st), id);
  return id;
}

function knownIno(st: { dev: number; ino: number }, rel: string): number {
  const id = active!.inos.get(inoKey(st));
  if (id !== undefined) return id;
  active!.unsupported.push(`${rel}: a file the recording did not see created was opened for writing`);
  return newIno(st);
}

interface OpenFlags {
  write: boolean;
  create: boolean;
  trunc: boolean;
  append: boolean;
}

function parseFlags(flags: unknown): OpenFlags {
  if (typeof flags === 'number') {
    const c = realFs.constants;
    const acc = flags & 3;
    return { write: acc === c.O_WRONLY || acc === c.O_RDWR, create: (flags & c.O_CREAT) !== 0, trunc: (flags & c.O_TRUNC) !== 0, append: (flags & c.O_APPEND) !== 0 };
  }
  const f = typeof flags === 'string' ? flags : 'r';
  return { write: /[wa+]/.test(f), create: /[wa]/.test(f), trunc: f.includes('w'), append: f.includes('a') };
}

function bytesOf(data: unknown, encoding?: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding);
  const v = data as ArrayBufferView;
  return Buffer.from(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
}

type AnyFn = (...args: any[]) => any;

/** The module a test installs with `vi.mock('node:fs', () => recordingFsModule())`. */
export function recordingFsModule(): Record<string, unknown> {
  const fs = realFs as unknown as Record<string, AnyFn>;
  const w: Record<string, unknown> = { ...realFs };

  w.openSync = (p: unknown, flags?: unknown, mode?: unknown) => {
    const rel = relUnder(p);
    if (rel === null) return fs.openSync!(p, flags, mode);
    const f = parseFlags(flags);
    const existed = realFs.existsSync(p as string);
    if (f.write) hook();
    const fd = fs.openSync!(p, flags, mode) as number;
    const st = realFs.fstatSync(fd);
    if (st.isDirectory()) {
      active!.fds.set(fd, { rel, dir: true, ino: 0, pos: 0, append: false });
      return fd;
    }
    let ino: number;
    if (!existed) {
      ino = newIno(st);
      push({ kind: 'create', path: rel, ino });
    } else {
      ino = f.write ? knownIno(st, rel) : (active!.inos.get(inoKey(st)) ?? -1);
      if (f.trunc && f.write) push({ kind: 'truncate', path: rel, ino, size: 0 });
    }
    active!.fds.set(fd, { rel, dir: false, ino, pos: f.append ? st.size : 0, append: f.append });
    return fd;
  };

  w.writeSync = (fd: number, buffer: unknown, a?: unknown, b?: unknown, c?: unknown) => {
    const info = active?.fds.get(fd);
    if (!info || info.dir) return fs.writeSync!(fd, buffer, a, b, c);
    hook();
    const n = fs.writeSync!(fd, buffer, a, b, c) as number;
    let data: Buffer;
    let position: unknown;
    if (typeof buffer === 'string') {
      data = Buffer.from(buffer, (typeof b === 'string' ? b : 'utf8') as BufferEncoding).subarray(0, n);
      position = a;
    } else {
      const v = buffer as ArrayBufferView;
      const view = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      let off = 0;
      if (a !== null && typeof a === 'object') {
        const o = a as { offset?: number; position?: number | null };
        off = o.offset ?? 0;
        position = o.position;
      } else {
        off = typeof a === 'number' ? a : 0;
        position = c;
      }
      data = Buffer.from(view.subarray(off, off + n));
    }
    let at: number;
    if (typeof position === 'number') at = position;
    else if (info.append) at = realFs.fstatSync(fd).size - n;
    else {
      at = info.pos;
      info.pos += n;
    }
    push({ kind: 'write', path: info.rel, ino: info.ino, pos: at, data });
    return n;
  };

  const syncFn = (name: 'fsyncSync' | 'fdatasyncSync') => (fd: number) => {
    const info = active?.fds.get(fd);
    if (!info) return fs[name]!(fd);
    hook();
    fs[name]!(fd);
    push(info.dir ? { kind: 'dirfsync', path: info.rel } : { kind: 'fsync', path: info.rel, ino: info.ino });
  };
  w.fsyncSync = syncFn('fsyncSync');
  w.fdatasyncSync = syncFn('fdatasyncSync');

  w.closeSync = (fd: number) => {
    const info = active?.fds.get(fd);
    fs.closeSync!(fd);
    if (!info) return;
    active!.fds.delete(fd);
    if (!info.dir) push({ kind: 'close', path: info.rel, ino: info.ino });
  };

  w.renameSync = (from: unknown, to: unknown) => {
    const rf = relUnder(from);
    const rt = relUnder(to);
    if (rf === null && rt === null) return fs.renameSync!(from, to);
    if (rf === null || rt === null) active!.unsupported.push(`rename ${String(from)} → ${String(to)} crosses the recorded folder`);
    hook();
    fs.renameSync!(from, to);
    if (rf !== null && rt !== null) push({ kind: 'rename', from: rf, to: rt });
  };

  w.unlinkSync = (p: unknown) => {
    const rel = relUnder(p);
    if (rel === null) return fs.unlinkSync!(p);
    hook();
    fs.unlinkSync!(p);
    push({ kind: 'unlink', path: rel });
  };

  const removal = (name: 'rmSync' | 'rmdirSync') => (p: unknown, opts?: unknown) => {
    const rel = relUnder(p);
    if (rel === null) return fs[name]!(p, opts);
    let st: import('node:fs').Stats | null = null;
    try {
      st = realFs.lstatSync(p as string);
    } catch {
      st = null;
    }
    if (st) hook();
    fs[name]!(p, opts);
    if (st) push(st.isDirectory() ? { kind: 'rmdir', path: rel } : { kind: 'unlink', path: rel });
  };
  w.rmSync = removal('rmSync');
  w.rmdirSync = removal('rmdirSync');

  w.mkdirSync = (p: unknown, opts?: unknown) => {
    const rel = relUnder(p);
    if (rel === null) return fs.mkdirSync!(p, opts);
    const missing: string[] = [];
    for (let d = path.resolve(p as string); !realFs.existsSync(d); d = path.dirname(d)) {
      const r = relUnder(d);
      if (r === null) break;
      missing.unshift(r);
    }
    if (missing.length) hook();
    const res = fs.mkdirSync!(p, opts);
    for (const m of missing) if (realFs.existsSync(path.join(active!.root, m))) push({ kind: 'mkdir', path: m });
    return res;
  };

  w.mkdtempSync = (prefix: string, opts?: unknown) => {
    const rel = relUnder(path.dirname(path.resolve(prefix)));
    if (rel !== null) hook();
    const res = fs.mkdtempSync!(prefix, opts) as string;
    const r = relUnder(res);
    if (r !== null) push({ kind: 'mkdir', path: r });
    return res;
  };

  /** A whole file written at once (writeFileSync, copyFileSync): created or truncated, written, closed. */
  const recordWholeFile = (file: string, rel: string, existed: boolean, data: Buffer) => {
    const st = realFs.statSync(file);
    const ino = existed ? knownIno(st, rel) : newIno(st);
    push(existed ? { kind: 'truncate', path: rel, ino, size: 0 } : { kind: 'create', path: rel, ino });
    push({ kind: 'write', path: rel, ino, pos: 0, data });
    push({ kind: 'close', path: rel, ino });
  };

  w.writeFileSync = (file: unknown, data: unknown, opts?: unknown) => {
    const rel = typeof file === 'number' ? null : relUnder(file);
    if (typeof file === 'number' && active?.fds.has(file)) active.unsupported.push(`writeFileSync on a file descriptor of ${active.fds.get(file)!.rel}`);
    if (rel === null) return fs.writeFileSync!(file, data, opts);
    const existed = realFs.existsSync(file as string);
    hook();
    fs.writeFileSync!(file, data, opts);
    const enc = typeof opts === 'string' ? opts : (opts as { encoding?: string } | undefined)?.encoding;
    recordWholeFile(file as string, rel, existed, bytesOf(data, enc));
  };

  w.copyFileSync = (src: unknown, dest: unknown, mode?: unknown) => {
    const rel = relUnder(dest);
    if (rel === null) return fs.copyFileSync!(src, dest, mode);
    const existed = realFs.existsSync(dest as string);
    hook();
    fs.copyFileSync!(src, dest, mode);
    recordWholeFile(dest as string, rel, existed, realFs.readFileSync(dest as string));
  };

  w.ftruncateSync = (fd: number, len = 0) => {
    const info = active?.fds.get(fd);
    if (!info || info.dir) return fs.ftruncateSync!(fd, len);
    hook();
    fs.ftruncateSync!(fd, len);
    push({ kind: 'truncate', path: info.rel, ino: info.ino, size: len });
  };

  // Mutating calls the layer does not replay: noted, so a workload that uses them is refused
  // instead of being explored with operations missing from its log.
  for (const name of ['appendFileSync', 'truncateSync', 'symlinkSync', 'linkSync', 'cpSync', 'writevSync', 'writeFile', 'appendFile', 'write', 'writev', 'rename', 'unlink', 'rm', 'mkdir', 'copyFile', 'createWriteStream']) {
    const real = fs[name];
    if (typeof real !== 'function') continue;
    w[name] = (...args: unknown[]) => {
      const target = typeof args[0] === 'number' ? active?.fds.get(args[0])?.rel : relUnder(args[0]);
      if (active && target) active.unsupported.push(`${name} on ${target}`);
      return real.apply(realFs, args);
    };
  }
  return { ...w, default: w };
}

// ---- recording -------------------------------------------------------------------------------

export function snapshotTree(root: string, exclude: (rel: string) => boolean = () => false, inos?: Map<string, number>, next = { n: 1 }): TreeSnapshot {
  const snap: TreeSnapshot = { dirs: ['.'], files: new Map(), contents: new Map() };
  const walk = (rel: string) => {
    const abs = rel === '.' ? root : path.join(root, rel);
    for (const e of realFs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel === '.' ? e.name : `${rel}/${e.name}`;
      if (exclude(r)) continue;
      if (e.isDirectory()) {
        snap.dirs.push(r);
        walk(r);
      } else if (e.isFile()) {
        const p = path.join(root, r);
        const id = next.n++;
        inos?.set(inoKey(realFs.statSync(p)), id);
        snap.files.set(r, id);
        snap.contents.set(id, realFs.readFileSync(p));
      }
    }
  };
  walk('.');
  return snap;
}

export interface RecordOptions {
  /** Paths (relative, forward slashes) left out of the log and the snapshot, e.g. the SQLite files. */
  exclude?: (rel: string) => boolean;
  /** Called before each logged operation (e.g. to notice a catalog commit and mark it). */
  onBeforeOp?: () => void;
}

export const recorder = {
  start(root: string, options: RecordOptions = {}): void {
    if (active) throw new Error('a recording is already active');
    const exclude = options.exclude ?? (() => false);
    const inos = new Map<string, number>();
    const next = { n: 1 };
    const initial = snapshotTree(path.resolve(root), exclude, inos, next);
    active = { root: path.resolve(root), exclude, onBeforeOp: options.onBeforeOp, ops: [], fds: new Map(), inos, nextIno: next.n, initial, unsupported: [], inHook: false };
  },
  mark(label: string, data?: unknown): void {
    if (active) active.ops.push({ kind: 'mark', label, data });
  },
  /** Runs the before-op hook now (e.g. at the end, to catch a last commit). */
  poke(): void {
    hook();
  },
  get active(): boolean {
    return active !== null;
  },
  stop(): Recording {
    if (!active) throw new Error('no recording is active');
    const rec: Recording = { root: active.root, initial: active.initial, ops: active.ops, unsupported: active.unsupported };
    active = null;
    return rec;
  },
};

// ---- crash states ----------------------------------------------------------------------------

export type DataFate = 'kept' | 'lost' | 'torn';

/** What a power cut after `prefix` log entries kept: per directory, how many unsynced entry ops survive. */
export interface Variant {
  cuts: Map<string, number>;
  data: Map<number, DataFate>;
}

export interface Analysis {
  prefix: number;
  /** Unsynced entry operations (log indexes) per directory, in order. */
  unsyncedByDir: Map<string, number[]>;
  /** Inodes with bytes written since their last fsync. */
  pendingInos: number[];
  lastFsync: Map<number, number>;
  durable: Set<number>;
}

const ENTRY_KINDS = new Set(['create', 'rename', 'unlink', 'mkdir', 'rmdir']);

function dirsTouched(op: FsOp): string[] {
  switch (op.kind) {
    case 'rename': {
      const a = path.posix.dirname(op.from);
      const b = path.posix.dirname(op.to);
      return a === b ? [a] : [a, b];
    }
    case 'create':
    case 'unlink':
    case 'mkdir':
    case 'rmdir':
      return [path.posix.dirname(op.path)];
    default:
      return [];
  }
}

export function analyze(rec: Recording, prefix: number): Analysis {
  const lastDirSync = new Map<string, number>();
  const lastFsync = new Map<number, number>();
  const lastContent = new Map<number, number>();
  for (let i = 0; i < prefix; i++) {
    const op = rec.ops[i]!;
    if (op.kind === 'dirfsync') lastDirSync.set(op.path, i);
    else if (op.kind === 'fsync') lastFsync.set(op.ino, i);
    else if (op.kind === 'write' || op.kind === 'truncate') lastContent.set(op.ino, i);
  }
  const unsyncedByDir = new Map<string, number[]>();
  const durable = new Set<number>();
  for (let i = 0; i < prefix; i++) {
    const op = rec.ops[i]!;
    if (!ENTRY_KINDS.has(op.kind)) continue;
    const dirs = dirsTouched(op);
    if (dirs.every((d) => (lastDirSync.get(d) ?? -1) > i)) durable.add(i);
    else for (const d of dirs) unsyncedByDir.set(d, [...(unsyncedByDir.get(d) ?? []), i]);
  }
  const pendingInos = [...lastContent.entries()].filter(([ino, i]) => i > (lastFsync.get(ino) ?? -1)).map(([ino]) => ino);
  return { prefix, unsyncedByDir, pendingInos, lastFsync, durable };
}

/** A file tree: path → content, or 'dir'. */
export type Tree = Map<string, Buffer | 'dir'>;

export function buildTree(rec: Recording, a: Analysis, v: Variant): Tree {
  const ns = new Map<string, number | 'dir'>();
  for (const d of rec.initial.dirs) ns.set(d, 'dir');
  for (const [p, ino] of rec.initial.files) ns.set(p, ino);
  type ContentOp = { idx: number; op: Extract<FsOp, { kind: 'write' | 'truncate' }> };
  const contentOps = new Map<number, ContentOp[]>();
  const pos = new Map<number, Map<string, number>>();
  for (const [d, list] of a.unsyncedByDir) list.forEach((i, k) => (pos.get(i) ?? pos.set(i, new Map()).get(i)!).set(d, k));
  const kept = (i: number) => a.durable.has(i) || [...pos.get(i)!.entries()].every(([d, k]) => k < (v.cuts.get(d) ?? Infinity));
  const isDir = (p: string) => ns.get(p) === 'dir';
  const subtree = (p: string) => [...ns.keys()].filter((k) => k === p || k.startsWith(p + '/'));
  for (let i = 0; i < a.prefix; i++) {
    const op = rec.ops[i]!;
    if (op.kind === 'write' || op.kind === 'truncate') {
      (contentOps.get(op.ino) ?? contentOps.set(op.ino, []).get(op.ino)!).push({ idx: i, op });
      continue;
    }
    if (!ENTRY_KINDS.has(op.kind) || !kept(i)) continue;
    switch (op.kind) {
      case 'create':
        if (isDir(path.posix.dirname(op.path)) && !ns.has(op.path)) ns.set(op.path, op.ino);
        break;
      case 'mkdir':
        if (isDir(path.posix.dirname(op.path)) && !ns.has(op.path)) ns.set(op.path, 'dir');
        break;
      case 'unlink':
        if (ns.has(op.path) && !isDir(op.path)) ns.delete(op.path);
        break;
      case 'rmdir':
        for (const k of subtree(op.path)) ns.delete(k);
        break;
      case 'rename': {
        if (!ns.has(op.from) || !isDir(path.posix.dirname(op.to))) break;
        if (isDir(op.from)) {
          for (const k of subtree(op.to)) ns.delete(k);
          for (const k of subtree(op.from)) {
            const val = ns.get(k)!;
            ns.delete(k);
            ns.set(op.to + k.slice(op.from.length), val);
          }
        } else {
          const val = ns.get(op.from)!;
          ns.delete(op.from);
          ns.set(op.to, val);
        }
        break;
      }
    }
  }
  const contentOf = (ino: number): Buffer => {
    let buf = Buffer.from(rec.initial.contents.get(ino) ?? Buffer.alloc(0));
    const ops = contentOps.get(ino) ?? [];
    const synced = a.lastFsync.get(ino) ?? -1;
    const fate = v.data.get(ino) ?? 'kept';
    const pendingBytes = ops.reduce((s, c) => s + (c.idx > synced && c.op.kind === 'write' ? c.op.data.length : 0), 0);
    let budget = fate === 'torn' ? Math.floor(pendingBytes / 2) : Infinity;
    for (const { idx, op: o } of ops) {
      const pending = idx > synced;
      if (pending && fate === 'lost') continue;
      if (o.kind === 'truncate') {
        buf = o.size <= buf.length ? Buffer.from(buf.subarray(0, o.size)) : Buffer.concat([buf, Buffer.alloc(o.size - buf.length)]);
      } else if (o.kind === 'write') {
        let data = o.data;
        if (pending && fate === 'torn') {
          const keep = Math.max(0, Math.min(data.length, budget));
          budget -= keep;
          data = Buffer.concat([data.subarray(0, keep), Buffer.alloc(data.length - keep)]);
        }
        const end = o.pos + data.length;
        if (end > buf.length) buf = Buffer.concat([buf, Buffer.alloc(end - buf.length)]);
        data.copy(buf, o.pos);
      }
    }
    return buf;
  };
  const tree: Tree = new Map();
  for (const [p, val] of [...ns.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) tree.set(p, val === 'dir' ? 'dir' : contentOf(val));
  return tree;
}

export function treeKey(tree: Tree): string {
  const h = createHash('sha256');
  for (const [p, val] of tree) h.update(`${p}\0${val === 'dir' ? 'dir' : createHash('sha256').update(val).digest('hex')}\n`);
  return h.digest('hex');
}

/** The variants of one prefix: every combination when few, else a structured subset (extremes and one-factor changes). */
export function variantsOf(a: Analysis, maxPerPrefix = 96): Variant[] {
  const dirs = [...a.unsyncedByDir.entries()];
  const factors: { apply: (v: Variant, choice: number) => void; choices: number }[] = [
    ...dirs.map(([d, list]) => ({ choices: list.length + 1, apply: (v: Variant, c: number) => v.cuts.set(d, c) })),
    ...a.pendingInos.map((ino) => ({ choices: 3, apply: (v: Variant, c: number) => v.data.set(ino, (['kept', 'lost', 'torn'] as const)[c]!) })),
  ];
  const make = (choices: number[]) => {
    const v: Variant = { cuts: new Map(), data: new Map() };
    factors.forEach((f, i) => f.apply(v, choices[i]!));
    return v;
  };
  const total = factors.reduce((n, f) => n * f.choices, 1);
  if (total <= maxPerPrefix) {
    const out: Variant[] = [];
    const choice = factors.map(() => 0);
    for (let n = 0; n < total; n++) {
      out.push(make(choice));
      for (let i = 0; i < factors.length; i++) {
        if (++choice[i]! < factors[i]!.choices) break;
        choice[i] = 0;
      }
    }
    return out;
  }
  // Everything kept (cut = all, data kept), everything lost, and each factor varied alone from both.
  const all = factors.map((f, i) => (i < dirs.length ? f.choices - 1 : 0));
  const none = factors.map((_, i) => (i < dirs.length ? 0 : 1));
  const out = [make(all), make(none)];
  for (const base of [all, none]) {
    factors.forEach((f, i) => {
      for (let c = 0; c < f.choices && out.length < maxPerPrefix; c++) if (c !== base[i]) out.push(make(base.map((x, j) => (j === i ? c : x))));
    });
  }
  return out;
}

export function describeOp(op: FsOp | undefined): string {
  if (!op) return '(start)';
  switch (op.kind) {
    case 'rename':
      return `rename ${op.from} → ${op.to}`;
    case 'write':
      return `write ${op.data.length} bytes at ${op.pos} to ${op.path}`;
    case 'truncate':
      return `truncate ${op.path} to ${op.size}`;
    case 'mark':
      return `mark ${op.label}`;
    default:
      return `${op.kind} ${op.path}`;
  }
}

export function describeVariant(rec: Recording, a: Analysis, v: Variant): string {
  const lost: string[] = [];
  for (const [d, list] of a.unsyncedByDir) {
    const cut = v.cuts.get(d) ?? list.length;
    if (cut < list.length) lost.push(`dir ${d} lost ${list.slice(cut).map((i) => `#${i} ${describeOp(rec.ops[i])}`).join(', ')}`);
  }
  for (const [ino, fate] of v.data) if (fate !== 'kept') lost.push(`unsynced data of inode ${ino} ${fate}`);
  return lost.length ? lost.join('; ') : 'nothing lost';
}

export function materialize(tree: Tree, dir: string): void {
  realFs.rmSync(dir, { recursive: true, force: true });
  realFs.mkdirSync(dir, { recursive: true });
  for (const [p, val] of tree) {
    if (p === '.') continue;
    const abs = path.join(dir, p);
    if (val === 'dir') realFs.mkdirSync(abs, { recursive: true });
    else realFs.writeFileSync(abs, val);
  }
}

export interface CrashState {
  prefix: number;
  /** The last log entry before the cut. */
  lastOp: string;
  /** What the power cut lost. */
  lost: string;
  tree: Tree;
  key: string;
  /** Marks inside the prefix, oldest first. */
  marks: { label: string; data?: unknown; index: number }[];
}

export interface Violation {
  state: string;
  messages: string[];
}

export interface ExploreResult {
  /** States checked (distinct by content and marks). */
  states: number;
  /** States enumerated before removing duplicates. */
  enumerated: number;
  prefixes: number;
  violations: Violation[];
}

/**
 * Enumerates the crash states of a recording and runs `check` on each distinct one, materialised
 * in `workDir`. Returns counts and violations (each with the exact state: prefix, last op, losses).
 */
export async function explore(
  rec: Recording,
  workDir: string,
  check: (dir: string, s: CrashState) => string[] | Promise<string[]>,
  options: { maxPerPrefix?: number; maxStates?: number; extraKey?: (s: CrashState) => string } = {},
): Promise<ExploreResult> {
  const seen = new Set<string>();
  const result: ExploreResult = { states: 0, enumerated: 0, prefixes: 0, violations: [] };
  const marks: CrashState['marks'] = [];
  for (let prefix = 0; prefix <= rec.ops.length; prefix++) {
    const prev = rec.ops[prefix - 1];
    if (prev?.kind === 'mark') marks.push({ label: prev.label, data: prev.data, index: prefix - 1 });
    if (prev?.kind === 'close') continue; // closing changes nothing on disk
    result.prefixes++;
    const a = analyze(rec, prefix);
    for (const v of variantsOf(a, options.maxPerPrefix)) {
      result.enumerated++;
      const tree = buildTree(rec, a, v);
      const s: CrashState = { prefix, lastOp: prefix ? `#${prefix - 1} ${describeOp(prev)}` : '(start)', lost: describeVariant(rec, a, v), tree, key: treeKey(tree), marks: [...marks] };
      const k = `${s.key}|${marks.length}|${options.extraKey?.(s) ?? ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      if (options.maxStates && result.states >= options.maxStates) continue;
      result.states++;
      const dir = path.join(workDir, 'state');
      materialize(tree, dir);
      const msgs = await check(dir, s);
      if (msgs.length) result.violations.push({ state: `after ${s.lastOp}; power cut lost: ${s.lost}`, messages: msgs });
    }
  }
  return result;
}

/** Replaying the whole log with nothing lost must give the real final tree: proof the log is complete. */
export function replayMismatches(rec: Recording, exclude: (rel: string) => boolean = () => false): string[] {
  const a = analyze(rec, rec.ops.length);
  const tree = buildTree(rec, a, { cuts: new Map(), data: new Map() });
  const real = snapshotTree(rec.root, exclude);
  const out: string[] = [];
  const realTree: Tree = new Map();
  for (const d of real.dirs) realTree.set(d, 'dir');
  for (const [p, ino] of real.files) realTree.set(p, real.contents.get(ino)!);
  for (const [p, val] of realTree) {
    const m = tree.get(p);
    if (m === undefined) out.push(`${p}: on disk, not in the replay`);
    else if (val === 'dir' ? m !== 'dir' : m === 'dir' || !val.equals(m)) out.push(`${p}: replay differs from the disk`);
  }
  for (const p of tree.keys()) if (!realTree.has(p)) out.push(`${p}: in the replay, not on disk`);
  return out;
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * A scratch folder for materialised crash states: in memory (/dev/shm) when there is one, since
 * thousands of small trees are written and removed; the states are checked there with the real
 * code. (The workloads themselves run on the disk under the OS temp folder.)
 */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const os = require('node:os') as typeof import('node:os');
  let base = os.tmpdir();
  try {
    realFs.accessSync('/dev/shm', realFs.constants.W_OK);
    base = '/dev/shm';
  } catch {
    /* no tmpfs: the OS temp folder */
  }
  const dir = realFs.mkdtempSync(path.join(base, prefix));
  return { dir, cleanup: () => realFs.rmSync(dir, { recursive: true, force: true }) };
}
