// The recovery wizard's pure logic: the order of the steps and which comes next, how a
// finding's severity and a step's status look (tone, icon, label), sorting and counting
// findings, the recovery time, and which jobs belong to the operation in progress.
// No React, no DOM: the unit tests read it as it is.
import type { Finding, FindingSeverity, JobRecord, ReportSummary, StepStatus, WizardRun, WizardStep, WizardStepId } from '../../electron/api/contract.js';
import type { MessageKey, Params, Translate } from '../i18n/index.js';
import { isActive, type JobMap } from './jobs.js';

/** The steps in the order the operator walks them: hardware first, the report last. */
export const WIZARD_STEPS: readonly WizardStepId[] = ['hardware', 'storage', 'services', 'models', 'integrity', 'golden', 'restore', 'report'];

export function isStepId(value: unknown): value is WizardStepId {
  return typeof value === 'string' && (WIZARD_STEPS as readonly string[]).includes(value);
}

/** 0-based place of a step; -1 for a step the console does not know. */
export function stepIndex(step: string): number {
  return (WIZARD_STEPS as readonly string[]).indexOf(step);
}

/** 1-based number shown to the operator ("step 3 of 8"); 0 for an unknown step. */
export function stepNumber(step: string): number {
  return stepIndex(step) + 1;
}

/** The step after `step`, or null after the last one (the report). An unknown step restarts at the first. */
export function nextStep(step: string): WizardStepId | null {
  const i = stepIndex(step);
  if (i < 0) return WIZARD_STEPS[0] ?? null;
  return WIZARD_STEPS[i + 1] ?? null;
}

export function previousStep(step: string): WizardStepId | null {
  const i = stepIndex(step);
  return i > 0 ? (WIZARD_STEPS[i - 1] ?? null) : null;
}

/** The step the run is on; a step id the console does not know (a newer core) shows as the first. */
export function currentStep(run: Pick<WizardRun, 'current'>): WizardStepId {
  return isStepId(run.current) ? run.current : (WIZARD_STEPS[0] as WizardStepId);
}

export function isFinished(run: Pick<WizardRun, 'finishedAt'> | null | undefined): boolean {
  return Boolean(run?.finishedAt);
}

// ---- severities and statuses ----------------------------------------------------------------

export const SEVERITIES: readonly FindingSeverity[] = ['fail', 'warn', 'info', 'ok'];
export const STEP_STATUSES: readonly StepStatus[] = ['pending', 'ok', 'warn', 'fail', 'skipped'];

/** The colour family (CSS class `tone-…`). Never colour alone: an icon and a word go with it. */
export type WizardTone = 'ok' | 'warn' | 'fail' | 'info' | 'pending' | 'skipped';

const SEVERITY_ICON: Record<FindingSeverity, string> = { ok: '✓', warn: '!', fail: '✕', info: 'i' };
const SEVERITY_RANK: Record<FindingSeverity, number> = { fail: 0, warn: 1, info: 2, ok: 3 };
const STATUS_ICON: Record<StepStatus, string> = { pending: '·', ok: '✓', warn: '!', fail: '✕', skipped: '–' };

/** A severity the console does not know (a newer core) is shown as information, never hidden. */
export function normalizeSeverity(severity: string): FindingSeverity {
  return (SEVERITIES as readonly string[]).includes(severity) ? (severity as FindingSeverity) : 'info';
}

export function severityTone(severity: string): WizardTone {
  return normalizeSeverity(severity);
}

export function severityIcon(severity: string): string {
  return SEVERITY_ICON[normalizeSeverity(severity)];
}

export function severityLabelKey(severity: string): MessageKey {
  return `wizard.severity.${normalizeSeverity(severity)}`;
}

/** A status the console does not know shows as "not checked". */
export function normalizeStepStatus(status: string): StepStatus {
  return (STEP_STATUSES as readonly string[]).includes(status) ? (status as StepStatus) : 'pending';
}

export function stepStatusTone(status: string): WizardTone {
  return normalizeStepStatus(status);
}

export function stepStatusIcon(status: string): string {
  return STATUS_ICON[normalizeStepStatus(status)];
}

export function stepStatusLabelKey(status: string): MessageKey {
  return `wizard.status.${normalizeStepStatus(status)}`;
}

/** What a list of findings adds up to (as the core decides it): fail > warn > ok; none at all is skipped. */
export function statusOfFindings(findings: readonly Pick<Finding, 'severity'>[]): Exclude<StepStatus, 'pending'> {
  if (findings.length === 0) return 'skipped';
  const severities = findings.map((f) => normalizeSeverity(f.severity));
  if (severities.includes('fail')) return 'fail';
  if (severities.includes('warn')) return 'warn';
  return 'ok';
}

/** Problems first (fail, warn), then information, then what is fine; otherwise in the core's order. */
export function sortFindings<F extends Pick<Finding, 'severity'>>(findings: readonly F[]): F[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_RANK[normalizeSeverity(a.f.severity)] - SEVERITY_RANK[normalizeSeverity(b.f.severity)] || a.i - b.i)
    .map((x) => x.f);
}

export type SeverityCounts = Record<FindingSeverity, number>;

export function countFindings(findings: readonly Pick<Finding, 'severity'>[]): SeverityCounts {
  const counts: SeverityCounts = { fail: 0, warn: 0, info: 0, ok: 0 };
  for (const f of findings) counts[normalizeSeverity(f.severity)]++;
  return counts;
}

// ---- the run's steps ------------------------------------------------------------------------

/** The run's steps in the wizard's order; a step the core did not send yet is "not checked". */
export function stepsOf(run: Pick<WizardRun, 'steps'> | null | undefined): WizardStep[] {
  const byId = new Map<string, WizardStep>();
  for (const s of run?.steps ?? []) byId.set(s.id, s);
  return WIZARD_STEPS.map((id) => byId.get(id) ?? { id, status: 'pending', findings: [], checkedAt: null, durationMs: null });
}

export function stepOf(run: Pick<WizardRun, 'steps'> | null | undefined, id: WizardStepId): WizardStep {
  return stepsOf(run).find((s) => s.id === id) as WizardStep;
}

/** Steps checked so far (any status but pending), of all steps before the report. */
export function progressOf(run: Pick<WizardRun, 'steps'>): { checked: number; total: number } {
  const steps = stepsOf(run).filter((s) => s.id !== 'report');
  return { checked: steps.filter((s) => normalizeStepStatus(s.status) !== 'pending').length, total: steps.length };
}

/** Before the report: the steps still failing, with warnings, or never checked (the report will say so). */
export function openIssues(run: Pick<WizardRun, 'steps'>): { failing: WizardStepId[]; warning: WizardStepId[]; unchecked: WizardStepId[] } {
  const out = { failing: [] as WizardStepId[], warning: [] as WizardStepId[], unchecked: [] as WizardStepId[] };
  for (const s of stepsOf(run)) {
    if (s.id === 'report') continue;
    const status = normalizeStepStatus(s.status);
    if (status === 'fail') out.failing.push(s.id);
    else if (status === 'warn') out.warning.push(s.id);
    else if (status === 'pending') out.unchecked.push(s.id);
  }
  return out;
}

// ---- operator text --------------------------------------------------------------------------

export function stepTitleKey(step: WizardStepId): MessageKey {
  return `wizard.step.${step}.title`;
}

export function stepSummaryKey(step: WizardStepId): MessageKey {
  return `wizard.step.${step}.summary`;
}

export function stepChecksKey(step: WizardStepId): MessageKey {
  return `wizard.step.${step}.checks`;
}

/** What to do with one's hands in each step, in order. */
export const STEP_HANDS: Readonly<Record<WizardStepId, readonly MessageKey[]>> = {
  hardware: ['wizard.step.hardware.hands1', 'wizard.step.hardware.hands2', 'wizard.step.hardware.hands3', 'wizard.step.hardware.hands4', 'wizard.step.hardware.hands5'],
  storage: ['wizard.step.storage.hands1', 'wizard.step.storage.hands2', 'wizard.step.storage.hands3', 'wizard.step.storage.hands4'],
  services: ['wizard.step.services.hands1', 'wizard.step.services.hands2', 'wizard.step.services.hands3', 'wizard.step.services.hands4'],
  models: ['wizard.step.models.hands1', 'wizard.step.models.hands2', 'wizard.step.models.hands3'],
  integrity: ['wizard.step.integrity.hands1', 'wizard.step.integrity.hands2', 'wizard.step.integrity.hands3'],
  golden: ['wizard.step.golden.hands1', 'wizard.step.golden.hands2', 'wizard.step.golden.hands3', 'wizard.step.golden.hands4'],
  restore: ['wizard.step.restore.hands1', 'wizard.step.restore.hands2', 'wizard.step.restore.hands3'],
  report: ['wizard.step.report.hands1', 'wizard.step.report.hands2', 'wizard.step.report.hands3'],
};

// ---- time -----------------------------------------------------------------------------------

function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/**
 * The total recovery time: the report's own measure when there is one, otherwise from the
 * run's start to its end (or to `now` while it is still going). Null when nothing is known.
 */
export function recoveryMs(run: Pick<WizardRun, 'startedAt' | 'finishedAt'> | null, report?: Pick<ReportSummary, 'recoveryMs'> | null, now?: number): number | null {
  if (report && Number.isFinite(report.recoveryMs) && report.recoveryMs >= 0) return report.recoveryMs;
  if (!run) return null;
  const start = parseTime(run.startedAt);
  const end = run.finishedAt ? parseTime(run.finishedAt) : (now ?? null);
  if (start === null || end === null) return null;
  return Math.max(0, end - start);
}

/**
 * A duration in words for the record ("1 h 14 min 5 s", "3 min 20 s", "12 s"): a clock like
 * "1:14" could be read as hours or as minutes.
 */
export function durationMessage(ms: number): { key: MessageKey; params: Params } {
  if (!Number.isFinite(ms) || ms < 0) return { key: 'wizard.duration.unknown', params: {} };
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return { key: 'wizard.duration.hms', params: { h, m, s } };
  if (m > 0) return { key: 'wizard.duration.ms', params: { m, s } };
  return { key: 'wizard.duration.s', params: { s } };
}

export function durationText(t: Translate, ms: number): string {
  const { key, params } = durationMessage(ms);
  return t(key, params);
}

// ---- jobs and audit -------------------------------------------------------------------------

/** Ids of every job known now: a job not among them afterwards was started by the operation in progress. */
export function jobIds(jobs: JobMap): Set<string> {
  return new Set(Object.keys(jobs));
}

/** The queued or running jobs that appeared since `before`, oldest first. */
export function newActiveJobs(jobs: JobMap, before: ReadonlySet<string>): JobRecord[] {
  return Object.values(jobs)
    .filter((j) => isActive(j) && !before.has(j.id))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

/** Audit entries added by the last call (the run's audit only grows): those after the `before` first ones. */
export function newAuditEntries<E>(before: readonly E[] | null | undefined, after: readonly E[]): E[] {
  const n = before?.length ?? 0;
  return after.length >= n ? after.slice(n) : after.slice();
}
