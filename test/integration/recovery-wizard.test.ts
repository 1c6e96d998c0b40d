// The night after a power cut, end to end: a stopped container, a deleted vector segment and no
// recent backup. The wizard finds all three, fixes the first two with the operator's clicks,
// warns about the third, passes the golden questions and writes a report with the recovery
// time; `lifeline doctor --json` reports the same steps.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WizardRun } from '../../electron/api/contract.js';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { setMeta } from '../../electron/core/store/catalog.js';
import { lifeline } from '../helpers/cli.js';
import { dockerAvailable, importBusyboxImage, type PrivateDockerd, startPrivateDockerd, startComposeService } from '../helpers/dockerd.js';
import { tempDir } from '../helpers/env.js';

const docker = dockerAvailable();
if (!docker.ok) console.warn(`skipping the recovery-wizard scenario: ${docker.reason}`);

describe.skipIf(!docker.ok)('the recovery wizard after a power cut', () => {
  const t = tempDir();
  const data = path.join(t.dir, 'data');
  let engine: PrivateDockerd;
  let app: LifelineApp;

  beforeAll(async () => {
    engine = await startPrivateDockerd();
    await importBusyboxImage(engine.docker, 'lifeline-test/busybox:1');
    const c = await startComposeService(engine.docker, { name: 'kb-web', image: 'lifeline-test/busybox:1', project: 'hospital-kb', service: 'web' });
    await c.stop({ t: 0 }); // the power cut: it did not come back
    process.env.LIFELINE_DOCKER_SOCKET = engine.socket;
    app = await openLifeline({ dataDir: data, shell: 'server' });
    setMeta(app.db, 'site_config', JSON.stringify({ composeProjects: ['hospital-kb'] }));
    await app.handlers['golden.baseline']({ kb: 'demo' });
    // The damaged disk: a vector segment is gone.
    for (const f of fs.readdirSync(path.join(data, 'segments'))) fs.rmSync(path.join(data, 'segments', f));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await engine?.stop();
    delete process.env.LIFELINE_DOCKER_SOCKET;
    t.cleanup();
  }, 120_000);

  const step = (run: WizardRun, id: string) => run.steps.find((s) => s.id === id)!;

  it('finds the stopped container, the missing segment and the old backup; fixes two; passes the golden questions; writes the report', async () => {
    let run = await app.handlers['wizard.start']({ operator: '值班工程师 张工' });
    for (const id of ['hardware', 'storage'] as const) run = await app.handlers['wizard.check']({ step: id });

    run = await app.handlers['wizard.check']({ step: 'services' });
    const stopped = step(run, 'services').findings.find((f) => f.code === 'container-stopped');
    expect(stopped, JSON.stringify(step(run, 'services').findings)).toBeTruthy();
    const start = stopped!.actions.find((a) => a.id.startsWith('start'))!;
    expect(start.destructive).toBe(false);
    run = await app.handlers['wizard.action']({ step: 'services', action: start.id, finding: stopped!.code });
    expect(step(run, 'services').findings.some((f) => f.code === 'container-stopped')).toBe(false);
    expect((await engine.docker.getContainer('kb-web').inspect()).State.Running).toBe(true);

    run = await app.handlers['wizard.check']({ step: 'models' });
    run = await app.handlers['wizard.check']({ step: 'integrity' });
    const missing = step(run, 'integrity').findings.find((f) => f.code === 'segment-missing');
    expect(missing?.severity).toBe('fail');
    run = await app.handlers['wizard.action']({ step: 'integrity', action: 'repair', finding: 'segment-missing' });
    expect(step(run, 'integrity').status).toBe('ok');

    run = await app.handlers['wizard.check']({ step: 'golden' });
    expect(step(run, 'golden').status, JSON.stringify(step(run, 'golden').findings)).toBe('ok');

    run = await app.handlers['wizard.check']({ step: 'restore' });
    expect(step(run, 'restore').findings.map((f) => [f.code, f.severity])).toEqual(
      expect.arrayContaining([
        ['no-restore-needed', 'ok'],
        ['backup-old', 'warn'],
      ]),
    );

    run = await app.handlers['wizard.finish']({});
    expect(run.finishedAt).toBeTruthy();
    const report = await app.handlers['reports.get']({ id: run.reportId! });
    expect(report.html).toContain('recovery time');
    expect(report.html).toContain('值班工程师 张工');
    expect(report.html).toContain('container-stopped');
    expect(report.html).toContain('segment-missing');
    const list = await app.handlers['reports.list']({});
    expect(list[0]).toMatchObject({ runId: run.id, operator: '值班工程师 张工' });
    expect(list[0]!.recoveryMs).toBeGreaterThan(0);
    // Every action is in the audit log with the operator's name.
    expect(run.audit.filter((a) => a.action.startsWith('start') || a.action === 'repair').every((a) => a.operator === '值班工程师 张工' && a.ok)).toBe(true);
  }, 180_000);

  it('resumes an unfinished recovery at the step where it stopped', async () => {
    let run = await app.handlers['wizard.start']({ operator: 'night shift' });
    run = await app.handlers['wizard.check']({ step: 'storage' });
    await app.close();
    app = await openLifeline({ dataDir: data, shell: 'server' });
    const again = await app.handlers['wizard.current']({});
    expect(again).toMatchObject({ id: run.id, current: 'storage' });
  }, 60_000);

  it('refuses a destructive action without confirmation', async () => {
    await expect(app.handlers['wizard.action']({ step: 'restore', action: 'restore' })).rejects.toThrow(/no action|confirm/);
  });

  it('doctor reports the same steps as JSON for scripts and monitoring', () => {
    const r = lifeline(['doctor', '--json', '--data', data], { env: { LIFELINE_DOCKER_SOCKET: engine.socket } });
    // The app in this process holds the data root: doctor reads it alongside.
    const report = r.json();
    expect(report.steps.map((s: { id: string }) => s.id)).toEqual(['hardware', 'storage', 'services', 'models', 'integrity', 'golden', 'restore']);
    for (const s of report.steps) expect(['ok', 'warn', 'fail', 'skipped']).toContain(s.status);
    expect(r.status).toBe(report.ok ? 0 : 1);
    expect(typeof report.durationMs).toBe('number');
  }, 60_000);
});
