// The services step's reading of `docker inspect` output, log streams, /proc and its action plumbing,
// without a Docker engine (the real engine is in docker-services.test.ts). OOM kills are hard to
// produce on purpose, so that case is read from an inspect document like the one Docker writes.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { describe, expect, test } from 'vitest';
import {
  checkServices,
  containerFindings,
  createOptionsFrom,
  demuxLogs,
  errorLines,
  findPortHolders,
  openDocker,
  parseServiceActionId,
  serviceActionId,
  startOrder,
  type HostProbe,
} from '../../electron/core/system/docker.js';

type Inspect = Dockerode.ContainerInspectInfo;

// Abridged from `docker inspect` (Docker 20.10) of a compose service that ran out of memory.
const OOM_INSPECT = `{
  "Id": "5f0c2d8a41b7e6c3f9a0d1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6",
  "Created": "2026-11-20T08:00:00.000000000Z",
  "Path": "python", "Args": ["startup.py", "-a"],
  "State": { "Status": "exited", "Running": false, "Paused": false, "Restarting": false, "OOMKilled": true,
             "Dead": false, "Pid": 0, "ExitCode": 137, "Error": "",
             "StartedAt": "2026-11-25T21:02:11.1Z", "FinishedAt": "2026-11-25T21:40:57.9Z" },
  "Image": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  "Name": "/hospital-kb-api-1", "RestartCount": 0,
  "HostConfig": { "Binds": ["/srv/chatchat/knowledge_base:/app/knowledge_base:rw"], "NetworkMode": "hospital-kb_default",
                  "PortBindings": { "7861/tcp": [{ "HostIp": "", "HostPort": "7861" }] },
                  "RestartPolicy": { "Name": "always", "MaximumRetryCount": 0 }, "Memory": 8589934592, "Links": null },
  "Mounts": [{ "Type": "bind", "Source": "/srv/chatchat/knowledge_base", "Destination": "/app/knowledge_base",
               "Mode": "rw", "RW": true, "Propagation": "rprivate" }],
  "Config": { "Hostname": "5f0c2d8a41b7", "Domainname": "", "User": "", "Tty": false, "OpenStdin": false,
              "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "CHATCHAT_ROOT=/app"], "Cmd": ["python", "startup.py", "-a"],
              "Image": "chatchat:0.2.10", "Volumes": null, "WorkingDir": "/app", "Entrypoint": null,
              "ExposedPorts": { "7861/tcp": {} },
              "Labels": { "com.docker.compose.project": "hospital-kb", "com.docker.compose.service": "api",
                          "com.docker.compose.depends_on": "" } },
  "NetworkSettings": { "Ports": {}, "Networks": { "hospital-kb_default": { "Aliases": ["hospital-kb-api-1", "api", "5f0c2d8a41b7"],
                       "NetworkID": "n1", "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
                       "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "" } } }
}`;

function inspect(change: (i: Inspect) => void = () => {}): Inspect {
  const i = JSON.parse(OOM_INSPECT) as Inspect;
  change(i);
  return i;
}

/** A host where every path exists and is writable and no port is held, unless told otherwise. */
function probe(over: Partial<HostProbe> = {}): HostProbe {
  return { exists: () => true, writeError: () => null, ownerUid: () => 0, emptyDirSince: () => null, portHolders: () => [], ...over };
}

const codes = (fs: { code: string; severity: string }[]) => fs.map((f) => `${f.code}:${f.severity}`);

describe('reading docker inspect', () => {
  test('an OOM-killed container is an oom-killed failure with its exit code and memory limit', () => {
    const f = containerFindings(inspect(), { probe: probe(), logLines: ['Loading bge-large-zh…', 'Killed'] });
    expect(codes(f)).toEqual(['oom-killed:fail', 'log-errors:warn']);
    expect(f[0]!.evidence).toEqual(expect.arrayContaining(['OOMKilled: true', 'memory limit: 8192 MiB']));
    expect(f[0]!.evidence[0]).toContain('exit code 137');
    expect(f[0]!.actions.map((a) => a.id)).toEqual(['start:hospital-kb-api-1']);
  });

  test('a container restarting in a loop is a container-restarting failure with its error lines', () => {
    const i = inspect((i) => {
      Object.assign(i.State, { Status: 'restarting', Restarting: true, OOMKilled: false, ExitCode: 1 });
      i.RestartCount = 42;
    });
    const f = containerFindings(i, { probe: probe(), logLines: ['Traceback (most recent call last):', 'RuntimeError: Error in faiss::FileIOReader: index.faiss'] });
    expect(codes(f)).toEqual(['container-restarting:fail', 'log-errors:warn']);
    expect(f[0]!.message).toContain('42 restarts');
    expect(f[0]!.evidence.join('\n')).toContain('faiss::FileIOReader');
    expect(f[0]!.actions.map((a) => a.id)).toEqual(['restart:hospital-kb-api-1', 'recreate:hospital-kb-api-1']);
  });

  test('an unhealthy container shows its last health check outputs, and a starting one is "initializing", not failed', () => {
    const log = [1, 2, 3, 4].map((n) => ({ Start: `t${n}`, End: `t${n}`, ExitCode: 1, Output: `curl: (7) Failed to connect to localhost port 7861 (${n})\n` }));
    const sick = inspect((i) => Object.assign(i.State, { Status: 'running', Running: true, OOMKilled: false, ExitCode: 0, Health: { Status: 'unhealthy', FailingStreak: 4, Log: log } }));
    const f = containerFindings(sick, { probe: probe() });
    expect(codes(f)).toEqual(['container-unhealthy:fail']);
    expect(f[0]!.evidence.filter((e) => e.startsWith('health check'))).toHaveLength(3);
    expect(f[0]!.evidence.at(-1)).toContain('(4)');

    const warming = inspect((i) => Object.assign(i.State, { Status: 'running', Running: true, OOMKilled: false, Health: { Status: 'starting', FailingStreak: 0, Log: [] } }));
    expect(codes(containerFindings(warming, { probe: probe() }))).toEqual(['container-starting:info']);
  });

  test('restart policies "no" and "on-failure" are warnings, "always" and "unless-stopped" are not', () => {
    const running = (policy: string) =>
      containerFindings(inspect((i) => {
        Object.assign(i.State, { Status: 'running', Running: true, OOMKilled: false });
        i.HostConfig.RestartPolicy = { Name: policy };
      }), { probe: probe() });
    expect(codes(running('no'))).toEqual(['container-running:ok', 'restart-policy:warn']);
    expect(codes(running(''))).toEqual(['container-running:ok', 'restart-policy:warn']);
    expect(codes(running('on-failure'))).toEqual(['container-running:ok', 'restart-policy:warn']);
    expect(codes(running('always'))).toEqual(['container-running:ok']);
    expect(codes(running('unless-stopped'))).toEqual(['container-running:ok']);
  });

  test('a missing host path, a read-only filesystem and a wrong owner are mount findings', () => {
    const stopped = inspect((i) => Object.assign(i.State, { OOMKilled: false, ExitCode: 255 }));
    const missing = containerFindings(stopped, { probe: probe({ exists: (p) => p !== '/srv/chatchat/knowledge_base' }) });
    expect(codes(missing)).toEqual(['container-stopped:fail', 'mount-missing:fail']);
    expect(missing[0]!.actions).toEqual([]); // starting would give it an empty folder
    expect(missing[1]!.evidence[0]).toBe('bind /srv/chatchat/knowledge_base → /app/knowledge_base: host path missing');

    // Inside a container the host's paths are not visible: no verdict rather than a false failure.
    expect(codes(containerFindings(stopped, { probe: probe({ exists: () => false, seesHostPaths: false }) }))).toEqual(['container-stopped:fail']);

    const emptied = containerFindings(stopped, { probe: probe({ emptyDirSince: () => '2026-11-26T06:01:02.000Z' }) });
    expect(codes(emptied)).toEqual(['container-stopped:fail', 'mount-empty:warn']);
    expect(emptied[1]!.evidence[0]).toContain('empty folder (last changed 2026-11-26T06:01:02.000Z)');

    const ro = containerFindings(stopped, { probe: probe({ writeError: () => 'EROFS' }) });
    expect(codes(ro)).toEqual(['container-stopped:fail', 'mount-readonly:warn']);

    const asUser = inspect((i) => {
      Object.assign(i.State, { OOMKilled: false, Status: 'running', Running: true });
      i.Config.User = '1000:1000';
    });
    expect(codes(containerFindings(asUser, { probe: probe({ ownerUid: () => 0 }) }))).toEqual(['container-running:ok', 'mount-permission:warn']);
    expect(codes(containerFindings(asUser, { probe: probe({ ownerUid: () => 1000 }) }))).toEqual(['container-running:ok']);
  });

  test('a port held by another process is a port-conflict naming it, and a leftover start error is kept', () => {
    const stopped = inspect((i) => Object.assign(i.State, { OOMKilled: false, ExitCode: 128, Error: 'Error starting userland proxy: listen tcp4 0.0.0.0:7861: bind: address already in use' }));
    const held = probe({ portHolders: (port) => [{ port, address: '0.0.0.0:7861', inode: 1, pid: 4242, name: 'python3', command: 'python3 -m http.server 7861' }] });
    const f = containerFindings(stopped, { probe: held });
    expect(codes(f)).toEqual(['container-stopped:fail', 'port-conflict:fail']);
    expect(f[1]!.message).toBe('hospital-kb-api-1 cannot publish port 7861: it is held by python3 (pid 4242)');
    expect(f[1]!.advice).toContain('kill 4242');
    expect(codes(containerFindings(stopped, { probe: probe() }))).toEqual(['container-stopped:fail', 'port-conflict:warn']);
  });

  test("the container Lifeline itself runs in is checked but offers no action", () => {
    const f = containerFindings(inspect(), { probe: probe(), self: true });
    expect(f.every((x) => x.actions.length === 0)).toBe(true);
  });
});

describe('logs, order, actions', () => {
  test("Docker's multiplexed log stream is split back into text, and error lines are picked out", () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const text = demuxLogs(Buffer.concat([frame(1, 'INFO: ready\n'), frame(2, 'ERROR: index.faiss missing\n'), frame(1, '\x1b[31mCUDA out of memory\x1b[0m\n')]));
    expect(text).toBe('INFO: ready\nERROR: index.faiss missing\n\x1b[31mCUDA out of memory\x1b[0m\n');
    expect(errorLines(text.split('\n'))).toEqual(['ERROR: index.faiss missing', 'CUDA out of memory']);
    expect(demuxLogs(Buffer.from('plain tty output\n'))).toBe('plain tty output\n');
  });

  test('start order follows compose depends_on, then links, then names', () => {
    const c = (name: string, service: string, dependsOn = '', links: string[] = []) =>
      inspect((i) => {
        i.Name = `/${name}`;
        i.Config.Labels = { 'com.docker.compose.project': 'p', 'com.docker.compose.service': service, 'com.docker.compose.depends_on': dependsOn };
        (i.HostConfig as { Links?: string[] }).Links = links;
      });
    const order = startOrder([
      c('p-app-1', 'app', 'zdb:service_healthy:false,cache:service_started:false'),
      c('p-cache-1', 'cache', '', ['/p-zdb-1:/p-cache-1/db']),
      c('p-zdb-1', 'zdb'),
      c('p-alone-1', 'alone'),
    ]);
    expect(order.map((i) => i.Name)).toEqual(['/p-alone-1', '/p-zdb-1', '/p-cache-1', '/p-app-1']);
  });

  test('recreate options keep image, command, env, labels, binds, ports, restart policy and network aliases', () => {
    const i = inspect((i) => ((i.HostConfig as { Links?: string[] }).Links = ['/p-db-1:/hospital-kb-api-1/db']));
    const o = createOptionsFrom(i);
    expect(o).toMatchObject({
      name: 'hospital-kb-api-1',
      Image: 'chatchat:0.2.10',
      Cmd: ['python', 'startup.py', '-a'],
      Env: i.Config.Env,
      Labels: i.Config.Labels,
      WorkingDir: '/app',
      HostConfig: { Binds: ['/srv/chatchat/knowledge_base:/app/knowledge_base:rw'], PortBindings: i.HostConfig.PortBindings, RestartPolicy: { Name: 'always' }, NetworkMode: 'hospital-kb_default', Links: ['p-db-1:db'] },
      NetworkingConfig: { EndpointsConfig: { 'hospital-kb_default': { Aliases: ['hospital-kb-api-1', 'api'] } } },
    });
    expect(o.Hostname).toBeUndefined(); // the old id is not carried over as a hostname
  });

  test('action ids name their target and parse back into runServiceAction arguments', () => {
    expect(parseServiceActionId(serviceActionId('recreate', 'hospital-kb-web-1'))).toEqual({ id: 'recreate', container: 'hospital-kb-web-1' });
    expect(parseServiceActionId('start-all:hospital-kb')).toEqual({ id: 'start-all', project: 'hospital-kb' });
    expect(parseServiceActionId('fsck:/dev/sda1')).toBeNull();
  });

  test('the process listening on a port is found through /proc with its pid and command', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const holders = findPortHolders(port);
      expect(holders).toHaveLength(1);
      expect(holders[0]).toMatchObject({ port, address: `127.0.0.1:${port}`, pid: process.pid });
      expect(holders[0]!.command).toContain('node');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(findPortHolders(port)).toEqual([]);
  });
});

describe('no Docker engine', () => {
  test('no engine is only information when the operator names no project', async () => {
    const r = await checkServices(null, {});
    expect(r.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['docker-unreachable:info']);
    expect(r.status).toBe('ok');
  });

  test('an engine that does not answer is a failure when the site runs compose projects', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-nodocker-'));
    try {
      const r = await checkServices(openDocker(path.join(dir, 'docker.sock')), { projects: ['hospital-kb'] });
      expect(r.status).toBe('fail');
      const f = r.findings[0]!;
      expect(f).toMatchObject({ code: 'docker-unreachable', severity: 'fail' });
      expect(f.message).toContain('hospital-kb');
      expect(f.evidence.join('\n')).toMatch(/ENOENT/);
      expect(f.evidence.join('\n')).toContain(path.join(dir, 'docker.sock'));
      expect(f.advice).toContain('systemctl');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
