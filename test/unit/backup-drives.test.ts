// Backup-target detection against real block devices: small ext4 (and LUKS) images on loop
// devices, mounted under a temporary scan root. Needs root and losetup; skipped, with the reason
// in the suite's name, where that is missing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DriveError,
  listBackupTargets,
  mountDrive,
  REPO_MARKER_FILE,
  targetsKey,
  watchBackupTargets,
  type BackupTarget,
} from '../../electron/core/backup/drives.js';
import { tempDir } from '../helpers/env.js';
import { canUseLoopDevices, createLoopDrive, detachAllLoopDrives, fillDrive, leftoverLoopDevices, luksSupport } from '../helpers/loopdev.js';

const MiB = 1024 * 1024;

function markRepo(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, REPO_MARKER_FILE), '{}');
}

function target(list: BackupTarget[], p: string): BackupTarget | undefined {
  return list.find((t) => t.path === p);
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | null | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backup targets without devices', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('lifeline-drives-');
  });
  afterEach(() => tmp.cleanup());

  it('a configured extra folder is listed as a folder with the free space of the filesystem it is on', async () => {
    const nas = path.join(tmp.dir, 'nas-share');
    markRepo(path.join(nas, 'lifeline', 'ward-3'));
    const list = await listBackupTargets({ roots: [path.join(tmp.dir, 'media')], extraFolders: [nas] });
    const t = target(list, nas);
    expect(t).toBeDefined();
    expect(t).toMatchObject({ kind: 'folder', mounted: true, removable: false, encrypted: false, note: null });
    expect(t!.sizeBytes).toBeGreaterThan(0);
    expect(t!.freeBytes).toBeGreaterThan(0);
    expect(t!.freeBytes!).toBeLessThanOrEqual(t!.sizeBytes!);
    expect(t!.fsType).toBeTruthy();
    expect(t!.repositories).toEqual([path.join(nas, 'lifeline', 'ward-3')]);
  });

  it('a missing or unusable extra folder is annotated instead of breaking the listing', async () => {
    const missing = path.join(tmp.dir, 'gone');
    const file = path.join(tmp.dir, 'a-file');
    fs.writeFileSync(file, 'x');
    const ok = path.join(tmp.dir, 'ok');
    fs.mkdirSync(ok);
    const list = await listBackupTargets({ roots: [path.join(tmp.dir, 'media')], extraFolders: [missing, file, ok] });
    expect(target(list, missing)).toMatchObject({ kind: 'folder', mounted: false, sizeBytes: null, note: 'not found' });
    expect(target(list, file)).toMatchObject({ kind: 'folder', mounted: false, note: 'not a folder' });
    expect(target(list, ok)).toMatchObject({ kind: 'folder', mounted: true });
  });

  it('free-space changes smaller than about one percent do not count as a change of targets', () => {
    const base: BackupTarget = {
      path: '/media/x', label: 'X', kind: 'drive', device: '/dev/sdz1', fsType: 'ext4', removable: true, mounted: true,
      encrypted: false, sizeBytes: 1000 * MiB, freeBytes: 500.2 * MiB, repositories: [], note: null,
    };
    expect(targetsKey([{ ...base, freeBytes: 500.9 * MiB }])).toBe(targetsKey([base]));
    expect(targetsKey([{ ...base, freeBytes: 520 * MiB }])).not.toBe(targetsKey([base]));
    expect(targetsKey([{ ...base, repositories: ['/media/x/r'] }])).not.toBe(targetsKey([base]));
    expect(targetsKey([{ ...base, mounted: false }])).not.toBe(targetsKey([base]));
  });
});

const loop = canUseLoopDevices();
const luks = luksSupport();

describe.skipIf(!loop.ok)(`backup targets on real loop devices${loop.ok ? '' : ` (skipped: ${loop.reason})`}`, () => {
  let scan: ReturnType<typeof tempDir>;
  let media: string;

  beforeEach(() => {
    scan = tempDir('lifeline-media-');
    media = scan.dir;
  });
  afterEach(() => {
    detachAllLoopDrives();
    scan.cleanup();
  });
  afterAll(() => {
    detachAllLoopDrives();
    expect(leftoverLoopDevices()).toEqual([]);
  });

  it('a mounted ext4 loop drive under a scan root is listed as a drive with its label, size and free space', async () => {
    const drive = createLoopDrive({ sizeMiB: 32, label: 'LLBACKUP', mountAt: path.join(media, 'usb-stick') });
    const list = await listBackupTargets({ roots: [media] });
    const t = target(list, drive.mountpoint);
    expect(t).toBeDefined();
    expect(t).toMatchObject({
      kind: 'drive', label: 'LLBACKUP', device: drive.device, fsType: 'ext4', mounted: true, encrypted: false, repositories: [], note: null,
    });
    // ext4's journal and inode tables are not counted: a 32 MiB image shows about 25 MiB.
    expect(t!.sizeBytes!).toBeGreaterThan(0.75 * 32 * MiB);
    expect(t!.sizeBytes!).toBeLessThanOrEqual(32 * MiB);
    expect(t!.freeBytes!).toBeGreaterThan(0.7 * 32 * MiB);
    expect(t!.freeBytes!).toBeLessThanOrEqual(t!.sizeBytes!);

    // Writing 8 MiB shows up as 8 MiB less free space.
    fs.writeFileSync(path.join(drive.mountpoint, 'data.bin'), Buffer.alloc(8 * MiB, 1));
    const fd = fs.openSync(path.join(drive.mountpoint, 'data.bin'), 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const after = target(await listBackupTargets({ roots: [media] }), drive.mountpoint)!;
    expect(t!.freeBytes! - after.freeBytes!).toBeGreaterThanOrEqual(8 * MiB);
    expect(t!.freeBytes! - after.freeBytes!).toBeLessThan(9 * MiB);
  });

  it('folders holding lifeline-repo.json on a drive are listed in repositories, up to three levels down', async () => {
    const drive = createLoopDrive({ sizeMiB: 32, label: 'LLREPOS', mountAt: path.join(media, 'repos') });
    const mp = drive.mountpoint;
    markRepo(path.join(mp, 'lifeline')); // depth 1
    markRepo(path.join(mp, 'hospital', 'ward-7', 'backups')); // depth 3
    markRepo(path.join(mp, 'lifeline', 'inner')); // inside a repository: not a separate one
    markRepo(path.join(mp, 'a', 'b', 'c', 'too-deep')); // depth 4
    fs.mkdirSync(path.join(mp, 'not-a-repo', REPO_MARKER_FILE), { recursive: true }); // a folder, not a file
    const t = target(await listBackupTargets({ roots: [media] }), mp)!;
    expect(t.repositories).toEqual([path.join(mp, 'hospital', 'ward-7', 'backups'), path.join(mp, 'lifeline')]);
  });

  it('a drive that is almost full shows almost no free space', async () => {
    const drive = createLoopDrive({ sizeMiB: 4, label: 'LLTINY', mountAt: path.join(media, 'tiny') });
    const left = fillDrive(drive.mountpoint, 256 * 1024);
    expect(left).toBeLessThanOrEqual(256 * 1024);
    const t = target(await listBackupTargets({ roots: [media] }), drive.mountpoint)!;
    expect(t.freeBytes!).toBeLessThanOrEqual(256 * 1024);
    expect(t.freeBytes! / t.sizeBytes!).toBeLessThan(0.1);
  });

  it('plugging a drive in while watching is noticed within 5 s, and pulling it out is noticed within 5 s', async () => {
    const seen: BackupTarget[][] = [];
    const watch = watchBackupTargets((list) => seen.push(list), { roots: [media] });
    try {
      await waitFor('the first listing', 5000, () => seen.length > 0);
      expect(seen[0]!.filter((t) => t.kind === 'drive' && t.mounted)).toEqual([]);

      const plugged = Date.now();
      const drive = createLoopDrive({ sizeMiB: 32, label: 'LLHOTPLUG', mountAt: path.join(media, 'hotplug') });
      const listed = await waitFor('the plugged drive', 5000, () => seen.at(-1)?.find((t) => t.path === drive.mountpoint && t.mounted));
      const plugMs = Date.now() - plugged;
      expect(listed.label).toBe('LLHOTPLUG');

      const calls = seen.length;
      const pulled = Date.now();
      drive.pull();
      await waitFor('the drive to disappear', 5000, () => seen.length > calls && !seen.at(-1)!.some((t) => t.path === drive.mountpoint));
      const pullMs = Date.now() - pulled;
      console.log(`[backup-drives] hot-plug noticed after ${plugMs} ms, pull after ${pullMs} ms (default 2000 ms poll)`);

      // Nothing changed: no more calls.
      const quiet = seen.length;
      await new Promise((r) => setTimeout(r, 2500));
      expect(seen.length).toBe(quiet);
    } finally {
      watch.stop();
    }
  });

  it('mountDrive mounts an unmounted loop drive under the mount root and it is then listed as mounted', async () => {
    const drive = createLoopDrive({ sizeMiB: 32, label: 'LLPLUGGED', mount: false });
    const before = await listBackupTargets({ roots: [media], includeLoopDevices: true });
    expect(target(before, drive.device)).toMatchObject({
      kind: 'drive', mounted: false, device: drive.device, label: 'LLPLUGGED', fsType: 'ext4', encrypted: false, freeBytes: null,
    });
    expect(target(before, drive.device)!.note).toMatch(/not mounted/);
    // Without includeLoopDevices an unmounted (non-removable) loop device is not offered.
    expect(target(await listBackupTargets({ roots: [media] }), drive.device)).toBeUndefined();

    const { mountpoint } = await mountDrive(drive.device, { mountRoot: media });
    expect(mountpoint).toBe(path.join(media, 'lifeline-LLPLUGGED'));
    const after = await listBackupTargets({ roots: [media], includeLoopDevices: true });
    expect(target(after, mountpoint)).toMatchObject({ kind: 'drive', mounted: true, label: 'LLPLUGGED', device: drive.device });
    expect(target(after, drive.device)).toBeUndefined();
    // Asking again returns where it already is.
    expect(await mountDrive(drive.device, { mountRoot: media })).toEqual({ mountpoint });
  });

  it('mountDrive refuses a blank device and a path that is not a device with clear errors', async () => {
    const blank = createLoopDrive({ sizeMiB: 4, label: 'blank', format: 'none' });
    await expect(mountDrive(blank.device, { mountRoot: media })).rejects.toMatchObject({ code: 'no-filesystem' });
    await expect(mountDrive(path.join(media, 'nope'), { mountRoot: media })).rejects.toBeInstanceOf(DriveError);
    await expect(mountDrive('/dev/null', { mountRoot: media })).rejects.toMatchObject({ code: 'not-a-device' });
    expect(fs.readdirSync(media)).toEqual([]); // no mount folders left behind
  });

  const minixUnsupported = !fs.readFileSync('/proc/filesystems', 'utf8').includes('minix');
  it.skipIf(!minixUnsupported)('mountDrive explains that this system cannot read a filesystem its kernel does not support', async () => {
    // Like a vfat or exFAT stick on a kernel without them (as on the development VMs).
    const drive = createLoopDrive({ sizeMiB: 4, label: 'minix', format: 'minix' });
    const err = await mountDrive(drive.device, { mountRoot: media }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriveError);
    expect((err as DriveError).code).toBe('unsupported-fs');
    expect((err as DriveError).message).toMatch(/cannot read minix filesystems/);
    expect(fs.readdirSync(media)).toEqual([]);
  });

  it(`a LUKS partition is listed as encrypted with instructions to unlock it (header from ${luks.reason})`, async () => {
    const drive = createLoopDrive({ sizeMiB: 32, label: 'LLSECRET', format: 'luks' });
    const list = await listBackupTargets({ roots: [media], includeLoopDevices: true });
    const t = target(list, drive.device);
    expect(t).toMatchObject({ kind: 'drive', device: drive.device, fsType: 'crypto_LUKS', encrypted: true, mounted: false, freeBytes: null });
    if (luks.method === 'cryptsetup') expect(t!.label).toBe('LLSECRET'); // LUKS2 carries a label; LUKS1 has none
    expect(t!.note).toContain(`cryptsetup open ${drive.device} lifeline-usb`);
    expect(t!.note).toContain('mount /dev/mapper/lifeline-usb /media/lifeline-usb');
    expect(t!.note).toContain(`udisksctl unlock -b ${drive.device}`);
    expect(t!.note).toMatch(/Lifeline cannot open LUKS itself/);
    // /proc/misc lists device-mapper when the kernel has it (/dev/mapper/control alone proves nothing).
    const dm = /\bdevice-mapper\b/.test(fs.readFileSync('/proc/misc', 'utf8'));
    if (dm) expect(t!.note).not.toMatch(/no device-mapper/);
    else expect(t!.note).toMatch(/kernel has no device-mapper, so the drive cannot be unlocked on this machine/);

    const err = await mountDrive(drive.device, { mountRoot: media }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriveError);
    expect((err as DriveError).code).toBe('luks');
    expect((err as DriveError).message).toContain('cryptsetup open');
  });

  it('a full listing with several drives and folders takes well under 2 s', async () => {
    const drives = [0, 1, 2].map((i) => createLoopDrive({ sizeMiB: 32, label: `LLFAST${i}`, mountAt: path.join(media, `d${i}`) }));
    for (const d of drives) markRepo(path.join(d.mountpoint, 'lifeline'));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const list = await listBackupTargets({ roots: [media, '/media', '/run/media', '/mnt'], extraFolders: [media] });
      times.push(performance.now() - t0);
      expect(list.filter((t) => t.kind === 'drive' && t.mounted && t.path.startsWith(media))).toHaveLength(3);
    }
    console.log(`[backup-drives] listBackupTargets: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    expect(Math.max(...times)).toBeLessThan(2000);
    expect(Math.min(...times)).toBeLessThan(500);
  });

  it('a drive pulled without unmounting disappears from the listing without errors', async () => {
    const drive = createLoopDrive({ sizeMiB: 32, label: 'LLYANK', mountAt: path.join(media, 'yank') });
    // Keep a file open on it so the unmount has to be lazy, as with a real yank mid-backup.
    let fd: number | null = fs.openSync(path.join(drive.mountpoint, 'open.bin'), 'w');
    try {
      drive.pull();
      const list = await listBackupTargets({ roots: [media], extraFolders: [drive.mountpoint] });
      expect(list.some((t) => t.kind === 'drive' && t.path === drive.mountpoint)).toBe(false);
      // The configured folder is now just the empty folder on the parent filesystem.
      expect(target(list, drive.mountpoint)).toMatchObject({ kind: 'folder', repositories: [] });
      fs.closeSync(fd);
      fd = null;
      drive.remount(); // plugged back in
      const back = await listBackupTargets({ roots: [media] });
      expect(target(back, drive.mountpoint)).toMatchObject({ mounted: true, label: 'LLYANK' });
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  });

  it('leaves no loop device of this suite attached', () => {
    detachAllLoopDrives();
    expect(leftoverLoopDevices()).toEqual([]);
  });
});
