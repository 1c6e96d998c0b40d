// Recovery wizard step 2, "storage": the data root's mount (device, type, options; read-only after
// errors?), free space and inodes, a real write probe (create → write → fsync → rename → fsync dir →
// read back → delete), the data root not on a temporary filesystem, and the mounts the caller
// expects (volume mounts of the reference incident that failed to come back).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporaryLocationWarning } from '../store/dataRoot.js';
import { statusOf, type CheckResult, type Finding, type Severity } from './finding.js';
import { formatBytes } from './hardware.js';

// ---------------------------------------------------------------------------------------------
// /proc/self/mountinfo
// ---------------------------------------------------------------------------------------------

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** "major:minor" of the device. */
  majorMinor: string;
  /** Root of the mount within the filesystem ('/' unless a bind mount of a subfolder). */
  root: string;
  mountPoint: string;
  /** Per-mount options (ro/rw, nosuid, relatime…). */
  mountOptions: string[];
  optionalFields: string[];
  fsType: string;
  /** Device or source (e.g. /dev/sda1, tmpfs, overlay). */
  source: string;
  /** Per-superblock options (ro/rw, errors=remount-ro…). */
  superOptions: string[];
  /** The raw line, for evidence. */
  line: string;
}

/** Decodes mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 2) continue;
    out.push({
      mountId: Number(left[0]),
      parentId: Number(left[1]),
      majorMinor: left[2] as string,
      root: unescapeMountField(left[3] as string),
      mountPoint: unescapeMountField(left[4] as string),
      mountOptions: (left[5] as string).split(','),
      optionalFields: left.slice(6),
      fsType: right[0] as string,
      source: unescapeMountField(right[1] as string),
      superOptions: (right[2] ?? '').split(',').filter(Boolean),
      line,
    });
  }
  return out;
}

function within(p: string, mp: string): boolean {
  return p === mp || mp === '/' || p.startsWith(mp.endsWith('/') ? mp : mp + '/');
}

/** The mount that holds absolute path `p`: the longest mount point containing it; among mounts
 *  stacked on the same point, the last one listed (the one on top). */
export function mountFor(entries: MountEntry[], p: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const e of entries) {
    if (!within(p, e.mountPoint)) continue;
    if (!best || e.mountPoint.length >= best.mountPoint.length) best = e;
  }
  return best;
}

export function isReadOnlyMount(e: MountEntry): { readOnly: boolean; superblock: boolean } {
  const sb = e.superOptions.includes('ro');
  return { readOnly: e.mountOptions.includes('ro') || sb, superblock: sb };
}

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

export interface SpaceThresholds {
  /** warn below this fraction free (0.10) or these bytes free (2 GiB) */
  warnRatio: number;
  warnBytes: number;
  /** fail below this fraction free (0.02) or these bytes free (200 MiB) */
  failRatio: number;
  failBytes: number;
  /** inodes: warn below this fraction free (0.10), fail below this fraction (0.02) or count (1000) */
  inodeWarnRatio: number;
  inodeFailRatio: number;
  inodeFailCount: number;
}

export const DEFAULT_SPACE_THRESHOLDS: SpaceThresholds = {
  warnRatio: 0.1,
  warnBytes: 2 * 1024 ** 3,
  failRatio: 0.02,
  failBytes: 200 * 1024 ** 2,
  inodeWarnRatio: 0.1,
  inodeFailRatio: 0.02,
  inodeFailCount: 1000,
};

/** Severity of free space: fail < 2% or < 200 MiB, warn < 10% or < 2 GiB (defaults). */
export function spaceSeverity(freeBytes: number, totalBytes: number, t: SpaceThresholds = DEFAULT_SPACE_THRESHOLDS): Severity {
  const ratio = totalBytes > 0 ? freeBytes / totalBytes : 0;
  if (ratio < t.failRatio || freeBytes < t.failBytes) return 'fail';
  if (ratio < t.warnRatio || freeBytes < t.warnBytes) return 'warn';
  return 'ok';
}

/** Severity of free inodes; 'info' when the filesystem does not count inodes (btrfs, some FUSE). */
export function inodeSeverity(freeInodes: number, totalInodes: number, t: SpaceThresholds = DEFAULT_SPACE_THRESHOLDS): Severity {
  if (totalInodes <= 0) return 'info';
  const ratio = freeInodes / totalInodes;
  if (ratio < t.inodeFailRatio || freeInodes < Math.min(t.inodeFailCount, totalInodes * t.inodeWarnRatio)) return 'fail';
  if (ratio < t.inodeWarnRatio) return 'warn';
  return 'ok';
}

// ---------------------------------------------------------------------------------------------
// Write probe
// ---------------------------------------------------------------------------------------------

export interface ProbeResult {
  ok: boolean;
  /** The step that failed: create, write, fsync, rename, fsync-dir, read, delete. */
  step?: string;
  errno?: string;
  error?: string;
  /** Time taken by the file fsync (slow disks show here). */
  fsyncMs?: number;
  totalMs: number;
}

/** Creates, writes, fsyncs, renames, reads back and deletes a probe file in `dir` — what every
 *  durable write of Lifeline does. Leaves nothing behind, even when a step fails. */
export function writeProbe(dir: string, bytes = 4096): ProbeResult {
  const started = Date.now();
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `.lifeline-probe-${tag}.tmp`);
  const final = path.join(dir, `.lifeline-probe-${tag}`);
  const data = randomBytes(bytes);
  let step = 'create';
  let fd: number | null = null;
  let fsyncMs: number | undefined;
  try {
    fd = fs.openSync(tmp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    step = 'write';
    fs.writeSync(fd, data);
    step = 'fsync';
    const t = Date.now();
    fs.fsyncSync(fd);
    fsyncMs = Date.now() - t;
    fs.closeSync(fd);
    fd = null;
    step = 'rename';
    fs.renameSync(tmp, final);
    step = 'fsync-dir';
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
    step = 'read';
    const back = fs.readFileSync(final);
    if (!back.equals(data)) throw Object.assign(new Error('probe file read back differs from what was written'), { code: 'EIO' });
    step = 'delete';
    fs.unlinkSync(final);
    return { ok: true, ...(fsyncMs !== undefined ? { fsyncMs } : {}), totalMs: Date.now() - started };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    for (const f of [tmp, final]) {
      try {
        fs.unlinkSync(f);
      } catch {
        /* not there */
      }
    }
    return { ok: false, step, errno: e.code ?? 'EUNKNOWN', error: e.message, ...(fsyncMs !== undefined ? { fsyncMs } : {}), totalMs: Date.now() - started };
  }
}

const ERRNO_MEANING: Record<string, string> = {
  EROFS: 'the filesystem is read-only (often remounted read-only by the kernel after disk errors)',
  EACCES: 'permission denied: the folder does not let Lifeline’s user write',
  EPERM: 'operation not permitted (immutable attribute, or a security policy)',
  ENOSPC: 'no space left on the device (or no free inodes)',
  EDQUOT: 'the disk quota of Lifeline’s user is exhausted',
  EIO: 'input/output error: the disk failed the operation',
  ENOENT: 'the folder disappeared while probing',
  ENOTDIR: 'a path component is not a folder',
  ETXTBSY: 'the file is busy',
  EBUSY: 'the file is locked by another program (antivirus?)',
};

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

export interface StorageCheckOptions {
  /** Folders that must be mount points (e.g. the Docker volume mounts of the Chatchat stack). */
  expectedMounts?: string[];
  /** Override free space / inode thresholds. */
  thresholds?: Partial<SpaceThresholds>;
  /** Where the mount table is (default /proc/self/mountinfo). */
  mountinfoPath?: string;
  /** Skip the write probe (default false: probe). */
  skipWriteProbe?: boolean;
  /** An fsync slower than this is a warning (default 2000 ms). */
  slowFsyncMs?: number;
}

function finding(code: string, severity: Severity, message: string, evidence: string[] = [], advice?: string, actions: Finding['actions'] = []): Finding {
  return { code, severity, message, evidence, ...(advice ? { advice } : {}), actions };
}

function nearestExisting(p: string): string {
  let cur = p;
  for (;;) {
    if (fs.existsSync(cur)) return cur;
    const up = path.dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function mountSummary(m: MountEntry): string {
  return `${m.source} on ${m.mountPoint} type ${m.fsType} (${m.mountOptions.join(',')}${m.superOptions.length ? `; ${m.superOptions.join(',')}` : ''})`;
}

/**
 * Wizard step 2, "storage", for the data root `dataRoot`. Never throws.
 * Finding codes: storage.data-root-missing, storage.mount, storage.mount-unknown, storage.read-only,
 * storage.temporary-location, storage.free-space, storage.inodes, storage.writable,
 * storage.write-failed, storage.slow-fsync, storage.expected-mount, storage.expected-mount-missing,
 * storage.expected-mount-read-only.
 */
export async function checkStorage(dataRoot: string, opts: StorageCheckOptions = {}): Promise<CheckResult> {
  const started = Date.now();
  const t: SpaceThresholds = { ...DEFAULT_SPACE_THRESHOLDS, ...opts.thresholds };
  const findings: Finding[] = [];
  const abs = path.resolve(dataRoot);
  const exists = fs.existsSync(abs);
  let isDir = false;
  try {
    isDir = fs.statSync(abs).isDirectory();
  } catch {
    /* missing */
  }
  const real = exists ? realpathOr(abs) : path.join(realpathOr(nearestExisting(abs)), path.relative(nearestExisting(abs), abs));
  const base = exists && isDir ? real : nearestExisting(real);

  try {
    if (!exists)
      findings.push(
        finding(
          'storage.data-root-missing',
          'fail',
          `The data root ${abs} does not exist`,
          [`nearest existing folder: ${base}`],
          'If the data lives on a separate disk or volume, it is probably not mounted: check the disk and `mount` before anything else, do not create the folder on the wrong disk. If this is a new installation, create it.',
          [{ id: 'storage.create-data-root', label: 'Create the data root folder', destructive: false }],
        ),
      );
    else if (!isDir) findings.push(finding('storage.data-root-missing', 'fail', `The data root ${abs} exists but is not a folder`, [`${abs}: not a directory`]));

    // mount
    const mountinfoPath = opts.mountinfoPath ?? '/proc/self/mountinfo';
    let mounts: MountEntry[] = [];
    try {
      mounts = parseMountinfo(fs.readFileSync(mountinfoPath, 'utf8'));
    } catch (err) {
      findings.push(finding('storage.mount-unknown', 'info', `Mount table not available (${mountinfoPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`));
    }
    const m = mounts.length ? mountFor(mounts, base) : null;
    if (m) {
      const ro = isReadOnlyMount(m);
      if (ro.readOnly)
        findings.push(
          finding(
            'storage.read-only',
            'fail',
            ro.superblock
              ? `The filesystem holding the data root (${m.source}, ${m.fsType} on ${m.mountPoint}) is read-only: remounted read-only after errors?`
              : `The data root is on a read-only mount (${m.mountPoint}): remounted read-only after errors, or mounted read-only on purpose?`,
            [mountSummary(m), m.line],
            ro.superblock
              ? 'The kernel switches a filesystem to read-only when it finds errors (see the hardware step: kernel log). Stop the services, unmount it and run fsck (or xfs_repair), then mount it again read-write. Do not force a read-write remount without checking it.'
              : 'Remount it read-write (`mount -o remount,rw ' + m.mountPoint + '`) if read-only was not intended; check /etc/fstab and the container volume options.',
          ),
        );
      else findings.push(finding('storage.mount', 'ok', `Data root on ${m.source} (${m.fsType}) mounted at ${m.mountPoint}, read-write`, [mountSummary(m)]));
    } else if (mounts.length) findings.push(finding('storage.mount-unknown', 'info', `No mount found for ${base}`));

    // temporary location
    const temp = temporaryLocationWarning(real);
    if (temp)
      findings.push(
        finding('storage.temporary-location', 'warn', temp, [m ? mountSummary(m) : real], 'Move the data root to a persistent disk (lifeline --data DIR or LIFELINE_HOME) before relying on it.'),
      );

    // free space and inodes
    let st: fs.StatsFs | null = null;
    try {
      st = fs.statfsSync(base);
    } catch (err) {
      findings.push(finding('storage.free-space', 'info', `Free space not available for ${base} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`));
    }
    if (st) {
      const bsize = Number(st.bsize);
      const total = Number(st.blocks) * bsize;
      const free = Number(st.bavail) * bsize;
      const ratio = total > 0 ? free / total : 0;
      const sev = spaceSeverity(free, total, t);
      const ev = [`${base}: ${formatBytes(free)} free of ${formatBytes(total)} (${(ratio * 100).toFixed(1)}%), block size ${bsize}`];
      const msg = `${formatBytes(free)} free of ${formatBytes(total)} (${(ratio * 100).toFixed(1)}%) on ${m?.mountPoint ?? base}`;
      findings.push(
        finding(
          'storage.free-space',
          sev,
          sev === 'ok' ? msg : sev === 'warn' ? `Disk space is getting low: ${msg}` : `Disk almost full: ${msg}`,
          ev,
          sev === 'ok'
            ? undefined
            : `Free space before restarting services: old logs (journalctl --vacuum-time=30d), unused Docker images (docker image prune), old backups kept elsewhere. A full disk makes databases and indexes fail mid-write.${sev === 'fail' ? ' Do not start an index rebuild or a restore until there is room.' : ''}`,
        ),
      );
      const files = Number(st.files);
      const ffree = Number(st.ffree);
      const isev = inodeSeverity(ffree, files, t);
      if (isev === 'info') findings.push(finding('storage.inodes', 'info', `This filesystem (${m?.fsType ?? '?'}) does not report inode counts`, [`files=${files} ffree=${ffree}`]));
      else
        findings.push(
          finding(
            'storage.inodes',
            isev,
            isev === 'ok' ? `${ffree} of ${files} inodes free` : `Few inodes left: ${ffree} of ${files} free (${((ffree / files) * 100).toFixed(1)}%)`,
            [`files=${files} ffree=${ffree}`],
            isev === 'ok' ? undefined : 'The disk can run out of file entries while bytes remain free: delete many small leftover files (temp files, old logs, caches).',
          ),
        );
    }

    // write probe
    if (exists && isDir && !opts.skipWriteProbe) {
      const p = writeProbe(real);
      if (p.ok) {
        findings.push(finding('storage.writable', 'ok', `The data root is writable (create, fsync, rename, delete in ${p.totalMs} ms)`, [`fsync ${p.fsyncMs ?? '?'} ms, total ${p.totalMs} ms`]));
        const slow = opts.slowFsyncMs ?? 2000;
        if ((p.fsyncMs ?? 0) > slow)
          findings.push(
            finding('storage.slow-fsync', 'warn', `Writes to the data root are very slow: one fsync took ${p.fsyncMs} ms`, [`fsync ${p.fsyncMs} ms`], 'A disk that is failing, rebuilding a RAID or a stalled network share can do this. Check the hardware step.'),
          );
      } else {
        const meaning = ERRNO_MEANING[p.errno ?? ''] ?? p.error ?? 'unknown error';
        findings.push(
          finding(
            'storage.write-failed',
            'fail',
            `Lifeline cannot write in its data root: ${p.step} failed with ${p.errno} (${meaning})`,
            [`${p.step}: ${p.errno}: ${p.error}`, `uid ${process.getuid?.() ?? '?'}, data root ${real}`],
            p.errno === 'EROFS'
              ? 'The filesystem is read-only: see the mount finding.'
              : p.errno === 'ENOSPC' || p.errno === 'EDQUOT'
                ? 'Free space (or inodes) first.'
                : p.errno === 'EACCES' || p.errno === 'EPERM'
                  ? `Give Lifeline's user write access: chown -R <user> ${real} (or check lsattr/SELinux/AppArmor).`
                  : 'Check the disk in the hardware step.',
          ),
        );
      }
    }

    // expected mounts
    for (const want of opts.expectedMounts ?? []) {
      const wantAbs = path.resolve(want);
      const wantReal = realpathOr(wantAbs);
      const onIt = [...mounts].reverse().find((e) => e.mountPoint === wantReal || e.mountPoint === wantAbs);
      if (onIt) {
        const ro = isReadOnlyMount(onIt);
        findings.push(
          ro.readOnly
            ? finding('storage.expected-mount-read-only', 'warn', `${wantAbs} is mounted read-only`, [mountSummary(onIt)], 'If this volume must take writes, remount it read-write (after a filesystem check if it went read-only by itself).')
            : finding('storage.expected-mount', 'ok', `${wantAbs} is mounted (${onIt.source}, ${onIt.fsType})`, [mountSummary(onIt)]),
        );
      } else {
        const present = fs.existsSync(wantAbs);
        const under = mounts.length ? mountFor(mounts, present ? wantReal : nearestExisting(wantReal)) : null;
        findings.push(
          finding(
            'storage.expected-mount-missing',
            'fail',
            `${wantAbs} is not mounted`,
            [present ? `${wantAbs} exists as a plain folder on ${under ? `${under.source} (${under.mountPoint})` : 'the parent filesystem'}: anything written there goes to the wrong disk` : `${wantAbs} does not exist`],
            'Check the disk or network share behind it, then `mount -a` (or the volume in docker-compose.yml). Do not start the containers before it is mounted: they would write to the empty folder underneath.',
          ),
        );
      }
    }
  } catch (err) {
    findings.push(finding('storage.error', 'info', `Part of the storage check could not run: ${(err as Error).message}`));
  }
  return { status: statusOf(findings), findings, durationMs: Date.now() - started };
}
