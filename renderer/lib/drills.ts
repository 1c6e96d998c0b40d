// The Drills screen's pure logic: a result's verdict (pass, fail, skipped), how it looks, why
// it failed, the newest result of each scenario, which scenarios act on the site's real
// services, the drill job a scenario runs as, durations in words, the schedule form, and the
// scaling of the recovery-time chart. No React, no DOM: the unit tests read it as it is.
import { DRILL_SCENARIOS, type DrillResult, type DrillScenario, type DrillSchedule, type JobRecord } from '../../electron/api/contract.js';
import type { MessageKey } from '../i18n/index.js';
import { isActive, type JobMap } from './jobs.js';

export { DRILL_SCENARIOS };

/**
 * These two act on the site's real services (a real container is stopped; a real port is held
 * for a moment), not on the sandbox copy: the console asks before running them.
 */
export const REAL_SERVICE_SCENARIOS: readonly DrillScenario[] = ['container-down', 'port-conflict'];

export function isDrillScenario(value: unknown): value is DrillScenario {
  return typeof value === 'string' && (DRILL_SCENARIOS as readonly string[]).includes(value);
}

export function actsOnRealServices(scenario: string): boolean {
  return (REAL_SERVICE_SCENARIOS as readonly string[]).includes(scenario);
}

/** The scenarios that only touch the sandbox copy, in their usual order. */
export const SANDBOX_SCENARIOS: readonly DrillScenario[] = DRILL_SCENARIOS.filter((s) => !actsOnRealServices(s));

// ---- verdicts -------------------------------------------------------------------------------

/** A result's verdict; `never` when the scenario has not run yet, `running` while it runs. */
export type DrillStatus = 'pass' | 'fail' | 'skipped' | 'never' | 'running';

/**
 * PASS: the fault was detected, the sandbox came back to a verified state, and nothing was lost.
 * SKIPPED: the scenario could not run here (the reason says why). Anything else is a FAIL.
 */
export function drillStatus(result: Pick<DrillResult, 'detected' | 'recovered' | 'dataLost' | 'skipped'> | null | undefined): Exclude<DrillStatus, 'running'> {
  if (!result) return 'never';
  if (result.skipped) return 'skipped';
  return result.detected && result.recovered && !result.dataLost ? 'pass' : 'fail';
}

/** Why a result is a FAIL, in the order an operator reads them (empty for pass and skipped). */
export function failReasons(result: Pick<DrillResult, 'detected' | 'recovered' | 'dataLost' | 'skipped'>): MessageKey[] {
  if (result.skipped) return [];
  const reasons: MessageKey[] = [];
  if (!result.detected) reasons.push('drills.reason.notDetected');
  if (!result.recovered) reasons.push('drills.reason.notRecovered');
  if (result.dataLost) reasons.push('drills.reason.dataLost');
  return reasons;
}

/** The colour family (CSS class `tone-…`). Never colour alone: an icon and a word go with it. */
export type DrillTone = 'ok' | 'fail' | 'skipped' | 'pending' | 'info';

const STATUS_TONE: Record<DrillStatus, DrillTone> = { pass: 'ok', fail: 'fail', skipped: 'skipped', never: 'pending', running: 'info' };
const STATUS_ICON: Record<DrillStatus, string> = { pass: '✓', fail: '✕', skipped: '–', never: '·', running: '…' };

export function statusTone(status: DrillStatus): DrillTone {
  return STATUS_TONE[status];
}

export function statusIcon(status: DrillStatus): string {
  return STATUS_ICON[status];
}

export function statusLabelKey(status: DrillStatus): MessageKey {
  return `drills.status.${status}`;
}

export function scenarioTitleKey(scenario: DrillScenario): MessageKey {
  return `drills.scenario.${scenario}.title`;
}

export function scenarioFaultKey(scenario: DrillScenario): MessageKey {
  return `drills.scenario.${scenario}.fault`;
}

export function scenarioRecoveryKey(scenario: DrillScenario): MessageKey {
  return `drills.scenario.${scenario}.recovery`;
}

// ---- history --------------------------------------------------------------------------------

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? -Infinity : t;
}

/** Newest first, by start time; on a tie, the order given. */
export function sortNewestFirst(results: readonly DrillResult[]): DrillResult[] {
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => time(b.r.startedAt) - time(a.r.startedAt) || a.i - b.i)
    .map((x) => x.r);
}

/** The history with a result just received: added (or replacing the same id), newest first. */
export function mergeResult(history: readonly DrillResult[] | null, result: DrillResult): DrillResult[] {
  return sortNewestFirst([result, ...(history ?? []).filter((r) => r.id !== result.id)]);
}

/** The newest result of each scenario that ran (scenarios the console does not know are left out). */
export function latestByScenario(history: readonly DrillResult[] | null): Partial<Record<DrillScenario, DrillResult>> {
  const out: Partial<Record<DrillScenario, DrillResult>> = {};
  for (const r of history ?? []) {
    if (!isDrillScenario(r.scenario)) continue;
    const known = out[r.scenario];
    if (!known || time(r.startedAt) > time(known.startedAt)) out[r.scenario] = r;
  }
  return out;
}

/** How many of the scenarios' latest results pass, fail, were skipped, or never ran. */
export function countStatuses(latest: Partial<Record<DrillScenario, DrillResult>>): Record<Exclude<DrillStatus, 'running'>, number> {
  const counts = { pass: 0, fail: 0, skipped: 0, never: 0 };
  for (const s of DRILL_SCENARIOS) counts[drillStatus(latest[s])]++;
  return counts;
}

// ---- jobs -----------------------------------------------------------------------------------

/** The scenario a drill job runs (its title is "Drill: <scenario>"), or null. */
export function scenarioOfJob(job: Pick<JobRecord, 'kind' | 'title'>): DrillScenario | null {
  if (job.kind !== 'drill') return null;
  let best: DrillScenario | null = null;
  for (const s of DRILL_SCENARIOS) {
    const at = job.title.indexOf(s);
    if (at < 0) continue;
    const before = job.title[at - 1];
    const after = job.title[at + s.length];
    const bounded = (c: string | undefined) => c === undefined || !/[a-z0-9-]/i.test(c);
    if (bounded(before) && bounded(after) && (!best || s.length > best.length)) best = s;
  }
  return best;
}

/** The drill jobs queued or running now (this console's, another's, or the monthly schedule's), by scenario. */
export function activeDrillJobs(jobs: JobMap): Partial<Record<DrillScenario, JobRecord>> {
  const out: Partial<Record<DrillScenario, JobRecord>> = {};
  for (const job of Object.values(jobs)) {
    if (!isActive(job)) continue;
    const s = scenarioOfJob(job);
    if (s && (!out[s] || job.startedAt > out[s].startedAt)) out[s] = job;
  }
  return out;
}

// ---- durations ------------------------------------------------------------------------------

/**
 * A drill's time in milliseconds: "45 ms", "1.23 s", "12.3 s", "2 min 05 s"; "–" when there is
 * none (the fault was not detected, or the scenario did not recover).
 */
export function formatDrillMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const whole = Math.round(ms);
  if (whole < 1000) return `${whole} ms`;
  if (Math.round(ms / 10) < 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** A drill's start as local "YYYY-MM-DD HH:mm:ss" (drills run seconds apart; the original string when it does not parse). */
export function formatStartedAt(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** How long after the drill's start a step happened (never negative; NaN when a time does not parse). */
export function stepOffsetMs(startedAt: string, at: string): number {
  const a = Date.parse(startedAt);
  const b = Date.parse(at);
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return Math.max(0, b - a);
}

/** A chart axis label for a round number of milliseconds: "1 ms", "100 ms", "1 s", "10 s", "2 min". */
export function formatTick(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toPrecision(3))} s`;
  return `${Number((ms / 60_000).toPrecision(3))} min`;
}

// ---- the schedule form ----------------------------------------------------------------------

/** The days a monthly drill can fall on (every month has them). */
export const SCHEDULE_DAYS: readonly number[] = Array.from({ length: 28 }, (_, i) => i + 1);

export interface ScheduleForm {
  /** '' for no schedule, else '1'..'28'. */
  day: string;
  scenarios: DrillScenario[];
}

export function formOfSchedule(schedule: Pick<DrillSchedule, 'monthlyDay' | 'scenarios'>): ScheduleForm {
  return {
    day: schedule.monthlyDay === null ? '' : String(schedule.monthlyDay),
    scenarios: DRILL_SCENARIOS.filter((s) => schedule.scenarios.includes(s)),
  };
}

/** The form as a drills.setSchedule request, or the message key of what is wrong with it. */
export function checkScheduleForm(form: ScheduleForm): { request: { monthlyDay: number | null; scenarios: DrillScenario[] } | null; error: MessageKey | null } {
  const scenarios = DRILL_SCENARIOS.filter((s) => form.scenarios.includes(s));
  if (form.day === '') return { request: { monthlyDay: null, scenarios }, error: null };
  const day = Number(form.day);
  if (!/^\d{1,2}$/.test(form.day) || !Number.isInteger(day) || day < 1 || day > 28) return { request: null, error: 'drills.schedule.badDay' };
  if (scenarios.length === 0) return { request: null, error: 'drills.schedule.noScenarios' };
  return { request: { monthlyDay: day, scenarios }, error: null };
}

export function scheduleChanged(form: ScheduleForm, schedule: Pick<DrillSchedule, 'monthlyDay' | 'scenarios'>): boolean {
  const saved = formOfSchedule(schedule);
  return form.day !== saved.day || form.scenarios.length !== saved.scenarios.length || form.scenarios.some((s) => !saved.scenarios.includes(s));
}

/** Toggles one scenario in a list, keeping the scenarios' usual order. */
export function toggleScenario(list: readonly DrillScenario[], scenario: DrillScenario, on: boolean): DrillScenario[] {
  return DRILL_SCENARIOS.filter((s) => (s === scenario ? on : list.includes(s)));
}

// ---- the recovery-time chart ----------------------------------------------------------------

export interface TrendBox {
  width: number;
  height: number;
  /** Room for the axis labels (defaults: left 48, right 8, top 8, bottom 20). */
  padLeft?: number;
  padRight?: number;
  padTop?: number;
  padBottom?: number;
}

export interface TrendPoint {
  x: number;
  y: number;
  ms: number;
  result: DrillResult;
}

export interface TrendSeries {
  scenario: DrillScenario;
  /** The scenario's place in DRILL_SCENARIOS: its colour (CSS class `series-N`) never changes. */
  colour: number;
  points: TrendPoint[];
  /** An SVG path through the points, oldest first ("" for none). */
  path: string;
}

export interface TrendTick {
  y: number;
  ms: number;
  label: string;
}

export interface TrendLayout {
  series: TrendSeries[];
  /** Horizontal grid lines at powers of ten (1 ms, 10 ms, 100 ms, 1 s, 10 s…). */
  ticks: TrendTick[];
  /** The plotting area inside the padding. */
  plot: { left: number; top: number; right: number; bottom: number };
  /** The first and last start time shown (ms since the epoch), null without points. */
  from: number | null;
  to: number | null;
  /** How many results are plotted (recovered ones only). */
  count: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Lays out the time to a verified recovery of every recovered result: one line per scenario,
 * time on the x axis (oldest left), recovery time on a logarithmic y axis (drills range from
 * a tenth of a second to many seconds, and a linear axis would flatten the quick ones), with
 * grid lines at whole powers of ten. Results that did not recover (or were skipped) have no
 * recovery time and are not plotted: the history table lists them.
 */
export function drillTrendLayout(history: readonly DrillResult[] | null, box: TrendBox): TrendLayout {
  const left = box.padLeft ?? 48;
  const right = box.width - (box.padRight ?? 8);
  const top = box.padTop ?? 8;
  const bottom = box.height - (box.padBottom ?? 20);
  const plot = { left, top, right, bottom };
  const usable = (history ?? [])
    .filter((r) => isDrillScenario(r.scenario) && !r.skipped && r.recovered && typeof r.recoverMs === 'number' && Number.isFinite(r.recoverMs) && r.recoverMs >= 0 && Number.isFinite(time(r.startedAt)))
    .map((r, i) => ({ r, i, t: time(r.startedAt), ms: Math.max(1, r.recoverMs as number) }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  if (usable.length === 0 || right <= left || bottom <= top) return { series: [], ticks: [], plot, from: null, to: null, count: 0 };

  const lo = Math.floor(Math.log10(Math.min(...usable.map((u) => u.ms))));
  let hi = Math.ceil(Math.log10(Math.max(...usable.map((u) => u.ms))));
  if (hi <= lo) hi = lo + 1;
  const yOf = (ms: number) => round2(bottom - ((Math.log10(ms) - lo) / (hi - lo)) * (bottom - top));
  const from = usable[0]!.t;
  const to = usable[usable.length - 1]!.t;
  const xOf = (t: number) => round2(to === from ? (left + right) / 2 : left + ((t - from) / (to - from)) * (right - left));

  const ticks: TrendTick[] = [];
  for (let k = lo; k <= hi; k++) {
    const ms = 10 ** k;
    ticks.push({ y: yOf(ms), ms, label: formatTick(ms) });
  }

  const series: TrendSeries[] = [];
  for (const [colour, scenario] of DRILL_SCENARIOS.entries()) {
    const points = usable.filter((u) => u.r.scenario === scenario).map((u) => ({ x: xOf(u.t), y: yOf(u.ms), ms: u.r.recoverMs as number, result: u.r }));
    if (points.length === 0) continue;
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ');
    series.push({ scenario, colour, points, path });
  }
  return { series, ticks, plot, from, to, count: usable.length };
}
