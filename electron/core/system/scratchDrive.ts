// A small scratch filesystem for drills: an ext4 image on a loop device, mounted inside the
// drill's sandbox. It gives a real "disk full" and a real drive that can be pulled out mid-way.
// Needs root, losetup and mkfs.ext4; null when they are not there (the drill says it skipped).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ScratchDrive {
  mountpoint: string;
  /** Lazy unmount and detach: what yanking a USB drive does to the files on it. */
  pull(): void;
  /** Plug the same image back in at the same place. */
  remount(): void;
  detach(): void;
}

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });

export function scratchDriveAvailable(): boolean {
  return process.getuid?.() === 0 && run('losetup', ['--version']).status === 0 && run('mkfs.ext4', ['-V']).status === 0;
}

export function createScratchDrive(dir: string, sizeMiB: number): ScratchDrive | null {
  if (!scratchDriveAvailable()) return null;
  fs.mkdirSync(dir, { recursive: true });
  const image = path.join(dir, 'drive.img');
  const mountpoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountpoint, { recursive: true });
  fs.closeSync(fs.openSync(image, 'w'));
  fs.truncateSync(image, sizeMiB << 20);
  if (run('mkfs.ext4', ['-F', '-q', '-m', '0', '-L', 'DRILL', image]).status !== 0) return null;
  let device = '';
  const attach = (): boolean => {
    const r = run('losetup', ['--find', '--show', image]);
    if (r.status !== 0) return false;
    device = r.stdout.trim();
    return run('mount', [device, mountpoint]).status === 0;
  };
  const unplug = () => {
    run('umount', ['-l', mountpoint]);
    if (device) run('losetup', ['-d', device]);
    device = '';
  };
  if (!attach()) {
    unplug();
    return null;
  }
  return {
    mountpoint,
    pull: unplug,
    remount: () => {
      if (!device) attach();
    },
    detach: () => {
      unplug();
      fs.rmSync(image, { force: true });
    },
  };
}
