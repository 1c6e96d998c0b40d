// Every disaster drill, on a sandbox copy of a data root: detected and recovered, with times,
// and the live data root untouched. container-down runs against a real private dockerd.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRILL_SCENARIOS, type DrillResult } from '../../electron/api/contract.js';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { setMeta } from '../../electron/core/store/catalog.js';
import { lifeline } from '../helpers/cli.js';
import { dockerAvailable, importBusyboxImage, type PrivateDockerd, startPrivateDockerd, startComposeService } from '../helpers/dockerd.js';
import { tempDir } from '../helpers/env.js';
import { canUseLoopDevices } from '../helpers/loopdev.js';

const docker = dockerAvailable();
const loop = canUseLoopDevices();

describe('disaster drills', () => {
  const t = tempDir();
  const data = path.join(t.dir, 'data');
  let engine: PrivateDockerd | null = null;
  let app: LifelineApp;
  let before: string;

  beforeAll(async () => {
    if (docker.ok) {
      engine = await startPrivateDockerd();
      await importBusyboxImage(engine.docker, 'lifeline-test/busybox:1');
      await startComposeService(engine.docker, { name: 'drill-web', image: 'lifeline-test/busybox:1', project: 'ward-kb', service: 'web' });
      process.env.LIFELINE_DOCKER_SOCKET = engine.socket;
    }
    app = await openLifeline({ dataDir: data, shell: 'cli' });
    setMeta(app.db, 'site_config', JSON.stringify({ composeProjects: ['ward-kb'], expectedPorts: [17860] }));
    before = JSON.stringify(await app.knowledge.ask({ question: '如何请假？' }), (k, v) => (k === 'tookMs' ? undefined : v));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await engine?.stop();
    delete process.env.LIFELINE_DOCKER_SOCKET;
    t.cleanup();
  }, 120_000);

  const needs: Partial<Record<string, { ok: boolean; reason: string }>> = {
    'disk-full': loop,
    'usb-pulled-mid-restore': loop,
    'container-down': docker,
  };

  for (const scenario of DRILL_SCENARIOS) {
    const need = needs[scenario];
    it.skipIf(need !== undefined && !need.ok)(`${scenario}: is detected and recovered on a sandbox, with its times${need && !need.ok ? ` (skipped: ${need.reason})` : ''}`, async () => {
      const r: DrillResult = await app.runDrill(scenario);
      expect(r.skipped, r.skipped ?? '').toBeNull();
      expect(r.detected, r.steps.map((s) => s.what).join('\n')).toBe(true);
      expect(r.recovered, r.steps.map((s) => s.what).join('\n')).toBe(true);
      expect(r.dataLost).toBe(false);
      expect(r.detectMs).toBeGreaterThanOrEqual(0);
      expect(r.recoverMs!).toBeGreaterThanOrEqual(r.detectMs!);
      console.log(`drill ${scenario}: detected in ${r.detectMs} ms, recovered in ${r.recoverMs} ms`);
    }, 120_000);
  }

  it('leaves the live data root untouched and keeps the history for the Drills screen', async () => {
    const now = JSON.stringify(await app.knowledge.ask({ question: '如何请假？' }), (k, v) => (k === 'tookMs' ? undefined : v));
    expect(now).toBe(before);
    expect((await app.verify(true)).ok).toBe(true);
    expect(fs.existsSync(path.join(data, '.drills'))).toBe(false);
    const history = await app.handlers['drills.history']({});
    expect(history.length).toBeGreaterThanOrEqual(7);
    const schedule = await app.handlers['drills.schedule']({});
    expect(schedule.monthlyDay).toBe(1);
    expect(schedule.scenarios).not.toContain('container-down');
    await expect(app.handlers['drills.setSchedule']({ monthlyDay: 31 })).rejects.toThrow(/1–28/);
  });

  it('runs from the command line with the JSON the monitoring expects', () => {
    const r = lifeline(['drill', 'index-lost', '--json', '--data', path.join(t.dir, 'cli')]);
    expect(r.status, r.stderr).toBe(0);
    const j = r.json();
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['scenario', 'detected', 'recovered', 'detectMs', 'recoverMs', 'dataLost', 'steps']));
    expect(j).toMatchObject({ scenario: 'index-lost', detected: true, recovered: true, dataLost: false });
  }, 60_000);
});
