// checkStorage against real filesystems: a temp folder, a read-only bind mount, a tmpfs, and small
// ext4 "drives" on loop devices filled to the brim (bytes and inodes). The mount tests need root
// and mount(8); they are skipped, with the reason in their name, where that is missing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, Finding } from '../../electron/core/system/finding.js';
import { checkStorage, writeProbe } from '../../electron/core/system/storage.js';
import { TEST_OUTPUT, tempDir } from '../helpers/env.js';
import { temporaryLocationWarning } from '../../electron/core/store/dataRoot.js';

/**
 * A folder that is not temporary: the test output folder, unless the checkout itself sits in a
 * temporary place (a CI clone under /tmp), then a folder under /var/lib (root only).
 */
function durableTestFolder(prefix: string): string | null {
  if (temporaryLocationWarning(TEST_OUTPUT) === null) {
    fs.mkdirSync(TEST_OUTPUT, { recursive: true });
    return fs.mkdtempSync(path.join(TEST_OUTPUT, prefix));
  }
  if (process.getuid?.() !== 0) return null;
  fs.mkdirSync('/var/lib/lifeline-tests', { recursive: true });
  return fs.mkdtempSync(path.join('/var/lib/lifeline-tests', prefix));
}
import { canUseLoopDevices, createLoopDrive, detachAllLoopDrives, fillDrive } from '../helpers/loopdev.js';

const MiB = 1024 * 1024;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const loop = canUseLoopDevices();
const mountReason = isRoot ? '' : ' (skipped: needs root to mount)';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      /* best effort */
    }
  }
  detachAllLoopDrives();
});

function scratch(): string {
  const t = tempDir('lifeline-storage-');
  cleanups.push(t.cleanup);
  return t.dir;
}

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

function isMountedAt(dir: string): string | null {
  const line = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === dir)
    .pop();
  return line ?? null;
}

/** Mounts at dir and registers the unmount for afterEach. */
function mountAt(args: string[], dir: string): void {
  const r = sh('mount', [...args, dir]);
  if (!r.ok) throw new Error(`mount ${args.join(' ')} ${dir}: ${r.out}`);
  cleanups.push(() => {
    if (!sh('umount', [dir]).ok) sh('umount', ['-l', dir]);
  });
}

function byCode(r: CheckResult, code: string): Finding {
  const f = r.findings.find((x) => x.code === code);
  if (!f) throw new Error(`no finding ${code}; got ${r.findings.map((x) => `${x.code}:${x.severity}`).join(', ')}`);
  return f;
}

function sev(r: CheckResult): Record<string, string> {
  return Object.fromEntries(r.findings.map((f) => [f.code, f.severity]));
}

function noProbeLeftovers(dir: string): void {
  expect(fs.readdirSync(dir).filter((n) => n.startsWith('.lifeline-probe-'))).toEqual([]);
}

describe('checkStorage on ordinary folders', () => {
  it('a temp folder: mount, space, inodes, writable; warns that /tmp is temporary', async () => {
    const dir = scratch();
    const r = await checkStorage(dir);
    console.log(`checkStorage(${dir}): ${r.status} in ${r.durationMs} ms\n  ${r.findings.map((f) => `${f.severity.padEnd(4)} ${f.code}: ${f.message}`).join('\n  ')}`);
    expect(r.status).toBe('warn');
    expect(sev(r)).toMatchObject({ 'storage.mount': 'ok', 'storage.temporary-location': 'warn', 'storage.writable': 'ok' });
    expect(['ok', 'warn', 'fail']).toContain(byCode(r, 'storage.free-space').severity);
    expect(byCode(r, 'storage.mount').evidence[0]).toMatch(/ on \/\S* type \w+ \(rw/);
    expect(byCode(r, 'storage.temporary-location').message).toContain('reboot may empty');
    noProbeLeftovers(dir);
  });

  it('the project folder (not temporary): no temporary-location warning', async (ctx) => {
    const maybe = durableTestFolder('storage-');
    if (!maybe) return ctx.skip('the checkout is in a temporary folder and this is not root: no durable folder to test in');
    const dir = maybe;
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const r = await checkStorage(dir);
    expect(r.findings.some((f) => f.code === 'storage.temporary-location')).toBe(false);
    expect(byCode(r, 'storage.writable').severity).toBe('ok');
  });

  it('a missing data root fails (a mount that did not come back?) and offers to create it', async () => {
    const dir = path.join(scratch(), 'lifeline', 'data');
    const r = await checkStorage(dir);
    const f = byCode(r, 'storage.data-root-missing');
    expect(f.severity).toBe('fail');
    expect(f.advice).toMatch(/not mounted/);
    expect(f.actions).toEqual([{ id: 'storage.create-data-root', label: 'Create the data root folder', destructive: false }]);
    expect(r.findings.some((x) => x.code === 'storage.writable' || x.code === 'storage.write-failed')).toBe(false);
    expect(byCode(r, 'storage.free-space').evidence[0]).toContain(path.dirname(path.dirname(dir))); // measured on the nearest existing folder
    expect(r.status).toBe('fail');
  });

  it('expected mounts: a real mount point is ok, a plain folder or a missing path fails', async () => {
    const plain = scratch();
    const r = await checkStorage(scratch(), { expectedMounts: ['/proc', plain, path.join(plain, 'nope')] });
    const got = r.findings.filter((f) => f.code.startsWith('storage.expected-mount')).map((f) => [f.code, f.severity, f.message]);
    expect(got).toEqual([
      ['storage.expected-mount', 'ok', '/proc is mounted (proc, proc)'],
      ['storage.expected-mount-missing', 'fail', `${plain} is not mounted`],
      ['storage.expected-mount-missing', 'fail', `${path.join(plain, 'nope')} is not mounted`],
    ]);
    expect(byCode(r, 'storage.expected-mount-missing').evidence[0]).toMatch(/exists as a plain folder .*wrong disk/);
  });

  it('writeProbe reports the failing step and errno, and leaves nothing behind', () => {
    const dir = scratch();
    expect(writeProbe(dir)).toMatchObject({ ok: true });
    noProbeLeftovers(dir);
    const gone = writeProbe(path.join(dir, 'missing'));
    expect(gone).toMatchObject({ ok: false, step: 'create', errno: 'ENOENT' });
  });
});

describe(`checkStorage on mounts${mountReason}`, () => {
  it.skipIf(!isRoot)('a read-only bind mount: fails as read-only, and the write probe fails with EROFS', async () => {
    const src = scratch();
    const dst = scratch();
    fs.writeFileSync(path.join(src, 'catalog.sqlite'), 'x');
    mountAt(['--bind', src], dst);
    // util-linux applies ro to a bind mount with a remount; do it explicitly for older versions
    const re = sh('mount', ['-o', 'remount,bind,ro', dst]);
    expect(re.ok, re.out).toBe(true);
    expect(isMountedAt(dst)).toMatch(/ ro[, ]/);
    const r = await checkStorage(dst, { expectedMounts: [dst] });
    expect(r.status).toBe('fail');
    const ro = byCode(r, 'storage.read-only');
    expect(ro.severity).toBe('fail');
    expect(ro.message).toMatch(/read-only mount .*remounted read-only after errors/);
    expect(ro.evidence[0]).toContain(`on ${dst} type`);
    const w = byCode(r, 'storage.write-failed');
    expect(w).toMatchObject({ severity: 'fail' });
    expect(w.message).toMatch(/create failed with EROFS/);
    expect(byCode(r, 'storage.expected-mount-read-only').severity).toBe('warn');
    noProbeLeftovers(src);
  });

  it.skipIf(!isRoot)('a data root on tmpfs outside /tmp: warns that a power cut erases it', async () => {
    const dir = durableTestFolder('tmpfs-')!;
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    mountAt(['-t', 'tmpfs', '-o', 'size=4m', 'lifeline-test-tmpfs'], dir);
    const r = await checkStorage(dir);
    expect(byCode(r, 'storage.mount').message).toContain('(tmpfs)');
    const t = byCode(r, 'storage.temporary-location');
    expect(t.severity).toBe('warn');
    expect(t.message).toMatch(/tmpfs filesystem held in memory/);
    expect(byCode(r, 'storage.writable').severity).toBe('ok');
  });
});

describe(`checkStorage on a small loop drive${loop.ok ? '' : ` (skipped: ${loop.reason})`}`, () => {
  it.skipIf(!loop.ok)('empty, nearly full and almost full, with scaled thresholds; defaults fail a tiny disk', async () => {
    const drive = createLoopDrive({ sizeMiB: 8, label: 'llstorage' });
    const root = path.join(drive.mountpoint, 'lifeline');
    fs.mkdirSync(root);
    const scaled = { warnBytes: 0, failBytes: 0 }; // ratios only: 10% warn, 2% fail
    const empty = await checkStorage(root, { thresholds: scaled, expectedMounts: [drive.mountpoint] });
    expect(sev(empty)).toMatchObject({ 'storage.mount': 'ok', 'storage.free-space': 'ok', 'storage.inodes': 'ok', 'storage.writable': 'ok', 'storage.expected-mount': 'ok' });
    expect(byCode(empty, 'storage.mount').message).toContain(`mounted at ${drive.mountpoint}`);
    expect(byCode(empty, 'storage.mount').evidence[0]).toMatch(/^\/dev\/loop\d+ on .* type ext4/);
    // the defaults (fail < 200 MiB) judge an 8 MiB disk as almost full
    expect(byCode(await checkStorage(root), 'storage.free-space').severity).toBe('fail');

    const total = Number(fs.statfsSync(root).blocks) * Number(fs.statfsSync(root).bsize);
    fillDrive(drive.mountpoint, Math.floor(total * 0.06));
    const low = await checkStorage(root, { thresholds: scaled });
    const lowF = byCode(low, 'storage.free-space');
    expect(lowF.severity).toBe('warn');
    expect(lowF.message).toMatch(/^Disk space is getting low: .* free of .* \(\d\.\d%\)/);
    expect(lowF.advice).toMatch(/Free space/);

    fillDrive(drive.mountpoint, Math.floor(total * 0.01));
    const full = await checkStorage(root, { thresholds: scaled });
    expect(byCode(full, 'storage.free-space').severity).toBe('fail');
    expect(byCode(full, 'storage.free-space').message).toMatch(/^Disk almost full/);
    expect(byCode(full, 'storage.free-space').advice).toMatch(/Do not start an index rebuild or a restore/);
    expect(byCode(full, 'storage.writable').severity).toBe('ok'); // a few KiB still fit
    noProbeLeftovers(root);
  });

  it.skipIf(!loop.ok)('a completely full drive: the write probe fails with ENOSPC', async () => {
    const drive = createLoopDrive({ sizeMiB: 8, label: 'llfull' });
    const root = path.join(drive.mountpoint, 'lifeline');
    fs.mkdirSync(root);
    fillDrive(drive.mountpoint, 0);
    // top up the last blocks
    const fd = fs.openSync(path.join(drive.mountpoint, 'last-blocks.bin'), 'a');
    try {
      for (let i = 0; i < 1000; i++) {
        fs.writeSync(fd, Buffer.alloc(1024));
        fs.fsyncSync(fd);
      }
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const r = await checkStorage(root);
    const w = byCode(r, 'storage.write-failed');
    expect(w.severity).toBe('fail');
    expect(w.message).toMatch(/failed with ENOSPC \(no space left/);
    expect(w.evidence[0]).toMatch(/^(write|fsync): ENOSPC/);
    noProbeLeftovers(root);
  });

  it.skipIf(!loop.ok)('inode exhaustion: bytes free but no file entries left', async () => {
    const drive = createLoopDrive({ sizeMiB: 8, label: 'llinodes' });
    const root = path.join(drive.mountpoint, 'lifeline');
    const many = path.join(drive.mountpoint, 'many');
    fs.mkdirSync(root);
    fs.mkdirSync(many);
    let made = 0;
    try {
      for (; made < 100_000; made++) fs.closeSync(fs.openSync(path.join(many, String(made)), 'w'));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const st = fs.statfsSync(root);
    expect(Number(st.ffree)).toBe(0);
    expect(Number(st.bavail)).toBeGreaterThan(0);
    const r = await checkStorage(root);
    const i = byCode(r, 'storage.inodes');
    expect(i.severity).toBe('fail');
    expect(i.message).toMatch(/^Few inodes left: 0 of \d+ free/);
    expect(byCode(r, 'storage.write-failed').message).toMatch(/create failed with ENOSPC/);
    expect(made).toBeGreaterThan(1000);
  });
});
