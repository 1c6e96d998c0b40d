// A real, private Docker engine for tests: Debian's `dockerd` (package docker.io) on its own unix
// socket, data root and exec root under os.tmpdir(), so it never touches /var/lib/docker or the
// machine's own engine. Flags (what works on this kind of machine, see startPrivateDockerd):
//   --bridge=none --iptables=false --ip-forward=false --ip-masq=false
// i.e. no docker0 bridge, no firewall rules, no change to net.ipv4.ip_forward. Tests put their
// containers on a user-defined bridge network (as compose does), and published ports still work
// through docker-proxy (the userland proxy), which is what detects a host port already taken.
// No registry is reachable: importBusyboxImage() builds an image with `docker import` from a tar
// made here of busybox-static's /bin/busybox plus applet symlinks.
//
// One engine per test process (idempotent). Test files in other processes would fight over the
// same host ports (7860 …), so a machine-wide lock (os.tmpdir()/lifeline-dockerd.lock, taken in
// startPrivateDockerd, released by stop() or when the process exits) serialises them: a file that
// may wait for it needs a beforeAll timeout above the other files' run time (it waits up to 170 s).
// If the process dies hard, its dockerd is SIGKILLed by the exit hooks; its folder is left in
// os.tmpdir() (lifeline-dockerd-*).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Dockerode from 'dockerode';

export const DOCKERD_FLAGS = ['--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false'] as const;
const BUSYBOX = '/bin/busybox';
const LOCK = path.join(os.tmpdir(), 'lifeline-dockerd.lock');
const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface PrivateDockerd {
  /** Path of the engine's unix socket. */
  socket: string;
  /** The folder holding socket, data root, exec root, pid file and log. */
  dir: string;
  docker: Dockerode;
  /** Stops the engine (and so its containers), waits for it to exit, removes its folder. Idempotent. */
  stop(): Promise<void>;
}

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

/** True when the ELF file has no PT_INTERP header, i.e. runs without a dynamic loader (inside an empty image). */
function isStaticElf(file: string): boolean {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF64 only
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}

/** Whether this process can run a private dockerd and build the busybox image, and why not. */
export function dockerAvailable(): { ok: boolean; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `a private dockerd needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'a private dockerd needs root (run the tests as root)' };
  if (!which('dockerd')) return { ok: false, reason: 'dockerd is not installed (apt-get install docker.io)' };
  if (!which('containerd') || !which('runc')) return { ok: false, reason: 'containerd or runc missing (apt-get install docker.io)' };
  if (!fs.existsSync(BUSYBOX)) return { ok: false, reason: `${BUSYBOX} missing (apt-get install busybox-static)` };
  if (!isStaticElf(BUSYBOX)) return { ok: false, reason: `${BUSYBOX} is dynamically linked (apt-get install busybox-static)` };
  return { ok: true, reason: '' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the machine-wide lock (waits for another live test process to release it). */
async function takeLock(timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(LOCK, 'utf8').trim() || '0');
    if (!holder || !pidAlive(holder)) {
      fs.rmSync(LOCK, { force: true }); // stale: its process is gone
      continue;
    }
    if (Date.now() > until) throw new Error(`another test process (pid ${holder}) holds ${LOCK} (a private dockerd)`);
    await sleep(500);
  }
}

function releaseLock(): void {
  try {
    if (fs.readFileSync(LOCK, 'utf8').trim() === String(process.pid)) fs.rmSync(LOCK, { force: true });
  } catch {
    /* not ours or gone */
  }
}

/** Lazily unmounts every mount point inside dir, deepest first. */
function unmountUnder(dir: string): void {
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/** Kills containerd shims of this engine that outlived it (they do when dockerd is killed hard). */
function killShims(dir: string): void {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && cmd.includes(`${dir}/`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

let running: Promise<PrivateDockerd> | null = null;
let runningDir = '';
let child: ChildProcess | null = null;
let hooked = false;

function killNow(): void {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    if (runningDir) killShims(runningDir);
  }
  releaseLock();
}

/** Starts (once per test process) a private dockerd and resolves when its /_ping answers. */
export function startPrivateDockerd(): Promise<PrivateDockerd> {
  running ??= launch().catch((err: unknown) => {
    running = null;
    throw err;
  });
  return running;
}

async function launch(): Promise<PrivateDockerd> {
  const avail = dockerAvailable();
  if (!avail.ok) throw new Error(avail.reason);
  await takeLock(170_000);
  if (!hooked) {
    hooked = true;
    process.on('exit', killNow);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(sig, () => {
        killNow();
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-dockerd-'));
  runningDir = dir;
  const socket = path.join(dir, 'docker.sock');
  const logFile = path.join(dir, 'dockerd.log');
  const log = fs.openSync(logFile, 'a');
  const args = [
    `--host=unix://${socket}`,
    `--data-root=${path.join(dir, 'data')}`,
    `--exec-root=${path.join(dir, 'exec')}`,
    `--pidfile=${path.join(dir, 'docker.pid')}`,
    ...DOCKERD_FLAGS,
    '--log-level=warn',
  ];
  const proc = spawn(which('dockerd')!, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child = proc;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const docker = new Dockerode({ socketPath: socket, timeout: 30_000 });
  const tail = () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');

  const until = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      releaseLock();
      throw new Error(`dockerd exited (${proc.exitCode ?? proc.signalCode}):\n${tail()}`);
    }
    try {
      if (fs.existsSync(socket)) {
        await docker.ping();
        break;
      }
    } catch {
      /* not yet */
    }
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      releaseLock();
      throw new Error(`dockerd did not answer /_ping within 30 s:\n${tail()}`);
    }
    await sleep(100);
  }

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM'); // dockerd stops its containers, unmounts, then exits
        const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      child = null;
      running = null;
      runningDir = '';
      killShims(dir);
      releaseLock();
      unmountUnder(dir); // dockerd leaves exec/netns/default (an nsfs bind mount) behind
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        /* still busy: leave it for the next boot's tmp cleaner */
      }
    })());
  return { socket, dir, docker, stop };
}

// ---- a busybox image, without a registry -------------------------------------------------------

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Buffer;
  link?: string;
}

function tarHeader(e: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'utf8');
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  put(e.name, 0, 100);
  oct(e.mode, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(e.type === 'file' ? (e.data?.length ?? 0) : 0, 124, 12);
  oct(Math.floor(Date.now() / 1000), 136, 12);
  put('        ', 148, 8);
  put(e.type === 'file' ? '0' : e.type === 'symlink' ? '2' : '5', 156, 1);
  if (e.link) put(e.link, 157, 100);
  put('ustar\0' + '00', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** A ustar archive of the given entries (enough for `docker import`). */
export function tarball(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.type === 'file' && e.data) {
      parts.push(e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const BUSYBOX_APPLETS = ['sh', 'httpd', 'nc', 'sleep', 'wget', 'cat', 'echo', 'ls', 'true', 'false', 'env', 'id', 'mkdir', 'touch', 'rm', 'ps', 'kill'];

/**
 * Imports a minimal image (busybox-static + applet symlinks, /www/index.html) as `tag`
 * (e.g. 'lifeline-test/busybox:1'). Its default command is `httpd -f -p 7860 -h /www`, the
 * stand-in for a web service; give a container `Cmd: ['sleep', '3600']` for a quiet one.
 * Returns the image id.
 */
export async function importBusyboxImage(docker: Dockerode, tag: string): Promise<string> {
  const [repo, version = 'latest'] = tag.split(/:(?=[^/]+$)/);
  const entries: TarEntry[] = [
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: fs.readFileSync(BUSYBOX) },
    ...BUSYBOX_APPLETS.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, link: 'busybox' })),
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') },
    { name: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
    { name: 'data/', type: 'dir', mode: 0o755 },
    { name: 'www/', type: 'dir', mode: 0o755 },
    { name: 'www/index.html', type: 'file', mode: 0o644, data: Buffer.from('<h1>stand-in service</h1>\n') },
  ];
  const stream = await docker.importImage(Readable.from([tarball(entries)]), {
    repo,
    tag: version,
    changes: ['ENV PATH=/bin', 'CMD ["httpd", "-f", "-p", "7860", "-h", "/www"]'],
  } as {});
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  const ids = [...out.matchAll(/"status":"(sha256:[0-9a-f]{64})"/g)].map((m) => m[1]!);
  const errors = [...out.matchAll(/"error(?:Detail)?":\s*"([^"]+)"/g)].map((m) => m[1]);
  if (errors.length) throw new Error(`docker import failed: ${errors.join('; ')}`);
  return ids[0] ?? (await docker.getImage(tag).inspect()).Id;
}

/**
 * An almost empty image (merged-/usr symlinks, /etc/passwd, /tmp, /data) for running the host's
 * own Node.js in a container: bind-mount HOST_NODE_BINDS into it. Lets the tests run Lifeline's
 * real docker-compose.yml without the node:20 base image no registry here can provide.
 */
export async function importHostRootImage(docker: Dockerode, tag: string): Promise<void> {
  const [repo, version = 'latest'] = tag.split(/:(?=[^/]+$)/);
  const tar = tarball([
    { name: 'usr/', type: 'dir', mode: 0o755 },
    ...['bin', 'lib', 'lib64'].map((d): TarEntry => ({ name: d, type: 'symlink', mode: 0o777, link: `usr/${d}` })),
    // A real folder, not a link into the bind-mounted /usr: `init: true` mounts /sbin/docker-init here.
    { name: 'sbin/', type: 'dir', mode: 0o755 },
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/alternatives/', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n') },
    { name: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
    { name: 'data/', type: 'dir', mode: 0o755 },
    { name: 'opt/', type: 'dir', mode: 0o755 },
  ]);
  const stream = await docker.importImage(Readable.from([tar]), { repo, tag: version } as {});
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {});
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
}

/** Read-only binds that give importHostRootImage()'s image the host's Node.js and shared libraries. */
export const HOST_NODE_BINDS = ['/usr:/usr:ro', '/etc/alternatives:/etc/alternatives:ro'];

/**
 * A started container that stands for one service of a compose project: `sleep` in the busybox
 * image, labelled as compose labels it, restarting unless stopped, without a network.
 */
export async function startComposeService(docker: Dockerode, o: { name: string; image: string; project: string; service: string }): Promise<Dockerode.Container> {
  const c = await docker.createContainer({
    name: o.name,
    Image: o.image,
    Cmd: ['sleep', '3600'],
    Labels: { 'com.docker.compose.project': o.project, 'com.docker.compose.service': o.service },
    HostConfig: { RestartPolicy: { Name: 'unless-stopped' }, NetworkMode: 'none' },
  });
  await c.start();
  return c;
}
