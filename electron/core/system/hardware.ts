// Recovery wizard step 1, "power and hardware" (DESIGN.md "The recovery wizard", and the lessons of
// "The reference incident": check hardware before anything else — RAID state, kernel I/O errors,
// memory, clock, unclean shutdown, UPS).
//
// Rules every check here follows:
//  - a tool that is not installed, a file that does not exist, a sensor the machine lacks: an
//    'info' finding ("not available"), never a failure;
//  - every external command runs with a timeout (default 5 s), without a shell, with LC_ALL=C, and
//    what it printed goes into the finding's evidence (trimmed);
//  - the text formats (/proc/mdstat, dmesg, /proc/net/tcp, /proc/net/route, smartctl JSON, upsc,
//    timedatectl, journalctl) are read by pure parsers exported from here and unit-tested with
//    realistic samples;
//  - sections run in parallel and one that throws becomes an 'info' finding, so one odd machine
//    never hides the other results.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import { statusOf, type CheckResult, type Finding, type Severity } from './finding.js';

// ---------------------------------------------------------------------------------------------
// Running external tools
// ---------------------------------------------------------------------------------------------

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const MAX_OUTPUT_BYTES = 16 << 20;
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface CommandResult {
  /** The command line as shown in evidence, e.g. "smartctl -H -A -j /dev/sda". */
  commandLine: string;
  /** false: the executable was not found on the search path (nothing was run). */
  found: boolean;
  /** Exit code; null when killed (timeout) or when it could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** spawn error (ENOENT, EACCES, …), when it could not start. */
  error?: string;
  durationMs: number;
}

/** The search path for tools: the given one, else $PATH plus the usual sbin folders (root tools
 *  such as smartctl and ip live in /usr/sbin, which a non-login PATH may lack). */
export function toolSearchPath(pathEnv?: string): string[] {
  if (pathEnv !== undefined) return pathEnv.split(path.delimiter).filter(Boolean);
  return [...new Set([...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SYSTEM_DIRS])];
}

/** Absolute path of an executable named `name` on the search path, or null. */
export function findExecutable(name: string, pathEnv?: string): string | null {
  for (const dir of toolSearchPath(pathEnv)) {
    const p = path.join(dir, name);
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) continue;
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Search path for the executable (tests force one without smartctl); default $PATH + sbin. */
  pathEnv?: string;
}

/** Runs `name args…` without a shell, bounded by a timeout (SIGKILL when it expires). Never throws. */
export function runCommand(name: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  const commandLine = [name, ...args].join(' ');
  const started = Date.now();
  const exe = findExecutable(name, opts.pathEnv);
  if (!exe) return Promise.resolve({ commandLine, found: false, code: null, stdout: '', stderr: '', timedOut: false, durationMs: 0 });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let outBytes = 0;
    let timedOut = false;
    let settled = false;
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', SYSTEMD_PAGER: '', PAGER: 'cat', SYSTEMD_COLORS: '0' };
    env.PATH = toolSearchPath(opts.pathEnv).join(path.delimiter);
    let child: ReturnType<typeof spawn>;
    const finish = (code: number | null, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ commandLine, found: true, code, stdout, stderr, timedOut, ...(error ? { error } : {}), durationMs: Date.now() - started });
    };
    try {
      child = spawn(exe, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ commandLine, found: true, code: null, stdout: '', stderr: '', timedOut: false, error: (err as Error).message, durationMs: Date.now() - started });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
      // A child stuck in uninterruptible I/O (state D) may not die at once: do not wait for it.
      setTimeout(() => finish(null), 200).unref();
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      outBytes += chunk.length;
      if (outBytes <= MAX_OUTPUT_BYTES) stdout += chunk;
    });
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 1 << 20) stderr += chunk;
    });
    child.on('error', (err) => finish(null, err.message));
    child.on('close', (code) => finish(timedOut ? null : code));
  });
}

/** Trims command output (or any text) for evidence: at most maxLines lines / maxChars characters,
 *  keeping the head and the tail, with the number of lines left out. */
export function excerpt(text: string, maxLines = 20, maxChars = 2000): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  let out: string;
  if (lines.length > maxLines) {
    const head = Math.ceil(maxLines / 2);
    const tail = maxLines - head;
    out = [...lines.slice(0, head), `… (${lines.length - maxLines} more lines) …`, ...lines.slice(lines.length - tail)].join('\n');
  } else out = lines.join('\n');
  if (out.length > maxChars) out = out.slice(0, maxChars - 1) + '…';
  return out;
}

/** One evidence line for a command run: "$ cmd → exit 0 (12 ms)" plus its trimmed output. */
export function commandEvidence(r: CommandResult, maxLines = 12): string[] {
  const how = !r.found ? 'not installed' : r.timedOut ? `timed out after ${r.durationMs} ms` : r.error ? `could not start: ${r.error}` : `exit ${r.code} (${r.durationMs} ms)`;
  const ev = [`$ ${r.commandLine} → ${how}`];
  const out = r.stdout.trim();
  const err = r.stderr.trim();
  if (out) ev.push(excerpt(out, maxLines));
  if (err) ev.push(`stderr: ${excerpt(err, Math.min(maxLines, 6))}`);
  return ev;
}

// ---------------------------------------------------------------------------------------------
// Pure parsers
// ---------------------------------------------------------------------------------------------

// --- /proc/mdstat -----------------------------------------------------------------------------

export interface MdMember {
  name: string;
  index: number;
  /** F failed, S spare, W write-mostly, J journal, R replacement. */
  flags: string[];
}

export interface MdArray {
  name: string;
  /** 'active' | 'inactive' (as printed). */
  state: string;
  readOnly: boolean;
  level: string | null;
  members: MdMember[];
  /** [n/m]: devices the array should have / has working. null for levels without redundancy. */
  expectedDevices: number | null;
  workingDevices: number | null;
  /** The [UU_] string, or null. */
  statusMap: string | null;
  /** A sync operation in progress: recovery, resync, reshape, check, repair. */
  sync: { kind: string; percent: number | null; finish: string | null; speed: string | null; state?: string } | null;
  degraded: boolean;
  failedMembers: string[];
  /** The array's lines from mdstat, for evidence. */
  lines: string[];
}

export function parseMdstat(text: string): { personalities: string[]; arrays: MdArray[] } {
  const lines = text.split('\n');
  const personalities = [...(lines.find((l) => l.startsWith('Personalities'))?.matchAll(/\[(\w+)\]/g) ?? [])].map((m) => m[1] as string);
  const arrays: MdArray[] = [];
  let cur: MdArray | null = null;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    const head = /^(md[\w/-]+)\s*:\s*(.*)$/.exec(line);
    if (head) {
      const rest = (head[2] as string).trim();
      const tokens = rest.split(/\s+/);
      const state = tokens.shift() ?? '';
      let readOnly = false;
      while (tokens[0]?.startsWith('(')) {
        if (/read-only/.test(tokens[0])) readOnly = true;
        tokens.shift();
      }
      let level: string | null = null;
      if (tokens[0] && !/\[\d+\]/.test(tokens[0])) level = tokens.shift() as string;
      const members: MdMember[] = [];
      for (const t of tokens) {
        const m = /^([^[\s]+)\[(\d+)\]((?:\([A-Z]\))*)$/.exec(t);
        if (m) members.push({ name: m[1] as string, index: Number(m[2]), flags: [...(m[3] ?? '').matchAll(/\(([A-Z])\)/g)].map((f) => f[1] as string) });
      }
      cur = {
        name: head[1] as string,
        state,
        readOnly,
        level,
        members,
        expectedDevices: null,
        workingDevices: null,
        statusMap: null,
        sync: null,
        degraded: false,
        failedMembers: members.filter((m) => m.flags.includes('F')).map((m) => m.name),
        lines: [line],
      };
      arrays.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.trim() === '' || /^unused devices/.test(line)) {
      cur = null;
      continue;
    }
    cur.lines.push(line);
    const st = /\[(\d+)\/(\d+)\]\s*\[([U_]+)\]/.exec(line);
    if (st) {
      cur.expectedDevices = Number(st[1]);
      cur.workingDevices = Number(st[2]);
      cur.statusMap = st[3] as string;
    }
    const sync = /\b(recovery|resync|reshape|check|repair)\s*=\s*([\d.]+)%(?:.*?finish=(\S+))?(?:.*?speed=(\S+))?/.exec(line);
    if (sync) cur.sync = { kind: sync[1] as string, percent: Number(sync[2]), finish: sync[3] ?? null, speed: sync[4] ?? null };
    const pending = /\b(resync|recovery|reshape|check)\s*=\s*(PENDING|DELAYED)/.exec(line);
    if (pending && !cur.sync) cur.sync = { kind: pending[1] as string, percent: null, finish: null, speed: null, state: pending[2] as string };
  }
  for (const a of arrays) {
    a.degraded =
      (a.statusMap !== null && a.statusMap.includes('_')) || (a.expectedDevices !== null && a.workingDevices !== null && a.workingDevices < a.expectedDevices);
  }
  return { personalities, arrays };
}

// --- dmesg / journalctl -k --------------------------------------------------------------------

export type KernelEventKind = 'io-error' | 'fs-error' | 'read-only' | 'disk-warning' | 'fs-past-errors' | 'fs-recovered' | 'oom';

export interface KernelEvent {
  kind: KernelEventKind;
  line: string;
  /** Block device named in the line (sda, sda1, nvme0n1, loop3, dm-0, md0), when there is one. */
  device: string | null;
}

interface KernelPattern {
  kind: KernelEventKind;
  re: RegExp;
}

// Order matters: the first pattern that matches a line decides its kind.
const KERNEL_PATTERNS: KernelPattern[] = [
  { kind: 'read-only', re: /Remounting filesystem read-only|remounting .*read-?only|forced? (?:the )?filesystem read-only|switching to read-only/i },
  { kind: 'fs-past-errors', re: /EXT[234]-fs \([^)]*\): (?:error count since last fsck|initial error at|last error at|warning: mounting fs with errors)/i },
  { kind: 'fs-error', re: /EXT[234]-fs (?:error|critical)|Aborting journal on device|JBD2?: .*(?:error|abort)/i },
  { kind: 'fs-error', re: /XFS \([^)]*\):.*(?:corrupt|Internal error|shut(?:ting)? down|Metadata I\/O error|log I\/O error)/i },
  { kind: 'fs-error', re: /BTRFS (?:error|critical)|BTRFS: error|FAT-fs \([^)]*\): error|F2FS-fs \([^)]*\):.*(?:error|inconsistent)|NILFS error|squashfs.*error/i },
  { kind: 'io-error', re: /\bI\/O error\b|blk_update_request|print_req_error|critical (?:medium|target) error|Medium Error|Unrecovered read error|UNC(?:orrectable)? error|end_request:/i },
  { kind: 'disk-warning', re: /\bata\d+(?:\.\d+)?: .*(?:exception Emask|failed command|SError)|\bhard resetting link\b|\bDID_(?:BAD_TARGET|NO_CONNECT|ERROR)\b|FAILED Result|nvme\d+: .*(?:timeout|I\/O \d+ QID \d+ timeout|controller is down|Removing after probe failure)/i },
  { kind: 'fs-recovered', re: /EXT[34]-fs \([^)]*\): (?:recovery complete|orphan cleanup on readonly fs|\d+ orphan inodes? deleted)|XFS \([^)]*\): (?:Starting recovery|Ending recovery)|BTRFS.*(?:start tree-log replay|replaying log)/i },
  { kind: 'oom', re: /Out of memory: Kill(?:ed)? process|oom-kill:|invoked oom-killer/i },
];

const DEVICE_RE = /(?:\bdev(?:ice)?[ :]\s*|\(|\[|^|\s)((?:sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|nvme\d+|mmcblk\d+|loop\d+|dm-\d+|md\d+|sr\d+)(?:p?\d+)?)\b/;

export function kernelLineDevice(line: string): string | null {
  // strip the [  123.456] timestamp so it cannot look like a device token
  const body = line.replace(/^\s*\[[\s\d.]+\]\s*/, '').replace(/^\S+\s+\S+\s+\S+\s+\S+\s+kernel:\s*/, '');
  const m = DEVICE_RE.exec(body);
  return m ? (m[1] as string) : null;
}

/** The lines of a kernel log that matter after a power cut: I/O errors, filesystem errors,
 *  read-only remounts, disk link trouble, journal recoveries (a sign of an unclean shutdown) and
 *  out-of-memory kills. */
export function parseKernelLog(text: string): KernelEvent[] {
  const events: KernelEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    const p = KERNEL_PATTERNS.find((k) => k.re.test(line));
    if (p) events.push({ kind: p.kind, line, device: kernelLineDevice(line) });
  }
  return events;
}

/** Base disk of a device name: sda1 → sda, nvme0n1p2 → nvme0n1, mmcblk0p1 → mmcblk0, loop3 → loop3. */
export function baseDisk(dev: string): string {
  let m = /^(nvme\d+n\d+|mmcblk\d+)(?:p\d+)?$/.exec(dev);
  if (m) return m[1] as string;
  m = /^((?:sd|hd|vd|xvd)[a-z]+)\d*$/.exec(dev);
  if (m) return m[1] as string;
  return dev;
}

/** Devices that are disk images or virtual (loop: USB-drive images, snaps, test drives). */
export function isImageDevice(dev: string | null): boolean {
  return dev !== null && /^(loop\d+|ram\d+|zram\d+)/.test(dev);
}

// --- smartctl -j ------------------------------------------------------------------------------

export interface SmartAttribute {
  id: number;
  name: string;
  value: number | null;
  worst: number | null;
  thresh: number | null;
  raw: number | null;
  /** smartctl's when_failed: '' | 'now' | 'past'. */
  whenFailed: string;
  prefailure: boolean;
}

export interface SmartReport {
  device: string;
  model: string | null;
  serial: string | null;
  /** smart_status.passed: null when the disk did not report a health status. */
  passed: boolean | null;
  /** SMART is supported and enabled (null: unknown). */
  available: boolean | null;
  exitStatus: number | null;
  attributes: SmartAttribute[];
  /** Attributes failing now or in the past, or worst/value at or below threshold. */
  failing: SmartAttribute[];
  /** Attributes that count damage (reallocated, pending, uncorrectable) and are non-zero. */
  damage: SmartAttribute[];
  nvme: { criticalWarning: number; mediaErrors: number; percentageUsed: number; availableSpare: number | null; availableSpareThreshold: number | null } | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  /** smartctl's own messages (errors, "device lacks SMART capability"…). */
  messages: string[];
}

const DAMAGE_ATTRS = new Set([5, 10, 184, 187, 188, 196, 197, 198]);

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v ? v : null;
}
function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Reads `smartctl -H -A -j <dev>` (or `-a -j`) output. Throws on text that is not JSON. */
export function parseSmartctlJson(input: string | unknown, fallbackDevice = '?'): SmartReport {
  const j = obj(typeof input === 'string' ? JSON.parse(input) : input);
  const smartctl = obj(j.smartctl);
  const dev = obj(j.device);
  const messages = (Array.isArray(smartctl.messages) ? smartctl.messages : [])
    .map((m) => str(obj(m).string))
    .filter((s): s is string => s !== null);
  const status = obj(j.smart_status);
  const support = obj(j.smart_support);
  const table = Array.isArray(obj(j.ata_smart_attributes).table) ? (obj(j.ata_smart_attributes).table as unknown[]) : [];
  const attributes: SmartAttribute[] = table.map((a) => {
    const o = obj(a);
    return {
      id: num(o.id) ?? -1,
      name: str(o.name) ?? 'Unknown_Attribute',
      value: num(o.value),
      worst: num(o.worst),
      thresh: num(o.thresh),
      raw: num(obj(o.raw).value),
      whenFailed: typeof o.when_failed === 'string' ? o.when_failed : '',
      prefailure: obj(o.flags).prefailure === true,
    };
  });
  const failing = attributes.filter(
    (a) => a.whenFailed === 'now' || a.whenFailed === 'past' || (a.thresh !== null && a.thresh > 0 && a.value !== null && a.value <= a.thresh),
  );
  const damage = attributes.filter((a) => DAMAGE_ATTRS.has(a.id) && (a.raw ?? 0) > 0);
  const nv = j.nvme_smart_health_information_log ? obj(j.nvme_smart_health_information_log) : null;
  const temp = num(obj(j.temperature).current) ?? (nv ? num(nv.temperature) : null);
  return {
    device: str(dev.name) ?? fallbackDevice,
    model: str(j.model_name) ?? str(j.model_family) ?? null,
    serial: str(j.serial_number),
    passed: typeof status.passed === 'boolean' ? status.passed : null,
    available: typeof support.available === 'boolean' ? support.available && support.enabled !== false : null,
    exitStatus: num(smartctl.exit_status),
    attributes,
    failing,
    damage,
    nvme: nv
      ? {
          criticalWarning: num(nv.critical_warning) ?? 0,
          mediaErrors: num(nv.media_errors) ?? 0,
          percentageUsed: num(nv.percentage_used) ?? 0,
          availableSpare: num(nv.available_spare),
          availableSpareThreshold: num(nv.available_spare_threshold),
        }
      : null,
    temperatureC: temp,
    powerOnHours: num(obj(j.power_on_time).hours),
    messages,
  };
}

/** `smartctl --scan -j` → [{ name, type }]. */
export function parseSmartctlScan(text: string): { name: string; type: string | null }[] {
  try {
    const j = obj(JSON.parse(text));
    return (Array.isArray(j.devices) ? j.devices : [])
      .map((d) => ({ name: str(obj(d).name) ?? '', type: str(obj(d).type) }))
      .filter((d) => d.name);
  } catch {
    // text form: "/dev/sda -d scsi # /dev/sda, SCSI device"
    return text
      .split('\n')
      .map((l) => /^(\/dev\/\S+)(?:\s+-d\s+(\S+))?/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1] as string, type: m[2] ?? null }));
  }
}

// --- /proc/net/tcp{,6}, /proc/net/route, /proc/net/ipv6_route ---------------------------------

export interface SocketEntry {
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** hex state, '0A' = LISTEN */
  state: string;
  uid: number;
  inode: number;
}

function hexToIpv4(hex: string): string {
  // one 32-bit word in host (little-endian) order
  const n = parseInt(hex, 16) >>> 0;
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function hexToIpv6(hex: string): string {
  // four 32-bit words, each in host (little-endian) order
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  return formatIpv6(bytes);
}

function formatIpv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // IPv4-mapped ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes.slice(12).join('.')}`;
  // longest run of zero groups → ::
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/** Reads /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6). */
export function parseProcNetTcp(text: string, family: 4 | 6): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0] as string)) continue;
    const [la, lp] = (f[1] as string).split(':');
    const [ra, rp] = (f[2] as string).split(':');
    if (!la || !lp || !ra || !rp) continue;
    out.push({
      family,
      localAddress: family === 4 ? hexToIpv4(la) : hexToIpv6(la),
      localPort: parseInt(lp, 16),
      remoteAddress: family === 4 ? hexToIpv4(ra) : hexToIpv6(ra),
      remotePort: parseInt(rp, 16),
      state: (f[3] as string).toUpperCase(),
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return out;
}

export function isLoopbackAddress(addr: string): boolean {
  return /^127\./.test(addr) || addr === '::1' || /^::ffff:127\./.test(addr);
}

/** TCP sockets in LISTEN state bound to a non-loopback address (0.0.0.0, ::, or a real interface). */
export function exposedListeners(entries: SocketEntry[], allowedPorts: number[] = []): SocketEntry[] {
  const allowed = new Set(allowedPorts);
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (e.state !== '0A' || isLoopbackAddress(e.localAddress) || allowed.has(e.localPort)) return false;
    const key = `${e.family}/${e.localAddress}/${e.localPort}`;
    if (seen.has(key)) return false; // SO_REUSEPORT: one line per socket
    seen.add(key);
    return true;
  });
}

export function formatEndpoint(e: Pick<SocketEntry, 'family' | 'localAddress' | 'localPort'>): string {
  return e.family === 6 ? `[${e.localAddress}]:${e.localPort}` : `${e.localAddress}:${e.localPort}`;
}

export interface RouteEntry {
  family: 4 | 6;
  iface: string;
  destination: string;
  /** IPv4 mask / IPv6 prefix length as text ('0.0.0.0', '/0'). */
  mask: string;
  gateway: string;
  flags: number;
  metric: number;
  isDefault: boolean;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** Reads /proc/net/route (IPv4). Default routes: destination and mask 0.0.0.0, flag UP. */
export function parseProcNetRoute(text: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flagsHex, , , metric, maskHex] = f as [string, string, string, string, string, string, string, string];
    if (!/^[0-9A-Fa-f]{8}$/.test(dest)) continue;
    const flags = parseInt(flagsHex, 16);
    const destination = hexToIpv4(dest);
    const mask = hexToIpv4(maskHex);
    out.push({
      family: 4,
      iface,
      destination,
      mask,
      gateway: hexToIpv4(gw),
      flags,
      metric: Number(metric),
      isDefault: destination === '0.0.0.0' && mask === '0.0.0.0' && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0,
    });
  }
  return out;
}

/** Reads /proc/net/ipv6_route. Default routes: ::/0 on a real interface, UP, not a reject route. */
export function parseProcNetIpv6Route(text: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/i.test(f[0] as string)) continue;
    const flags = parseInt(f[8] as string, 16);
    const prefix = parseInt(f[1] as string, 16);
    const destination = hexToIpv6Plain(f[0] as string);
    const iface = f[9] as string;
    out.push({
      family: 6,
      iface,
      destination,
      mask: `/${prefix}`,
      gateway: hexToIpv6Plain(f[4] as string),
      flags,
      metric: parseInt(f[5] as string, 16),
      isDefault: prefix === 0 && destination === '::' && iface !== 'lo' && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0,
    });
  }
  return out;
}

function hexToIpv6Plain(hex: string): string {
  // ipv6_route prints addresses in network order (unlike tcp6)
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return formatIpv6(bytes);
}

// --- upsc, timedatectl, journalctl, /proc/meminfo ---------------------------------------------

/** `upsc <ups>` → { 'ups.status': 'OB LB', 'battery.charge': '12', … }. */
export function parseKeyColonValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w.-]+):\s*(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/** `timedatectl show` → { NTP: 'yes', NTPSynchronized: 'no', … }. */
export function parseKeyEqualsValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export interface UpsState {
  name: string;
  /** NUT status tokens: OL online, OB on battery, LB low battery, RB replace battery, CHRG, DISCHRG, FSD, OVER, BYPASS… */
  status: string[];
  chargePercent: number | null;
  runtimeSeconds: number | null;
  vars: Record<string, string>;
}

export function parseUpsc(name: string, text: string): UpsState {
  const vars = parseKeyColonValue(text);
  const n = (k: string) => (vars[k] !== undefined && vars[k] !== '' && Number.isFinite(Number(vars[k])) ? Number(vars[k]) : null);
  return { name, status: (vars['ups.status'] ?? '').split(/\s+/).filter(Boolean), chargePercent: n('battery.charge'), runtimeSeconds: n('battery.runtime'), vars };
}

/** `journalctl --list-boots` → boots, oldest first ({ index: -1, id } is the previous boot). */
export function parseJournalBoots(text: string): { index: number; id: string }[] {
  const out: { index: number; id: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(-?\d+)\s+([0-9a-f]{32})\b/.exec(line);
    if (m) out.push({ index: Number(m[1]), id: m[2] as string });
  }
  return out;
}

const CLEAN_SHUTDOWN_RE =
  /Reached target (?:System Shutdown|Power-Off|System Power Off|System Reboot|System Halt|Final Step|Shutdown)|systemd-shutdown\[\d+\]|Journal stopped|Shutting down\.|System is (?:powering down|rebooting|halting)|Stopped target (?:Multi-User|Graphical) (?:System|Interface)|reboot: (?:Power down|Restarting system)/i;

/** Whether the last lines of a boot's journal show it going down on purpose. */
export function journalEndsCleanly(tailText: string): boolean {
  return CLEAN_SHUTDOWN_RE.test(tailText);
}

/** /proc/meminfo → kB values by key. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w[\w()]*):\s+(\d+)(?:\s*kB)?/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

export type HardwareSection = 'disks' | 'smart' | 'raid' | 'kernel' | 'memory' | 'temperature' | 'uptime' | 'shutdown' | 'clock' | 'ups' | 'airgap';

export const HARDWARE_SECTIONS: readonly HardwareSection[] = ['disks', 'smart', 'raid', 'kernel', 'memory', 'temperature', 'uptime', 'shutdown', 'clock', 'ups', 'airgap'];

export interface CpuTemperatureReading {
  main: number | null;
  max: number | null;
  cores: number[];
}

export interface HardwareCheckOptions {
  /** From Lifeline's clean-exit marker: false means the last run did not end cleanly (power cut, crash, kill). */
  previousRunEndedCleanly?: boolean;
  /** The last wall-clock time Lifeline recorded (ISO 8601), to detect a clock jump. */
  lastSeenTime?: string;
  /** A gap between lastSeenTime and now longer than this is suspicious (default 30 days). */
  expectedMaxGapMs?: number;
  /** Run the air-gap checks: no default route, no listener on a non-loopback address except these ports. */
  airGap?: { allowedListeners?: number[] };
  /** Timeout of each external command (default 5000 ms). */
  commandTimeoutMs?: number;
  /** Search path for tools (default $PATH + sbin folders); e.g. '' to pretend nothing is installed. */
  pathEnv?: string;
  /** Where /proc is (default '/proc'; '/host/proc' in a container that mounts the host's). */
  procRoot?: string;
  /** Where /sys is (default '/sys'). */
  sysRoot?: string;
  /** Only these sections (default: all; 'airgap' runs only when airGap is given). */
  sections?: HardwareSection[];
  /** Warn at or above this CPU temperature (default 85 °C). */
  cpuTempWarnC?: number;
  /** Warn when available memory is below this fraction of the total (default 0.10). */
  memoryWarnRatio?: number;
  /** Clock for tests (default Date.now). */
  now?: () => number;
  /** CPU temperature source (default systeminformation's cpuTemperature()). */
  readCpuTemperature?: () => Promise<CpuTemperatureReading>;
  /** At most this many disks are queried with smartctl (default 16). */
  maxSmartDevices?: number;
}

interface Ctx {
  run: (name: string, args: string[], timeoutMs?: number) => Promise<CommandResult>;
  proc: (rel: string) => string;
  sys: (rel: string) => string;
  opts: HardwareCheckOptions;
  now: number;
}

function finding(code: string, severity: Severity, message: string, evidence: string[] = [], advice?: string, actions: Finding['actions'] = []): Finding {
  return { code, severity, message, evidence: evidence.filter((e) => e !== ''), ...(advice ? { advice } : {}), actions };
}

function readText(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

const POWER_ADVICE = 'After a power cut, wait about 30 seconds before powering a disk or disk shelf back on, and power the storage before the server.';

// --- disks (/sys/block) -----------------------------------------------------------------------

async function checkDisks(c: Ctx): Promise<Finding[]> {
  const blockDir = c.sys('block');
  let names: string[];
  try {
    names = fs.readdirSync(blockDir);
  } catch {
    return [finding('hardware.disks.unavailable', 'info', `Disk list not available (${blockDir} not readable)`)];
  }
  const disks = names.filter((n) => !/^(loop|ram|zram|sr|fd|nbd|dm-|md)\d*/.test(n)).sort();
  if (disks.length === 0) return [finding('hardware.disks.none', 'info', 'No physical or virtual disks listed in /sys/block', [`${blockDir}: ${names.join(' ') || '(empty)'}`])];
  const findings: Finding[] = [];
  const evidence: string[] = [];
  const offline: string[] = [];
  for (const d of disks) {
    const read = (rel: string) => readText(path.join(blockDir, d, rel))?.trim() ?? null;
    const sectors = Number(read('size') ?? '0');
    const model = [read('device/vendor'), read('device/model')].filter((v) => v && !/^0x[0-9a-f]+$/i.test(v)).join(' ') || null;
    const rota = read('queue/rotational');
    const state = read('device/state');
    const ro = read('ro') === '1';
    const removable = read('removable') === '1';
    evidence.push(
      `${d}: ${formatBytes(sectors * 512)}${model ? `, ${model}` : ''}${rota === '1' ? ', rotational' : rota === '0' ? ', solid-state/virtual' : ''}${removable ? ', removable' : ''}${ro ? ', READ-ONLY' : ''}${state ? `, state ${state}` : ''}`,
    );
    if (state && state !== 'running' && state !== 'live') offline.push(`${d}: device state "${state}"`);
  }
  findings.push(finding('hardware.disks', 'ok', `${disks.length} disk(s) present`, evidence));
  if (offline.length > 0)
    findings.push(
      finding(
        'hardware.disk-offline',
        'fail',
        `Disk(s) not running: ${offline.map((o) => o.split(':')[0]).join(', ')}`,
        offline,
        `The kernel took the disk offline, usually after repeated errors. Check its cable and power; ${POWER_ADVICE}`,
      ),
    );
  return findings;
}

// --- SMART ------------------------------------------------------------------------------------

/** Findings for one disk's SMART report. */
export function smartFindings(r: SmartReport, raw: string[] = []): Finding[] {
  const who = `${r.device}${r.model ? ` (${r.model}${r.serial ? `, serial ${r.serial}` : ''})` : ''}`;
  const ev = [...raw];
  const attrLine = (a: SmartAttribute) =>
    `${a.id} ${a.name}: value ${a.value ?? '?'} worst ${a.worst ?? '?'} thresh ${a.thresh ?? '?'} raw ${a.raw ?? '?'}${a.whenFailed ? ` when_failed=${a.whenFailed}` : ''}`;
  const replaceAdvice = `Back up now, then replace the disk ${r.device}. If it is in a RAID, replace it there (same size or larger) and let the array rebuild before anything else. ${POWER_ADVICE}`;
  if (r.passed === null && r.available === false) {
    return [finding('hardware.smart.unsupported', 'info', `SMART not available on ${who}`, [...ev, ...r.messages])];
  }
  const out: Finding[] = [];
  const nowFailing = r.failing.filter((a) => a.whenFailed === 'now' || (a.thresh !== null && a.thresh > 0 && a.value !== null && a.value <= a.thresh));
  const pastFailing = r.failing.filter((a) => !nowFailing.includes(a));
  const nv = r.nvme;
  // FAILED health, a pre-failure attribute at or below its threshold now, or an NVMe critical warning
  if (r.passed === false || nowFailing.some((a) => a.prefailure) || (nv && nv.criticalWarning !== 0)) {
    out.push(
      finding(
        'hardware.smart.failing',
        'fail',
        `Disk ${who} reports SMART health FAILED${nowFailing.length ? `: ${nowFailing.map((a) => a.name).join(', ')}` : ''}`,
        [`smart_status.passed: ${r.passed}`, ...nowFailing.map(attrLine), ...(nv ? [`nvme critical_warning: 0x${nv.criticalWarning.toString(16)}`] : []), ...ev],
        replaceAdvice,
      ),
    );
  } else if (nowFailing.length > 0 || pastFailing.length > 0 || r.damage.length > 0 || (nv && (nv.mediaErrors > 0 || nv.percentageUsed >= 100))) {
    const what = [
      ...nowFailing.map((a) => `${a.name} at threshold`),
      ...pastFailing.map((a) => `${a.name} failed in the past`),
      ...r.damage.filter((a) => !r.failing.includes(a)).map((a) => `${a.name} = ${a.raw}`),
      ...(nv && nv.mediaErrors > 0 ? [`${nv.mediaErrors} media errors`] : []),
      ...(nv && nv.percentageUsed >= 100 ? [`${nv.percentageUsed}% of rated endurance used`] : []),
    ];
    out.push(
      finding(
        'hardware.smart.degrading',
        'warn',
        `Disk ${who} shows wear or damage: ${what.join(', ')}`,
        [...[...new Set([...r.failing, ...r.damage])].map(attrLine), ...ev],
        `The disk still works but is losing sectors. Make sure a fresh backup exists and plan to replace ${r.device}.`,
      ),
    );
  } else {
    out.push(
      finding(
        'hardware.smart.ok',
        r.passed === null ? 'info' : 'ok',
        r.passed === null ? `Disk ${who}: no SMART health status reported` : `Disk ${who}: SMART health PASSED`,
        [
          ...(r.temperatureC !== null ? [`temperature ${r.temperatureC} °C`] : []),
          ...(r.powerOnHours !== null ? [`power-on hours ${r.powerOnHours}`] : []),
          ...ev,
        ],
      ),
    );
  }
  if (r.temperatureC !== null && r.temperatureC >= 60)
    out.push(finding('hardware.smart.hot', 'warn', `Disk ${who} is hot: ${r.temperatureC} °C`, [`temperature ${r.temperatureC} °C`], 'Check the fans and airflow of the server room; disks age fast above 55 °C.'));
  return out;
}

async function checkSmart(c: Ctx): Promise<Finding[]> {
  if (!findExecutable('smartctl', c.opts.pathEnv)) return [finding('hardware.smart.unavailable', 'info', 'SMART not available (smartmontools not installed)', [], 'Install smartmontools to let Lifeline read disk health.')];
  const scan = await c.run('smartctl', ['--scan', '-j']);
  if (scan.timedOut || scan.error) return [finding('hardware.smart.unavailable', 'info', 'SMART not available: smartctl --scan did not answer', commandEvidence(scan))];
  const devices = parseSmartctlScan(scan.stdout).slice(0, c.opts.maxSmartDevices ?? 16);
  if (devices.length === 0) return [finding('hardware.smart.no-devices', 'info', 'SMART not available: smartctl found no disk it can query (virtual machine?)', commandEvidence(scan))];
  const per = await Promise.all(
    devices.map(async (d): Promise<Finding[]> => {
      const args = ['-H', '-A', '-j', ...(d.type ? ['-d', d.type] : []), d.name];
      const r = await c.run('smartctl', args);
      if (r.timedOut)
        return [
          finding('hardware.smart.timeout', 'warn', `smartctl did not answer for ${d.name} within ${r.durationMs} ms`, commandEvidence(r), 'A disk that hangs on a health query may be failing. Watch its activity light; check the kernel log.'),
        ];
      let report: SmartReport;
      try {
        report = parseSmartctlJson(r.stdout, d.name);
      } catch {
        return [finding('hardware.smart.unreadable', 'info', `SMART not available on ${d.name} (smartctl printed no JSON)`, commandEvidence(r))];
      }
      // bit 1: device open failed; bit 2: a SMART command failed; either way no health data
      const exit = report.exitStatus ?? r.code ?? 0;
      if (report.passed === null && report.attributes.length === 0 && !report.nvme && (exit & 0b110) !== 0)
        return [finding('hardware.smart.unsupported', 'info', `SMART not available on ${d.name}`, [...report.messages, `$ ${r.commandLine} → exit ${r.code}`])];
      return smartFindings(report, [`$ ${r.commandLine} → exit ${r.code}`]);
    }),
  );
  return per.flat();
}

// --- RAID -------------------------------------------------------------------------------------

/** Findings for the md arrays in /proc/mdstat. */
export function raidFindings(mdstatText: string): Finding[] {
  const { arrays } = parseMdstat(mdstatText);
  if (arrays.length === 0) return [finding('hardware.raid.none', 'info', 'No software RAID (md) arrays configured', [excerpt(mdstatText, 6)])];
  const out: Finding[] = [];
  for (const a of arrays) {
    const ev = [a.lines.join('\n')];
    const syncText = a.sync ? `${a.sync.kind} ${a.sync.percent !== null ? `${a.sync.percent}%` : (a.sync.state ?? '')}${a.sync.finish ? `, about ${a.sync.finish} left` : ''}` : '';
    if (a.state === 'inactive') {
      out.push(
        finding(
          'hardware.raid.inactive',
          'fail',
          `RAID array ${a.name} is inactive (not assembled): its data is not available`,
          ev,
          `Do not create a new array or format anything. Check that every member disk is powered and its light is on; then try \`mdadm --assemble --scan\` and look at \`mdadm --detail /dev/${a.name}\`. ${POWER_ADVICE}`,
        ),
      );
    } else if (a.degraded) {
      const missing = a.statusMap ? [...a.statusMap].map((ch, i) => (ch === '_' ? i : -1)).filter((i) => i >= 0) : [];
      out.push(
        finding(
          'hardware.raid.degraded',
          'fail',
          `RAID array ${a.name} (${a.level ?? 'md'}) is degraded: ${a.workingDevices ?? '?'} of ${a.expectedDevices ?? '?'} disks working${a.failedMembers.length ? `, failed: ${a.failedMembers.join(', ')}` : ''}${syncText ? ` (${syncText})` : ''}`,
          [...ev, ...(missing.length ? [`missing slot(s): ${missing.join(', ')}`] : [])],
          `One more disk failure loses data: make sure a backup exists before anything else. Look at the RAID/disk lights on the server (a failed disk shows amber/red or no activity) and at \`mdadm --detail /dev/${a.name}\`. Replace the failed disk with one of the same size or larger and add it with \`mdadm --manage /dev/${a.name} --add /dev/<new partition>\`${a.sync ? '; a rebuild is running: do not power off or pull disks until it finishes' : ''}. ${POWER_ADVICE}`,
        ),
      );
    } else if (a.failedMembers.length > 0) {
      out.push(
        finding(
          'hardware.raid.member-failed',
          'warn',
          `RAID array ${a.name} has a failed member (${a.failedMembers.join(', ')}) but is still complete (a spare took over)`,
          ev,
          `Replace the failed disk and add it back as a spare: \`mdadm --manage /dev/${a.name} --remove <failed> --add <new>\`.`,
        ),
      );
    } else if (a.sync) {
      out.push(
        finding(
          'hardware.raid.syncing',
          'warn',
          `RAID array ${a.name} is running a ${syncText.trim()} (typical after an unclean shutdown)`,
          ev,
          'The array works but is slower until the sync finishes. Do not power off the server meanwhile.',
        ),
      );
    } else if (a.readOnly) {
      out.push(finding('hardware.raid.read-only', 'warn', `RAID array ${a.name} is read-only`, ev, `It switches to read-write on the first write; if it stays read-only, check \`mdadm --detail /dev/${a.name}\`.`));
    } else {
      out.push(finding('hardware.raid.ok', 'ok', `RAID array ${a.name} (${a.level ?? 'md'}) is healthy${a.statusMap ? ` [${a.statusMap}]` : ''}`, ev));
    }
  }
  return out;
}

async function checkRaid(c: Ctx): Promise<Finding[]> {
  const text = readText(c.proc('mdstat'));
  if (text === null)
    return [
      finding('hardware.raid.none', 'info', 'No software RAID (md): /proc/mdstat does not exist', [], 'A hardware RAID controller is not visible from here: check its status lights or its BIOS/management page.'),
    ];
  return raidFindings(text);
}

// --- kernel log -------------------------------------------------------------------------------

function eventsEvidence(events: KernelEvent[], max = 12): string[] {
  const lines = events.map((e) => e.line.trim());
  if (lines.length <= max) return lines;
  const head = Math.ceil(max / 2);
  return [...lines.slice(0, head), `… ${lines.length - max} more similar lines …`, ...lines.slice(lines.length - (max - head))];
}

function devicesOf(events: KernelEvent[]): string {
  const devs = [...new Set(events.map((e) => e.device).filter((d): d is string => d !== null))];
  return devs.length ? devs.join(', ') : 'unknown device';
}

/** Findings from the kernel log text (dmesg or journalctl -k). `source` names where it came from. */
export function kernelFindings(text: string, source: string): Finding[] {
  const events = parseKernelLog(text);
  const out: Finding[] = [];
  const hostEvents = events.filter((e) => !isImageDevice(e.device));
  const imageEvents = events.filter((e) => isImageDevice(e.device));
  const of = (kinds: KernelEventKind[], list = hostEvents) => list.filter((e) => kinds.includes(e.kind));

  const readOnly = of(['read-only']);
  if (readOnly.length)
    out.push(
      finding(
        'hardware.kernel.remounted-read-only',
        'fail',
        `The kernel remounted a filesystem read-only after errors (${devicesOf(readOnly)})`,
        eventsEvidence(readOnly),
        'Services cannot write there until it is repaired: stop them, unmount the filesystem and run fsck (e2fsck -f /dev/…) or xfs_repair from a maintenance shell, then reboot. Back up what you can first.',
      ),
    );
  const fsErr = of(['fs-error']);
  if (fsErr.length)
    out.push(
      finding(
        'hardware.kernel.fs-errors',
        'fail',
        `Filesystem errors since boot (${devicesOf(fsErr)}): ${fsErr.length} line(s)`,
        eventsEvidence(fsErr),
        'The filesystem is damaged (often by a power cut during writes). Plan a check with fsck/xfs_repair on the unmounted filesystem and verify Lifeline data integrity afterwards.',
      ),
    );
  const io = of(['io-error']);
  if (io.length)
    out.push(
      finding(
        'hardware.kernel.io-errors',
        'fail',
        `Disk I/O errors since boot (${devicesOf(io)}): ${io.length} line(s)`,
        eventsEvidence(io),
        `The disk failed reads or writes. Check its SMART status and cables; if it is in a RAID, check the array. Back up now. ${POWER_ADVICE}`,
      ),
    );
  const link = of(['disk-warning']);
  if (link.length)
    out.push(
      finding(
        'hardware.kernel.disk-resets',
        'warn',
        `Disk link resets or command timeouts since boot (${devicesOf(link)})`,
        eventsEvidence(link),
        'Often a loose or damaged cable, a failing disk or a power supply that sagged. Reseat the cable and watch whether it happens again.',
      ),
    );
  const past = of(['fs-past-errors']);
  if (past.length)
    out.push(
      finding(
        'hardware.kernel.fs-past-errors',
        'warn',
        `Filesystems carry errors recorded before this boot and not yet repaired (${devicesOf(past)})`,
        eventsEvidence(past),
        'Plan a filesystem check (e2fsck -f, or xfs_repair) on the unmounted filesystem at the next maintenance window; back up first.',
      ),
    );
  const recovered = of(['fs-recovered']);
  if (recovered.length)
    out.push(
      finding(
        'hardware.kernel.fs-journal-recovered',
        'warn',
        `Filesystem journals were replayed at mount (${devicesOf(recovered)}): the previous shutdown was not clean`,
        eventsEvidence(recovered),
        'Files written just before the power cut may be missing or stale: run the knowledge-base integrity step.',
      ),
    );
  const oom = events.filter((e) => e.kind === 'oom');
  if (oom.length)
    out.push(
      finding(
        'hardware.kernel.oom-kills',
        'warn',
        `The kernel killed processes for lack of memory since boot (${oom.length} line(s))`,
        eventsEvidence(oom),
        'A model or service needed more memory than was free. Check which process was killed; use a smaller model or add memory/swap.',
      ),
    );
  const imageProblems = imageEvents.filter((e) => e.kind !== 'fs-recovered' && e.kind !== 'oom');
  if (imageProblems.length)
    out.push(
      finding(
        'hardware.kernel.image-io-errors',
        'warn',
        `I/O or filesystem errors on disk images / loop devices (${devicesOf(imageProblems)}), not on physical disks`,
        eventsEvidence(imageProblems),
        'Loop devices back disk images (USB-drive images, snaps, test drives). A drive unplugged while mounted causes this; check that the image or drive it belongs to is intact.',
      ),
    );
  const scanned = `(${source}: ${text.split('\n').filter(Boolean).length} lines scanned)`;
  if (out.length === 0) return [finding('hardware.kernel.clean', 'ok', `No disk I/O or filesystem errors in the kernel log since boot (${source})`, [scanned])];
  for (const f of out) f.evidence.push(scanned);
  return out;
}

async function checkKernel(c: Ctx): Promise<Finding[]> {
  const d = await c.run('dmesg', []);
  if (d.found && d.code === 0 && d.stdout.trim()) return kernelFindings(d.stdout, 'dmesg');
  const j = await c.run('journalctl', ['-k', '-b', '--no-pager', '-q', '-o', 'short-monotonic']);
  if (j.found && j.code === 0 && j.stdout.trim()) return kernelFindings(j.stdout, 'journalctl -k -b');
  const why = !d.found && !j.found ? 'neither dmesg nor journalctl is installed' : 'dmesg is restricted (kernel.dmesg_restrict) and journalctl -k had nothing';
  return [
    finding('hardware.kernel.unavailable', 'info', `Kernel log not available: ${why}`, [...commandEvidence(d, 4), ...commandEvidence(j, 4)], 'Run Lifeline as root (or with CAP_SYSLOG) to read kernel I/O errors.'),
  ];
}

// --- memory -----------------------------------------------------------------------------------

async function checkMemory(c: Ctx): Promise<Finding[]> {
  const text = readText(c.proc('meminfo'));
  let total: number;
  let avail: number;
  let swapTotal = 0;
  let swapFree = 0;
  if (text !== null) {
    const m = parseMeminfo(text);
    total = (m.MemTotal ?? 0) * 1024;
    avail = (m.MemAvailable ?? (m.MemFree ?? 0) + (m.Cached ?? 0) + (m.Buffers ?? 0)) * 1024;
    swapTotal = (m.SwapTotal ?? 0) * 1024;
    swapFree = (m.SwapFree ?? 0) * 1024;
  } else {
    total = os.totalmem();
    avail = os.freemem();
  }
  if (!total) return [finding('hardware.memory.unavailable', 'info', 'Memory figures not available')];
  const ratio = avail / total;
  const ev = [
    `total ${formatBytes(total)}, available ${formatBytes(avail)} (${(ratio * 100).toFixed(1)}%)`,
    swapTotal ? `swap ${formatBytes(swapTotal)}, used ${formatBytes(swapTotal - swapFree)} (${(((swapTotal - swapFree) / swapTotal) * 100).toFixed(1)}%)` : 'swap: none',
  ];
  const warnRatio = c.opts.memoryWarnRatio ?? 0.1;
  const out: Finding[] = [];
  if (ratio < warnRatio)
    out.push(
      finding(
        'hardware.memory.low',
        'warn',
        `Low memory: only ${formatBytes(avail)} of ${formatBytes(total)} available (${(ratio * 100).toFixed(1)}%)`,
        ev,
        'Models may fail to load or be killed for lack of memory. Stop what is not needed (e.g. a second model, a stuck container) before restarting services.',
      ),
    );
  else out.push(finding('hardware.memory', 'ok', `Memory: ${formatBytes(avail)} of ${formatBytes(total)} available`, ev));
  if (swapTotal > 0 && (swapTotal - swapFree) / swapTotal > 0.8)
    out.push(finding('hardware.memory.swap-full', 'warn', `Swap is ${(((swapTotal - swapFree) / swapTotal) * 100).toFixed(0)}% used`, ev, 'The machine is short of memory; answers will be slow.'));
  return out;
}

// --- temperature ------------------------------------------------------------------------------

async function defaultCpuTemperature(): Promise<CpuTemperatureReading> {
  const t = await si.cpuTemperature();
  return { main: t.main ?? null, max: t.max ?? null, cores: (t.cores ?? []).filter((x) => typeof x === 'number') };
}

async function checkTemperature(c: Ctx): Promise<Finding[]> {
  const read = c.opts.readCpuTemperature ?? defaultCpuTemperature;
  const timeoutMs = c.opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let t: CpuTemperatureReading | 'timeout';
  try {
    t = await Promise.race([read(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref())]);
  } catch (err) {
    return [finding('hardware.temperature.unavailable', 'info', 'Temperatures not available', [(err as Error).message])];
  }
  if (t === 'timeout') return [finding('hardware.temperature.unavailable', 'info', `Temperatures not available (no answer within ${timeoutMs} ms)`)];
  const values = [t.main, t.max, ...t.cores].filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > -50);
  if (values.length === 0) return [finding('hardware.temperature.unavailable', 'info', 'Temperatures not available (no sensors exposed; virtual machine?)')];
  const hottest = Math.max(...values);
  const warnAt = c.opts.cpuTempWarnC ?? 85;
  const ev = [`CPU ${t.main ?? '?'} °C, max ${t.max ?? '?'} °C${t.cores.length ? `, cores ${t.cores.join('/')} °C` : ''}`];
  if (hottest >= warnAt)
    return [finding('hardware.temperature.high', 'warn', `CPU is hot: ${hottest} °C`, ev, 'Check the server room cooling and the fans: air conditioning often does not restart by itself after a power cut.')];
  return [finding('hardware.temperature', 'ok', `CPU temperature ${hottest} °C`, ev)];
}

// --- uptime, shutdown -------------------------------------------------------------------------

async function checkUptime(c: Ctx): Promise<Finding[]> {
  const text = readText(c.proc('uptime'));
  const up = text ? Number(text.split(/\s+/)[0]) * 1000 : os.uptime() * 1000;
  if (!Number.isFinite(up) || up <= 0) return [finding('hardware.uptime', 'info', 'Uptime not available')];
  const bootedAt = new Date(c.now - up).toISOString();
  const recent = up < 15 * 60 * 1000;
  return [
    finding(
      'hardware.uptime',
      'info',
      recent ? `The machine started ${formatDuration(up)} ago` : `Up for ${formatDuration(up)}`,
      [`booted at ${bootedAt}`, `uptime ${(up / 1000).toFixed(0)} s`],
      recent ? 'If this follows a power cut: disks and RAID may still be settling; let any RAID resync finish before heavy work.' : undefined,
    ),
  ];
}

async function checkShutdown(c: Ctx): Promise<Finding[]> {
  const out: Finding[] = [];
  if (c.opts.previousRunEndedCleanly === false)
    out.push(
      finding(
        'hardware.unclean-exit',
        'warn',
        'Lifeline did not exit cleanly last time (power cut, crash or kill)',
        ['clean-exit marker missing at start-up'],
        'Run every wizard step: data written just before the stop may be incomplete.',
      ),
    );
  else if (c.opts.previousRunEndedCleanly === true) out.push(finding('hardware.clean-exit', 'ok', 'Lifeline exited cleanly last time', ['clean-exit marker present']));

  const boots = await c.run('journalctl', ['--list-boots', '--no-pager', '-q']);
  if (!boots.found) {
    out.push(finding('hardware.previous-boot.unavailable', 'info', 'Previous shutdown not verifiable (journalctl not installed)'));
    return out;
  }
  const list = boots.code === 0 ? parseJournalBoots(boots.stdout) : [];
  if (list.length < 2) {
    out.push(
      finding(
        'hardware.previous-boot.unavailable',
        'info',
        list.length === 0 ? 'Previous shutdown not verifiable (no system journal)' : 'Previous shutdown not verifiable (the journal keeps no previous boot; is it persistent?)',
        commandEvidence(boots, 4),
        list.length === 1 ? 'Make the journal persistent (mkdir /var/log/journal) so the next incident can be traced.' : undefined,
      ),
    );
    return out;
  }
  const tail = await c.run('journalctl', ['-b', '-1', '-n', '40', '--no-pager', '-q', '-o', 'short-iso']);
  if (tail.code !== 0 || !tail.stdout.trim()) {
    out.push(finding('hardware.previous-boot.unavailable', 'info', 'Previous boot journal not readable', commandEvidence(tail, 4)));
    return out;
  }
  const last = tail.stdout.trim().split('\n').slice(-8).join('\n');
  if (journalEndsCleanly(tail.stdout)) out.push(finding('hardware.previous-shutdown.clean', 'ok', 'The previous boot ended with a clean shutdown', [`$ ${tail.commandLine}`, last]));
  else
    out.push(
      finding(
        'hardware.previous-shutdown.unclean',
        'warn',
        'The previous boot did not end with a clean shutdown (power cut or crash)',
        [`$ ${tail.commandLine} (last lines)`, last],
        'Check the UPS: it should have shut the server down cleanly before its battery ran out. Then run every wizard step.',
      ),
    );
  return out;
}

// --- clock ------------------------------------------------------------------------------------

/** Findings about the wall clock compared with the last time Lifeline recorded. */
export function clockFindings(nowMs: number, lastSeenTime: string | undefined, expectedMaxGapMs = 30 * 86400_000): Finding[] {
  const out: Finding[] = [];
  const nowIso = new Date(nowMs).toISOString();
  const consequences = 'Certificates may look expired or not yet valid, scheduled backups may run at the wrong time or not at all, and log times will be misleading.';
  if (new Date(nowMs).getUTCFullYear() < 2024)
    out.push(
      finding(
        'hardware.clock.implausible',
        'warn',
        `The system clock says ${nowIso}, which cannot be right (was the clock reset by the power cut? a dead RTC battery?)`,
        [`now ${nowIso}`],
        `Set the correct date and time (timedatectl set-time or from the BIOS). ${consequences}`,
      ),
    );
  if (lastSeenTime === undefined) return out;
  const last = Date.parse(lastSeenTime);
  if (!Number.isFinite(last)) {
    out.push(finding('hardware.clock.unknown', 'info', `Last recorded time is not a date: ${JSON.stringify(lastSeenTime)}`));
    return out;
  }
  const gap = nowMs - last;
  const ev = [`now ${nowIso}`, `last seen ${new Date(last).toISOString()}`, `difference ${gap >= 0 ? '+' : '-'}${formatDuration(gap)}`];
  if (gap < -5 * 60_000)
    out.push(
      finding(
        'hardware.clock.jumped-backwards',
        'warn',
        `The clock went backwards by ${formatDuration(gap)} since Lifeline last ran`,
        ev,
        `Check the date and time (BIOS clock battery, NTP). ${consequences}`,
      ),
    );
  else if (gap > expectedMaxGapMs)
    out.push(
      finding(
        'hardware.clock.jumped-forwards',
        'warn',
        `The clock is ${formatDuration(gap)} ahead of the last time Lifeline ran (more than the expected ${formatDuration(expectedMaxGapMs)})`,
        ev,
        `If the machine was not really off that long, the clock is wrong: check the date and time. ${consequences}`,
      ),
    );
  else out.push(finding('hardware.clock', 'ok', `Clock consistent with the last run (${formatDuration(gap)} ago)`, ev));
  return out;
}

async function checkClock(c: Ctx): Promise<Finding[]> {
  const out = clockFindings(c.now, c.opts.lastSeenTime, c.opts.expectedMaxGapMs);
  const t = await c.run('timedatectl', ['show']);
  const kv = t.code === 0 ? parseKeyEqualsValue(t.stdout) : {};
  if (!t.found) out.push(finding('hardware.ntp.unavailable', 'info', 'Time synchronisation status not available (timedatectl not installed)'));
  else if (t.code !== 0 || kv.NTPSynchronized === undefined) out.push(finding('hardware.ntp.unavailable', 'info', 'Time synchronisation status not available (no systemd-timedated)', commandEvidence(t, 4)));
  else {
    const ev = [`$ ${t.commandLine}`, ['Timezone', 'NTP', 'NTPSynchronized', 'LocalRTC', 'TimeUSec', 'RTCTimeUSec'].filter((k) => kv[k] !== undefined).map((k) => `${k}=${kv[k]}`).join('\n')];
    if (kv.NTPSynchronized === 'yes') out.push(finding('hardware.ntp.synchronised', 'ok', 'System clock synchronised (NTP)', ev));
    else if (kv.NTP === 'yes')
      out.push(
        finding(
          'hardware.ntp.not-synchronised',
          'warn',
          'NTP is enabled but the clock is not synchronised',
          ev,
          'The time server may be unreachable after the outage (a switch or the time server itself still down). Check the local NTP server; until then compare the clock with a phone or watch.',
        ),
      );
    else out.push(finding('hardware.ntp.off', 'info', 'No time synchronisation: the clock relies on the hardware clock', ev, 'On an air-gapped site, check the date and time by hand after a power cut.'));
  }
  return out;
}

// --- UPS --------------------------------------------------------------------------------------

/** Findings for one UPS read with NUT's upsc. */
export function upsFindings(u: UpsState, evidence: string[] = []): Finding[] {
  const s = new Set(u.status);
  const ev = [
    `ups.status: ${u.status.join(' ') || '(none)'}`,
    ...(u.chargePercent !== null ? [`battery.charge: ${u.chargePercent}%`] : []),
    ...(u.runtimeSeconds !== null ? [`battery.runtime: ${u.runtimeSeconds} s (${formatDuration(u.runtimeSeconds * 1000)})`] : []),
    ...evidence,
  ];
  if (s.has('OB') || s.has('LB') || s.has('FSD'))
    return [
      finding(
        s.has('LB') || s.has('FSD') ? 'hardware.ups.low-battery' : 'hardware.ups.on-battery',
        'fail',
        `UPS ${u.name} is ${s.has('OB') ? 'running on battery (mains power is out)' : 'online'}${s.has('LB') ? ', battery LOW' : ''}${s.has('FSD') ? ', forced shutdown in progress' : ''}${u.runtimeSeconds !== null ? `: about ${formatDuration(u.runtimeSeconds * 1000)} left` : ''}`,
        ev,
        'Do not start a recovery now: save work and shut the server down cleanly before the battery runs out. Start again when mains power is back and the UPS has recharged for a while.',
      ),
    ];
  const out: Finding[] = [];
  if (s.has('RB')) out.push(finding('hardware.ups.replace-battery', 'warn', `UPS ${u.name} asks for its battery to be replaced`, ev, 'A worn battery is why a UPS lasts minutes instead of the rated time. Replace it.'));
  if (u.chargePercent !== null && u.chargePercent < 50 && !s.has('OB'))
    out.push(
      finding('hardware.ups.charging', 'warn', `UPS ${u.name} battery only ${u.chargePercent}% charged`, ev, 'Another power cut now would leave little time: wait for the battery to recharge before long operations.'),
    );
  if (s.has('OVER') || s.has('BYPASS')) out.push(finding('hardware.ups.degraded', 'warn', `UPS ${u.name} reports ${[...s].filter((x) => x === 'OVER' || x === 'BYPASS').join(', ')}`, ev));
  if (out.length === 0) out.push(finding('hardware.ups.online', 'ok', `UPS ${u.name} online${u.chargePercent !== null ? `, battery ${u.chargePercent}%` : ''}`, ev));
  return out;
}

async function checkUps(c: Ctx): Promise<Finding[]> {
  if (!findExecutable('upsc', c.opts.pathEnv)) return [finding('hardware.ups.unavailable', 'info', 'UPS status not available (NUT not installed)', [], 'With a UPS, install NUT (nut-client) so the server shuts down cleanly before the battery runs out.')];
  const list = await c.run('upsc', ['-l']);
  const names = list.code === 0 ? list.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[\w.-]+$/.test(l)) : [];
  if (names.length === 0) return [finding('hardware.ups.unavailable', 'info', 'UPS status not available (no UPS known to the NUT server)', commandEvidence(list, 4))];
  const per = await Promise.all(
    names.slice(0, 4).map(async (n) => {
      const r = await c.run('upsc', [n]);
      if (r.code !== 0) return [finding('hardware.ups.unavailable', 'info', `UPS ${n} did not answer`, commandEvidence(r, 4))];
      return upsFindings(parseUpsc(n, r.stdout), [`$ ${r.commandLine} → exit ${r.code}`]);
    }),
  );
  return per.flat();
}

// --- air gap ----------------------------------------------------------------------------------

/** Process names owning socket inodes (root can see all; others only their own). Best effort, bounded. */
function socketOwners(inodes: Set<number>, procRoot: string, budgetMs = 500): Map<number, string> {
  const owners = new Map<number, string>();
  if (inodes.size === 0) return owners;
  const deadline = Date.now() + budgetMs;
  let pids: string[];
  try {
    pids = fs.readdirSync(procRoot).filter((p) => /^\d+$/.test(p));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    if (Date.now() > deadline || owners.size === inodes.size) break;
    let fds: string[];
    try {
      fds = fs.readdirSync(path.join(procRoot, pid, 'fd'));
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(path.join(procRoot, pid, 'fd', fd));
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(Number(m[1])) && !owners.has(Number(m[1]))) {
        const comm = readText(path.join(procRoot, pid, 'comm'))?.trim() ?? '?';
        owners.set(Number(m[1]), `${comm}, pid ${pid}`);
      }
    }
  }
  return owners;
}

/** Air-gap findings from the route tables and TCP socket tables' text. */
export function airGapFindings(input: { route?: string | null; ipv6Route?: string | null; tcp?: string | null; tcp6?: string | null; ipRouteDefault?: string | null }, allowedListeners: number[] = [], owners?: Map<number, string>): Finding[] {
  const out: Finding[] = [];
  const routes = [...(input.route ? parseProcNetRoute(input.route) : []), ...(input.ipv6Route ? parseProcNetIpv6Route(input.ipv6Route) : [])].filter((r) => r.isDefault);
  if (input.route === null && input.ipv6Route === null) out.push(finding('hardware.airgap.routes-unavailable', 'info', 'Route table not available'));
  else if (routes.length > 0)
    out.push(
      finding(
        'hardware.airgap.default-route',
        'warn',
        `A default route exists (${routes.map((r) => `via ${r.gateway} dev ${r.iface}`).join('; ')}): this machine can reach networks beyond its own`,
        [...routes.map((r) => `IPv${r.family} default via ${r.gateway} dev ${r.iface} metric ${r.metric}`), ...(input.ipRouteDefault ? [`$ ip route show default\n${input.ipRouteDefault.trim()}`] : [])],
        'On an air-gapped site there should be no gateway. Check which cable or interface provides it (a laptop tether, a second network card, a DHCP server) and disconnect it.',
      ),
    );
  else out.push(finding('hardware.airgap.no-default-route', 'ok', 'No default route: no gateway to other networks', []));
  if (input.tcp === null && input.tcp6 === null) {
    out.push(finding('hardware.airgap.sockets-unavailable', 'info', 'Socket table not available'));
    return out;
  }
  const sockets = [...(input.tcp ? parseProcNetTcp(input.tcp, 4) : []), ...(input.tcp6 ? parseProcNetTcp(input.tcp6, 6) : [])];
  const exposed = exposedListeners(sockets, allowedListeners);
  if (exposed.length > 0)
    out.push(
      finding(
        'hardware.airgap.exposed-listeners',
        'warn',
        `${exposed.length} service(s) listen on network addresses, not only on loopback: ${exposed.map((e) => e.localPort).filter((p, i, a) => a.indexOf(p) === i).join(', ')}`,
        exposed.map((e) => `tcp${e.family === 6 ? '6' : ''} LISTEN ${formatEndpoint(e)}${owners?.get(e.inode) ? ` (${owners.get(e.inode)})` : ''} uid ${e.uid}`),
        `Anything on this network can reach these ports. If a port is expected (e.g. the Chatchat web UI for the wards), add it to the allowed list; otherwise bind the service to 127.0.0.1.${allowedListeners.length ? ` Allowed now: ${allowedListeners.join(', ')}.` : ''}`,
      ),
    );
  else out.push(finding('hardware.airgap.listeners', 'ok', `No unexpected listener on network addresses${allowedListeners.length ? ` (allowed: ${allowedListeners.join(', ')})` : ''}`, []));
  return out;
}

async function checkAirGap(c: Ctx): Promise<Finding[]> {
  const allowed = c.opts.airGap?.allowedListeners ?? [];
  const tcp = readText(c.proc('net/tcp'));
  const tcp6 = readText(c.proc('net/tcp6'));
  const ipr = await c.run('ip', ['route', 'show', 'default']);
  const input = { route: readText(c.proc('net/route')), ipv6Route: readText(c.proc('net/ipv6_route')), tcp, tcp6, ipRouteDefault: ipr.code === 0 ? ipr.stdout : null };
  const exposed = exposedListeners([...(tcp ? parseProcNetTcp(tcp, 4) : []), ...(tcp6 ? parseProcNetTcp(tcp6, 6) : [])], allowed);
  const owners = socketOwners(new Set(exposed.map((e) => e.inode).filter((i) => i > 0)), c.opts.procRoot ?? '/proc');
  return airGapFindings(input, allowed, owners);
}

// --- entry point ------------------------------------------------------------------------------

const SECTION_FNS: Record<HardwareSection, (c: Ctx) => Promise<Finding[]>> = {
  disks: checkDisks,
  smart: checkSmart,
  raid: checkRaid,
  kernel: checkKernel,
  memory: checkMemory,
  temperature: checkTemperature,
  uptime: checkUptime,
  shutdown: checkShutdown,
  clock: checkClock,
  ups: checkUps,
  airgap: checkAirGap,
};

/**
 * Wizard step 1, "power and hardware": disks and SMART, RAID (md), kernel I/O and filesystem
 * errors since boot, memory, temperatures, uptime and unclean shutdown, clock jump and NTP, UPS,
 * and (when asked) the air gap. Never throws; missing tools and sensors are 'info' findings.
 */
export async function checkHardware(opts: HardwareCheckOptions = {}): Promise<CheckResult> {
  const started = Date.now();
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/sys';
  const c: Ctx = {
    run: (name, args, timeoutMs) => runCommand(name, args, { timeoutMs: timeoutMs ?? opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, ...(opts.pathEnv !== undefined ? { pathEnv: opts.pathEnv } : {}) }),
    proc: (rel) => path.join(procRoot, rel),
    sys: (rel) => path.join(sysRoot, rel),
    opts,
    now: (opts.now ?? Date.now)(),
  };
  const wanted = (opts.sections ?? HARDWARE_SECTIONS).filter((s) => s !== 'airgap' || opts.airGap !== undefined);
  const results = await Promise.all(
    wanted.map(async (s) => {
      try {
        return await SECTION_FNS[s](c);
      } catch (err) {
        return [finding(`hardware.${s}.error`, 'info', `The ${s} check could not run: ${(err as Error).message}`, [String((err as Error).stack ?? err).split('\n').slice(0, 3).join('\n')])];
      }
    }),
  );
  const findings = results.flat();
  return { status: statusOf(findings), findings, durationMs: Date.now() - started };
}
