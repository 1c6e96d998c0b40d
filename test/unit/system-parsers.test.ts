// The pure parsers behind the hardware step, on realistic text as the kernel and the tools print it.
import { describe, expect, it } from 'vitest';
import { statusOf, type Finding } from '../../electron/core/system/finding.js';
import {
  airGapFindings,
  baseDisk,
  clockFindings,
  excerpt,
  exposedListeners,
  journalEndsCleanly,
  kernelFindings,
  parseJournalBoots,
  parseKernelLog,
  parseKeyEqualsValue,
  parseMdstat,
  parseMeminfo,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseProcNetTcp,
  parseSmartctlJson,
  parseSmartctlScan,
  parseUpsc,
  raidFindings,
  smartFindings,
  upsFindings,
} from '../../electron/core/system/hardware.js';
import { isReadOnlyMount, mountFor, parseMountinfo, spaceSeverity, inodeSeverity, unescapeMountField } from '../../electron/core/system/storage.js';

// --- samples ----------------------------------------------------------------------------------

const MDSTAT_DEGRADED = `Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10] 
md1 : active raid5 sdd1[3] sdc1[1] sdb1[0]
      1953259520 blocks super 1.2 level 5, 512k chunk, algorithm 2 [3/2] [UU_]
      [=>...................]  recovery =  8.5% (83046400/976629760) finish=72.3min speed=205888K/sec
      bitmap: 2/8 pages [8KB], 65536KB chunk

md0 : active raid1 sdb2[1](F) sda2[0]
      976630464 blocks super 1.2 [2/1] [U_]
      bitmap: 3/8 pages [12KB], 65536KB chunk

unused devices: <none>
`;

const MDSTAT_HEALTHY = `Personalities : [raid1] [raid0]
md0 : active raid1 sdb1[1] sda1[0]
      976630464 blocks super 1.2 [2/2] [UU]
      bitmap: 0/8 pages [0KB], 65536KB chunk

md2 : active raid0 sdd1[1] sdc1[0]
      1953260544 blocks super 1.2 512k chunks

unused devices: <none>
`;

const MDSTAT_INACTIVE = `Personalities : 
md127 : inactive sdb[1](S) sda[0](S)
      3906767024 blocks super 1.2

unused devices: <none>
`;

const MDSTAT_SPARE_TOOK_OVER = `Personalities : [raid1]
md0 : active raid1 sdc1[2] sdb1[1](F) sda1[0]
      976630464 blocks super 1.2 [2/2] [UU]

unused devices: <none>
`;

const MDSTAT_RESYNC = `Personalities : [raid1]
md0 : active raid1 sdb1[1] sda1[0]
      976630464 blocks super 1.2 [2/2] [UU]
      [=====>...............]  resync = 27.4% (267594112/976630464) finish=58.1min speed=203402K/sec

md1 : active (auto-read-only) raid1 sdb2[1] sda2[0]
      8384448 blocks super 1.2 [2/2] [UU]
      	resync=PENDING

unused devices: <none>
`;

const DMESG_EXT4_ERRORS = `[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)
[    0.453646] Write protecting the kernel read-only data: 32768k
[    2.114562] EXT4-fs (sda2): recovery complete
[    2.115903] EXT4-fs (sda2): mounted filesystem 0c0e2b9e-1a7f-4c1e-9d6e-6d2f8b3f4a11 with ordered data mode. Quota mode: none.
[    3.002115] loop0: detected capacity change from 0 to 65536
[  312.445120] ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x0
[  312.445127] ata1.00: failed command: READ DMA EXT
[  312.445201] sd 0:0:0:0: [sda] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE cmd_age=3s
[  312.445210] sd 0:0:0:0: [sda] tag#0 Sense Key : Medium Error [current]
[  312.445218] blk_update_request: I/O error, dev sda, sector 123456789 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
[  312.445300] Buffer I/O error on dev sda2, logical block 15432, async page read
[  312.501112] EXT4-fs error (device sda2): ext4_find_entry:1455: inode #2: comm python3: reading directory lblock 0
[  312.501200] EXT4-fs error (device sda2) in ext4_reserve_inode_write:5780: IO failure
[  312.512000] Aborting journal on device sda2-8.
[  312.520331] EXT4-fs (sda2): Remounting filesystem read-only
[  401.118230] Out of memory: Killed process 4242 (python3) total-vm:18563200kB, anon-rss:15422100kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:30520kB oom_score_adj:0
[  512.000001] I/O error, dev loop3, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2
[  512.000010] Buffer I/O error on dev loop3, logical block 256, lost async page write
`;

const DMESG_CLEAN = `[    0.000000] Linux version 6.1.0-18-amd64
[    0.453646] Write protecting the kernel read-only data: 32768k
[    2.115903] EXT4-fs (vda): mounted filesystem 81c26fcf-a0b8-4540-a546-55eb93736003 r/w with ordered data mode. Quota mode: none.
[ 3726.612505] EXT4-fs (loop0): mounted filesystem 81c26fcf-a0b8-4540-a546-55eb93736003 r/w with ordered data mode. Quota mode: none.
[ 3726.634327] EXT4-fs (loop0): unmounting filesystem 81c26fcf-a0b8-4540-a546-55eb93736003.
`;

const XFS_JOURNAL = `Nov 26 07:56:02 ward-kb kernel: XFS (dm-0): Metadata corruption detected at xfs_dinode_verify+0x1a2/0x6f0 [xfs], inode 0x2a07c1 dinode
Nov 26 07:56:02 ward-kb kernel: XFS (dm-0): Unmount and run xfs_repair
Nov 26 07:56:02 ward-kb kernel: XFS (dm-0): Corruption of in-memory data (0x8) detected at xfs_trans_cancel+0x13f/0x170 [xfs] (fs/xfs/xfs_trans.c:1097).  Shutting down filesystem.
Nov 26 07:56:02 ward-kb kernel: XFS (dm-0): Please unmount the filesystem and rectify the problem(s)
`;

const SMART_FAILING = JSON.stringify({
  json_format_version: [1, 0],
  smartctl: { version: [7, 3], svn_revision: '5338', platform_info: 'x86_64-linux-6.1.0-18-amd64', build_info: '(local build)', argv: ['smartctl', '-H', '-A', '-j', '/dev/sda'], exit_status: 24 },
  local_time: { time_t: 1795664152, asctime: 'Thu Nov 26 07:58:12 2026 CST' },
  device: { name: '/dev/sda', info_name: '/dev/sda [SAT]', type: 'sat', protocol: 'ATA' },
  model_family: 'Seagate Barracuda 7200.14 (AF)',
  model_name: 'ST2000DM001-1ER164',
  serial_number: 'Z4Z1ABCD',
  smart_support: { available: true, enabled: true },
  smart_status: { passed: false },
  ata_smart_attributes: {
    revision: 10,
    table: [
      { id: 1, name: 'Raw_Read_Error_Rate', value: 100, worst: 64, thresh: 6, when_failed: '', flags: { value: 15, string: 'POSR-- ', prefailure: true, updated_online: true, performance: true, error_rate: true, event_count: false, auto_keep: false }, raw: { value: 0, string: '0' } },
      { id: 5, name: 'Reallocated_Sector_Ct', value: 3, worst: 3, thresh: 10, when_failed: 'now', flags: { value: 51, string: 'PO--CK ', prefailure: true, updated_online: true, performance: false, error_rate: false, event_count: true, auto_keep: true }, raw: { value: 3960, string: '3960' } },
      { id: 9, name: 'Power_On_Hours', value: 53, worst: 53, thresh: 0, when_failed: '', flags: { value: 50, string: '-O--CK ', prefailure: false, updated_online: true, performance: false, error_rate: false, event_count: true, auto_keep: true }, raw: { value: 41234, string: '41234' } },
      { id: 194, name: 'Temperature_Celsius', value: 38, worst: 52, thresh: 0, when_failed: '', flags: { value: 34, string: '-O---K ', prefailure: false, updated_online: true, performance: false, error_rate: false, event_count: false, auto_keep: true }, raw: { value: 38, string: '38 (0 15 0 0 0)' } },
      { id: 197, name: 'Current_Pending_Sector', value: 100, worst: 100, thresh: 0, when_failed: '', flags: { value: 18, string: '-O--C- ', prefailure: false, updated_online: true, performance: false, error_rate: false, event_count: true, auto_keep: false }, raw: { value: 16, string: '16' } },
      { id: 198, name: 'Offline_Uncorrectable', value: 100, worst: 100, thresh: 0, when_failed: '', flags: { value: 16, string: '----C- ', prefailure: false, updated_online: false, performance: false, error_rate: false, event_count: true, auto_keep: false }, raw: { value: 16, string: '16' } },
    ],
  },
  power_on_time: { hours: 41234 },
  power_cycle_count: 112,
  temperature: { current: 38 },
});

const SMART_PENDING_ONLY = JSON.stringify({
  smartctl: { exit_status: 64 },
  device: { name: '/dev/sdb', type: 'sat', protocol: 'ATA' },
  model_name: 'WDC WD10EZEX-08WN4A0',
  serial_number: 'WD-WCC6Y0000001',
  smart_support: { available: true, enabled: true },
  smart_status: { passed: true },
  ata_smart_attributes: {
    table: [
      { id: 5, name: 'Reallocated_Sector_Ct', value: 200, worst: 200, thresh: 140, when_failed: '', flags: { prefailure: true }, raw: { value: 0 } },
      { id: 197, name: 'Current_Pending_Sector', value: 200, worst: 200, thresh: 0, when_failed: '', flags: { prefailure: false }, raw: { value: 2 } },
    ],
  },
  temperature: { current: 41 },
});

const SMART_NVME_OK = JSON.stringify({
  smartctl: { exit_status: 0 },
  device: { name: '/dev/nvme0', info_name: '/dev/nvme0', type: 'nvme', protocol: 'NVMe' },
  model_name: 'Samsung SSD 980 PRO 1TB',
  serial_number: 'S5GXNF0R000000A',
  smart_support: { available: true, enabled: true },
  smart_status: { passed: true, nvme: { value: 0 } },
  nvme_smart_health_information_log: { critical_warning: 0, temperature: 43, available_spare: 100, available_spare_threshold: 10, percentage_used: 3, media_errors: 0, num_err_log_entries: 12 },
  temperature: { current: 43 },
  power_on_time: { hours: 9120 },
});

const SMART_VIRTUAL = JSON.stringify({
  smartctl: { exit_status: 4, messages: [{ string: 'SMART support is: Unavailable - device lacks SMART capability.', severity: 'error' }] },
  device: { name: '/dev/sda', info_name: '/dev/sda', type: 'scsi', protocol: 'SCSI' },
  model_name: 'QEMU QEMU HARDDISK',
  smart_support: { available: false, enabled: false },
});

const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:1EB4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31245 1 0000000000000000 100 0 0 10 0                     
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31250 1 0000000000000000 100 0 0 10 0                     
   2: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 28811 1 0000000000000000 100 0 0 10 0                     
   3: 0A00A8C0:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19021 1 0000000000000000 100 0 0 10 0                     
   4: 0A00A8C0:0016 6400A8C0:D2F4 01 00000000:00000000 02:0009B7F7 00000000     0        0 55120 2 0000000000000000 20 4 29 10 -1                    
   5: 00000000:1EB4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31246 1 0000000000000000 100 0 0 10 0                     
`;

const PROC_NET_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:2135 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41000 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:2CAA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41001 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 100 0 0 10 0
`;

const PROC_NET_ROUTE_DEFAULT = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT                                                       
eno1	00000000	0100A8C0	0003	0	0	100	00000000	0	0	0                                                                               
eno1	0000A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0                                                                               
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0                                                                               
`;

const PROC_NET_ROUTE_AIRGAPPED = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT                                                       
eno1	0000A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0                                                                               
`;

const IPV6_ROUTE = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

const IPV6_ROUTE_LOCAL_ONLY = `fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eno1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

const UPSC_ON_BATTERY = `battery.charge: 8
battery.charge.low: 10
battery.runtime: 95
battery.type: PbAc
device.mfr: American Power Conversion
device.model: Back-UPS XS 1400U
driver.name: usbhid-ups
input.voltage: 0.0
ups.status: OB LB DISCHRG
`;

const UPSC_ONLINE = `battery.charge: 100
battery.runtime: 1260
ups.status: OL CHRG
`;

const UPSC_REPLACE = `battery.charge: 100
battery.runtime: 300
ups.status: OL RB
`;

const BOOTS_OLD = `-1 7c3a0f5e2b1d4c6e8f9a0b1c2d3e4f50 Tue 2026-11-24 08:01:12 CST—Wed 2026-11-25 19:42:03 CST
 0 1f2e3d4c5b6a79881726354453627180 Thu 2026-11-26 07:55:40 CST—Thu 2026-11-26 11:40:49 CST
`;
const BOOTS_NEW = `IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY
 -2 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Mon 2026-11-23 08:00:00 CST Mon 2026-11-23 20:00:00 CST
 -1 7c3a0f5e2b1d4c6e8f9a0b1c2d3e4f50 Tue 2026-11-24 08:01:12 CST Wed 2026-11-25 19:42:03 CST
  0 1f2e3d4c5b6a79881726354453627180 Thu 2026-11-26 07:55:40 CST Thu 2026-11-26 11:40:49 CST
`;

const PREV_BOOT_UNCLEAN = `2026-11-25T19:41:02+0800 ward-kb dockerd[911]: time="2026-11-25T19:41:02.112" level=info msg="ignoring event" container=4f1c module=libcontainerd
2026-11-25T19:41:40+0800 ward-kb python3[2231]: INFO:     172.18.0.1:50412 - "POST /chat/knowledge_base_chat HTTP/1.1" 200 OK
2026-11-25T19:42:03+0800 ward-kb CRON[5521]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
`;
const PREV_BOOT_CLEAN = `2026-11-23T20:00:01+0800 ward-kb systemd[1]: Reached target System Shutdown.
2026-11-23T20:00:01+0800 ward-kb systemd[1]: Reached target Final Step.
2026-11-23T20:00:01+0800 ward-kb systemd[1]: Finished System Power Off.
2026-11-23T20:00:01+0800 ward-kb systemd[1]: Reached target System Power Off.
2026-11-23T20:00:01+0800 ward-kb systemd[1]: Shutting down.
2026-11-23T20:00:01+0800 ward-kb systemd-journald[302]: Journal stopped
`;

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro
31 27 8:3 / /srv/lifeline ro,relatime shared:9 - ext4 /dev/sda3 ro,errors=remount-ro
33 27 0:40 / /run/user/1000 rw,nosuid,nodev,relatime shared:120 - tmpfs tmpfs rw,size=1631548k,mode=700,uid=1000,gid=1000
34 27 8:17 /chatchat/data /mnt/My\\040Drive rw,relatime shared:12 - ext4 /dev/sdb1 rw
35 27 8:17 /kb /srv/chatchat/knowledge_base ro,relatime shared:12 - ext4 /dev/sdb1 rw
`;

// --- helpers ----------------------------------------------------------------------------------

function codes(findings: Finding[]): string[] {
  return findings.map((f) => f.code);
}
function byCode(findings: Finding[], code: string): Finding {
  const f = findings.find((x) => x.code === code);
  if (!f) throw new Error(`no finding ${code} in ${codes(findings).join(', ')}`);
  return f;
}

// --- tests ------------------------------------------------------------------------------------

describe('statusOf', () => {
  const f = (severity: Finding['severity']): Finding => ({ code: 'x', severity, message: '', evidence: [], actions: [] });
  it('fail > warn > ok; skipped without findings; info alone is ok', () => {
    expect(statusOf([])).toBe('skipped');
    expect(statusOf([f('info')])).toBe('ok');
    expect(statusOf([f('ok'), f('info')])).toBe('ok');
    expect(statusOf([f('ok'), f('warn'), f('info')])).toBe('warn');
    expect(statusOf([f('warn'), f('fail'), f('ok')])).toBe('fail');
  });
});

describe('mdstat', () => {
  it('reads a degraded raid1 with a failed member and a raid5 rebuilding', () => {
    const { personalities, arrays } = parseMdstat(MDSTAT_DEGRADED);
    expect(personalities).toContain('raid5');
    expect(arrays.map((a) => a.name)).toEqual(['md1', 'md0']);
    const [md1, md0] = arrays as [(typeof arrays)[0], (typeof arrays)[0]];
    expect(md1).toMatchObject({ state: 'active', level: 'raid5', expectedDevices: 3, workingDevices: 2, statusMap: 'UU_', degraded: true });
    expect(md1.sync).toMatchObject({ kind: 'recovery', percent: 8.5, finish: '72.3min', speed: '205888K/sec' });
    expect(md0).toMatchObject({ level: 'raid1', statusMap: 'U_', degraded: true, failedMembers: ['sdb2'] });
    expect(md0.members).toEqual([
      { name: 'sdb2', index: 1, flags: ['F'] },
      { name: 'sda2', index: 0, flags: [] },
    ]);
  });

  it('degraded arrays fail with the mdstat excerpt and advice about the RAID lights', () => {
    const fs = raidFindings(MDSTAT_DEGRADED);
    expect(fs.map((f) => [f.code, f.severity])).toEqual([
      ['hardware.raid.degraded', 'fail'],
      ['hardware.raid.degraded', 'fail'],
    ]);
    const md0 = fs[1] as Finding;
    expect(md0.message).toContain('md0');
    expect(md0.message).toContain('failed: sdb2');
    expect(md0.evidence.join('\n')).toContain('[2/1] [U_]');
    expect(md0.advice).toMatch(/lights/);
    expect(md0.advice).toMatch(/30 seconds/);
    expect(fs[0]?.advice).toMatch(/rebuild is running/);
    expect(statusOf(fs)).toBe('fail');
  });

  it('healthy, raid0, inactive, spare-took-over and resync states', () => {
    expect(raidFindings(MDSTAT_HEALTHY).map((f) => [f.code, f.severity])).toEqual([
      ['hardware.raid.ok', 'ok'],
      ['hardware.raid.ok', 'ok'],
    ]);
    expect(raidFindings(MDSTAT_INACTIVE).map((f) => [f.code, f.severity])).toEqual([['hardware.raid.inactive', 'fail']]);
    expect(parseMdstat(MDSTAT_INACTIVE).arrays[0]?.members.every((m) => m.flags.includes('S'))).toBe(true);
    expect(raidFindings(MDSTAT_SPARE_TOOK_OVER).map((f) => [f.code, f.severity])).toEqual([['hardware.raid.member-failed', 'warn']]);
    const resync = parseMdstat(MDSTAT_RESYNC).arrays;
    expect(resync[0]?.sync).toMatchObject({ kind: 'resync', percent: 27.4 });
    expect(resync[1]).toMatchObject({ readOnly: true, level: 'raid1' });
    expect(resync[1]?.sync).toMatchObject({ kind: 'resync', state: 'PENDING' });
    expect(raidFindings(MDSTAT_RESYNC).map((f) => [f.code, f.severity])).toEqual([
      ['hardware.raid.syncing', 'warn'],
      ['hardware.raid.syncing', 'warn'],
    ]);
    expect(raidFindings('Personalities : \nunused devices: <none>\n').map((f) => [f.code, f.severity])).toEqual([['hardware.raid.none', 'info']]);
  });
});

describe('kernel log', () => {
  it('picks I/O, filesystem, read-only, link, recovery and OOM lines, and the device of each', () => {
    const ev = parseKernelLog(DMESG_EXT4_ERRORS);
    const kinds = ev.map((e) => `${e.kind}:${e.device ?? '-'}`);
    expect(kinds).toEqual([
      'fs-recovered:sda2',
      'disk-warning:-',
      'disk-warning:-',
      'disk-warning:sda',
      'io-error:sda',
      'io-error:sda',
      'io-error:sda2',
      'fs-error:sda2',
      'fs-error:sda2',
      'fs-error:sda2',
      'read-only:sda2',
      'oom:-',
      'io-error:loop3',
      'io-error:loop3',
    ]);
    // "Write protecting the kernel read-only data" and plain mount lines are not problems
    expect(ev.some((e) => e.line.includes('Write protecting'))).toBe(false);
    expect(parseKernelLog(DMESG_CLEAN)).toEqual([]);
  });

  it('EXT4 errors fail with the lines as evidence; loop devices are reported apart, as warnings', () => {
    const fs = kernelFindings(DMESG_EXT4_ERRORS, 'dmesg');
    const sev = Object.fromEntries(fs.map((f) => [f.code, f.severity]));
    expect(sev).toEqual({
      'hardware.kernel.remounted-read-only': 'fail',
      'hardware.kernel.fs-errors': 'fail',
      'hardware.kernel.io-errors': 'fail',
      'hardware.kernel.disk-resets': 'warn',
      'hardware.kernel.fs-journal-recovered': 'warn',
      'hardware.kernel.oom-kills': 'warn',
      'hardware.kernel.image-io-errors': 'warn',
    });
    const fsErr = byCode(fs, 'hardware.kernel.fs-errors');
    expect(fsErr.evidence.some((l) => l.includes('EXT4-fs error (device sda2): ext4_find_entry'))).toBe(true);
    expect(fsErr.message).toContain('sda2');
    const io = byCode(fs, 'hardware.kernel.io-errors');
    expect(io.evidence.some((l) => l.includes('blk_update_request: I/O error, dev sda'))).toBe(true);
    expect(io.evidence.some((l) => l.includes('loop3'))).toBe(false);
    expect(byCode(fs, 'hardware.kernel.image-io-errors').evidence.join('\n')).toContain('loop3');
    expect(byCode(fs, 'hardware.kernel.remounted-read-only').evidence[0]).toContain('Remounting filesystem read-only');
    expect(kernelFindings(DMESG_CLEAN, 'dmesg').map((f) => [f.code, f.severity])).toEqual([['hardware.kernel.clean', 'ok']]);
  });

  it('errors recorded before this boot are a warning of their own', () => {
    const text = `[    2.201114] EXT4-fs (sdb1): warning: mounting fs with errors, running e2fsck is recommended
[  302.118100] EXT4-fs (sdb1): error count since last fsck: 7
[  302.118104] EXT4-fs (sdb1): initial error at time 1795500000: ext4_journal_check_start:83
[  302.118107] EXT4-fs (sdb1): last error at time 1795600000: ext4_reserve_inode_write:5780
`;
    const fs = kernelFindings(text, 'dmesg');
    expect(fs.map((f) => [f.code, f.severity])).toEqual([['hardware.kernel.fs-past-errors', 'warn']]);
    expect(fs[0]?.message).toContain('sdb1');
    expect(fs[0]?.evidence).toHaveLength(5);
  });

  it('reads XFS corruption from journalctl -k lines', () => {
    const fs = kernelFindings(XFS_JOURNAL, 'journalctl -k -b');
    const f = byCode(fs, 'hardware.kernel.fs-errors');
    expect(f.severity).toBe('fail');
    expect(f.message).toContain('dm-0');
    expect(f.evidence).toHaveLength(3);
    expect(f.evidence[2]).toBe('(journalctl -k -b: 4 lines scanned)');
  });

  it('long runs of the same error are trimmed in the evidence', () => {
    const many = Array.from({ length: 500 }, (_, i) => `[ ${1000 + i}.000000] Buffer I/O error on dev sdb1, logical block ${i}, async page read`).join('\n');
    const f = byCode(kernelFindings(many, 'dmesg'), 'hardware.kernel.io-errors');
    expect(f.message).toContain('500 line(s)');
    expect(f.evidence.length).toBeLessThanOrEqual(14);
    expect(f.evidence.join('\n')).toContain('more similar lines');
  });

  it('baseDisk', () => {
    expect(['sda1', 'sdab12', 'nvme0n1p2', 'mmcblk0p1', 'vda', 'loop3', 'dm-0'].map(baseDisk)).toEqual(['sda', 'sdab', 'nvme0n1', 'mmcblk0', 'vda', 'loop3', 'dm-0']);
  });
});

describe('smartctl JSON', () => {
  it('a failing disk: health FAILED, the attribute at threshold, pending and uncorrectable sectors', () => {
    const r = parseSmartctlJson(SMART_FAILING);
    expect(r).toMatchObject({ device: '/dev/sda', model: 'ST2000DM001-1ER164', serial: 'Z4Z1ABCD', passed: false, available: true, exitStatus: 24, temperatureC: 38, powerOnHours: 41234 });
    expect(r.failing.map((a) => a.name)).toEqual(['Reallocated_Sector_Ct']);
    expect(r.damage.map((a) => `${a.name}=${a.raw}`)).toEqual(['Reallocated_Sector_Ct=3960', 'Current_Pending_Sector=16', 'Offline_Uncorrectable=16']);
    const fs = smartFindings(r);
    expect(fs.map((f) => [f.code, f.severity])).toEqual([['hardware.smart.failing', 'fail']]);
    expect(fs[0]?.message).toContain('Reallocated_Sector_Ct');
    expect(fs[0]?.evidence.join('\n')).toMatch(/5 Reallocated_Sector_Ct: value 3 worst 3 thresh 10 raw 3960 when_failed=now/);
    expect(fs[0]?.advice).toMatch(/replace the disk/i);
  });

  it('a passing disk with pending sectors is a warning; NVMe ok; a virtual disk has no SMART', () => {
    expect(smartFindings(parseSmartctlJson(SMART_PENDING_ONLY)).map((f) => [f.code, f.severity])).toEqual([['hardware.smart.degrading', 'warn']]);
    const nvme = parseSmartctlJson(SMART_NVME_OK);
    expect(nvme.nvme).toMatchObject({ criticalWarning: 0, mediaErrors: 0, percentageUsed: 3 });
    expect(smartFindings(nvme).map((f) => [f.code, f.severity])).toEqual([['hardware.smart.ok', 'ok']]);
    const bad = JSON.parse(SMART_NVME_OK) as { nvme_smart_health_information_log: Record<string, number>; smart_status: { passed: boolean } };
    bad.nvme_smart_health_information_log.critical_warning = 4;
    bad.smart_status.passed = false;
    expect(smartFindings(parseSmartctlJson(bad)).map((f) => f.severity)).toEqual(['fail']);
    const virt = parseSmartctlJson(SMART_VIRTUAL);
    expect(virt.available).toBe(false);
    expect(smartFindings(virt).map((f) => [f.code, f.severity])).toEqual([['hardware.smart.unsupported', 'info']]);
  });

  it('scan output, JSON and text', () => {
    expect(parseSmartctlScan('{"devices":[{"name":"/dev/sda","info_name":"/dev/sda","type":"sat","protocol":"ATA"},{"name":"/dev/nvme0","type":"nvme"}]}')).toEqual([
      { name: '/dev/sda', type: 'sat' },
      { name: '/dev/nvme0', type: 'nvme' },
    ]);
    expect(parseSmartctlScan('/dev/sda -d sat # /dev/sda [SAT], ATA device\n/dev/nvme0 -d nvme # /dev/nvme0, NVMe device\n')).toEqual([
      { name: '/dev/sda', type: 'sat' },
      { name: '/dev/nvme0', type: 'nvme' },
    ]);
    expect(() => parseSmartctlJson('smartctl: command failed')).toThrow();
  });
});

describe('network tables', () => {
  it('/proc/net/tcp: a 0.0.0.0:7860 listener, loopback listeners, an interface listener, an established connection', () => {
    const tcp = parseProcNetTcp(PROC_NET_TCP, 4);
    expect(tcp).toHaveLength(6);
    expect(tcp[0]).toMatchObject({ localAddress: '0.0.0.0', localPort: 7860, state: '0A', uid: 0, inode: 31245 });
    expect(tcp[1]).toMatchObject({ localAddress: '127.0.0.1', localPort: 8080, uid: 1000 });
    expect(tcp[3]).toMatchObject({ localAddress: '192.168.0.10', localPort: 22 });
    expect(tcp[4]).toMatchObject({ state: '01', remoteAddress: '192.168.0.100', remotePort: 54004 });
    const tcp6 = parseProcNetTcp(PROC_NET_TCP6, 6);
    expect(tcp6.map((e) => `${e.localAddress}:${e.localPort}`)).toEqual([':::8501', '::1:11434', '::ffff:127.0.0.1:8081']);
    const exposed = exposedListeners([...tcp, ...tcp6]);
    expect(exposed.map((e) => e.localPort)).toEqual([7860, 22, 8501]); // the SO_REUSEPORT duplicate counted once
    expect(exposedListeners([...tcp, ...tcp6], [7860, 22]).map((e) => e.localPort)).toEqual([8501]);
  });

  it('route tables: the default route, and none on an air-gapped machine', () => {
    const r = parseProcNetRoute(PROC_NET_ROUTE_DEFAULT);
    expect(r.filter((x) => x.isDefault)).toEqual([expect.objectContaining({ iface: 'eno1', gateway: '192.168.0.1', metric: 100, family: 4 })]);
    expect(r[1]).toMatchObject({ destination: '192.168.0.0', mask: '255.255.255.0', isDefault: false });
    expect(r[2]).toMatchObject({ iface: 'docker0', destination: '172.17.0.0' });
    expect(parseProcNetRoute(PROC_NET_ROUTE_AIRGAPPED).some((x) => x.isDefault)).toBe(false);
    const v6 = parseProcNetIpv6Route(IPV6_ROUTE).filter((x) => x.isDefault);
    expect(v6).toEqual([expect.objectContaining({ iface: 'eth0', gateway: 'fd00::1', family: 6 })]);
    expect(parseProcNetIpv6Route(IPV6_ROUTE_LOCAL_ONLY).some((x) => x.isDefault)).toBe(false); // the lo reject route is not a default
  });

  it('air-gap findings', () => {
    const bad = airGapFindings({ route: PROC_NET_ROUTE_DEFAULT, ipv6Route: IPV6_ROUTE_LOCAL_ONLY, tcp: PROC_NET_TCP, tcp6: PROC_NET_TCP6 }, [22], new Map([[31245, 'python3, pid 812']]));
    expect(bad.map((f) => [f.code, f.severity])).toEqual([
      ['hardware.airgap.default-route', 'warn'],
      ['hardware.airgap.exposed-listeners', 'warn'],
    ]);
    expect(bad[0]?.evidence[0]).toBe('IPv4 default via 192.168.0.1 dev eno1 metric 100');
    expect(bad[1]?.evidence).toEqual(['tcp LISTEN 0.0.0.0:7860 (python3, pid 812) uid 0', 'tcp6 LISTEN [::]:8501 uid 0']);
    const good = airGapFindings({ route: PROC_NET_ROUTE_AIRGAPPED, ipv6Route: IPV6_ROUTE_LOCAL_ONLY, tcp: PROC_NET_TCP, tcp6: PROC_NET_TCP6 }, [7860, 22, 8501]);
    expect(good.map((f) => [f.code, f.severity])).toEqual([
      ['hardware.airgap.no-default-route', 'ok'],
      ['hardware.airgap.listeners', 'ok'],
    ]);
    expect(airGapFindings({ route: null, ipv6Route: null, tcp: null, tcp6: null }).map((f) => f.severity)).toEqual(['info', 'info']);
  });
});

describe('UPS, clock, journal, meminfo', () => {
  it('upsc: on battery with low battery fails; online ok; replace battery warns', () => {
    const u = parseUpsc('apc', UPSC_ON_BATTERY);
    expect(u).toMatchObject({ status: ['OB', 'LB', 'DISCHRG'], chargePercent: 8, runtimeSeconds: 95 });
    const f = upsFindings(u);
    expect(f.map((x) => [x.code, x.severity])).toEqual([['hardware.ups.low-battery', 'fail']]);
    expect(f[0]?.message).toMatch(/on battery.*LOW/);
    expect(f[0]?.advice).toMatch(/shut the server down cleanly/);
    expect(upsFindings(parseUpsc('apc', UPSC_ONLINE)).map((x) => [x.code, x.severity])).toEqual([['hardware.ups.online', 'ok']]);
    expect(upsFindings(parseUpsc('apc', UPSC_REPLACE)).map((x) => [x.code, x.severity])).toEqual([['hardware.ups.replace-battery', 'warn']]);
    expect(upsFindings(parseUpsc('apc', 'ups.status: OB DISCHRG\nbattery.charge: 90\n')).map((x) => [x.code, x.severity])).toEqual([['hardware.ups.on-battery', 'fail']]);
  });

  it('clock: backwards and forwards jumps warn, a plausible gap is ok, a reset clock warns', () => {
    const now = Date.parse('2026-11-26T08:00:00Z');
    expect(clockFindings(now, '2026-11-25T19:42:00Z').map((f) => [f.code, f.severity])).toEqual([['hardware.clock', 'ok']]);
    const back = clockFindings(now, '2026-11-26T09:00:00Z');
    expect(back.map((f) => [f.code, f.severity])).toEqual([['hardware.clock.jumped-backwards', 'warn']]);
    expect(back[0]?.advice).toMatch(/[Cc]ertificates/);
    expect(clockFindings(now, '2026-11-26T08:03:00Z').map((f) => f.code)).toEqual(['hardware.clock']); // small skew tolerated
    expect(clockFindings(now, '2025-01-01T00:00:00Z').map((f) => [f.code, f.severity])).toEqual([['hardware.clock.jumped-forwards', 'warn']]);
    expect(clockFindings(now, '2026-11-20T00:00:00Z', 86400_000).map((f) => f.code)).toEqual(['hardware.clock.jumped-forwards']);
    const reset = clockFindings(Date.parse('2000-01-01T00:00:12Z'), '2026-11-25T19:42:00Z');
    expect(reset.map((f) => f.code)).toEqual(['hardware.clock.implausible', 'hardware.clock.jumped-backwards']);
    expect(clockFindings(now, 'yesterday').map((f) => [f.code, f.severity])).toEqual([['hardware.clock.unknown', 'info']]);
    expect(clockFindings(now, undefined)).toEqual([]);
  });

  it('timedatectl show, journalctl --list-boots (both formats), shutdown markers, meminfo', () => {
    const kv = parseKeyEqualsValue('Timezone=Asia/Shanghai\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized=no\nTimeUSec=Thu 2026-11-26 11:40:49 CST\n');
    expect(kv).toMatchObject({ Timezone: 'Asia/Shanghai', NTP: 'yes', NTPSynchronized: 'no', TimeUSec: 'Thu 2026-11-26 11:40:49 CST' });
    expect(parseJournalBoots(BOOTS_OLD).map((b) => b.index)).toEqual([-1, 0]);
    expect(parseJournalBoots(BOOTS_NEW).map((b) => b.index)).toEqual([-2, -1, 0]);
    expect(parseJournalBoots('No journal files were found.\n')).toEqual([]);
    expect(journalEndsCleanly(PREV_BOOT_CLEAN)).toBe(true);
    expect(journalEndsCleanly(PREV_BOOT_UNCLEAN)).toBe(false);
    const mi = parseMeminfo('MemTotal:       24684084 kB\nMemFree:        21320116 kB\nMemAvailable:   23848192 kB\nSwapTotal:             0 kB\nHugePages_Total:       0\n');
    expect(mi).toMatchObject({ MemTotal: 24684084, MemAvailable: 23848192, SwapTotal: 0, HugePages_Total: 0 });
  });

  it('excerpt keeps head and tail', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const e = excerpt(text, 6);
    expect(e.split('\n')).toEqual(['line 0', 'line 1', 'line 2', '… (94 more lines) …', 'line 97', 'line 98', 'line 99']);
    expect(excerpt('x'.repeat(5000), 10, 100)).toHaveLength(100);
  });
});

describe('mountinfo and space thresholds', () => {
  it('reads mounts, escapes, read-only flags and the mount of a path', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(6);
    expect(m[4]).toMatchObject({ mountPoint: '/mnt/My Drive', root: '/chatchat/data', source: '/dev/sdb1', fsType: 'ext4' });
    expect(unescapeMountField('a\\040b\\011c\\134d')).toBe('a b\tc\\d');
    expect(mountFor(m, '/srv/lifeline/catalog.sqlite')?.source).toBe('/dev/sda3');
    expect(mountFor(m, '/srv/lifeline-other')?.mountPoint).toBe('/');
    expect(mountFor(m, '/mnt/My Drive/kb')?.mountPoint).toBe('/mnt/My Drive');
    expect(mountFor(m, '/run/user/1000/x')?.fsType).toBe('tmpfs');
    expect(isReadOnlyMount(m[2] as (typeof m)[0])).toEqual({ readOnly: true, superblock: true });
    expect(isReadOnlyMount(m[5] as (typeof m)[0])).toEqual({ readOnly: true, superblock: false }); // ro bind of a rw filesystem
    expect(isReadOnlyMount(m[1] as (typeof m)[0])).toEqual({ readOnly: false, superblock: false });
  });

  it('free space: warn < 10% or < 2 GiB, fail < 2% or < 200 MiB', () => {
    const GiB = 1024 ** 3;
    const MiB = 1024 ** 2;
    expect(spaceSeverity(50 * GiB, 100 * GiB)).toBe('ok');
    expect(spaceSeverity(9 * GiB, 100 * GiB)).toBe('warn');
    expect(spaceSeverity(1.5 * GiB, 10 * GiB)).toBe('warn');
    expect(spaceSeverity(1.9 * GiB, 100 * GiB)).toBe('fail');
    expect(spaceSeverity(150 * MiB, 1 * GiB)).toBe('fail');
    expect(inodeSeverity(500_000, 1_000_000)).toBe('ok');
    expect(inodeSeverity(50_000, 1_000_000)).toBe('warn');
    expect(inodeSeverity(10_000, 1_000_000)).toBe('fail');
    expect(inodeSeverity(0, 0)).toBe('info');
  });
});
