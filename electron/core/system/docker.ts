/**
 * Step 3 of the recovery wizard, "services and containers": what the Docker engine says about the
 * site's compose projects, and the few actions that bring them back (start, restart, recreate,
 * start a whole project in dependency order).
 *
 * The reference incident: containers set to `restart: always`, host filesystem damaged, some
 * volume mounts failed, the web page (port 7860) down and the API answering 500. So per container
 * we look at its state (exit code, OOM kill), health, restart policy, mounts (a bind-mounted host
 * folder that is missing, or on a filesystem that came back read-only), published ports (and who
 * holds a port the container cannot bind) and the errors in its last log lines.
 *
 * Finding actions name their target in the id: `start:<container>`, `restart:<container>`,
 * `recreate:<container>`, `start-all:<project>`; parseServiceActionId() turns one back into the
 * argument of runServiceAction().
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { statusOf, type CheckResult, type Finding, type FindingAction, type Severity } from './finding.js';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_DEPENDS_ON_LABEL = 'com.docker.compose.depends_on';

type Inspect = Dockerode.ContainerInspectInfo;

export interface ServicesCheckOptions {
  /** Compose project names the operator names (the site's services). None: every project found. */
  projects?: string[];
  /** Lifeline's own compose project, checked when present (default 'lifeline'). */
  lifelineProject?: string;
  /** Host ports that must answer after recovery, e.g. [7860] for the web page. */
  expectedPorts?: number[];
  /** Log lines read per container (default 50). */
  logTail?: number;
}

export type ServiceActionId = 'start' | 'restart' | 'recreate' | 'start-all';
export interface ServiceAction {
  id: ServiceActionId;
  /** Name or id, for start / restart / recreate. */
  container?: string;
  /** Compose project name, for start-all. */
  project?: string;
}
export interface ContainerStatus {
  id: string;
  name: string;
  service?: string;
  state: string;
  health?: string;
  exitCode: number;
}
export interface ServiceActionResult {
  ok: boolean;
  message: string;
  containers: ContainerStatus[];
}
export interface ServiceActionOptions {
  /** How long to wait for each container to run (and be healthy when it has a health check). Default 60 s. */
  timeoutMs?: number;
}

/** A process listening on a TCP port of this machine (this network namespace). */
export interface PortHolder {
  port: number;
  address: string;
  inode: number;
  pid: number | null;
  /** Short process name (/proc/<pid>/comm), e.g. `node`, `docker-proxy`, `python3`. */
  name: string;
  /** Its command line. */
  command: string;
}

/** What containerFindings() asks of the host; tests pass their own. */
export interface HostProbe {
  exists(p: string): boolean;
  /** null when writable, else the errno code (EROFS, EACCES, …). */
  writeError(p: string): string | null;
  ownerUid(p: string): number | null;
  /** The folder's mtime (ISO) when p is an empty directory, else null. */
  emptyDirSince(p: string): string | null;
  portHolders(port: number): PortHolder[];
  /** false inside a container, where the host's bind-mount sources are not visible (default true). */
  seesHostPaths?: boolean;
}

// ---- small helpers -------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nameOf = (info: { Name: string }) => info.Name.replace(/^\//, '');

function errText(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string };
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Docker client for the local engine: `socketPath`, else $DOCKER_HOST, else /var/run/docker.sock. */
export function openDocker(socketPath?: string): Dockerode {
  // Loaded on first use: dockerode and its HTTP stack take ~0.2 s to load, which every CLI
  // command (verify, backup…) would otherwise pay without talking to Docker.
  const Client = createRequire(import.meta.url)('dockerode') as typeof Dockerode;
  return socketPath ? new Client({ socketPath, timeout: 15_000 }) : new Client({ timeout: 15_000 });
}

/** Builds an action id that names its target, e.g. `start:hospital-kb-web-1`. */
export function serviceActionId(id: ServiceActionId, target: string): string {
  return `${id}:${target}`;
}

/** The runServiceAction() argument behind a finding's action id; null for anything else. */
export function parseServiceActionId(id: string): ServiceAction | null {
  const m = /^(start|restart|recreate|start-all):(.+)$/.exec(id);
  if (!m) return null;
  const kind = m[1] as ServiceActionId;
  return kind === 'start-all' ? { id: kind, project: m[2]! } : { id: kind, container: m[2]! };
}

function finding(code: string, severity: Severity, message: string, evidence: string[] = [], actions: FindingAction[] = [], advice?: string): Finding {
  return { code, severity, message, evidence, actions, ...(advice ? { advice } : {}) };
}

// ---- logs ----------------------------------------------------------------------------------

/** Docker's log stream for a container without a TTY: 8-byte frame headers (stream, 0,0,0, size BE). */
export function demuxLogs(buf: Buffer): string {
  const parts: string[] = [];
  let off = 0;
  while (off + 8 <= buf.length && buf[off]! <= 2 && buf[off + 1] === 0 && buf[off + 2] === 0 && buf[off + 3] === 0) {
    const size = buf.readUInt32BE(off + 4);
    parts.push(buf.subarray(off + 8, off + 8 + size).toString('utf8'));
    off += 8 + size;
  }
  // A TTY container's log is raw text; so is whatever follows a malformed header.
  if (off < buf.length) parts.push(buf.subarray(off).toString('utf8'));
  return parts.join('');
}

const ERROR_LINE = /error|fatal|exception|panic|traceback|out of memory|killed|oom-?kill/i;

/** The lines that look like errors (ANSI colours removed, long lines cut). */
export function errorLines(lines: string[]): string[] {
  return lines
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trimEnd())
    .filter((l) => ERROR_LINE.test(l))
    .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
}

async function logLines(c: Dockerode.Container, tail: number): Promise<string[]> {
  const raw = (await withTimeout(c.logs({ stdout: true, stderr: true, tail, follow: false }), 10_000, 'docker logs')) as unknown;
  const text = Buffer.isBuffer(raw) ? demuxLogs(raw) : String(raw);
  return text.split('\n').filter((l) => l.trim() !== '');
}

// ---- who holds a port ----------------------------------------------------------------------

function hexToAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  // IPv6: four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) for (const i of [3, 2, 1, 0]) bytes.push(parseInt(hex.slice(w * 8 + i * 2, w * 8 + i * 2 + 2), 16));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((g) => ((bytes[g * 2]! << 8) | bytes[g * 2 + 1]!).toString(16));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]`;
}

function readText(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Processes listening on TCP `port`: /proc/net/tcp{,6} gives the socket inodes, /proc/<pid>/fd the
 * processes holding them (all of them only as root). When no pid is found that way, `ss -ltnp`.
 */
export function findPortHolders(port: number): PortHolder[] {
  const sockets = new Map<number, string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readText(table).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const [ip, p] = f[1]!.split(':');
      if (parseInt(p!, 16) === port) sockets.set(Number(f[9]), `${hexToAddress(ip!)}:${port}`);
    }
  }
  const holders: PortHolder[] = [];
  if (sockets.size > 0) {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let link: string;
        try {
          link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        const address = m ? sockets.get(Number(m[1])) : undefined;
        if (address && !holders.some((h) => h.pid === Number(pid) && h.inode === Number(m![1]))) {
          const p = Number(pid);
          holders.push({ port, address, inode: Number(m![1]), pid: p, name: readText(`/proc/${p}/comm`).trim() || '?', command: processCommand(p) });
        }
      }
    }
  }
  for (const [inode, address] of sockets) {
    if (holders.some((h) => h.inode === inode)) continue;
    const viaSs = ssHolders(port);
    holders.push(...(viaSs.length ? viaSs : [{ port, address, inode, pid: null, name: '?', command: '(unknown: not allowed to see the owning process)' }]));
    break;
  }
  return holders;
}

function processCommand(pid: number): string {
  const cmdline = readText(`/proc/${pid}/cmdline`).split('\0').filter(Boolean).join(' ');
  return cmdline.length > 160 ? `${cmdline.slice(0, 160)}…` : cmdline || readText(`/proc/${pid}/comm`).trim() || '?';
}

function ssHolders(port: number): PortHolder[] {
  const r = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || !r.stdout) return [];
  const out: PortHolder[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const address = line.trim().split(/\s+/)[3] ?? `:${port}`;
    for (const m of line.matchAll(/\("([^"]+)",pid=(\d+)/g)) out.push({ port, address, inode: 0, pid: Number(m[2]), name: m[1]!, command: m[1]! });
  }
  return out;
}

/** True when the process runs inside the container with this id (its cgroup path names the id). */
function pidInContainer(pid: number | null, containerId: string): boolean {
  return pid !== null && readText(`/proc/${pid}/cgroup`).includes(containerId);
}

export const realHostProbe: HostProbe = {
  exists: (p) => fs.existsSync(p),
  writeError(p) {
    try {
      fs.accessSync(p, fs.constants.W_OK);
      return null;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EIO';
    }
  },
  ownerUid(p) {
    try {
      return fs.statSync(p).uid;
    } catch {
      return null;
    }
  },
  emptyDirSince(p) {
    try {
      return fs.readdirSync(p).length === 0 ? fs.statSync(p).mtime.toISOString() : null;
    } catch {
      return null;
    }
  },
  portHolders: findPortHolders,
};

/**
 * The host probe for this engine. Lifeline sees the paths the engine sees (bind-mount sources)
 * only when it shares the engine's filesystem, i.e. when the engine's data root exists here;
 * inside a container it usually does not, and missing-looking paths prove nothing.
 */
async function hostProbeFor(docker: Dockerode): Promise<HostProbe> {
  try {
    const info = (await withTimeout(docker.info(), 5000, 'docker info')) as { DockerRootDir?: string };
    return { ...realHostProbe, seesHostPaths: !info.DockerRootDir || fs.existsSync(info.DockerRootDir) };
  } catch {
    return realHostProbe;
  }
}

// ---- one container -------------------------------------------------------------------------

const hasHealthcheck = (info: Inspect) => {
  const test = info.Config.Healthcheck?.Test;
  return Array.isArray(test) && test.length > 0 && test[0] !== 'NONE';
};

function describeExit(code: number): string {
  if (code === 0) return 'exit code 0 (it stopped cleanly, or was stopped)';
  if (code === 137) return 'exit code 137 (SIGKILL: the OOM killer, `docker kill`, or the machine went down)';
  if (code === 143) return 'exit code 143 (SIGTERM: stopped)';
  if (code === 255) return 'exit code 255 (the engine lost it, e.g. in a power cut)';
  if (code === 126 || code === 127 || code === 128) return `exit code ${code} (it could not be started)`;
  return `exit code ${code}`;
}

/** Host ports a container publishes: its port bindings, or with host networking the ports it exposes. */
export function publishedPorts(info: Inspect): { port: number; text: string }[] {
  const out: { port: number; text: string }[] = [];
  const bindings = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  for (const [containerPort, list] of Object.entries(bindings)) {
    if (!containerPort.endsWith('/tcp')) continue;
    for (const b of list ?? []) {
      const port = Number(b.HostPort || containerPort.split('/')[0]);
      if (port && !out.some((o) => o.port === port)) out.push({ port, text: `${b.HostIp || '0.0.0.0'}:${port}→${containerPort}` });
    }
  }
  if (info.HostConfig.NetworkMode === 'host') {
    for (const p of Object.keys(info.Config.ExposedPorts ?? {})) {
      const port = Number(p.split('/')[0]);
      if (p.endsWith('/tcp') && port && !out.some((o) => o.port === port)) out.push({ port, text: `host network, port ${port}` });
    }
  }
  return out;
}

interface MountProblem {
  source: string;
  destination: string;
  problem: 'missing' | 'empty' | 'readonly' | 'permission';
  detail: string;
}

/** Missing host folders, read-only filesystems and (for a numeric container user) wrong owners. */
export function mountProblems(info: Inspect, probe: HostProbe = realHostProbe): MountProblem[] {
  const out: MountProblem[] = [];
  if (probe.seesHostPaths === false) return out;
  const uid = /^(\d+)(:\d+)?$/.exec(info.Config.User ?? '')?.[1];
  for (const m of info.Mounts ?? []) {
    if (m.Type !== 'bind' && m.Type !== 'volume') continue;
    // A named volume lives under the engine's data root, which only root can see.
    if (m.Type === 'volume' && !probe.exists(path.dirname(path.dirname(m.Source)))) continue;
    const base = { source: m.Source, destination: m.Destination };
    if (!probe.exists(m.Source)) {
      out.push({ ...base, problem: 'missing', detail: `${m.Type} ${m.Source} → ${m.Destination}: host path missing` });
      continue;
    }
    // Docker makes a missing bind folder as an empty one: the failed mount of the reference incident
    // turns into a service running on no data.
    const empty = m.Type === 'bind' ? probe.emptyDirSince(m.Source) : null;
    if (empty) out.push({ ...base, problem: 'empty', detail: `bind ${m.Source} → ${m.Destination} is an empty folder (last changed ${empty})` });
    if (!m.RW) continue; // read-only on purpose
    const werr = probe.writeError(m.Source);
    if (werr === 'EROFS') out.push({ ...base, problem: 'readonly', detail: `${m.Type} ${m.Source} → ${m.Destination} is mounted rw, but the host filesystem is read-only (EROFS)` });
    else if (werr) out.push({ ...base, problem: 'permission', detail: `${m.Type} ${m.Source} → ${m.Destination}: not writable (${werr})` });
    else if (uid !== undefined && uid !== '0') {
      const owner = probe.ownerUid(m.Source);
      if (owner !== null && owner !== Number(uid)) {
        out.push({ ...base, problem: 'permission', detail: `${m.Type} ${m.Source} → ${m.Destination}: owned by uid ${owner}, the container runs as uid ${uid}` });
      }
    }
  }
  return out;
}

export interface ContainerContext {
  logLines?: string[];
  probe?: HostProbe;
  /** No actions offered (Lifeline's own container: restarting it would end this wizard). */
  self?: boolean;
}

/** The findings for one container, from its `docker inspect` and its last log lines. */
export function containerFindings(info: Inspect, ctx: ContainerContext = {}): Finding[] {
  const probe = ctx.probe ?? realHostProbe;
  const name = nameOf(info);
  const s = info.State;
  const out: Finding[] = [];
  const act = (id: Exclude<ServiceActionId, 'start-all'>, label: string): FindingAction[] =>
    ctx.self ? [] : [{ id: serviceActionId(id, name), label, destructive: id === 'recreate' }];
  const start = act('start', `Start ${name}`);
  const restart = act('restart', `Restart ${name}`);
  const recreate = act('recreate', `Recreate ${name} (remove it, create it again with the same configuration)`);
  const ports = publishedPorts(info);
  const mounts = mountProblems(info, probe);
  const healthLog = (s.Health?.Log ?? []).slice(-3).map((h) => `health check at ${h.Start}: exit ${h.ExitCode}: ${h.Output.trim().slice(0, 300)}`);
  const policy = info.HostConfig.RestartPolicy?.Name || 'no';
  const never = (t: string) => !t || t.startsWith('0001-');
  const stateLine = `state: ${s.Status}${s.Running ? ` since ${s.StartedAt}` : `, ${describeExit(s.ExitCode)}${never(s.FinishedAt) ? '' : `, finished ${s.FinishedAt}`}`}`;
  const errors = errorLines(ctx.logLines ?? []).slice(-10);
  const mountMissing = mounts.some((m) => m.problem === 'missing');

  // State and health.
  if (s.OOMKilled) {
    const limit = info.HostConfig.Memory ? `memory limit: ${Math.round(info.HostConfig.Memory / 2 ** 20)} MiB` : 'no memory limit: the host ran out of memory';
    out.push(finding('oom-killed', 'fail', `${name} was killed for running out of memory`, [stateLine, 'OOMKilled: true', limit, ...errors.slice(-3)], s.Running ? restart : start,
      'Free memory (other services, a too-large model) or raise the limit (`mem_limit` in docker-compose.yml), then start it again.'));
  }
  if (s.Restarting || s.Status === 'restarting') {
    out.push(finding('container-restarting', 'fail', `${name} keeps crashing and being restarted (${info.RestartCount} restarts)`, [stateLine, `restart count: ${info.RestartCount}`, ...errors.slice(-5)],
      mountMissing ? [] : [...restart, ...recreate], 'Read its last log lines: restarting alone will not fix a crash loop (a missing mount, a broken index, a port taken).'));
  } else if (!s.Running || s.Paused) {
    if (!s.OOMKilled) {
      out.push(finding('container-stopped', 'fail', `${name} is not running (${s.Paused ? 'paused' : s.Status === 'created' ? 'created, not started' : s.Status})`, [stateLine, ...(s.Error ? [`last error: ${s.Error}`] : [])],
        mountMissing ? [] : [...start, ...recreate], mountMissing ? 'Bring its missing mount back first (see the mount finding).' : undefined));
    }
  } else if (s.Health?.Status === 'unhealthy') {
    out.push(finding('container-unhealthy', 'fail', `${name} is running but unhealthy (${s.Health.FailingStreak} failed health checks in a row)`, [stateLine, ...healthLog], [...restart, ...recreate]));
  } else if (s.Health?.Status === 'starting') {
    out.push(finding('container-starting', 'info', `${name} is starting (initializing, health check not passed yet)`, [stateLine, ...healthLog]));
  } else {
    out.push(finding('container-running', 'ok', `${name} is running${s.Health?.Status === 'healthy' ? ' and healthy' : ''}`,
      [stateLine, `restart policy: ${policy}`, ...ports.map((p) => `publishes ${p.text}`), ...(info.Mounts ?? []).map((m) => `mount ${m.Type} ${m.Source} → ${m.Destination} (${m.RW ? 'rw' : 'ro'})`)]));
  }

  // Restart policy: `no` and `on-failure` do not bring a service back after a power cut.
  if (policy === 'no' || policy === 'on-failure') {
    out.push(finding('restart-policy', 'warn', `${name} has restart policy "${policy}": it will not come back by itself after a reboot or a power cut`,
      [`restart policy: ${policy}${info.HostConfig.RestartPolicy?.MaximumRetryCount ? ` (max ${info.HostConfig.RestartPolicy.MaximumRetryCount} retries)` : ''}`], [],
      'Set `restart: unless-stopped` for this service in docker-compose.yml and run `docker compose up -d`.'));
  }

  // Mounts.
  for (const m of mounts) {
    if (m.problem === 'missing') {
      out.push(finding('mount-missing', 'fail', `${name}: the host path ${m.source} (mounted at ${m.destination}) is missing`,
        [m.detail, ...(s.Error ? [`last error: ${s.Error}`] : []), `state: ${s.Status}`], [],
        'A failed mount or a damaged filesystem. Do not start the container before the path is back: Docker creates an empty folder in its place and the service would start on empty data. Check the storage step (mount -a, fsck), or restore the data from a backup.'));
    } else if (m.problem === 'empty') {
      out.push(finding('mount-empty', 'warn', `${name}: the host folder ${m.source} (mounted at ${m.destination}) is empty`,
        [m.detail, `container started ${s.StartedAt}`], [],
        'If it should hold data, its filesystem may not have been mounted when the container started: Docker then creates an empty folder and the service runs on no data. Check the storage step (mount -a), then restart the container.'));
    } else if (m.problem === 'readonly') {
      out.push(finding('mount-readonly', 'warn', `${name}: ${m.source} is on a filesystem that is read-only now`, [m.detail],
        [], 'The kernel remounts a damaged filesystem read-only. Check the storage step (dmesg, fsck), then restart the container.'));
    } else {
      out.push(finding('mount-permission', 'warn', `${name}: it may not be able to write ${m.source}`, [m.detail], [],
        'Fix the owner or mode of the host folder (chown/chmod) so the container user can write it.'));
    }
  }

  // Ports: when the container is not running, who holds the ports it must publish?
  const portError = /address already in use|port is already allocated/i.test(s.Error ?? '');
  if (!s.Running || portError) {
    for (const p of ports) {
      const holders = probe.portHolders(p.port).filter((h) => !pidInContainer(h.pid, info.Id));
      if (holders.length === 0) continue;
      const who = holders.map((h) => `${h.name} (pid ${h.pid ?? '?'})`).join(', ');
      out.push(finding('port-conflict', 'fail', `${name} cannot publish port ${p.port}: it is held by ${who}`,
        [...holders.map((h) => `${h.address} held by pid ${h.pid ?? '?'}: ${h.command}`), `wanted: ${p.text}`, ...(s.Error ? [`last error: ${s.Error}`] : [])], start,
        `Stop the process holding port ${p.port} (its service, or \`kill ${holders[0]!.pid ?? 'PID'}\`), then start ${name}. A leftover docker-proxy after a crash goes away when the Docker engine is restarted.`));
    }
    if (portError && !out.some((f) => f.code === 'port-conflict')) {
      out.push(finding('port-conflict', 'warn', `${name} could not publish its ports the last time it started (the port is free now)`, [`last error: ${s.Error}`], start));
    }
  }

  if (errors.length > 0) {
    out.push(finding('log-errors', 'warn', `${name}: ${errors.length} error line(s) in its last log lines`, errors, s.Running ? restart : []));
  }
  return out;
}

// ---- the check -----------------------------------------------------------------------------

function ownContainerIds(): string {
  return readText('/proc/self/cgroup') + readText('/proc/self/mountinfo');
}

/** Step `services`: the compose projects' containers, as the Docker engine sees them. */
export async function checkServices(docker: Dockerode | null, opts: ServicesCheckOptions = {}): Promise<CheckResult> {
  const t0 = Date.now();
  const findings: Finding[] = [];
  const named = (opts.projects ?? []).filter(Boolean);
  const lifeline = opts.lifelineProject ?? 'lifeline';
  const done = (): CheckResult => ({ status: statusOf(findings), findings, durationMs: Date.now() - t0 });

  let version = '';
  try {
    if (!docker) throw new Error('no Docker client (no socket found)');
    await withTimeout(docker.ping(), 5000, 'docker ping');
    const v = await withTimeout(docker.version(), 5000, 'docker version');
    version = `Docker engine ${v.Version} (API ${v.ApiVersion}), ${v.Os}/${v.Arch}`;
  } catch (err) {
    const evidence = [errText(err), `socket: ${(docker?.modem as { socketPath?: string } | undefined)?.socketPath ?? process.env.DOCKER_HOST ?? '/var/run/docker.sock'}`];
    findings.push(named.length
      ? finding('docker-unreachable', 'fail', `The Docker engine does not answer, so ${named.join(', ')} cannot run`, evidence, [],
          'Check the engine: `systemctl status docker` and `journalctl -u docker -b`. A damaged filesystem under /var/lib/docker keeps it from starting: see the storage step. Then `systemctl start docker`.')
      : finding('docker-unreachable', 'info', 'No Docker engine on this machine (no project named, so nothing needs one)', evidence));
    return done();
  }
  findings.push(finding('docker-engine', 'ok', 'The Docker engine answers', [version]));
  const probe = await hostProbeFor(docker);
  if (probe.seesHostPaths === false) {
    findings.push(finding('mounts-unchecked', 'info', "Lifeline does not see the Docker engine's filesystem (it runs in a container?): bind-mount folders are not checked from here",
      ['the engine\'s data root is not visible here'], [], 'Run `lifeline doctor` on the host itself to check the mounts.'));
  }

  // Which projects: the named ones, else every compose project present; plus Lifeline's own if present.
  const all = await withTimeout(docker.listContainers({ all: true, filters: { label: [COMPOSE_PROJECT_LABEL] } }), 10_000, 'docker ps');
  const present = [...new Set(all.map((c) => c.Labels[COMPOSE_PROJECT_LABEL]!))].sort();
  const projects = [...new Set([...(named.length ? named : present), ...(present.includes(lifeline) ? [lifeline] : [])])];
  if (projects.length === 0) findings.push(finding('no-compose-projects', 'info', 'No compose project on this Docker engine', [`${all.length} compose containers`]));

  const self = ownContainerIds();
  const inspected: Inspect[] = [];
  for (const project of projects) {
    const members = all.filter((c) => c.Labels[COMPOSE_PROJECT_LABEL] === project).sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? ''));
    if (members.length === 0) {
      findings.push(finding('project-missing', 'fail', `No container of compose project "${project}" exists on this engine`,
        [`label ${COMPOSE_PROJECT_LABEL}=${project}: 0 containers`, `projects present: ${present.join(', ') || 'none'}`], [],
        'Create them again from the project folder: `docker compose up -d` (the compose file and its data folders must be there).'));
      continue;
    }
    let running = 0;
    for (const m of members) {
      const c = docker.getContainer(m.Id);
      let info: Inspect;
      try {
        info = await withTimeout(c.inspect(), 10_000, 'docker inspect');
      } catch (err) {
        findings.push(finding('container-unreadable', 'warn', `Cannot inspect ${m.Names[0]?.slice(1) ?? m.Id}`, [errText(err)]));
        continue;
      }
      inspected.push(info);
      if (info.State.Running && !info.State.Restarting) running++;
      let logs: string[] = [];
      try {
        logs = await logLines(c, opts.logTail ?? 50);
      } catch {
        /* a container whose log file is gone still gets its other findings */
      }
      findings.push(...containerFindings(info, { logLines: logs, probe, self: self.includes(info.Id) }));
    }
    const stopped = members.length - running;
    findings.push(finding('project-status', stopped ? 'fail' : 'ok', `${project}: ${running} of ${members.length} containers running`,
      members.map((m) => `${m.Names[0]?.slice(1)}: ${m.State} (${m.Status})`),
      stopped ? [{ id: serviceActionId('start-all', project), label: `Start the stopped containers of ${project} in dependency order`, destructive: false }] : []));
  }

  // Ports that must answer (the web page on 7860): a container finding covers a publisher that is down.
  for (const port of opts.expectedPorts ?? []) {
    const publishers = inspected.filter((i) => publishedPorts(i).some((p) => p.port === port));
    if (publishers.some((i) => !i.State.Running)) continue;
    const holders = findPortHolders(port);
    findings.push(holders.length
      ? finding('port-open', 'ok', `Port ${port} is open`, holders.map((h) => `${h.address} held by pid ${h.pid ?? '?'}: ${h.command}`))
      : finding('port-closed', 'fail', `Nothing listens on port ${port}`, [publishers.length ? `published by ${publishers.map(nameOf).join(', ')}` : 'no checked container publishes it'], [],
          'Start the service that serves this port; if none of the checked containers publishes it, name its compose project.'));
  }
  return done();
}

// ---- actions -------------------------------------------------------------------------------

function statusOfContainer(info: Inspect): ContainerStatus {
  const service = info.Config.Labels?.[COMPOSE_SERVICE_LABEL];
  return {
    id: info.Id,
    name: nameOf(info),
    ...(service ? { service } : {}),
    state: info.State.Status,
    ...(info.State.Health ? { health: info.State.Health.Status } : {}),
    exitCode: info.State.ExitCode,
  };
}

/** Waits until the container runs (and is healthy when it has a health check). */
async function waitReady(c: Dockerode.Container, timeoutMs: number): Promise<{ ok: boolean; why: string; info: Inspect }> {
  const until = Date.now() + timeoutMs;
  let since = 0;
  for (;;) {
    const info = await c.inspect();
    const s = info.State;
    if (s.Running && !s.Restarting) {
      if (hasHealthcheck(info)) {
        if (s.Health?.Status === 'healthy') return { ok: true, why: 'running and healthy', info };
        if (s.Health?.Status === 'unhealthy') return { ok: false, why: `unhealthy: ${s.Health.Log.at(-1)?.Output.trim() ?? ''}`, info };
      } else {
        since ||= Date.now();
        if (Date.now() - since >= 500) return { ok: true, why: 'running', info }; // still up after a moment: not an instant crash
      }
    } else if (s.Restarting) {
      return { ok: false, why: `crashed (${describeExit(s.ExitCode)}) and is restarting`, info };
    } else if (s.Status === 'exited' || s.Status === 'dead') {
      return { ok: false, why: `exited at once, ${describeExit(s.ExitCode)}${s.Error ? `: ${s.Error}` : ''}`, info };
    }
    if (Date.now() > until) return { ok: false, why: `not ${hasHealthcheck(info) ? 'healthy' : 'running'} after ${timeoutMs / 1000} s (${s.Status}${s.Health ? `, ${s.Health.Status}` : ''})`, info };
    await sleep(200);
  }
}

function refusal(info: Inspect, probe: HostProbe): string | null {
  const missing = mountProblems(info, probe).filter((m) => m.problem === 'missing');
  return missing.length
    ? `${nameOf(info)} not started: ${missing.map((m) => `the host path ${m.source} (mounted at ${m.destination})`).join(', ')} is missing. Docker would start it on an empty folder; bring the mount back first.`
    : null;
}

/** The create options that rebuild a container as it is: image, command, env, labels, mounts, ports, restart policy, networks. */
export function createOptionsFrom(info: Inspect, image = info.Config.Image): Dockerode.ContainerCreateOptions {
  const cfg = info.Config;
  const host = { ...info.HostConfig } as Dockerode.HostConfig & { Links?: string[] | null };
  // Inspect shows links as "/api:/web/api"; create wants "api:api".
  if (host.Links) host.Links = host.Links.map((l: string) => l.split(':').map((p: string) => p.split('/').pop()).join(':'));
  const networks = Object.entries(info.NetworkSettings.Networks ?? {});
  const mode = host.NetworkMode ?? 'default';
  const first = networks.find(([n]) => n === mode) ?? networks[0];
  const shortId = info.Id.slice(0, 12);
  return {
    name: nameOf(info),
    Image: image,
    Cmd: cfg.Cmd,
    ...(cfg.Entrypoint ? { Entrypoint: cfg.Entrypoint } : {}),
    Env: cfg.Env,
    Labels: cfg.Labels,
    WorkingDir: cfg.WorkingDir,
    User: cfg.User,
    ExposedPorts: cfg.ExposedPorts,
    Volumes: cfg.Volumes,
    Tty: cfg.Tty,
    OpenStdin: cfg.OpenStdin,
    ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
    ...(cfg.Hostname && cfg.Hostname !== shortId ? { Hostname: cfg.Hostname } : {}),
    HostConfig: host,
    ...(first && !['host', 'none'].includes(mode) && !mode.startsWith('container:')
      ? { NetworkingConfig: { EndpointsConfig: { [first[0]]: { Aliases: ((first[1].Aliases ?? []) as string[]).filter((a) => a !== shortId) } } } }
      : {}),
  };
}

/** Start order of a project's containers: compose's depends_on label, else links, else by name. */
export function startOrder(infos: Inspect[]): Inspect[] {
  const service = (i: Inspect) => i.Config.Labels?.[COMPOSE_SERVICE_LABEL] ?? nameOf(i);
  const byName = new Map(infos.map((i) => [nameOf(i), i]));
  const deps = new Map<Inspect, Set<Inspect>>();
  for (const i of infos) {
    const d = new Set<Inspect>();
    for (const entry of (i.Config.Labels?.[COMPOSE_DEPENDS_ON_LABEL] ?? '').split(',').filter(Boolean)) {
      const svc = entry.split(':')[0];
      for (const j of infos) if (j !== i && service(j) === svc) d.add(j);
    }
    for (const link of (i.HostConfig as { Links?: string[] | null }).Links ?? []) {
      const target = byName.get(link.split(':')[0]!.replace(/^\//, ''));
      if (target && target !== i) d.add(target);
    }
    deps.set(i, d);
  }
  const order: Inspect[] = [];
  const left = [...infos].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  while (left.length) {
    // The first (by name) whose dependencies are all placed; on a cycle, simply the first.
    const idx = Math.max(0, left.findIndex((i) => [...deps.get(i)!].every((d) => order.includes(d))));
    order.push(...left.splice(idx, 1));
  }
  return order;
}

async function startOne(docker: Dockerode, ref: string, timeoutMs: number, probe: HostProbe): Promise<{ ok: boolean; message: string; info: Inspect }> {
  const c = docker.getContainer(ref);
  const info = await c.inspect();
  const name = nameOf(info);
  if (info.State.Running && !info.State.Paused && !info.State.Restarting) return { ok: true, message: `${name} was already running`, info };
  const refused = refusal(info, probe);
  if (refused) return { ok: false, message: refused, info };
  try {
    if (info.State.Paused) await c.unpause();
    else await c.start();
  } catch (err) {
    return { ok: false, message: `${name} did not start: ${errText(err)}`, info: await c.inspect() };
  }
  const r = await waitReady(c, timeoutMs);
  return { ok: r.ok, message: `${name}: ${r.why}`, info: r.info };
}

/** Runs one of the services step's actions and says how it went (never throws for Docker errors). */
export async function runServiceAction(docker: Dockerode, action: ServiceAction, opts: ServiceActionOptions = {}): Promise<ServiceActionResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const target = action.id === 'start-all' ? action.project : action.container;
  if (!target) return { ok: false, message: `${action.id} needs a ${action.id === 'start-all' ? 'project' : 'container'}`, containers: [] };
  const touched: Inspect[] = [];
  const result = (ok: boolean, message: string): ServiceActionResult => ({ ok, message, containers: touched.map(statusOfContainer) });
  try {
    const probe = await hostProbeFor(docker);
    if (action.id === 'start-all') {
      const list = await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${target}`] } });
      if (list.length === 0) return result(false, `No container of compose project "${target}"`);
      const order = startOrder(await Promise.all(list.map((c) => docker.getContainer(c.Id).inspect())));
      const started: string[] = [];
      for (const [n, info] of order.entries()) {
        const r = await startOne(docker, info.Id, timeoutMs, probe);
        touched.push(r.info);
        if (!r.ok) {
          const rest = order.slice(n + 1).map(nameOf);
          return result(false, `${r.message}${rest.length ? `; not started: ${rest.join(', ')}` : ''}`);
        }
        started.push(nameOf(info));
      }
      return result(true, `${target}: ${started.join(', ')} running (in this order)`);
    }

    if (action.id === 'start') {
      const r = await startOne(docker, target, timeoutMs, probe);
      touched.push(r.info);
      return result(r.ok, r.message);
    }

    const info = await docker.getContainer(target).inspect();
    const c = docker.getContainer(info.Id); // by id: during a recreate the name moves to the new container
    const refused = refusal(info, probe);
    if (refused) {
      touched.push(info);
      return result(false, refused.replace('not started', `not ${action.id === 'restart' ? 'restarted' : 'recreated'}`));
    }
    if (action.id === 'restart') {
      await c.restart({ t: 10 });
      const r = await waitReady(c, timeoutMs);
      touched.push(r.info);
      return result(r.ok, `${nameOf(info)}: ${r.why}`);
    }

    // recreate: keep the old container (renamed) until the new one exists, so a failed create loses nothing.
    const name = nameOf(info);
    let image = info.Config.Image;
    try {
      if ((await docker.getImage(image).inspect()).Id !== info.Image) image = info.Image; // the tag moved on: keep the exact image
    } catch {
      image = info.Image;
    }
    if (info.State.Running || info.State.Restarting) await c.stop({ t: 10 });
    const aside = `${name}-lifeline-old-${Date.now()}`;
    await c.rename({ name: aside });
    let fresh: Dockerode.Container;
    try {
      fresh = await docker.createContainer(createOptionsFrom(info, image));
    } catch (err) {
      await c.rename({ name });
      throw err;
    }
    await c.remove({ v: false }); // named and bind volumes stay; anonymous ones are not reused
    try {
      await fresh.start();
    } catch (err) {
      touched.push(await fresh.inspect());
      return result(false, `${name} recreated but did not start: ${errText(err)}`);
    }
    const r = await waitReady(fresh, timeoutMs);
    touched.push(r.info);
    return result(r.ok, `${name} recreated: ${r.why}`);
  } catch (err) {
    return result(false, `${action.id} ${target} failed: ${errText(err)}`);
  }
}
