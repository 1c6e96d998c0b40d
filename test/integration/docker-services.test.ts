// The services step against a REAL Docker engine: a private dockerd (test/helpers/dockerd.ts) runs a
// compose-labelled project "hospital-kb" built from a busybox image imported here (no registry):
// `api` (a quiet service with a bind-mounted host folder) and `web` (httpd publishing 7860 with a
// health check, restart policy `no`, depends_on api) — the shape of the reference incident.
// Needs root, docker.io and busybox-static; skipped with the reason otherwise.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  checkServices,
  COMPOSE_PROJECT_LABEL,
  findPortHolders,
  parseServiceActionId,
  runServiceAction,
} from '../../electron/core/system/docker.js';
import type { CheckResult, Finding } from '../../electron/core/system/finding.js';
import { dockerAvailable, importBusyboxImage, startPrivateDockerd, type PrivateDockerd } from '../helpers/dockerd.js';

const avail = dockerAvailable();
if (!avail.ok) console.warn(`docker-services tests skipped: ${avail.reason}`);

const PROJECT = 'hospital-kb';
const NETWORK = `${PROJECT}_default`;
const IMAGE = 'lifeline-test/busybox:1';
const WEB = `${PROJECT}-web-1`;
const API = `${PROJECT}-api-1`;
const PORT = 7860;

const labels = (service: string, extra: Record<string, string> = {}) => ({
  [COMPOSE_PROJECT_LABEL]: PROJECT,
  'com.docker.compose.service': service,
  'com.docker.compose.container-number': '1',
  'com.docker.compose.oneoff': 'False',
  ...extra,
});
const found = (r: CheckResult, code: string, container?: string): Finding[] =>
  r.findings.filter((f) => f.code === code && (!container || f.message.includes(container)));

describe.skipIf(!avail.ok)('services step on a real Docker engine', () => {
  let engine: PrivateDockerd;
  let docker: Dockerode;
  let tmp: string;
  let apiData: string;
  const t0 = Date.now();

  const check = () => checkServices(docker, { projects: [PROJECT], expectedPorts: [PORT] });
  const stop = (name: string) => docker.getContainer(name).stop({ t: 2 }).catch(() => undefined);
  const inspect = (name: string) => docker.getContainer(name).inspect();

  beforeAll(async () => {
    const busy = findPortHolders(PORT);
    if (busy.length) throw new Error(`port ${PORT} is already taken on this machine: ${busy.map((h) => `${h.command} (pid ${h.pid})`).join(', ')}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-docker-test-'));
    apiData = path.join(tmp, 'kb-data');
    fs.mkdirSync(apiData);
    fs.writeFileSync(path.join(apiData, 'index.faiss'), 'not really an index');

    engine = await startPrivateDockerd();
    docker = engine.docker;
    console.log(`private dockerd answered after ${Date.now() - t0} ms on ${engine.socket}`);
    await importBusyboxImage(docker, IMAGE);
    await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: { [COMPOSE_PROJECT_LABEL]: PROJECT, 'com.docker.compose.network': 'default' } });

    // `sh` as PID 1 ignores SIGTERM unless told: trap it, so `docker stop` takes milliseconds.
    await docker.createContainer({
      name: API,
      Image: IMAGE,
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; echo "loading knowledge base from /data"; echo "ERROR: /data/index.pkl not found, serving an empty index" >&2; sleep 3600 & wait'],
      Labels: labels('api'),
      HostConfig: { Binds: [`${apiData}:/data`], RestartPolicy: { Name: 'unless-stopped' }, NetworkMode: NETWORK },
      NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: ['api'] } } },
    });
    await docker.createContainer({
      name: WEB,
      Image: IMAGE,
      Cmd: ['sh', '-c', `trap "exit 0" TERM; httpd -f -p ${PORT} -h /www & wait`],
      Env: ['KB_API=http://api:8000'],
      ExposedPorts: { [`${PORT}/tcp`]: {} },
      Labels: labels('web', { 'com.docker.compose.depends_on': 'api:service_started:false' }),
      Healthcheck: { Test: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${PORT}/`], Interval: 500e6, Timeout: 2e9, Retries: 3 },
      HostConfig: {
        PortBindings: { [`${PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(PORT) }] },
        RestartPolicy: { Name: 'no' },
        NetworkMode: NETWORK,
      },
      NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: ['web'] } } },
    });
    const up = await runServiceAction(docker, { id: 'start-all', project: PROJECT }, { timeoutMs: 20_000 });
    expect(up.ok, up.message).toBe(true);
    console.log(`project up after ${Date.now() - t0} ms`);
  }, 200_000);

  afterAll(async () => {
    if (engine) {
      const left = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      await docker.getNetwork(NETWORK).remove().catch(() => undefined);
      await docker.getImage(IMAGE).remove({ force: true }).catch(() => undefined);
      await engine.stop();
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`docker suite took ${Date.now() - t0} ms`);
  }, 60_000);

  test('a running project is reported running, with restart policy "no" as a warning and its error log lines as evidence', async () => {
    const r = await check();
    expect(found(r, 'docker-engine')[0]?.severity).toBe('ok');
    expect(found(r, 'container-running', WEB)[0]?.message).toContain('healthy');
    expect(found(r, 'container-running', WEB)[0]?.evidence.join('\n')).toContain(`127.0.0.1:${PORT}→${PORT}/tcp`);
    expect(found(r, 'container-running', API)).toHaveLength(1);
    expect(found(r, 'project-status')[0]).toMatchObject({ severity: 'ok', message: `${PROJECT}: 2 of 2 containers running` });
    expect(found(r, 'restart-policy', WEB)[0]?.severity).toBe('warn');
    expect(found(r, 'restart-policy', API)).toHaveLength(0);
    expect(found(r, 'log-errors', API)[0]?.evidence.join('\n')).toContain('index.pkl not found');
    expect(found(r, 'port-open')[0]?.evidence.join('\n')).toContain('docker-proxy');
    expect(r.status).toBe('warn');
  });

  test('a stopped web container is a container-stopped failure with a start action, and starting it brings it back', async () => {
    await stop(WEB);
    const r = await check();
    const f = found(r, 'container-stopped', WEB)[0]!;
    expect(f.severity).toBe('fail');
    expect(f.actions.map((a) => a.id)).toEqual([`start:${WEB}`, `recreate:${WEB}`]);
    expect(f.actions.find((a) => a.id.startsWith('recreate'))?.destructive).toBe(true);
    expect(found(r, 'project-status')[0]?.actions.map((a) => a.id)).toEqual([`start-all:${PROJECT}`]);
    expect(found(r, 'port-closed')).toHaveLength(0); // the container finding covers the down web page
    expect(r.status).toBe('fail');

    const res = await runServiceAction(docker, parseServiceActionId(f.actions[0]!.id)!, { timeoutMs: 20_000 });
    expect(res.ok, res.message).toBe(true);
    expect(res.containers[0]).toMatchObject({ name: WEB, state: 'running', health: 'healthy' });

    const again = await check();
    expect(found(again, 'container-stopped')).toHaveLength(0);
    expect(found(again, 'container-running', WEB)[0]?.severity).toBe('ok');
    expect(again.status).toBe('warn'); // only the restart policy and the log lines remain
  });

  test('a missing bind-mount folder of api is a mount-missing failure, and starting api is refused until it is back', async () => {
    await stop(API);
    fs.renameSync(apiData, `${apiData}.moved`); // the failed mount: the folder is not there
    try {
      const r = await check();
      const m = found(r, 'mount-missing', API)[0]!;
      expect(m.severity).toBe('fail');
      expect(m.evidence.join('\n')).toContain(apiData);
      expect(m.advice).toContain('empty');
      expect(found(r, 'container-stopped', API)[0]?.actions).toEqual([]); // no start on an empty folder

      const res = await runServiceAction(docker, { id: 'start', container: API });
      expect(res.ok).toBe(false);
      expect(res.message).toContain('missing');
      expect(fs.existsSync(apiData)).toBe(false); // Docker was not allowed to create an empty one
    } finally {
      fs.renameSync(`${apiData}.moved`, apiData);
    }
    const res = await runServiceAction(docker, { id: 'start', container: API }, { timeoutMs: 20_000 });
    expect(res.ok, res.message).toBe(true);
    expect(found(await check(), 'mount-missing')).toHaveLength(0);
  });

  test('a container the engine started while its mount was missing runs on an empty folder, and that is a mount-empty warning', async () => {
    await stop(API);
    fs.renameSync(apiData, `${apiData}.moved`);
    try {
      // What `restart: always` does at boot before the data disk is mounted: Docker makes the folder.
      await docker.getContainer(API).start();
      expect(fs.readdirSync(apiData)).toEqual([]);
      const r = await check();
      const f = found(r, 'mount-empty', API)[0]!;
      expect(f.severity).toBe('warn');
      expect(f.evidence[0]).toContain(`bind ${apiData} → /data is an empty folder`);
      expect(found(r, 'mount-missing')).toHaveLength(0);
    } finally {
      await stop(API);
      fs.rmSync(apiData, { recursive: true, force: true });
      fs.renameSync(`${apiData}.moved`, apiData);
    }
    const res = await runServiceAction(docker, { id: 'start', container: API }, { timeoutMs: 20_000 });
    expect(res.ok, res.message).toBe(true);
    expect(found(await check(), 'mount-empty')).toHaveLength(0);
  });

  test('a bind-mounted folder whose host filesystem turned read-only is a mount-readonly warning', async (ctx) => {
    const bind = spawnSync('mount', ['--bind', apiData, apiData], { encoding: 'utf8' });
    if (bind.status !== 0) ctx.skip(`cannot bind-mount here: ${bind.stderr.trim()}`);
    try {
      const ro = spawnSync('mount', ['-o', 'remount,bind,ro', apiData], { encoding: 'utf8' });
      if (ro.status !== 0) ctx.skip(`cannot remount read-only here: ${ro.stderr.trim()}`);
      const r = await check();
      const f = found(r, 'mount-readonly', API)[0]!;
      expect(f.severity).toBe('warn');
      expect(f.evidence.join('\n')).toContain('EROFS');
    } finally {
      spawnSync('umount', [apiData]);
    }
    expect(found(await check(), 'mount-readonly')).toHaveLength(0);
  });

  test('a host process holding port 7860 is a port-conflict naming its pid and command, and recreate keeps the configuration', async () => {
    const before = await inspect(WEB);
    await stop(WEB); // its docker-proxy lets go of the port, and a host process takes it
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
    try {
      const res = await runServiceAction(docker, { id: 'recreate', container: WEB }, { timeoutMs: 20_000 });
      expect(res.ok).toBe(false);
      expect(res.message).toMatch(/recreated but did not start: .*address already in use/);

      const r = await check();
      const f = found(r, 'port-conflict', WEB)[0]!;
      expect(f.severity).toBe('fail');
      expect(f.message).toContain(`pid ${process.pid}`);
      expect(f.message).toMatch(/node/);
      expect(f.evidence.join('\n')).toContain(`127.0.0.1:${PORT} held by pid ${process.pid}`);
      expect(f.actions.map((a) => a.id)).toEqual([`start:${WEB}`]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const res = await runServiceAction(docker, { id: 'start', container: WEB }, { timeoutMs: 20_000 });
    expect(res.ok, res.message).toBe(true);

    const after = await inspect(WEB);
    expect(after.Id).not.toBe(before.Id);
    for (const k of ['Image', 'Cmd', 'Env', 'Labels', 'ExposedPorts', 'Healthcheck'] as const) expect(after.Config[k]).toEqual(before.Config[k]);
    for (const k of ['Binds', 'PortBindings', 'RestartPolicy', 'NetworkMode'] as const) expect(after.HostConfig[k]).toEqual(before.HostConfig[k]);
    expect(after.NetworkSettings.Networks[NETWORK]?.Aliases).toContain('web');
    const names = (await docker.listContainers({ all: true })).flatMap((c) => c.Names);
    expect(names.filter((n) => n.includes('lifeline-old'))).toEqual([]);
  });

  test('start-all starts a stopped project in dependency order and waits for health', async () => {
    await Promise.all([stop(WEB), stop(API)]);
    const r = await check();
    expect(found(r, 'project-status')[0]).toMatchObject({ severity: 'fail', message: `${PROJECT}: 0 of 2 containers running` });

    const res = await runServiceAction(docker, { id: 'start-all', project: PROJECT }, { timeoutMs: 20_000 });
    expect(res.ok, res.message).toBe(true);
    expect(res.containers.map((c) => c.name)).toEqual([API, WEB]);
    expect(res.containers.every((c) => c.state === 'running')).toBe(true);
    expect(res.containers[1]?.health).toBe('healthy');
    const [api, web] = await Promise.all([inspect(API), inspect(WEB)]);
    expect(Date.parse(api.State.StartedAt)).toBeLessThanOrEqual(Date.parse(web.State.StartedAt));
  });

  test('a container that exits at once is reported by the action and by the check with its exit code', async () => {
    const name = `${PROJECT}-worker-1`;
    await docker.createContainer({ name, Image: IMAGE, Cmd: ['sh', '-c', 'echo "fatal: cannot open /models/bge.gguf" >&2; exit 3'], Labels: labels('worker'), HostConfig: { RestartPolicy: { Name: 'no' }, NetworkMode: 'none' } });
    try {
      const res = await runServiceAction(docker, { id: 'start', container: name }, { timeoutMs: 10_000 });
      expect(res.ok).toBe(false);
      expect(res.message).toContain('exited at once, exit code 3');
      const r = await check();
      expect(found(r, 'container-stopped', name)[0]?.evidence.join('\n')).toContain('exit code 3');
      expect(found(r, 'log-errors', name)[0]?.evidence.join('\n')).toContain('cannot open /models/bge.gguf');
    } finally {
      await docker.getContainer(name).remove({ force: true });
    }
  });
});
