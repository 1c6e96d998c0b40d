// The Health screen's pure logic: status → tone/icon/label, what fixes a problem in plain
// words, which problems `repair` can fix by itself, the newest verify run, and the scaling of
// the verify-history chart. No React, no DOM.
import type { HealthComponent, IntegrityProblem, VerifyResult, VerifyRun } from '../../electron/api/contract.js';
import type { MessageKey } from '../i18n/index.js';

export type HealthStatus = HealthComponent['status'];
export type ComponentId = HealthComponent['id'];

export const HEALTH_STATUSES: readonly HealthStatus[] = ['ok', 'warn', 'fail', 'unknown'];
export const COMPONENT_IDS: readonly ComponentId[] = ['catalog', 'indexes', 'models', 'jobs', 'backups'];

/** The colour family (a CSS class `tone-…`) of a status. Never colour alone: icon and text go with it. */
export type Tone = 'ok' | 'warn' | 'fail' | 'unknown';

const STATUS_TONE: Record<HealthStatus, Tone> = { ok: 'ok', warn: 'warn', fail: 'fail', unknown: 'unknown' };
const STATUS_ICON: Record<HealthStatus, string> = { ok: '✓', warn: '!', fail: '✕', unknown: '?' };

function isStatus(status: string): status is HealthStatus {
  return (HEALTH_STATUSES as readonly string[]).includes(status);
}

/** A status the console does not know (a newer core) shows as unknown rather than breaking. */
export function normalizeStatus(status: string): HealthStatus {
  return isStatus(status) ? status : 'unknown';
}

export function statusTone(status: string): Tone {
  return STATUS_TONE[normalizeStatus(status)];
}

export function statusIcon(status: string): string {
  return STATUS_ICON[normalizeStatus(status)];
}

export function statusLabelKey(status: string): MessageKey {
  return `health.status.${normalizeStatus(status)}`;
}

/** The component's name; an id the console does not know gets a generic label (shown with its id). */
export function componentLabelKey(id: string): MessageKey | null {
  return (COMPONENT_IDS as readonly string[]).includes(id) ? (`health.component.${id as ComponentId}` as MessageKey) : null;
}

/** What fixes a problem, as the core names it. */
export const REPAIR_KINDS = ['rebuild', 'restore', 'reembed', 'sweep', 'resume', 'none'] as const;
export type RepairKind = (typeof REPAIR_KINDS)[number];

/** The repair kinds `integrity.repair` carries out by itself. */
export const AUTO_REPAIR_KINDS: readonly RepairKind[] = ['rebuild', 'sweep', 'resume'];

export function isRepairKind(kind: string): kind is RepairKind {
  return (REPAIR_KINDS as readonly string[]).includes(kind);
}

/** The operator-language explanation of a repair kind (an unknown kind gets a generic one). */
export function repairKindKey(kind: string): MessageKey {
  return isRepairKind(kind) ? `health.fix.${kind}` : 'health.fix.unknown';
}

export function isAutoRepairable(problem: Pick<IntegrityProblem, 'repair'>): boolean {
  return (AUTO_REPAIR_KINDS as readonly string[]).includes(problem.repair);
}

/** True when the Repair button has something to do. */
export function canRepair(problems: readonly Pick<IntegrityProblem, 'repair'>[]): boolean {
  return problems.some(isAutoRepairable);
}

/** Errors first, then warnings; otherwise in the core's order. */
export function sortProblems<P extends Pick<IntegrityProblem, 'severity'>>(problems: readonly P[]): P[] {
  const rank = (p: P) => (p.severity === 'error' ? 0 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map((x) => x.p);
}

export function countSeverities(problems: readonly Pick<IntegrityProblem, 'severity'>[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const p of problems) {
    if (p.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

/** A verify result as a history entry (for a run the console just made). */
export function runOf(result: VerifyResult, at: string): VerifyRun {
  const { errors, warnings } = countSeverities(result.problems);
  return { at, deep: result.deep, ok: result.ok, errors, warnings, durationMs: result.durationMs };
}

function time(run: VerifyRun): number {
  const t = Date.parse(run.at);
  return Number.isNaN(t) ? -Infinity : t;
}

/** The newer of two runs (either may be missing); on a tie, the first. */
export function latestRun(a: VerifyRun | null | undefined, b: VerifyRun | null | undefined): VerifyRun | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return time(b) > time(a) ? b : a;
}

/** How a run looks in the chart: failed (errors, or not ok), warnings only, or clean. */
export type RunTone = 'ok' | 'warn' | 'fail';

export function runTone(run: Pick<VerifyRun, 'ok' | 'errors' | 'warnings'>): RunTone {
  if (!run.ok || run.errors > 0) return 'fail';
  if (run.warnings > 0) return 'warn';
  return 'ok';
}

export interface TrendBar {
  run: VerifyRun;
  x: number;
  y: number;
  width: number;
  height: number;
  tone: RunTone;
}

export interface TrendLayout {
  bars: TrendBar[];
  /** The longest duration shown (the chart's full height), in milliseconds. */
  maxDurationMs: number;
  width: number;
  height: number;
}

export interface TrendOptions {
  width: number;
  height: number;
  /** At most this many runs, the newest (default 30). */
  maxBars?: number;
  /** Space between bars (default 2). */
  gap?: number;
  /** A run's bar is never shorter than this, so an instant check still shows (default 3). */
  minBarHeight?: number;
}

/**
 * Lays out the verify history as bars, oldest left, newest right: each bar's height is the
 * run's duration relative to the longest shown (linear), its colour the run's outcome.
 * Bars stand on the bottom edge (SVG y grows downwards). Runs are ordered by time, whatever
 * order they arrive in; runs without a valid duration count as 0 ms.
 */
export function trendLayout(history: readonly VerifyRun[], options: TrendOptions): TrendLayout {
  const { width, height } = options;
  const maxBars = Math.max(1, Math.floor(options.maxBars ?? 30));
  const gap = Math.max(0, options.gap ?? 2);
  const minBar = Math.min(height, Math.max(0, options.minBarHeight ?? 3));
  const runs = history
    .map((run, i) => ({ run, i }))
    .sort((a, b) => time(a.run) - time(b.run) || a.i - b.i)
    .map((x) => x.run)
    .slice(-maxBars);
  const duration = (r: VerifyRun) => (Number.isFinite(r.durationMs) && r.durationMs > 0 ? r.durationMs : 0);
  const maxDurationMs = runs.reduce((m, r) => Math.max(m, duration(r)), 0);
  if (runs.length === 0 || width <= 0 || height <= 0) return { bars: [], maxDurationMs, width, height };
  // Slots of equal width; never wider than a tenth of the chart, so a single run is not a slab.
  const slot = Math.min(width / runs.length, width / 10);
  const barWidth = Math.max(1, slot - gap);
  const offset = width - slot * runs.length; // right-aligned: the newest run sits at the right edge
  const bars = runs.map((run, i) => {
    const scaled = maxDurationMs > 0 ? (duration(run) / maxDurationMs) * height : 0;
    const h = Math.min(height, Math.max(minBar, scaled));
    return { run, x: offset + i * slot + gap / 2, y: height - h, width: barWidth, height: h, tone: runTone(run) };
  });
  return { bars, maxDurationMs, width, height };
}

/** Milliseconds elapsed since `since`, for the "running for …" of a long check. */
export function elapsedMs(since: number, now: number): number {
  return Math.max(0, now - since);
}
