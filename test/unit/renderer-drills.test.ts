// The Drills screen's pure logic: verdicts, durations, the history, drill jobs, the schedule
// form and the scaling of the recovery-time chart.
import { describe, expect, it } from 'vitest';
import { DRILL_SCENARIOS, type DrillResult, type DrillScenario, type JobRecord } from '../../electron/api/contract.js';
import { dictionaries, translate } from '../../renderer/i18n/index.js';
import {
  REAL_SERVICE_SCENARIOS,
  SANDBOX_SCENARIOS,
  SCHEDULE_DAYS,
  activeDrillJobs,
  actsOnRealServices,
  checkScheduleForm,
  countStatuses,
  drillStatus,
  drillTrendLayout,
  failReasons,
  formOfSchedule,
  formatDrillMs,
  formatStartedAt,
  formatTick,
  latestByScenario,
  mergeResult,
  scenarioFaultKey,
  scenarioOfJob,
  scenarioRecoveryKey,
  scenarioTitleKey,
  scheduleChanged,
  sortNewestFirst,
  statusIcon,
  statusLabelKey,
  statusTone,
  stepOffsetMs,
  toggleScenario,
  type DrillStatus,
} from '../../renderer/lib/drills.js';

let seq = 0;
function result(scenario: DrillScenario, startedAt: string, patch: Partial<DrillResult> = {}): DrillResult {
  return { id: `r${++seq}`, scenario, startedAt, detected: true, recovered: true, detectMs: 40, recoverMs: 300, dataLost: false, skipped: null, steps: [], ...patch };
}

function job(patch: Partial<JobRecord>): JobRecord {
  return { id: 'j1', kind: 'drill', title: 'Drill: index-lost', state: 'running', done: 0, total: 0, bytesDone: 0, bytesTotal: 0, etaMs: null, message: '', startedAt: '2026-11-01T10:00:00.000Z', finishedAt: null, error: null, ...patch };
}

describe('a drill result’s verdict', () => {
  it('passes only when detected, recovered and nothing was lost', () => {
    expect(drillStatus(result('index-lost', '2026-11-01T00:00:00Z'))).toBe('pass');
    expect(drillStatus(result('index-lost', '2026-11-01T00:00:00Z', { detected: false, detectMs: null }))).toBe('fail');
    expect(drillStatus(result('index-lost', '2026-11-01T00:00:00Z', { recovered: false, recoverMs: null }))).toBe('fail');
    expect(drillStatus(result('index-lost', '2026-11-01T00:00:00Z', { dataLost: true }))).toBe('fail');
  });

  it('is skipped when the scenario could not run here, whatever else it says', () => {
    const r = result('container-down', '2026-11-01T00:00:00Z', { detected: false, recovered: false, detectMs: null, recoverMs: null, skipped: 'needs a Docker engine' });
    expect(drillStatus(r)).toBe('skipped');
    expect(failReasons(r)).toEqual([]);
  });

  it('is "never" without a result', () => {
    expect(drillStatus(null)).toBe('never');
    expect(drillStatus(undefined)).toBe('never');
  });

  it('says why a drill failed, in reading order', () => {
    const r = result('catalog-corrupt', '2026-11-01T00:00:00Z', { detected: false, recovered: false, dataLost: true });
    expect(failReasons(r)).toEqual(['drills.reason.notDetected', 'drills.reason.notRecovered', 'drills.reason.dataLost']);
    expect(failReasons(result('index-lost', '2026-11-01T00:00:00Z'))).toEqual([]);
  });

  it('gives each status a tone, a distinct icon and a label in both languages', () => {
    const statuses: DrillStatus[] = ['pass', 'fail', 'skipped', 'never', 'running'];
    expect(new Set(statuses.map(statusIcon)).size).toBe(statuses.length);
    expect(statusTone('pass')).toBe('ok');
    expect(statusTone('fail')).toBe('fail');
    for (const s of statuses) for (const locale of ['zh-CN', 'en'] as const) expect(translate(locale, statusLabelKey(s))).not.toMatch(/^drills\./);
    expect(translate('en', statusLabelKey('pass'))).toBe('PASS');
    expect(translate('en', statusLabelKey('fail'))).toBe('FAIL');
    expect(translate('en', statusLabelKey('skipped'))).toBe('SKIPPED');
    expect(translate('zh-CN', statusLabelKey('pass'))).toBe('通过');
  });
});

describe('the scenarios', () => {
  it('has a title, a plain-language fault and what recovery means for every scenario, in both languages', () => {
    for (const s of DRILL_SCENARIOS) {
      for (const key of [scenarioTitleKey(s), scenarioFaultKey(s), scenarioRecoveryKey(s)]) {
        expect(Object.keys(dictionaries['zh-CN'])).toContain(key);
        expect(dictionaries.en[key].length).toBeGreaterThan(3);
      }
    }
    expect(translate('en', scenarioFaultKey('index-lost'))).toMatch(/vector index files are deleted.*FAISS/);
  });

  it('marks exactly container-down and port-conflict as acting on the real services', () => {
    expect([...REAL_SERVICE_SCENARIOS].sort()).toEqual(['container-down', 'port-conflict']);
    expect(actsOnRealServices('container-down')).toBe(true);
    expect(actsOnRealServices('index-lost')).toBe(false);
    expect(SANDBOX_SCENARIOS).toHaveLength(8);
    expect(SANDBOX_SCENARIOS).not.toContain('port-conflict');
  });

  it('says in both languages that drills run on a sandbox copy, except the two on real services', () => {
    expect(translate('en', 'drills.intro.sandbox')).toMatch(/never into the live data root/);
    expect(translate('zh-CN', 'drills.intro.sandbox')).toMatch(/沙箱/);
    expect(translate('en', 'drills.intro.real')).toMatch(/Container down.*Port conflict.*real services/);
    expect(translate('zh-CN', 'drills.intro.real')).toMatch(/真实的服务/);
  });
});

describe('drill durations', () => {
  it('shows milliseconds, seconds and minutes', () => {
    expect(formatDrillMs(0)).toBe('0 ms');
    expect(formatDrillMs(45)).toBe('45 ms');
    expect(formatDrillMs(999.4)).toBe('999 ms');
    expect(formatDrillMs(999.6)).toBe('1.00 s');
    expect(formatDrillMs(1234)).toBe('1.23 s');
    expect(formatDrillMs(9_996)).toBe('10.0 s');
    expect(formatDrillMs(12_345)).toBe('12.3 s');
    expect(formatDrillMs(59_960)).toBe('1 min 00 s');
    expect(formatDrillMs(125_000)).toBe('2 min 05 s');
  });

  it('shows a dash when there is no time', () => {
    expect(formatDrillMs(null)).toBe('–');
    expect(formatDrillMs(undefined)).toBe('–');
    expect(formatDrillMs(Number.NaN)).toBe('–');
    expect(formatDrillMs(-5)).toBe('–');
  });

  it('labels round chart ticks', () => {
    expect(formatTick(1)).toBe('1 ms');
    expect(formatTick(100)).toBe('100 ms');
    expect(formatTick(1000)).toBe('1 s');
    expect(formatTick(10_000)).toBe('10 s');
    expect(formatTick(100_000)).toBe('100 s');
    expect(formatTick(1_000_000)).toBe('16.7 min');
  });

  it('times the steps from the drill’s start', () => {
    expect(stepOffsetMs('2026-11-01T10:00:00.000Z', '2026-11-01T10:00:00.280Z')).toBe(280);
    expect(stepOffsetMs('2026-11-01T10:00:00.500Z', '2026-11-01T10:00:00.000Z')).toBe(0);
    expect(stepOffsetMs('bad', '2026-11-01T10:00:00.000Z')).toBeNaN();
    expect(formatStartedAt('not a date')).toBe('not a date');
    expect(formatStartedAt('2026-11-01T10:00:07.000Z')).toMatch(/^2026-11-0[12] \d\d:\d\d:07$/);
  });
});

describe('the drill history', () => {
  it('keeps results newest first and replaces a result of the same id', () => {
    const a = result('index-lost', '2026-11-01T10:00:00Z');
    const b = result('disk-full', '2026-11-02T10:00:00Z');
    expect(sortNewestFirst([a, b]).map((r) => r.id)).toEqual([b.id, a.id]);
    const c = result('index-lost', '2026-11-03T10:00:00Z');
    expect(mergeResult([b, a], c).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(mergeResult(null, c)).toEqual([c]);
    const cAgain = { ...c, recovered: false };
    const merged = mergeResult([c, b, a], cAgain);
    expect(merged).toHaveLength(3);
    expect(merged[0]!.recovered).toBe(false);
  });

  it('finds the newest result of each scenario, whatever the order', () => {
    const old = result('index-lost', '2026-10-01T10:00:00Z', { recovered: false });
    const fresh = result('index-lost', '2026-11-01T10:00:00Z');
    const other = result('port-conflict', '2026-10-15T10:00:00Z', { skipped: 'port in use' });
    const latest = latestByScenario([old, other, fresh]);
    expect(latest['index-lost']).toBe(fresh);
    expect(latest['port-conflict']).toBe(other);
    expect(latest['disk-full']).toBeUndefined();
    expect(latestByScenario(null)).toEqual({});
    expect(countStatuses(latest)).toEqual({ pass: 1, fail: 0, skipped: 1, never: 8 });
  });
});

describe('drill jobs', () => {
  it('knows which scenario a drill job runs', () => {
    expect(scenarioOfJob(job({ title: 'Drill: index-lost' }))).toBe('index-lost');
    expect(scenarioOfJob(job({ title: 'Drill: power-cut-mid-backup' }))).toBe('power-cut-mid-backup');
    expect(scenarioOfJob(job({ title: 'Drill: index-lost-extra' }))).toBeNull();
    expect(scenarioOfJob(job({ kind: 'verify', title: 'Drill: index-lost' }))).toBeNull();
  });

  it('lists the drill jobs queued or running, by scenario', () => {
    const jobs = {
      a: job({ id: 'a', title: 'Drill: index-lost' }),
      b: job({ id: 'b', title: 'Drill: disk-full', state: 'done' }),
      c: job({ id: 'c', kind: 'backup', title: 'Backup' }),
      d: job({ id: 'd', title: 'Drill: port-conflict', state: 'queued' }),
    };
    const active = activeDrillJobs(jobs);
    expect(Object.keys(active).sort()).toEqual(['index-lost', 'port-conflict']);
    expect(active['index-lost']!.id).toBe('a');
  });
});

describe('the schedule form', () => {
  it('offers days 1 to 28', () => {
    expect(SCHEDULE_DAYS[0]).toBe(1);
    expect(SCHEDULE_DAYS.at(-1)).toBe(28);
    expect(SCHEDULE_DAYS).toHaveLength(28);
  });

  it('reads the saved schedule and turns the form into a request', () => {
    const form = formOfSchedule({ monthlyDay: 1, scenarios: ['disk-full', 'index-lost'] });
    expect(form).toEqual({ day: '1', scenarios: ['index-lost', 'disk-full'] });
    expect(checkScheduleForm({ ...form, day: '15' })).toEqual({ request: { monthlyDay: 15, scenarios: ['index-lost', 'disk-full'] }, error: null });
    expect(checkScheduleForm({ day: '', scenarios: [] })).toEqual({ request: { monthlyDay: null, scenarios: [] }, error: null });
    expect(formOfSchedule({ monthlyDay: null, scenarios: [] }).day).toBe('');
  });

  it('refuses a day outside 1–28 and a schedule with no drill', () => {
    expect(checkScheduleForm({ day: '29', scenarios: ['index-lost'] }).error).toBe('drills.schedule.badDay');
    expect(checkScheduleForm({ day: '0', scenarios: ['index-lost'] }).error).toBe('drills.schedule.badDay');
    expect(checkScheduleForm({ day: '1.5', scenarios: ['index-lost'] }).error).toBe('drills.schedule.badDay');
    expect(checkScheduleForm({ day: '15', scenarios: [] })).toEqual({ request: null, error: 'drills.schedule.noScenarios' });
  });

  it('knows when the form differs from what is saved, and keeps the scenarios’ order when toggling', () => {
    const saved = { monthlyDay: 1, scenarios: ['index-lost', 'disk-full'] as DrillScenario[] };
    expect(scheduleChanged(formOfSchedule(saved), saved)).toBe(false);
    expect(scheduleChanged({ day: '2', scenarios: ['index-lost', 'disk-full'] }, saved)).toBe(true);
    expect(scheduleChanged({ day: '1', scenarios: ['index-lost'] }, saved)).toBe(true);
    expect(toggleScenario(['disk-full'], 'index-lost', true)).toEqual(['index-lost', 'disk-full']);
    expect(toggleScenario(['index-lost', 'disk-full'], 'index-lost', false)).toEqual(['disk-full']);
  });
});

describe('the recovery-time chart', () => {
  const box = { width: 600, height: 200, padLeft: 50, padRight: 10, padTop: 10, padBottom: 20 };

  it('draws nothing without recovered results', () => {
    const layout = drillTrendLayout([result('index-lost', '2026-11-01T00:00:00Z', { recovered: false, recoverMs: null })], box);
    expect(layout.count).toBe(0);
    expect(layout.series).toEqual([]);
    expect(layout.ticks).toEqual([]);
    expect(drillTrendLayout(null, box).count).toBe(0);
  });

  it('puts time on x (oldest left) and recovery time on a log scale with grid lines at powers of ten', () => {
    const h = [
      result('index-lost', '2026-11-03T00:00:00Z', { recoverMs: 1000 }),
      result('index-lost', '2026-11-01T00:00:00Z', { recoverMs: 100 }),
      result('port-conflict', '2026-11-02T00:00:00Z', { recoverMs: 10 }),
      result('disk-full', '2026-11-02T12:00:00Z', { skipped: 'no loop device', recovered: false, recoverMs: null }),
    ];
    const layout = drillTrendLayout(h, box);
    expect(layout.count).toBe(3);
    expect(layout.ticks.map((t) => t.ms)).toEqual([10, 100, 1000]);
    expect(layout.ticks.map((t) => t.label)).toEqual(['10 ms', '100 ms', '1 s']);
    // 10 ms at the bottom, 1 s at the top, 100 ms half-way (log scale).
    expect(layout.ticks[0]!.y).toBe(180);
    expect(layout.ticks[2]!.y).toBe(10);
    expect(layout.ticks[1]!.y).toBe(95);
    const lost = layout.series.find((s) => s.scenario === 'index-lost')!;
    expect(lost.points.map((p) => p.ms)).toEqual([100, 1000]);
    expect(lost.points[0]!.x).toBe(50);
    expect(lost.points[1]!.x).toBe(590);
    expect(lost.points[0]!.y).toBe(95);
    expect(lost.path).toBe('M50 95 L590 10');
    const port = layout.series.find((s) => s.scenario === 'port-conflict')!;
    expect(port.points[0]!.x).toBe(320);
    expect(port.points[0]!.y).toBe(180);
    // Colours follow the scenario's place in the list, not the order of appearance.
    expect(lost.colour).toBe(DRILL_SCENARIOS.indexOf('index-lost'));
    expect(port.colour).toBe(DRILL_SCENARIOS.indexOf('port-conflict'));
    expect(layout.series.some((s) => s.scenario === 'disk-full')).toBe(false);
    expect(layout.from).toBe(Date.parse('2026-11-01T00:00:00Z'));
    expect(layout.to).toBe(Date.parse('2026-11-03T00:00:00Z'));
  });

  it('centres a single point and spans at least one decade', () => {
    const layout = drillTrendLayout([result('index-lost', '2026-11-01T00:00:00Z', { recoverMs: 339 })], box);
    expect(layout.ticks.map((t) => t.ms)).toEqual([100, 1000]);
    const p = layout.series[0]!.points[0]!;
    expect(p.x).toBe(320);
    expect(p.y).toBeGreaterThan(10);
    expect(p.y).toBeLessThan(180);
    // Exactly a power of ten still gets a decade above it.
    expect(drillTrendLayout([result('index-lost', '2026-11-01T00:00:00Z', { recoverMs: 100 })], box).ticks.map((t) => t.ms)).toEqual([100, 1000]);
  });

  it('treats a 0 ms recovery as 1 ms rather than breaking the log scale', () => {
    const layout = drillTrendLayout([result('port-conflict', '2026-11-01T00:00:00Z', { recoverMs: 0 })], box);
    expect(layout.count).toBe(1);
    expect(Number.isFinite(layout.series[0]!.points[0]!.y)).toBe(true);
    expect(layout.ticks[0]!.ms).toBe(1);
  });
});
