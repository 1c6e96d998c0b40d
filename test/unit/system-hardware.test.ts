// checkHardware end to end: on this machine as it is, with no tools on the PATH (missing tools must
// be 'info', never 'fail'), and with small shell scripts standing in for smartctl, upsc, dmesg,
// journalctl, timedatectl and ip (none of which can show a failing disk or a UPS on battery here)
// plus a /proc and /sys laid out as on a server after a bad night.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, Finding } from '../../electron/core/system/finding.js';
import { checkHardware, findExecutable, runCommand, type HardwareSection } from '../../electron/core/system/hardware.js';
import { tempDir } from '../helpers/env.js';

const SEVERITIES = ['ok', 'warn', 'fail', 'info'];

function expectWellFormed(r: CheckResult): void {
  expect(['ok', 'warn', 'fail', 'skipped']).toContain(r.status);
  expect(r.durationMs).toBeGreaterThanOrEqual(0);
  expect(r.findings.length).toBeGreaterThan(0);
  for (const f of r.findings) {
    expect(f.code).toMatch(/^hardware\.[a-z0-9.-]+$/);
    expect(SEVERITIES).toContain(f.severity);
    expect(typeof f.message).toBe('string');
    expect(f.message.length).toBeGreaterThan(0);
    expect(Array.isArray(f.evidence)).toBe(true);
    for (const e of f.evidence) {
      expect(typeof e).toBe('string');
      expect(e.length).toBeLessThanOrEqual(4000);
    }
    expect(Array.isArray(f.actions)).toBe(true);
    if (f.advice !== undefined) expect(f.advice.length).toBeGreaterThan(0);
  }
  const worst = r.findings.some((f) => f.severity === 'fail') ? 'fail' : r.findings.some((f) => f.severity === 'warn') ? 'warn' : 'ok';
  expect(r.status).toBe(worst);
}

function byCode(r: CheckResult, code: string): Finding {
  const f = r.findings.find((x) => x.code === code);
  if (!f) throw new Error(`no finding ${code}; got ${r.findings.map((x) => `${x.code}:${x.severity}`).join(', ')}`);
  return f;
}

function summary(r: CheckResult): string[] {
  return r.findings.map((f) => `${f.severity.padEnd(4)} ${f.code}: ${f.message}`);
}

// --- fakes ------------------------------------------------------------------------------------

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function scratch(): string {
  const t = tempDir('lifeline-hw-');
  cleanups.push(t.cleanup);
  return t.dir;
}

interface FakeCase {
  /** sh `case` pattern matched against "$*" */
  when: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  /** never answers (for timeouts) */
  hang?: boolean;
}

const SLEEP = findExecutable('sleep') ?? '/bin/sleep';

/** A tool made of shell builtins only (it runs with PATH = the fake folder), answering per arguments. */
function fakeTool(dir: string, name: string, cases: FakeCase[]): void {
  const arms = cases.map((c, i) => {
    const lines: string[] = [];
    if (c.hang) lines.push(`exec ${SLEEP} 30`);
    if (c.stdout !== undefined) {
      const f = path.join(dir, `.${name}.${i}.out`);
      fs.writeFileSync(f, c.stdout);
      lines.push(`while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < '${f}'`);
    }
    if (c.stderr !== undefined) lines.push(`printf '%s\\n' '${c.stderr.replace(/'/g, '')}' >&2`);
    lines.push(`exit ${c.exit ?? 0}`);
    const pattern = c.when.split('*').map((part) => (part ? `'${part}'` : '')).join('*');
    return `  ${pattern})\n    ${lines.join('\n    ')}\n    ;;`;
  });
  const script = `#!/bin/sh\ncase "$*" in\n${arms.join('\n')}\n  *) printf 'unexpected arguments: %s\\n' "$*" >&2; exit 2 ;;\nesac\n`;
  fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

const MDSTAT_DEGRADED = `Personalities : [raid1]
md0 : active raid1 sdb2[1](F) sda2[0]
      976630464 blocks super 1.2 [2/1] [U_]
      bitmap: 3/8 pages [12KB], 65536KB chunk

unused devices: <none>
`;

const MEMINFO_LOW = `MemTotal:       16303412 kB
MemFree:          201232 kB
MemAvailable:     812004 kB
Buffers:           10220 kB
Cached:           402112 kB
SwapTotal:       2097148 kB
SwapFree:          12004 kB
`;

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1EB4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31245 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31250 1 0000000000000000 100 0 0 10 0
`;

const ROUTE_DEFAULT = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eno1	00000000	0100A8C0	0003	0	0	100	00000000	0	0	0
eno1	0000A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
`;

const KERNEL_JOURNAL = `[  312.445218] ward-kb kernel: blk_update_request: I/O error, dev sda, sector 123456789 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
[  312.501112] ward-kb kernel: EXT4-fs error (device sda2): ext4_find_entry:1455: inode #2: comm python3: reading directory lblock 0
[  312.520331] ward-kb kernel: EXT4-fs (sda2): Remounting filesystem read-only
`;

const SMART_FAILING = JSON.stringify({
  smartctl: { version: [7, 3], exit_status: 24 },
  device: { name: '/dev/sda', info_name: '/dev/sda [SAT]', type: 'sat', protocol: 'ATA' },
  model_name: 'ST2000DM001-1ER164',
  serial_number: 'Z4Z1ABCD',
  smart_support: { available: true, enabled: true },
  smart_status: { passed: false },
  ata_smart_attributes: {
    revision: 10,
    table: [
      { id: 5, name: 'Reallocated_Sector_Ct', value: 3, worst: 3, thresh: 10, when_failed: 'now', flags: { value: 51, string: 'PO--CK ', prefailure: true }, raw: { value: 3960, string: '3960' } },
      { id: 197, name: 'Current_Pending_Sector', value: 100, worst: 100, thresh: 0, when_failed: '', flags: { value: 18, string: '-O--C- ', prefailure: false }, raw: { value: 16, string: '16' } },
    ],
  },
  temperature: { current: 38 },
});

/** A server after the power cut, as the tools and /proc would show it. */
function badNight(): { bin: string; proc: string; sys: string } {
  const root = scratch();
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fakeTool(bin, 'smartctl', [
    { when: '--scan -j', stdout: '{"devices":[{"name":"/dev/sda","info_name":"/dev/sda","type":"sat","protocol":"ATA"}]}' },
    { when: '-H -A -j -d sat /dev/sda', stdout: SMART_FAILING, exit: 24 },
  ]);
  fakeTool(bin, 'upsc', [
    { when: '-l', stdout: 'apc\n' },
    { when: 'apc', stdout: 'battery.charge: 8\nbattery.runtime: 95\ndevice.model: Back-UPS XS 1400U\nups.status: OB LB DISCHRG\n' },
  ]);
  fakeTool(bin, 'dmesg', [{ when: '*', stderr: 'dmesg: read kernel buffer failed: Operation not permitted', exit: 1 }]);
  fakeTool(bin, 'journalctl', [
    { when: '-k -b*', stdout: KERNEL_JOURNAL },
    {
      when: '--list-boots*',
      stdout: `IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY\n -1 7c3a0f5e2b1d4c6e8f9a0b1c2d3e4f50 Tue 2026-11-24 08:01:12 CST Wed 2026-11-25 19:42:03 CST\n  0 1f2e3d4c5b6a79881726354453627180 Thu 2026-11-26 07:55:40 CST Thu 2026-11-26 11:40:49 CST\n`,
    },
    { when: '-b -1*', stdout: '2026-11-25T19:41:40+0800 ward-kb python3[2231]: INFO:     172.18.0.1:50412 - "POST /chat/knowledge_base_chat HTTP/1.1" 200 OK\n2026-11-25T19:42:03+0800 ward-kb CRON[5521]: pam_unix(cron:session): session opened for user root\n' },
  ]);
  fakeTool(bin, 'timedatectl', [{ when: 'show', stdout: 'Timezone=Asia/Shanghai\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized=no\n' }]);
  fakeTool(bin, 'ip', [{ when: 'route show default', stdout: 'default via 192.168.0.1 dev eno1 proto dhcp metric 100\n' }]);
  const proc = path.join(root, 'proc');
  writeTree(proc, {
    mdstat: MDSTAT_DEGRADED,
    meminfo: MEMINFO_LOW,
    uptime: '187.52 350.11\n',
    'net/route': ROUTE_DEFAULT,
    'net/tcp': TCP,
    'net/tcp6': '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
    'net/ipv6_route': '',
  });
  const sys = path.join(root, 'sys');
  writeTree(sys, {
    'block/sda/size': '3907029168\n',
    'block/sda/ro': '0\n',
    'block/sda/removable': '0\n',
    'block/sda/queue/rotational': '1\n',
    'block/sda/device/vendor': 'ATA     \n',
    'block/sda/device/model': 'ST2000DM001-1ER1\n',
    'block/sda/device/state': 'running\n',
    'block/sdb/size': '3907029168\n',
    'block/sdb/ro': '0\n',
    'block/sdb/removable': '0\n',
    'block/sdb/queue/rotational': '1\n',
    'block/sdb/device/model': 'WDC WD20EZRZ-00Z\n',
    'block/sdb/device/state': 'offline\n',
    'block/loop0/size': '0\n',
  });
  return { bin, proc, sys };
}

// --- tests ------------------------------------------------------------------------------------

describe('checkHardware on this machine', () => {
  it('runs every section and returns well-formed findings', async () => {
    const r = await checkHardware({
      airGap: { allowedListeners: [] },
      lastSeenTime: new Date(Date.now() - 3600_000).toISOString(),
      previousRunEndedCleanly: true,
    });
    console.log(`checkHardware on this machine: ${r.status} in ${r.durationMs} ms\n  ${summary(r).join('\n  ')}`);
    expectWellFormed(r);
    const prefixes = ['hardware.disk', 'hardware.smart', 'hardware.raid', 'hardware.kernel', 'hardware.memory', 'hardware.temperature', 'hardware.uptime', 'hardware.clock', 'hardware.ntp', 'hardware.ups', 'hardware.airgap'];
    for (const p of prefixes) expect(r.findings.some((f) => f.code.startsWith(p)), p).toBe(true);
    expect(byCode(r, 'hardware.clean-exit').severity).toBe('ok');
    expect(byCode(r, 'hardware.clock').severity).toBe('ok');
    if (!findExecutable('smartctl')) expect(byCode(r, 'hardware.smart.unavailable')).toMatchObject({ severity: 'info', message: 'SMART not available (smartmontools not installed)' });
    if (!findExecutable('upsc')) expect(byCode(r, 'hardware.ups.unavailable').severity).toBe('info');
    if (!fs.existsSync('/proc/mdstat')) expect(byCode(r, 'hardware.raid.none').severity).toBe('info');
    // a missing or silent tool is never what makes this step fail
    const fails = r.findings.filter((f) => f.severity === 'fail').map((f) => f.code);
    expect(fails.filter((c) => /unavailable|none|no-devices|unsupported|unknown/.test(c))).toEqual([]);
    expect(r.durationMs).toBeLessThan(15_000);
  });

  it('no tools on the PATH: every tool-based check is "not available" (info), never a failure', async () => {
    const empty = scratch();
    const r = await checkHardware({ pathEnv: empty, airGap: {} });
    expectWellFormed(r);
    for (const code of ['hardware.smart.unavailable', 'hardware.ups.unavailable', 'hardware.kernel.unavailable', 'hardware.ntp.unavailable', 'hardware.previous-boot.unavailable']) {
      expect(byCode(r, code).severity, code).toBe('info');
    }
    expect(byCode(r, 'hardware.smart.unavailable').message).toBe('SMART not available (smartmontools not installed)');
    expect(byCode(r, 'hardware.ups.unavailable').message).toMatch(/not installed/);
    expect(byCode(r, 'hardware.kernel.unavailable').message).toMatch(/neither dmesg nor journalctl is installed/);
    const toolSections = /^hardware\.(smart|ups|kernel|ntp|previous-boot|previous-shutdown)/;
    expect(r.findings.filter((f) => toolSections.test(f.code) && f.severity !== 'info')).toEqual([]);
  });

  it('the sections option runs only what is asked; airgap only with airGap', async () => {
    const r = await checkHardware({ sections: ['memory', 'uptime', 'airgap'] });
    expect(r.findings.every((f) => /^hardware\.(memory|uptime)/.test(f.code))).toBe(true);
    const none = await checkHardware({ sections: [] as HardwareSection[] });
    expect(none).toMatchObject({ status: 'skipped', findings: [] });
  });
});

describe('checkHardware after a bad night (tool stand-ins, fake /proc and /sys)', () => {
  it('reports the failing disk, the degraded RAID, kernel errors via journalctl, the UPS on battery and the rest', async () => {
    const { bin, proc, sys } = badNight();
    const now = Date.parse('2026-11-26T03:40:00Z');
    const r = await checkHardware({
      pathEnv: bin,
      procRoot: proc,
      sysRoot: sys,
      now: () => now,
      lastSeenTime: '2026-11-26T05:00:00Z', // the clock is now behind the last run
      previousRunEndedCleanly: false,
      airGap: { allowedListeners: [22] },
      readCpuTemperature: async () => ({ main: 91, max: 93, cores: [90, 93] }),
    });
    console.log(`bad night: ${r.status}\n  ${summary(r).join('\n  ')}`);
    expectWellFormed(r);
    expect(r.status).toBe('fail');
    const sev = (code: string) => byCode(r, code).severity;
    expect(sev('hardware.disks')).toBe('ok');
    expect(byCode(r, 'hardware.disks').evidence.join('\n')).toMatch(/sda: 1\.8 TiB, ATA ST2000DM001-1ER1, rotational/);
    expect(sev('hardware.disk-offline')).toBe('fail');
    expect(byCode(r, 'hardware.disk-offline').message).toContain('sdb');
    expect(sev('hardware.smart.failing')).toBe('fail');
    expect(byCode(r, 'hardware.smart.failing').evidence.join('\n')).toContain('$ smartctl -H -A -j -d sat /dev/sda → exit 24');
    expect(sev('hardware.raid.degraded')).toBe('fail');
    expect(byCode(r, 'hardware.raid.degraded').evidence[0]).toContain('[2/1] [U_]');
    expect(byCode(r, 'hardware.raid.degraded').advice).toMatch(/lights/);
    expect(sev('hardware.kernel.fs-errors')).toBe('fail');
    expect(sev('hardware.kernel.io-errors')).toBe('fail');
    expect(sev('hardware.kernel.remounted-read-only')).toBe('fail');
    expect(byCode(r, 'hardware.kernel.fs-errors').evidence[0]).toContain('EXT4-fs error (device sda2)');
    expect(sev('hardware.memory.low')).toBe('warn');
    expect(sev('hardware.memory.swap-full')).toBe('warn');
    expect(sev('hardware.temperature.high')).toBe('warn');
    expect(byCode(r, 'hardware.uptime').message).toMatch(/started 3 min 8 s ago/);
    expect(sev('hardware.unclean-exit')).toBe('warn');
    expect(sev('hardware.previous-shutdown.unclean')).toBe('warn');
    expect(byCode(r, 'hardware.previous-shutdown.unclean').evidence.join('\n')).toContain('pam_unix');
    expect(sev('hardware.clock.jumped-backwards')).toBe('warn');
    expect(sev('hardware.ntp.not-synchronised')).toBe('warn');
    expect(sev('hardware.ups.low-battery')).toBe('fail');
    expect(byCode(r, 'hardware.ups.low-battery').message).toMatch(/on battery.*LOW.*1 min 35 s left/);
    expect(sev('hardware.airgap.default-route')).toBe('warn');
    expect(byCode(r, 'hardware.airgap.default-route').evidence).toContain('$ ip route show default\ndefault via 192.168.0.1 dev eno1 proto dhcp metric 100');
    expect(sev('hardware.airgap.exposed-listeners')).toBe('warn');
    expect(byCode(r, 'hardware.airgap.exposed-listeners').evidence[0]).toMatch(/^tcp LISTEN 0\.0\.0\.0:7860/);
  });

  it('a tool that hangs is cut off by the timeout; a silent sensor is "not available"', async () => {
    const bin = scratch();
    fakeTool(bin, 'smartctl', [
      { when: '--scan -j', stdout: '{"devices":[{"name":"/dev/sda","type":"sat"}]}' },
      { when: '-H*', hang: true },
    ]);
    fakeTool(bin, 'dmesg', [{ when: '*', hang: true }]);
    const started = Date.now();
    const r = await checkHardware({
      pathEnv: bin,
      sections: ['smart', 'kernel', 'temperature'],
      commandTimeoutMs: 300,
      readCpuTemperature: () => new Promise(() => {}),
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expectWellFormed(r);
    const smart = byCode(r, 'hardware.smart.timeout');
    expect(smart.severity).toBe('warn');
    expect(smart.evidence[0]).toMatch(/^\$ smartctl -H -A -j -d sat \/dev\/sda → timed out after \d+ ms$/);
    expect(byCode(r, 'hardware.kernel.unavailable').severity).toBe('info');
    expect(byCode(r, 'hardware.kernel.unavailable').evidence[0]).toMatch(/dmesg → timed out/);
    expect(byCode(r, 'hardware.temperature.unavailable').severity).toBe('info');
  });

  it('smartctl that finds no disk, or a disk without SMART: info', async () => {
    const bin = scratch();
    fakeTool(bin, 'smartctl', [
      { when: '--scan -j', stdout: '{"devices":[{"name":"/dev/sda","type":"scsi"}]}' },
      {
        when: '-H*',
        stdout: JSON.stringify({
          smartctl: { exit_status: 4, messages: [{ string: 'SMART support is: Unavailable - device lacks SMART capability.', severity: 'error' }] },
          device: { name: '/dev/sda', type: 'scsi', protocol: 'SCSI' },
          model_name: 'QEMU QEMU HARDDISK',
          smart_support: { available: false, enabled: false },
        }),
        exit: 4,
      },
    ]);
    const r = await checkHardware({ pathEnv: bin, sections: ['smart'] });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['hardware.smart.unsupported', 'info']]);
    const bin2 = scratch();
    fakeTool(bin2, 'smartctl', [{ when: '--scan -j', stdout: '{"devices":[]}' }]);
    const r2 = await checkHardware({ pathEnv: bin2, sections: ['smart'] });
    expect(r2.findings.map((f) => [f.code, f.severity])).toEqual([['hardware.smart.no-devices', 'info']]);
  });

  it('a sensor source that throws gives info, not an exception', async () => {
    const r = await checkHardware({
      sections: ['temperature'],
      readCpuTemperature: async () => {
        throw new Error('EACCES /sys/class/hwmon');
      },
    });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['hardware.temperature.unavailable', 'info']]);
  });
});

describe('runCommand', () => {
  it('captures output and exit code, reports a missing tool, kills on timeout', async () => {
    const ok = await runCommand('uname', ['-s']);
    expect(ok).toMatchObject({ found: true, code: 0, timedOut: false });
    expect(ok.stdout.trim()).toBe('Linux');
    const missing = await runCommand('smartctl-does-not-exist', ['-H']);
    expect(missing).toMatchObject({ found: false, code: null });
    const slow = await runCommand('sleep', ['10'], { timeoutMs: 200 });
    expect(slow).toMatchObject({ found: true, timedOut: true, code: null });
    expect(slow.durationMs).toBeLessThan(2000);
  });
});
