// Loaded with `node --import` into a `lifeline` child process by the kill-point tests. It wraps
// the real node:fs (and fs/promises, FileHandle, `sync -f`) to count the mutating operations on
// paths under LIFELINE_KILL_ROOTS (colon-separated), and kills the process with SIGKILL right
// before a chosen one — a named point, like a crash there:
//   LIFELINE_KILL_AT=N          before the Nth counted operation
//   LIFELINE_KILL_MATCH=REGEX   before the first operation whose label ("kind path") matches
//   LIFELINE_KILL_SIGNAL_FIRST=1  write a marker line on stderr at the first counted operation
//                               (the parent then kills after a random delay)
//   LIFELINE_KILL_LOG=FILE      append "N<TAB>kind<TAB>path<TAB>ms" for each operation when only
//                               counting, else for the fatal one (marked KILLED)
// Nothing else changes: every call goes to the real function.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import cp from 'node:child_process';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const roots = (process.env.LIFELINE_KILL_ROOTS ?? '')
  .split(':')
  .filter(Boolean)
  .map((r) => path.resolve(r));
const killAt = Number(process.env.LIFELINE_KILL_AT ?? 0);
const killMatch = process.env.LIFELINE_KILL_MATCH ? new RegExp(process.env.LIFELINE_KILL_MATCH) : null;
const logFile = process.env.LIFELINE_KILL_LOG ?? null;
const real = { appendFileSync: fs.appendFileSync, writeSync: fs.writeSync, openSync: fs.openSync, closeSync: fs.closeSync };
let count = 0;
const fdPaths = new Map();

function rel(p) {
  if (p === undefined || p === null || typeof p === 'number') return null;
  const abs = path.resolve(String(p instanceof URL ? p.pathname : p));
  for (const r of roots) if (abs === r || abs.startsWith(r + path.sep)) return abs;
  return null;
}

const signalFirst = process.env.LIFELINE_KILL_SIGNAL_FIRST === '1';

function point(kind, p) {
  if (p === null) return;
  count++;
  // Tells the parent (on stderr) that the work has begun, so its random kill lands in the work.
  if (count === 1 && signalFirst) real.writeSync(2, '\n@@lifeline-first-op@@\n');
  const label = `${kind} ${p}`;
  const fatal = count === killAt || (killMatch !== null && killMatch.test(label));
  if (logFile && (fatal || (killAt === 0 && !killMatch))) real.appendFileSync(logFile, `${count}\t${kind}\t${p}\t${Date.now()}${fatal ? '\tKILLED' : ''}\n`);
  if (fatal) process.kill(process.pid, 'SIGKILL');
}

const writeFlags = (flags) => (typeof flags === 'number' ? (flags & 3) !== 0 || (flags & fs.constants.O_CREAT) !== 0 : /[wa+]/.test(String(flags ?? 'r')));

function wrap(obj, name, before) {
  const orig = obj[name];
  if (typeof orig !== 'function') return;
  obj[name] = function (...args) {
    before(...args);
    return orig.apply(this, args);
  };
}

// Synchronous calls.
const origOpen = fs.openSync;
fs.openSync = function (p, flags, mode) {
  const r = rel(p);
  if (r !== null && writeFlags(flags)) point('open', r);
  const fd = origOpen.call(this, p, flags, mode);
  if (r !== null) fdPaths.set(fd, r);
  return fd;
};
const origClose = fs.closeSync;
fs.closeSync = function (fd) {
  fdPaths.delete(fd);
  return origClose.call(this, fd);
};
wrap(fs, 'writeSync', (fd) => fdPaths.has(fd) && point('write', fdPaths.get(fd)));
wrap(fs, 'fsyncSync', (fd) => fdPaths.has(fd) && point('fsync', fdPaths.get(fd)));
wrap(fs, 'fdatasyncSync', (fd) => fdPaths.has(fd) && point('fsync', fdPaths.get(fd)));
wrap(fs, 'renameSync', (a, b) => point('rename', rel(b) ?? rel(a)));
wrap(fs, 'rmSync', (p) => point('rm', rel(p)));
wrap(fs, 'unlinkSync', (p) => point('unlink', rel(p)));
wrap(fs, 'rmdirSync', (p) => point('rmdir', rel(p)));
wrap(fs, 'mkdirSync', (p) => !fs.existsSync(p) && point('mkdir', rel(p)));
wrap(fs, 'mkdtempSync', (p) => point('mkdtemp', rel(path.dirname(String(p)))));
wrap(fs, 'writeFileSync', (p) => point('writeFile', rel(p)));
wrap(fs, 'copyFileSync', (_s, d) => point('copy', rel(d)));
// Callback API (age encryption writes with fs.writev).
wrap(fs, 'writev', (fd) => fdPaths.has(fd) && point('write', fdPaths.get(fd)));

// Promises API and file handles (restore decrypts through them).
const handlePaths = new WeakMap();
const origPOpen = fsp.open;
fsp.open = async function (p, flags, mode) {
  const r = rel(p);
  if (r !== null && writeFlags(flags)) point('open', r);
  const fh = await origPOpen.call(this, p, flags, mode);
  if (r !== null) {
    handlePaths.set(fh, r);
    fdPaths.set(fh.fd, r);
  }
  return fh;
};
wrap(fsp, 'rename', (a, b) => point('rename', rel(b) ?? rel(a)));
wrap(fsp, 'rm', (p) => point('rm', rel(p)));
wrap(fsp, 'unlink', (p) => point('unlink', rel(p)));
wrap(fsp, 'writeFile', (p) => point('writeFile', rel(p)));
const probe = await origPOpen(process.execPath, 'r');
const FileHandleProto = Object.getPrototypeOf(probe);
await probe.close();
wrap(FileHandleProto, 'write', function () {
  if (handlePaths.has(this)) point('write', handlePaths.get(this));
});
wrap(FileHandleProto, 'writev', function () {
  if (handlePaths.has(this)) point('write', handlePaths.get(this));
});
wrap(FileHandleProto, 'sync', function () {
  if (handlePaths.has(this)) point('fsync', handlePaths.get(this));
});

// `sync -f DIR` (syncfs): the one flush a backup or restore makes before its manifest or swap.
wrap(cp, 'spawnSync', (cmd, args) => cmd === 'sync' && Array.isArray(args) && point('syncfs', rel(args[args.length - 1])));

syncBuiltinESMExports();
process.on('exit', () => {
  if (logFile && killAt === 0 && !killMatch) real.appendFileSync(logFile, `# ${count} operations\n`);
});
