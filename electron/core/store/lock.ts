// One writer per data root (like LevelDB's LOCK): start-up sweeping and repairs must never run
// while another process is half-way through a commit. The lock is a small file holding the
// owner's pid; a lock whose process is gone (crash, power cut) is stale and taken over.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  command: string;
}

/** Lock files this process holds, so a second open in the same process is refused too. */
const heldHere = new Map<string, LockOwner>();
/** One exit hook for every lock (a long-running server opens many, e.g. for drills). */
const releaseAtExit = new Set<DataRootLock>();
let exitHookInstalled = false;

export class DataRootLock {
  private constructor(
    readonly file: string,
    private released = false,
  ) {}

  static fileIn(root: string): string {
    return path.join(root, 'lifeline.lock');
  }

  /** Takes the lock, or returns the live owner that holds it. `durable: false`: the lock file is not fsynced (a scratch root, see OpenOptions.scratch). */
  static acquire(root: string, command: string, opts: { durable?: boolean } = {}): DataRootLock | LockOwner {
    const file = DataRootLock.fileIn(root);
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command };
    const mine = heldHere.get(file);
    if (mine) return mine;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx', 0o644);
        fs.writeSync(fd, JSON.stringify(me) + '\n');
        if (opts.durable !== false) fs.fsyncSync(fd);
        fs.closeSync(fd);
        const lock = new DataRootLock(file);
        heldHere.set(file, me);
        releaseAtExit.add(lock);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.once('exit', () => releaseAtExit.forEach((l) => l.release()));
        }
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${file}: cannot create the lock file: ${(err as Error).message}`);
      }
      const owner = readOwner(file);
      if (owner && owner.host === me.host && owner.pid !== process.pid && isAlive(owner.pid)) return owner;
      // Stale (its process is gone) or unreadable: take it over.
      fs.rmSync(file, { force: true });
    }
    throw new Error(`${file}: could not take the data-root lock`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.file);
    releaseAtExit.delete(this);
    const owner = readOwner(this.file);
    if (owner?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

/** Whether a process with this id runs on this machine (EPERM: it runs, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
