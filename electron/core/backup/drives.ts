// Backup targets: plugged-in drives (USB sticks and disks, mounted or not, LUKS-encrypted ones
// included) and configured folders (NAS shares, local folders), with their sizes, free space and
// the Lifeline repositories already on them. Linux only in substance; elsewhere it degrades to
// the configured folders.
//
// Where the facts come from, and why:
//  - /proc/self/mountinfo says what is mounted where, with which filesystem type and source. It
//    is exact (every mountpoint of a device, bind mounts, spaces in names) and costs nothing.
//  - systeminformation's blockDevices() (lsblk underneath, ~10 ms) says which devices exist, which
//    are removable or on USB, their labels and filesystem types. Without a udev database (minimal
//    systems, containers, rescue shells) lsblk reports empty FSTYPE and LABEL, so, as root, the
//    devices that could become entries and that it left blank are probed with `blkid -p` (never
//    blkid's cache, which goes stale when a device name is reused).
//  - Sizes come from fs.statfs of each target, not from systeminformation's fsSize(): statfs asks
//    exactly about the paths we list (a folder on a NAS included), and is bounded by a timeout
//    so one dead network mount cannot stall the listing.
// Nothing here throws for one bad entry: a vanished mount, a permission error or a hung share
// becomes a note on that entry (or the entry is skipped) and the rest of the listing goes on.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import si from 'systeminformation';

/** The file that marks a folder as a Lifeline backup repository. */
export const REPO_MARKER_FILE = 'lifeline-repo.json';

export const DEFAULT_SCAN_ROOTS: readonly string[] = ['/media', '/run/media', '/mnt'];

/** The contract's shape: drives and folders as the console shows them. */
export type { BackupTarget } from '../../api/contract.js';
import type { BackupTarget } from '../../api/contract.js';

export interface ListOptions {
  /** Mounted filesystems whose mountpoint is at or under one of these count as drives,
   *  removable or not (a disk image on a loop device, a NAS mounted at /mnt/nas). */
  roots?: string[];
  /** Configured NAS shares or folders, listed as kind 'folder' even when they are not mountpoints. */
  extraFolders?: string[];
  /** Also list unmounted loop devices (disk images attached with losetup). Default false:
   *  only removable/USB devices are offered when unmounted. */
  includeLoopDevices?: boolean;
}

export interface WatchOptions extends ListOptions {
  intervalMs?: number;
}

export interface MountOptions {
  mountRoot?: string;
}

export type DriveErrorCode = 'not-a-device' | 'luks' | 'no-filesystem' | 'unsupported-fs' | 'no-permission' | 'mount-failed';

export class DriveError extends Error {
  constructor(
    readonly code: DriveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DriveError';
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

const STATFS_TIMEOUT_MS = 1500;
const PROBE_TIMEOUT_MS = 1500;
const REPO_SCAN_DEPTH = 3;
const REPO_SCAN_MAX_DIRS = 4000;

/** Filesystems that are never backup targets even when mounted under a scan root. */
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'cgroup', 'cgroup2', 'autofs', 'securityfs',
  'debugfs', 'tracefs', 'bpf', 'pstore', 'mqueue', 'hugetlbfs', 'fusectl', 'binfmt_misc', 'configfs',
  'efivarfs', 'nsfs', 'rpc_pipefs', 'nfsd', 'squashfs', 'erofs', 'overlay', 'fuse.gvfsd-fuse', 'fuse.portal',
]);
/** Device contents that are not filesystems one could back up to. */
const NOT_A_FILESYSTEM = new Set(['swap', 'linux_raid_member', 'LVM2_member', 'zfs_member', 'bcache', 'BitLocker']);
/** Folders not worth descending into when looking for repositories. */
const SKIP_DIRS = new Set(['lost+found', '$RECYCLE.BIN', 'System Volume Information', '.Trashes', '.Spotlight-V100', '.fseventsd']);

function isUnder(p: string, root: string): boolean {
  if (p === root) return true;
  return p.startsWith(root.endsWith('/') ? root : root + '/');
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  if (e?.code === 'ENOENT') return 'not found';
  if (e?.code === 'ENOTCONN' || e?.code === 'ESTALE') return 'not connected (stale mount)';
  if (e?.code === 'EIO') return 'input/output error';
  return e?.message ?? String(err);
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** The same slow call is never issued twice while the first is still pending: a statfs stuck on a
 *  dead NFS server keeps a libuv thread busy, and each listing would otherwise add one more. */
const inFlight = new Map<string, Promise<unknown>>();
function shared<T>(key: string, start: () => Promise<T>): Promise<T> {
  const pending = inFlight.get(key) as Promise<T> | undefined;
  if (pending) return pending;
  const p = start();
  inFlight.set(key, p);
  const forget = () => {
    if (inFlight.get(key) === p) inFlight.delete(key);
  };
  p.then(forget, forget);
  return p;
}

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const whichCache = new Map<string, string | null>();
/** Finds a program on PATH or in the usual sbin folders (a non-root PATH often lacks /sbin). */
export function findProgram(name: string): string | null {
  if (whichCache.has(name)) return whichCache.get(name) ?? null;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  let found: string | null = null;
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) {
        found = p;
        break;
      }
    } catch {
      /* next */
    }
  }
  whichCache.set(name, found);
  return found;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: stdout ?? '', stderr: (stderr || (err && code === -1 ? err.message : '')) ?? '' });
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// ---------------------------------------------------------------------------------------------
// Mounts (/proc/self/mountinfo)

interface MountEntry {
  mountpoint: string;
  fsType: string;
  source: string;
  readOnly: boolean;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function readMounts(): MountEntry[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const byMountpoint = new Map<string, MountEntry>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountpoint = left[4];
    const options = left[5] ?? '';
    const fsType = right[0];
    if (!mountpoint || !fsType) continue;
    const mp = unescapeMount(mountpoint);
    // A later line on the same mountpoint is mounted over the earlier one: only it is visible.
    byMountpoint.delete(mp);
    byMountpoint.set(mp, {
      mountpoint: mp,
      fsType: unescapeMount(fsType),
      source: unescapeMount(right[1] ?? ''),
      readOnly: options.split(',').includes('ro'),
    });
  }
  return [...byMountpoint.values()];
}

/** The mount holding `p` (longest mountpoint prefix). */
function mountOf(p: string, mounts: MountEntry[]): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of mounts) {
    if (isUnder(p, m.mountpoint) && (!best || m.mountpoint.length > best.mountpoint.length)) best = m;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Block devices (systeminformation + blkid fallback)

interface DeviceInfo {
  name: string;
  /** /dev/<name>, or /dev/mapper/<name> for device-mapper devices. */
  path: string;
  type: string;
  fsType: string;
  label: string;
  size: number;
  removable: boolean;
  usb: boolean;
  parent: string | null;
}

async function blockDevices(): Promise<DeviceInfo[]> {
  let raw: si.Systeminformation.BlockDevicesData[] = [];
  try {
    raw = await withTimeout(shared('si.blockDevices', () => si.blockDevices()), PROBE_TIMEOUT_MS);
  } catch {
    raw = [];
  }
  return raw
    .filter((d) => d && typeof d.name === 'string' && d.name)
    .map((d) => {
      // lsblk names device-mapper devices by their mapper name (luks-…, vg-lv).
      const dm = ['crypt', 'lvm', 'dm', 'mpath'].includes(d.type ?? '');
      return {
        name: d.name,
        path: dm ? `/dev/mapper/${d.name}` : `/dev/${d.name}`,
        type: d.type ?? '',
        fsType: d.fsType ?? '',
        label: d.label ?? '',
        size: Number.isFinite(d.size) ? d.size : 0,
        removable: d.removable === true,
        usb: (d.protocol ?? '').toLowerCase() === 'usb',
        parent: d.device && d.device !== `/dev/${d.name}` ? d.device : null,
      };
    });
}

/** Fills in fsType/label that lsblk left blank (no udev database) with one blkid call. */
function parseBlkidExport(stdout: string): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const block of stdout.split(/\n\s*\n/)) {
    const kv: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1);
    }
    if (kv.DEVNAME) found.set(kv.DEVNAME, kv);
  }
  return found;
}

/** Fills in fsType/label that lsblk left blank (no udev database) with blkid. Returns whether the
 *  devices could really be probed (so a blank fsType means "no filesystem"). */
async function probeMissing(devices: DeviceInfo[]): Promise<boolean> {
  const todo = devices.filter((d) => !d.fsType && d.size > 0 && ['part', 'disk', 'loop', 'crypt', 'lvm', 'md'].some((t) => d.type.startsWith(t)));
  if (todo.length === 0) return true;
  const blkid = findProgram('blkid');
  if (!blkid) return false;
  // Without root there is nothing reliable to ask: the devices cannot be opened, and blkid's
  // cache (/run/blkid/blkid.tab) goes stale whenever a device name is reused (a re-plugged stick,
  // a loop device), so it would name the previous drive's label. Leave the fields blank instead.
  if (!isRoot()) return false;
  // As root, probe each device itself (-p, no cache). One process per device, in parallel:
  // `blkid -p` stops at the first device it cannot open.
  const found = new Map<string, Record<string, string>>();
  const results = await Promise.all(todo.map((d) => run(blkid, ['-p', '-o', 'export', d.path], PROBE_TIMEOUT_MS)));
  for (const r of results) for (const [k, v] of parseBlkidExport(r.stdout)) found.set(k, v);
  for (const d of todo) {
    const kv = found.get(d.path);
    if (!kv) continue;
    if (kv.TYPE) d.fsType = kv.TYPE;
    if (kv.LABEL && !d.label) d.label = kv.LABEL;
  }
  return true;
}

function sysBlockList(kname: string, sub: 'holders' | 'slaves'): string[] {
  try {
    return fs.readdirSync(`/sys/class/block/${kname}/${sub}`);
  } catch {
    return [];
  }
}

function dmName(kname: string): string | null {
  try {
    return fs.readFileSync(`/sys/class/block/${kname}/dm/name`, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function kernelName(dev: DeviceInfo): string {
  return path.basename(realpathOr(dev.path));
}

/** Whether the kernel has device-mapper (needed to open LUKS). /proc/misc is the truth:
 *  /dev/mapper/control can exist without it (libdevmapper creates the node on first use, as
 *  cryptsetup does even where the kernel has no dm driver). */
export function deviceMapperAvailable(): boolean {
  try {
    return /^\s*\d+\s+device-mapper\s*$/m.test(fs.readFileSync('/proc/misc', 'utf8'));
  } catch {
    return fs.existsSync('/dev/mapper/control');
  }
}

/** Where mountDrive would put this device: /media/lifeline-<label or device name>. */
export function suggestedMountDir(device: string, label: string | null, mountRoot = '/media'): string {
  const base = (label && label.trim()) || path.basename(device);
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 48) || 'drive';
  return path.join(mountRoot, `lifeline-${safe}`);
}

/** The operator-facing instructions for a locked LUKS partition. */
export function luksUnlockNote(device: string, label: string | null): string {
  const mapper = 'lifeline-usb';
  const dir = `/media/${mapper}`;
  const parts = [
    `Encrypted drive${label ? ` "${label}"` : ''} (LUKS). Lifeline cannot open LUKS itself: it never asks for or handles the passphrase.`,
    `To use it, unlock and mount it in a terminal as root: \`cryptsetup open ${device} ${mapper}\` then \`mkdir -p ${dir} && mount /dev/mapper/${mapper} ${dir}\`;`,
    `or, on a desktop session with udisks: \`udisksctl unlock -b ${device}\` and then \`udisksctl mount -b\` on the unlocked device it names.`,
    `The drive then appears here as a mounted target.`,
  ];
  if (!deviceMapperAvailable()) {
    parts.push(
      `This machine's kernel has no device-mapper, so the drive cannot be unlocked on this machine at all: unlock it on a machine with device-mapper, or use an unencrypted drive.`,
    );
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Sizes and repositories

interface SpaceResult {
  sizeBytes: number | null;
  freeBytes: number | null;
  error: string | null;
  timedOut: boolean;
}

async function space(p: string): Promise<SpaceResult> {
  try {
    const s = await withTimeout(shared(`statfs:${p}`, () => fs.promises.statfs(p)), STATFS_TIMEOUT_MS);
    return { sizeBytes: Number(s.blocks) * Number(s.bsize), freeBytes: Number(s.bavail) * Number(s.bsize), error: null, timedOut: false };
  } catch (err) {
    if (err instanceof TimeoutError) return { sizeBytes: null, freeBytes: null, error: 'not responding (reading its free space timed out)', timedOut: true };
    return { sizeBytes: null, freeBytes: null, error: errText(err), timedOut: false };
  }
}

/** Folders at `root` and up to REPO_SCAN_DEPTH levels below that contain the repository marker.
 *  Does not follow symlinks, does not descend into a repository, skips unreadable folders. */
async function findRepositories(root: string, deadline: number): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  let level: string[] = [root];
  for (let depth = 0; depth <= REPO_SCAN_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    await Promise.all(
      level.map(async (dir) => {
        if (visited++ >= REPO_SCAN_MAX_DIRS || Date.now() > deadline) return;
        let entries: fs.Dirent[];
        try {
          entries = await withTimeout(fs.promises.readdir(dir, { withFileTypes: true }), Math.max(50, deadline - Date.now()));
        } catch {
          return;
        }
        if (entries.some((e) => e.name === REPO_MARKER_FILE && (e.isFile() || e.isSymbolicLink()))) {
          found.push(dir);
          return;
        }
        if (depth === REPO_SCAN_DEPTH) return;
        for (const e of entries) {
          if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.Trash-')) next.push(path.join(dir, e.name));
        }
      }),
    );
    level = next;
  }
  return found.sort();
}

async function describePath(p: string): Promise<{ space: SpaceResult; repositories: string[] }> {
  const sp = await space(p);
  if (sp.timedOut || (sp.error && sp.sizeBytes === null && sp.error !== 'permission denied')) {
    return { space: sp, repositories: [] };
  }
  const repositories = await findRepositories(p, Date.now() + STATFS_TIMEOUT_MS);
  return { space: sp, repositories };
}

// ---------------------------------------------------------------------------------------------
// Listing

function resolveRoots(roots: string[]): string[] {
  const out = new Set<string>();
  for (const r of roots) {
    const abs = path.resolve(r);
    out.add(abs);
    out.add(realpathOr(abs));
  }
  return [...out];
}

function isSystemMount(mp: string): boolean {
  return mp === '/' || isUnder(mp, '/boot') || mp === '/usr' || mp === '/var' || mp === '/home' || mp === '/etc';
}

function joinNotes(...notes: (string | null | undefined)[]): string | null {
  const n = notes.filter((x): x is string => !!x);
  return n.length ? n.join('; ') : null;
}

/**
 * Lists drives and folders Lifeline can back up to.
 *  - Drives: every filesystem mounted at or under one of `roots` (removable or not, loop devices
 *    included), every mounted removable/USB filesystem wherever it is mounted (except /, /boot…),
 *    every unmounted removable partition with a filesystem (mounted:false, path = device node),
 *    and LUKS partitions (encrypted:true, with a note on how to unlock them).
 *  - Folders: each of `extraFolders`, kind 'folder', with the free space of the filesystem it is on.
 * Never throws; a problem with one entry becomes that entry's note.
 */
export async function listBackupTargets(options: ListOptions = {}): Promise<BackupTarget[]> {
  const roots = resolveRoots(options.roots ?? [...DEFAULT_SCAN_ROOTS]);
  const mounts = readMounts();
  const devices = await blockDevices();

  const byPath = new Map<string, DeviceInfo>();
  for (const d of devices) {
    byPath.set(d.path, d);
    byPath.set(`/dev/${d.name}`, byPath.get(`/dev/${d.name}`) ?? d);
    const real = realpathOr(d.path);
    if (!byPath.has(real)) byPath.set(real, d);
  }
  const deviceOfSource = (source: string): DeviceInfo | null => {
    if (!source.startsWith('/dev/')) return null;
    return byPath.get(source) ?? byPath.get(realpathOr(source)) ?? null;
  };

  const slaveCache = new Map<string, boolean>();
  const isRemovable = (d: DeviceInfo): boolean => {
    if (d.removable || d.usb) return true;
    const parent = d.parent ? byPath.get(d.parent) : undefined;
    if (parent && (parent.removable || parent.usb)) return true;
    if (d.type === 'crypt' || d.type === 'lvm') {
      const k = kernelName(d);
      if (slaveCache.has(k)) return slaveCache.get(k) ?? false;
      slaveCache.set(k, false);
      const r = sysBlockList(k, 'slaves').some((s) => {
        const sd = byPath.get(`/dev/${s}`);
        return !!sd && isRemovable(sd);
      });
      slaveCache.set(k, r);
      return r;
    }
    return false;
  };

  // 1. Mounted drives.
  const mountedSources = new Set<string>();
  for (const m of mounts) {
    if (m.source.startsWith('/dev/')) {
      mountedSources.add(m.source);
      mountedSources.add(realpathOr(m.source));
    }
  }
  const chosen = new Map<string, { m: MountEntry; dev: DeviceInfo | null; underRoot: boolean }>();
  for (const m of mounts) {
    if (PSEUDO_FS.has(m.fsType)) continue;
    const dev = deviceOfSource(m.source);
    const underRoot = roots.some((r) => isUnder(m.mountpoint, r));
    const removableElsewhere = !underRoot && dev !== null && isRemovable(dev) && !isSystemMount(m.mountpoint);
    if (!underRoot && !removableElsewhere) continue;
    // One entry per device: prefer a mountpoint under a scan root, then the shortest path.
    const key = dev ? dev.path : `mp:${m.mountpoint}`;
    const prev = chosen.get(key);
    if (
      !prev ||
      (underRoot && !prev.underRoot) ||
      (underRoot === prev.underRoot && m.mountpoint.length < prev.m.mountpoint.length)
    ) {
      chosen.set(key, { m, dev, underRoot });
    }
  }

  // Only the devices that can become entries need blkid (when lsblk had no udev data for them).
  const hasPartitions = new Set(devices.filter((d) => d.type === 'part' && d.parent).map((d) => d.parent as string));
  const isCandidate = (d: DeviceInfo): boolean =>
    !(d.type === 'disk' && hasPartitions.has(d.path)) &&
    (isRemovable(d) || d.type === 'crypt' || (d.type === 'loop' && options.includeLoopDevices === true));
  const chosenDevices = new Set([...chosen.values()].map((c) => c.dev).filter((d): d is DeviceInfo => d !== null));
  await probeMissing(devices.filter((d) => chosenDevices.has(d) || isCandidate(d)));

  const drivePromises = [...chosen.values()].map(async ({ m, dev }): Promise<BackupTarget> => {
    const { space: sp, repositories } = await describePath(m.mountpoint);
    const encrypted = dev?.type === 'crypt';
    return {
      path: m.mountpoint,
      label: dev?.label || null,
      kind: 'drive',
      device: dev?.path ?? (m.source || null),
      fsType: m.fsType || dev?.fsType || null,
      removable: dev ? isRemovable(dev) : false,
      mounted: true,
      encrypted,
      sizeBytes: sp.sizeBytes,
      freeBytes: sp.freeBytes,
      repositories,
      note: joinNotes(m.readOnly ? 'read-only' : null, sp.error),
    };
  });

  // 2. Unmounted devices: removable partitions with a filesystem, LUKS partitions, and (on
  //    request) loop devices.
  const unmounted: BackupTarget[] = [];
  for (const d of devices) {
    if (d.size <= 0 || mountedSources.has(d.path) || mountedSources.has(realpathOr(d.path))) continue;
    if (d.type === 'disk' && hasPartitions.has(d.path)) continue;
    if (!['part', 'disk', 'loop', 'crypt'].includes(d.type)) continue;
    if (!d.fsType || NOT_A_FILESYSTEM.has(d.fsType)) continue;
    const offered = isRemovable(d) || (d.type === 'loop' && options.includeLoopDevices === true);
    if (!offered) continue;
    const label = d.label || null;
    if (d.fsType === 'crypto_LUKS') {
      // Already unlocked: the unlocked volume is the target (listed itself), not the container.
      const holders = sysBlockList(kernelName(d), 'holders');
      if (holders.length > 0) {
        const names = holders.map((h) => dmName(h) ?? h);
        const anyMounted = names.some((n) => mountedSources.has(`/dev/mapper/${n}`));
        if (anyMounted || names.some((n) => byPath.has(`/dev/mapper/${n}`))) continue;
      }
      unmounted.push({
        path: d.path,
        label,
        kind: 'drive',
        device: d.path,
        fsType: d.fsType,
        removable: isRemovable(d),
        mounted: false,
        encrypted: true,
        sizeBytes: d.size,
        freeBytes: null,
        repositories: [],
        note: luksUnlockNote(d.path, label),
      });
      continue;
    }
    unmounted.push({
      path: d.path,
      label,
      kind: 'drive',
      device: d.path,
      fsType: d.fsType,
      removable: isRemovable(d),
      mounted: false,
      encrypted: d.type === 'crypt',
      sizeBytes: d.size,
      freeBytes: null,
      repositories: [],
      note: `not mounted — Lifeline can mount it at ${suggestedMountDir(d.path, label)}`,
    });
  }

  // 3. Configured folders (in parallel with the drives' sizes and repository scans).
  const seen = new Set([...chosen.values()].map((c) => c.m.mountpoint));
  const folderPromises = (options.extraFolders ?? []).map(async (folder): Promise<BackupTarget | null> => {
    const p = path.resolve(folder);
    if (seen.has(p)) return null;
    seen.add(p);
    const m = mountOf(p, mounts);
    const dev = m ? deviceOfSource(m.source) : null;
    let exists = false;
    let problem: string | null = null;
    try {
      const st = await withTimeout(shared(`stat:${p}`, () => fs.promises.stat(p)), STATFS_TIMEOUT_MS);
      exists = st.isDirectory();
      if (!exists) problem = 'not a folder';
    } catch (err) {
      problem = err instanceof TimeoutError ? 'not responding (the share may be offline)' : errText(err);
    }
    const described = exists ? await describePath(p) : null;
    return {
      path: p,
      label: null,
      kind: 'folder',
      device: dev?.path ?? (m?.source || null),
      fsType: m?.fsType ?? null,
      removable: dev ? isRemovable(dev) : false,
      mounted: exists && !described?.space.timedOut,
      encrypted: dev?.type === 'crypt',
      sizeBytes: described?.space.sizeBytes ?? null,
      freeBytes: described?.space.freeBytes ?? null,
      repositories: described?.repositories ?? [],
      note: joinNotes(problem, described?.space.error, m?.readOnly ? 'read-only' : null),
    };
  });
  const [drivesRaw, foldersRaw] = await Promise.all([Promise.all(drivePromises), Promise.all(folderPromises)]);
  const folders = foldersRaw.filter((t): t is BackupTarget => t !== null);
  // A drive unmounted or pulled while we were measuring it: statfs may have measured the empty
  // folder left behind (the parent filesystem). Drop what is no longer mounted.
  const stillMounted = new Set(readMounts().map((m) => m.mountpoint));
  const drives = drivesRaw.filter((t) => stillMounted.has(t.path));

  drives.sort((a, b) => a.path.localeCompare(b.path));
  unmounted.sort((a, b) => a.path.localeCompare(b.path));
  return [...drives, ...unmounted, ...folders];
}

// ---------------------------------------------------------------------------------------------
// Mounting

async function probeDevice(device: string): Promise<{ fsType: string; label: string; known: boolean }> {
  const devices = await blockDevices();
  const real = realpathOr(device);
  let d = devices.find((x) => x.path === device || x.path === real || realpathOr(x.path) === real);
  if (!d) {
    d = { name: path.basename(real), path: device, type: 'part', fsType: '', label: '', size: 1, removable: false, usb: false, parent: null };
  }
  const known = d.fsType ? true : await probeMissing([d]);
  return { fsType: d.fsType, label: d.label, known };
}

function uniqueMountDir(base: string, mounts: MountEntry[]): string {
  const mounted = new Set(mounts.map((m) => m.mountpoint));
  for (let i = 1; i < 100; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    if (mounted.has(dir)) continue;
    try {
      if (fs.readdirSync(dir).length === 0) return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    }
  }
  throw new DriveError('mount-failed', `no free mount folder next to ${base}`);
}

/**
 * Mounts an unmounted filesystem at the operator's request. As root: mkdir
 * <mountRoot>/lifeline-<label or device name> and `mount -o nosuid,nodev <device> <dir>`;
 * otherwise through udisks (`udisksctl mount -b <device>`). Returns the existing mountpoint when
 * the device is already mounted. Errors are DriveErrors with a code and an operator-readable message.
 */
export async function mountDrive(device: string, options: MountOptions = {}): Promise<{ mountpoint: string }> {
  const mountRoot = path.resolve(options.mountRoot ?? '/media');
  let st: fs.Stats;
  try {
    st = fs.statSync(device);
  } catch (err) {
    throw new DriveError('not-a-device', `${device}: ${errText(err)} — was the drive unplugged?`);
  }
  if (!st.isBlockDevice()) throw new DriveError('not-a-device', `${device} is not a block device`);
  const real = realpathOr(device);

  const mounts = readMounts();
  const existing = mounts.filter((m) => m.source === device || (m.source.startsWith('/dev/') && realpathOr(m.source) === real));
  if (existing.length > 0) {
    const pick = existing.find((m) => isUnder(m.mountpoint, mountRoot)) ?? existing[0]!;
    return { mountpoint: pick.mountpoint };
  }

  const { fsType, label, known } = await probeDevice(device);
  if (fsType === 'crypto_LUKS') throw new DriveError('luks', luksUnlockNote(device, label || null));
  // (Unknown because it could not be probed, e.g. not root and no udev: let mount/udisks decide.)
  if (!fsType && known) {
    throw new DriveError('no-filesystem', `${device} has no filesystem this system recognises (blank, unknown or damaged); it cannot be mounted`);
  }
  if (NOT_A_FILESYSTEM.has(fsType)) throw new DriveError('no-filesystem', `${device} holds ${fsType}, not a filesystem that can hold backups`);

  if (!isRoot()) {
    const udisksctl = findProgram('udisksctl');
    if (!udisksctl) {
      throw new DriveError(
        'no-permission',
        `Mounting ${device} needs root, or udisks2 (udisksctl) for a desktop user; neither is available. Run Lifeline as root, or mount it yourself: sudo mount ${device} ${suggestedMountDir(device, label || null, mountRoot)}`,
      );
    }
    const res = await run(udisksctl, ['mount', '-b', device, '--no-user-interaction'], 30000);
    const m = /Mounted \S+ at (.+?)\.?\s*$/m.exec(res.stdout);
    if (res.code !== 0 || !m?.[1]) {
      throw new DriveError(/not authori[sz]ed/i.test(res.stderr) ? 'no-permission' : 'mount-failed', `udisksctl could not mount ${device}: ${(res.stderr || res.stdout).trim()}`);
    }
    return { mountpoint: m[1] };
  }

  const mountBin = findProgram('mount');
  if (!mountBin) throw new DriveError('mount-failed', 'the mount program is not installed');
  const dir = uniqueMountDir(suggestedMountDir(device, label || null, mountRoot), mounts);
  const created = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const res = await run(mountBin, ['-o', 'nosuid,nodev', device, dir], 30000);
  if (res.code !== 0) {
    if (created) {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* leave it */
      }
    }
    const msg = res.stderr.trim();
    if (/unknown filesystem type/i.test(msg)) {
      const kind = fsType || 'this kind of';
      throw new DriveError('unsupported-fs', `This system cannot read ${kind} filesystems (its kernel has no support for them), so ${device} cannot be mounted here; use a drive formatted as ext4 (or one this system supports). mount said: ${msg}`);
    }
    throw new DriveError('mount-failed', `mount ${device} ${dir} failed: ${msg || `exit code ${res.code}`}`);
  }
  return { mountpoint: dir };
}

// ---------------------------------------------------------------------------------------------
// Watching

function freeBucket(t: BackupTarget): string {
  if (t.freeBytes === null) return '-';
  if (t.sizeBytes && t.sizeBytes > 0) return String(Math.floor((t.freeBytes / t.sizeBytes) * 100));
  return String(Math.floor(Math.log2(t.freeBytes + 1)));
}

/** What counts as "the targets changed": identity, mount state, repositories, free space to ~1%. */
export function targetsKey(targets: BackupTarget[]): string {
  return targets
    .map((t) => [t.kind, t.path, t.mounted ? 'm' : 'u', t.encrypted ? 'e' : '', t.repositories.join(','), freeBucket(t)].join('|'))
    .sort()
    .join('\n');
}

/**
 * Polls listBackupTargets every intervalMs (default 2000) and calls listener with the new list
 * whenever the targets change (and once with the first listing). Listings never overlap; a
 * listener that throws does not stop the watch.
 */
export function watchBackupTargets(listener: (targets: BackupTarget[]) => void, options: WatchOptions = {}): { stop(): void } {
  const { intervalMs = 2000, ...listOptions } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let lastKey: string | null = null;

  const tick = async () => {
    if (stopped) return;
    try {
      const targets = await listBackupTargets(listOptions);
      const key = targetsKey(targets);
      if (!stopped && key !== lastKey) {
        lastKey = key;
        try {
          listener(targets);
        } catch {
          /* the listener's problem; keep watching */
        }
      }
    } catch {
      /* listBackupTargets does not throw; if it ever does, try again next tick */
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
