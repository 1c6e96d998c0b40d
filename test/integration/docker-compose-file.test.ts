// resources/compose/docker-compose.yml, run for real: Debian's docker-compose against a private
// dockerd starts the `lifeline` service as written (project name from the .env beside it, host
// networking on loopback, the named data volume at /data, the node fetch health check), with one
// override: no node:20 base image can be pulled here, so the image is an empty root filesystem
// that borrows the host's /usr (its Node.js) and this checkout read-only. Then the services check
// finds Lifeline's own project without being told its name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkServices, findPortHolders } from '../../electron/core/system/docker.js';
import { dockerAvailable, HOST_NODE_BINDS, importHostRootImage, startPrivateDockerd, type PrivateDockerd } from '../helpers/dockerd.js';
import { REPO_ROOT } from '../helpers/env.js';

const COMPOSE_FILE = path.join(REPO_ROOT, 'resources', 'compose', 'docker-compose.yml');
const IMAGE = 'lifeline-test/host-node:1';
const PORT = 7788;

function skipReason(): string {
  const d = dockerAvailable();
  if (!d.ok) return d.reason;
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0) return 'docker-compose is not installed (apt-get install docker-compose)';
  if (!process.execPath.startsWith('/usr/')) return `node is not under /usr (${process.execPath}), so the container cannot borrow it`;
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'electron', 'cli.js'))) return 'not built yet (npm run setup)';
  if (findPortHolders(PORT).length) return `port ${PORT} is taken on this machine`;
  return '';
}
const reason = skipReason();
if (reason) console.warn(`docker-compose-file tests skipped: ${reason}`);

describe.skipIf(reason !== '')("Lifeline's docker-compose.yml on a real Docker engine", () => {
  let engine: PrivateDockerd;
  let tmp: string;
  let override: string;
  const compose = (...args: string[]) =>
    spawnSync('docker-compose', ['-f', COMPOSE_FILE, '-f', override, ...args], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, DOCKER_HOST: `unix://${engine.socket}` },
    });

  beforeAll(async () => {
    engine = await startPrivateDockerd();
    await importHostRootImage(engine.docker, IMAGE);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-compose-test-'));
    override = path.join(tmp, 'override.yml');
    fs.writeFileSync(override, [
      'services:',
      '  lifeline:',
      `    image: ${IMAGE}`,
      '    working_dir: /opt/lifeline',
      '    volumes:',
      ...[...HOST_NODE_BINDS, `${REPO_ROOT}:/opt/lifeline:ro`].map((b) => `      - ${b}`),
      '    healthcheck:',
      '      interval: 1s', // the real 30 s would only slow the test; the check itself is the file's
      '',
    ].join('\n'));
  }, 200_000);

  afterAll(async () => {
    if (!engine) return;
    const down = compose('down', '-v');
    if (down.status !== 0) console.warn(`docker-compose down: ${down.stderr}`);
    await engine.docker.getImage(IMAGE).remove({ force: true }).catch(() => undefined);
    await engine.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test('the lifeline service comes up healthy on loopback with its data root in the named volume', async () => {
    const up = compose('up', '-d', '--no-build');
    expect(up.status, up.stderr).toBe(0);
    const c = engine.docker.getContainer('lifeline_lifeline_1');
    let info = await c.inspect();
    for (const until = Date.now() + 60_000; info.State.Health?.Status !== 'healthy' && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      info = await c.inspect();
    }
    const logs = compose('logs', '--no-color', 'lifeline').stdout;
    expect(info.State.Health?.Status, logs).toBe('healthy');
    expect(info.Config.Labels['com.docker.compose.project']).toBe('lifeline');
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.Config.Env).toContain('LIFELINE_HOME=/data');
    expect(info.Mounts.find((m) => m.Destination === '/data')).toMatchObject({ Type: 'volume', Name: 'lifeline_lifeline-data', RW: true });
    expect(logs).toContain('Lifeline console (data: /data)');
    expect(logs).toContain(`http://127.0.0.1:${PORT}/#token=`);

    const health = await fetch(`http://127.0.0.1:${PORT}/healthz`);
    expect(health.status).toBe(200);
    const holders = findPortHolders(PORT);
    expect(holders.map((h) => h.address)).toEqual([`127.0.0.1:${PORT}`]); // loopback only

    const r = await checkServices(engine.docker, { expectedPorts: [PORT] });
    expect(r.findings.find((f) => f.code === 'project-status')?.message).toBe('lifeline: 1 of 1 containers running');
    expect(r.findings.find((f) => f.code === 'container-running')?.message).toBe('lifeline_lifeline_1 is running and healthy');
    expect(r.findings.find((f) => f.code === 'port-open')?.evidence[0]).toContain('scripts/lifeline.mjs serve --port 7788');
    expect(r.status).toBe('ok');
  }, 120_000);
});
