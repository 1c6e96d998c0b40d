// Real "USB drives" for tests: an ext4 (or LUKS) filesystem in a small image file under
// os.tmpdir(), attached to a loop device with `losetup --find --show` and mounted. Needs root,
// losetup, mkfs.ext4 and a kernel that lets this process mount; canUseLoopDevices() says whether
// it can, and why not. Cleanup, even when a test fails: a drive made inside a test (or its
// beforeEach) is detached when that test finishes (vitest's onTestFinished) unless made with
// keep: true; every drive is remembered until detached, so detachAllLoopDrives() in afterEach/
// afterAll catches the rest (drives made in beforeAll); and as a last resort the worker's 'exit'
// and SIGTERM/SIGINT/SIGHUP (vitest ends its workers with SIGTERM) detach whatever is left.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/** Every image this helper makes lives in a folder whose name starts with this. */
export const LOOP_TEMP_PREFIX = 'lifeline-loop-';

export interface LoopDrive {
  /** The image file backing the drive. */
  readonly image: string;
  /** /dev/loopN while attached ('' after pull/detach). */
  readonly device: string;
  /** Where it is (or would be) mounted. */
  readonly mountpoint: string;
  readonly label: string;
  readonly mounted: boolean;
  readonly attached: boolean;
  /** Unmounts (lazily if busy), detaches the loop device, deletes the image. Idempotent. */
  detach(): void;
  /** Simulates yanking the drive: lazy unmount, then losetup -d. The image is kept for remount(). */
  pull(): void;
  /** Plugs it back in: attaches the image again (maybe as another loopN) and mounts it at mountpoint. */
  remount(): void;
}

export interface LoopDriveOptions {
  sizeMiB: number;
  label: string;
  /** Mount here (created if missing) instead of a fresh temp folder. */
  mountAt?: string;
  /** false: attach only, do not mount (the drive shows up as an unmounted device). Default true. */
  mount?: boolean;
  /** Outlive the test that made it (detach it yourself, or with detachAllLoopDrives()). */
  keep?: boolean;
  /** 'ext4' (default); 'luks': a LUKS header (see luksSupport()), never mounted; 'minix' (mkfs.minix,
   *  from util-linux): a real filesystem most kernels cannot mount, never mounted; 'none': blank. */
  format?: 'ext4' | 'luks' | 'minix' | 'none';
}

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function which(name: string): string | null {
  for (const d of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH]) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function sh(cmd: string, args: string[], input?: string | Buffer): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60000 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(cmd: string, args: string[], input?: string | Buffer): string {
  const r = sh(cmd, args, input);
  if (!r.ok) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

function tool(name: string): string {
  const p = which(name);
  if (!p) throw new Error(`${name} is not installed`);
  return p;
}

function isMountpoint(dir: string): boolean {
  try {
    const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    return text.split('\n').some((l) => l.split(' ')[4]?.replace(/\\040/g, ' ') === dir);
  } catch {
    return false;
  }
}

/** Every mountpoint where device is mounted (a test may have mounted it itself, e.g. mountDrive). */
function mountpointsOf(device: string): string[] {
  try {
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => {
        const [left, right] = l.split(' - ');
        return { mp: left?.split(' ')[4]?.replace(/\\040/g, ' '), src: right?.split(' ')[1] };
      })
      .filter((m) => m.src === device && m.mp)
      .map((m) => m.mp as string)
      .reverse();
  } catch {
    return [];
  }
}

function backingFile(device: string): string | null {
  try {
    return fs.readFileSync(`/sys/block/${path.basename(device)}/loop/backing_file`, 'utf8').trim();
  } catch {
    return null;
  }
}

let probed: { ok: boolean; reason: string } | null = null;

/** Root, losetup, mkfs.ext4, mount/umount present, and a probe (mkfs + attach + mount + detach) works. */
export function canUseLoopDevices(): { ok: boolean; reason: string } {
  if (probed) return probed;
  const fail = (reason: string) => (probed = { ok: false, reason });
  if (process.platform !== 'linux') return fail(`loop devices are Linux-only (this is ${process.platform})`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return fail('needs root to attach and mount loop devices');
  for (const t of ['losetup', 'mkfs.ext4', 'mount', 'umount']) if (!which(t)) return fail(`${t} is not installed`);
  if (!fs.existsSync('/dev/loop-control')) return fail('no /dev/loop-control (loop driver missing or not exposed to this container)');
  let drive: LoopDrive | null = null;
  try {
    drive = createLoopDrive({ sizeMiB: 4, label: 'probe' });
    fs.writeFileSync(path.join(drive.mountpoint, 'probe'), 'ok');
    drive.detach();
    probed = { ok: true, reason: '' };
  } catch (err) {
    drive?.detach();
    return fail(`loop device probe failed: ${(err as Error).message}`);
  }
  return probed;
}

/** How a LUKS header can be made here: with cryptsetup, or by hand (LUKS1 on-disk format).
 *  LIFELINE_TEST_LUKS=handmade forces the hand-written header even where cryptsetup exists. */
export function luksSupport(): { method: 'cryptsetup' | 'handmade'; reason: string } {
  return which('cryptsetup') && process.env.LIFELINE_TEST_LUKS !== 'handmade'
    ? { method: 'cryptsetup', reason: 'cryptsetup luksFormat' }
    : { method: 'handmade', reason: 'cryptsetup is not installed: a LUKS1 header written by hand per the LUKS1 on-disk format (no usable key slot)' };
}

/** A LUKS1 partition header (592 bytes) with all key slots disabled: enough for blkid/libblkid to
 *  identify the partition as crypto_LUKS, which is all detection needs. */
function handmadeLuks1Header(): Buffer {
  const h = Buffer.alloc(4096);
  Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(h, 0); // "LUKS\xba\xbe"
  h.writeUInt16BE(1, 6); // version
  h.write('aes', 8, 'ascii'); // cipher-name[32]
  h.write('xts-plain64', 40, 'ascii'); // cipher-mode[32]
  h.write('sha256', 72, 'ascii'); // hash-spec[32]
  h.writeUInt32BE(4096, 104); // payload-offset (sectors)
  h.writeUInt32BE(64, 108); // key-bytes
  randomBytes(20).copy(h, 112); // mk-digest
  randomBytes(32).copy(h, 132); // mk-digest-salt
  h.writeUInt32BE(1000, 164); // mk-digest-iter
  h.write(randomUUID(), 168, 'ascii'); // uuid[40]
  for (let slot = 0; slot < 8; slot++) {
    const o = 208 + slot * 48;
    h.writeUInt32BE(0x0000dead, o); // LUKS_KEY_DISABLED
    h.writeUInt32BE(0, o + 4);
    h.writeUInt32BE(8 + slot * 512, o + 40); // key-material-offset
    h.writeUInt32BE(4000, o + 44); // stripes
  }
  return h;
}

const live = new Set<LoopDrive>();
let exitHook = false;

/** Makes a real filesystem in an image file, attaches it and (by default) mounts it. */
export function createLoopDrive(options: LoopDriveOptions): LoopDrive {
  const { sizeMiB, label } = options;
  const format = options.format ?? 'ext4';
  const wantMount = format === 'ext4' && options.mount !== false;
  const losetup = tool('losetup');
  const mountBin = tool('mount');
  const umountBin = tool('umount');
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => detachAllLoopDrives());
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(sig, () => {
        detachAllLoopDrives();
        // Nobody else handles it: die of it as we would have without this hook.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    }
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${LOOP_TEMP_PREFIX}${process.pid}-`));
  const image = path.join(dir, 'drive.img');
  const mountpoint = options.mountAt ? path.resolve(options.mountAt) : path.join(dir, 'mnt');
  const createdMountpoint = !fs.existsSync(mountpoint);
  let device = '';
  let mounted = false;
  let gone = false;

  const attach = () => {
    device = must(losetup, ['--find', '--show', image]).trim();
    if (!device.startsWith('/dev/loop')) throw new Error(`losetup printed no device: ${JSON.stringify(device)}`);
  };
  const mountIt = () => {
    fs.mkdirSync(mountpoint, { recursive: true });
    must(mountBin, [device, mountpoint]);
    mounted = true;
  };
  const unmount = (lazy: boolean) => {
    if (!mounted) return;
    if (isMountpoint(mountpoint)) {
      const r = lazy ? sh(umountBin, ['-l', mountpoint]) : sh(umountBin, [mountpoint]);
      if (!r.ok && !lazy) sh(umountBin, ['-l', mountpoint]);
    }
    mounted = false;
  };
  const loseDevice = (lazy: boolean) => {
    if (!device) return;
    // Only touch the loop device if it still belongs to our image (numbers are reused).
    if (backingFile(device)?.replace(/ \(deleted\)$/, '') === image) {
      for (const mp of mountpointsOf(device)) {
        if (lazy || !sh(umountBin, [mp]).ok) sh(umountBin, ['-l', mp]);
      }
      sh(losetup, ['-d', device]);
    }
    device = '';
  };

  const drive: LoopDrive = {
    image,
    get device() {
      return device;
    },
    mountpoint,
    label,
    get mounted() {
      return mounted;
    },
    get attached() {
      return device !== '';
    },
    detach() {
      if (gone) return;
      gone = true;
      live.delete(drive);
      unmount(false);
      loseDevice(false);
      if (!isMountpoint(mountpoint)) {
        if (options.mountAt && createdMountpoint) {
          try {
            fs.rmdirSync(mountpoint);
          } catch {
            /* not empty or already gone */
          }
        }
        try {
          fs.rmSync(dir, { recursive: true, force: true });
        } catch {
          /* best effort */
        }
      }
    },
    pull() {
      if (gone) return;
      unmount(true);
      loseDevice(true);
    },
    remount() {
      if (gone) throw new Error('drive was detached');
      if (!device) attach();
      if (format === 'ext4' && !mounted) mountIt();
    },
  };
  live.add(drive);
  if (!options.keep) {
    try {
      onTestFinished(() => drive.detach());
    } catch {
      /* not inside a test (beforeAll, module level): afterAll / exit hooks clean it up */
    }
  }

  try {
    const fd = fs.openSync(image, 'w');
    fs.ftruncateSync(fd, sizeMiB * 1024 * 1024);
    fs.closeSync(fd);
    if (format === 'ext4') {
      must(tool('mkfs.ext4'), ['-F', '-q', '-m', '0', '-L', label, image]);
    } else if (format === 'minix') {
      must(tool('mkfs.minix'), [image]);
    } else if (format === 'luks') {
      const cryptsetup = luksSupport().method === 'cryptsetup' ? which('cryptsetup') : null;
      if (cryptsetup) {
        // A throwaway passphrase; pbkdf2 with few iterations keeps it fast. luksFormat works on the
        // image file without device-mapper (dm is only needed to open the volume).
        must(
          cryptsetup,
          ['luksFormat', '--batch-mode', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--label', label, '--key-file', '-', image],
          'lifeline-test-passphrase',
        );
      } else {
        const fdw = fs.openSync(image, 'r+');
        fs.writeSync(fdw, handmadeLuks1Header(), 0, 4096, 0);
        fs.closeSync(fdw);
      }
    }
    attach();
    if (wantMount) mountIt();
  } catch (err) {
    drive.detach();
    throw err;
  }
  return drive;
}

/** Detaches every drive this process made and has not detached yet. */
export function detachAllLoopDrives(): void {
  for (const d of [...live]) d.detach();
}

/** `losetup -a` lines for images made by this helper in this process (or in any process, with
 *  allProcesses): should be empty once a suite has cleaned up. */
export function leftoverLoopDevices(allProcesses = false): string[] {
  const losetup = which('losetup');
  if (!losetup) return [];
  const mark = allProcesses ? LOOP_TEMP_PREFIX : `${LOOP_TEMP_PREFIX}${process.pid}-`;
  return sh(losetup, ['-a']).stdout.split('\n').filter((l) => l.includes(mark));
}

/** Fills the filesystem at mountpoint until about leaveBytes are free ("disk almost full").
 *  Writes one file, lifeline-fill.bin; returns the free bytes left (may undershoot leaveBytes by
 *  a few blocks of filesystem metadata). */
export function fillDrive(mountpoint: string, leaveBytes: number): number {
  const file = path.join(mountpoint, 'lifeline-fill.bin');
  const chunk = Buffer.alloc(4 << 20);
  const free = () => {
    const s = fs.statfsSync(mountpoint);
    return { free: Number(s.bavail) * Number(s.bsize), bsize: Number(s.bsize) };
  };
  const fd = fs.openSync(file, 'a');
  try {
    for (let i = 0; i < 10000; i++) {
      const { free: f, bsize } = free();
      const need = f - leaveBytes;
      if (need < bsize) break;
      try {
        fs.writeSync(fd, chunk, 0, Math.min(need, chunk.length));
        fs.fsyncSync(fd); // ext4 allocates on flush: make statfs see it
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return free().free;
}
