// The Backups screen's pure logic: which drives came and went, how full a drive is, the
// progress and time left of a backup job, the policy form's checks, the restore confirmation
// word, and the before/after comparison of a restore. No React, no DOM.
import type { BackupPolicy, BackupStatus, BackupTarget, JobRecord, SnapshotSummary } from '../../electron/api/contract.js';
import type { MessageKey, Params } from '../i18n/index.js';
import { isActive, type JobMap } from './jobs.js';

// ---------------------------------------------------------------------------------------------
// Targets

/**
 * What identifies a target across two lists: a drive by its device (its mount point appears
 * only once it is mounted), a folder by its path.
 */
export function targetKey(t: Pick<BackupTarget, 'kind' | 'device' | 'path'>): string {
  return t.kind === 'drive' ? `drive:${t.device ?? t.path}` : `folder:${t.path}`;
}

export interface TargetChange {
  added: BackupTarget[];
  removed: BackupTarget[];
}

/** The targets that appeared and disappeared between two lists (a drive plugged in or pulled). */
export function diffTargets(before: readonly BackupTarget[], after: readonly BackupTarget[]): TargetChange {
  const beforeKeys = new Set(before.map(targetKey));
  const afterKeys = new Set(after.map(targetKey));
  return {
    added: after.filter((t) => !beforeKeys.has(targetKey(t))),
    removed: before.filter((t) => !afterKeys.has(targetKey(t))),
  };
}

export function hasChange(change: TargetChange): boolean {
  return change.added.length > 0 || change.removed.length > 0;
}

/** The name an operator recognises a target by: its label, else its path, else its device. */
export function targetName(t: Pick<BackupTarget, 'label' | 'path' | 'device'>): string {
  return t.label?.trim() || t.path || t.device || '?';
}

export interface DiskUsage {
  /** False when the size or the free space is not known (no bar then). */
  known: boolean;
  /** 0..1 of the drive in use (what the bar shows). */
  used: number;
  /** Whole percent free, 0..100. */
  freePercent: number;
  /** Less than 10 % free: a backup may not fit. */
  low: boolean;
}

/** Size and free space as a bar: the used fraction and the free percentage. */
export function diskUsage(sizeBytes: number | null, freeBytes: number | null): DiskUsage {
  if (sizeBytes === null || freeBytes === null || !Number.isFinite(sizeBytes) || !Number.isFinite(freeBytes) || sizeBytes <= 0 || freeBytes < 0) {
    return { known: false, used: 0, freePercent: 0, low: false };
  }
  const free = Math.min(1, freeBytes / sizeBytes);
  return { known: true, used: 1 - free, freePercent: Math.round(free * 100), low: free < 0.1 };
}

/** A folder path as typed: trimmed, without trailing slashes (the root stays "/"). */
export function normalizeRepoPath(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const stripped = trimmed.replace(/[\\/]+$/, '');
  return stripped === '' ? trimmed.slice(0, 1) : stripped;
}

/** Joins a folder and a name with the folder's own separator. */
export function joinPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(sep) ? `${folder}${name}` : `${folder}${sep}${name}`;
}

function isUnder(path: string, folder: string): boolean {
  if (!folder) return false;
  if (path === folder) return true;
  const withSep = /[\\/]$/.test(folder) ? folder : `${folder}/`;
  return path.startsWith(withSep) || path.startsWith(withSep.replace(/\/$/, '\\'));
}

/** The target a repository lives on (the deepest target path holding it), if any. */
export function targetOfRepo(repo: string, targets: readonly BackupTarget[]): BackupTarget | null {
  let best: BackupTarget | null = null;
  for (const t of targets) {
    if (t.repositories.includes(repo) || isUnder(repo, t.path)) {
      if (!best || t.path.length > best.path.length) best = t;
    }
  }
  return best;
}

/**
 * True when the console knows the folder holds a repository: found on a target, named in
 * the schedule, written by the last good backup, or opened with success in this session.
 */
export function isKnownRepo(repo: string, targets: readonly BackupTarget[] | null, status: BackupStatus | null, opened: readonly string[] = []): boolean {
  if (opened.includes(repo)) return true;
  if (targets?.some((t) => t.repositories.includes(repo))) return true;
  if (status?.policy.targets.includes(repo)) return true;
  return status?.lastGood?.repo === repo;
}

/** True when the data root can back up to `repo` without its passphrase (it remembers the repository's write key). */
export function backsUpWithoutPassphrase(repo: string, targets: readonly BackupTarget[] | null): boolean {
  return targets?.some((t) => t.withoutPassphrase?.includes(repo)) ?? false;
}

/** Every repository the console knows of (for the schedule's checkboxes), in a stable order. */
export function knownRepos(targets: readonly BackupTarget[] | null, status: BackupStatus | null, extra: readonly string[] = []): string[] {
  const out: string[] = [];
  const add = (r: string | null | undefined) => {
    if (r && !out.includes(r)) out.push(r);
  };
  for (const r of status?.policy.targets ?? []) add(r);
  for (const t of targets ?? []) for (const r of t.repositories) add(r);
  add(status?.lastGood?.repo);
  for (const r of extra) add(r);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Jobs: progress and time left

export interface JobProgress {
  /** Whole percent 0..100: by bytes when known, else by items. */
  percent: number;
  bytesDone: number;
  bytesTotal: number;
  done: number;
  total: number;
}

export function jobProgress(job: Pick<JobRecord, 'done' | 'total' | 'bytesDone' | 'bytesTotal' | 'state'> | null): JobProgress {
  if (!job) return { percent: 0, bytesDone: 0, bytesTotal: 0, done: 0, total: 0 };
  let f = 0;
  if (job.bytesTotal > 0 && Number.isFinite(job.bytesDone)) f = job.bytesDone / job.bytesTotal;
  else if (job.total > 0 && Number.isFinite(job.done)) f = job.done / job.total;
  if (job.state === 'done') f = 1;
  const percent = Math.max(0, Math.min(100, Math.floor(f * 100)));
  return { percent, bytesDone: job.bytesDone, bytesTotal: job.bytesTotal, done: job.done, total: job.total };
}

/** Time left in words: a translation key and its numbers (null when unknown). */
export function etaMessage(etaMs: number | null | undefined): { key: MessageKey; params: Params } | null {
  if (etaMs === null || etaMs === undefined || !Number.isFinite(etaMs) || etaMs < 0) return null;
  const seconds = Math.round(etaMs / 1000);
  if (seconds < 60) return { key: 'backups.eta.seconds', params: { s: Math.max(1, seconds) } };
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return { key: 'backups.eta.minutes', params: { m: minutes } };
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return { key: 'backups.eta.hours', params: { h, m } };
}

/** A duration for a result line: "850 ms", "4.2 s", "3:07", "1:02:03". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** How long ago, in words: a translation key and its number. */
export function ageMessage(ms: number): { key: MessageKey; params: Params } {
  if (!Number.isFinite(ms) || ms < 60_000) return { key: 'backups.age.now', params: {} };
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return { key: 'backups.age.minutes', params: { n: minutes } };
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return { key: 'backups.age.hours', params: { n: hours } };
  return { key: 'backups.age.days', params: { n: Math.floor(hours / 24) } };
}

/**
 * The job of a call this console started: the newest job of `kind` that was not known before
 * the call (ids in `before`). Skew-proof: it does not compare this machine's clock with the core's.
 */
export function newJobOf(jobs: JobMap, kind: string, before: ReadonlySet<string>): JobRecord | null {
  let best: JobRecord | null = null;
  for (const job of Object.values(jobs)) {
    if (job.kind !== kind || before.has(job.id)) continue;
    if (!best || (isActive(job) && !isActive(best)) || (isActive(job) === isActive(best) && job.startedAt > best.startedAt)) best = job;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The policy form

export const DEFAULT_KEEP = 7;
export const DEFAULT_MAX_AGE_HOURS = 26;

/** "2:30" or "02:30" → "02:30"; "" → null (scheduled backups off); anything else → undefined (invalid). */
export function parseDailyTime(text: string): string | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const m = /^(\d{1,2})[:：](\d{2})$/.exec(trimmed);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return undefined;
  return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
}

export interface PolicyForm {
  /** HH:MM, or empty for no scheduled backups. */
  dailyAt: string;
  targets: readonly string[];
  keep: string;
  keepLogs: string;
  maxAge: string;
}

export type PolicyField = 'dailyAt' | 'targets' | 'keep' | 'keepLogs' | 'maxAge';

export interface PolicyCheck {
  /** The policy to save; null while a field is wrong. */
  policy: BackupPolicy | null;
  errors: Partial<Record<PolicyField, MessageKey>>;
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n >= min && n <= max ? n : undefined;
}

/** The logs' retention when a policy does not say (as the core's DEFAULT_KEEP_LOG_DAYS). */
export const DEFAULT_KEEP_LOG_DAYS = 30;

export function formOfPolicy(policy: BackupPolicy): PolicyForm {
  return { dailyAt: policy.dailyAt ?? '', targets: [...policy.targets], keep: String(policy.keepDailySnapshots), keepLogs: String(policy.keepLogDays ?? DEFAULT_KEEP_LOG_DAYS), maxAge: String(policy.maxAgeHours) };
}

/** Checks the policy form; each wrong field gets the key of its explanation. */
export function checkPolicyForm(form: PolicyForm): PolicyCheck {
  const errors: PolicyCheck['errors'] = {};
  const dailyAt = parseDailyTime(form.dailyAt);
  if (dailyAt === undefined) errors.dailyAt = 'backups.policy.error.time';
  const keep = wholeNumber(form.keep, 1, 3650);
  if (keep === undefined) errors.keep = 'backups.policy.error.keep';
  const keepLogs = wholeNumber(form.keepLogs, 1, 3650);
  if (keepLogs === undefined) errors.keepLogs = 'backups.policy.error.keep';
  const maxAge = wholeNumber(form.maxAge, 1, 24 * 365);
  if (maxAge === undefined) errors.maxAge = 'backups.policy.error.maxAge';
  const targets = [...new Set(form.targets.map(normalizeRepoPath).filter((t) => t !== ''))];
  // A schedule with nowhere to write would fail every night.
  if (dailyAt && targets.length === 0) errors.targets = 'backups.policy.error.targets';
  if (Object.keys(errors).length > 0 || dailyAt === undefined || keep === undefined || keepLogs === undefined || maxAge === undefined) return { policy: null, errors };
  return { policy: { dailyAt, targets, keepDailySnapshots: keep, keepLogDays: keepLogs, maxAgeHours: maxAge }, errors };
}

/** True when the form says something else than the saved policy. */
export function policyChanged(form: PolicyForm, policy: BackupPolicy): boolean {
  const check = checkPolicyForm(form);
  if (!check.policy) return true;
  const p = check.policy;
  return (
    p.dailyAt !== policy.dailyAt ||
    p.keepDailySnapshots !== policy.keepDailySnapshots ||
    p.keepLogDays !== (policy.keepLogDays ?? DEFAULT_KEEP_LOG_DAYS) ||
    p.maxAgeHours !== policy.maxAgeHours ||
    p.targets.length !== policy.targets.length ||
    p.targets.some((t, i) => t !== policy.targets[i])
  );
}

// ---------------------------------------------------------------------------------------------
// Restore

/** The words that confirm a restore, in either language (whatever the console's language). */
export const RESTORE_WORDS = ['RESTORE', '恢复'] as const;

/** True when the operator typed RESTORE (any case) or 恢复, spaces around ignored. */
export function isRestoreWord(text: string): boolean {
  const typed = text.normalize('NFKC').trim();
  return typed.toUpperCase() === 'RESTORE' || typed === '恢复';
}

export interface KbCounts {
  name: string;
  documents: number;
  chunks: number;
}

export type RestoreChange = 'same' | 'changed' | 'added' | 'removed';

export interface RestoreRow {
  name: string;
  /** Now, in the live data (null: not there now). */
  now: KbCounts | null;
  /** In the snapshot, i.e. after the restore (null: the restore removes it). */
  after: KbCounts | null;
  change: RestoreChange;
}

/**
 * Knowledge bases now vs after the restore, one row per name (alphabetical): what stays the
 * same, what changes, what comes back, and what the restore takes away.
 */
export function restoreRows(now: readonly KbCounts[], after: readonly KbCounts[]): RestoreRow[] {
  const names = [...new Set([...now.map((k) => k.name), ...after.map((k) => k.name)])].sort((a, b) => a.localeCompare(b));
  return names.map((name) => {
    const a = now.find((k) => k.name === name) ?? null;
    const b = after.find((k) => k.name === name) ?? null;
    const change: RestoreChange = !a ? 'added' : !b ? 'removed' : a.documents === b.documents && a.chunks === b.chunks ? 'same' : 'changed';
    return { name, now: a, after: b, change };
  });
}

export function restoreTotals(rows: readonly RestoreRow[]): Record<RestoreChange, number> {
  const out: Record<RestoreChange, number> = { same: 0, changed: 0, added: 0, removed: 0 };
  for (const r of rows) out[r.change]++;
  return out;
}

/** Newest first. */
export function sortSnapshots(snapshots: readonly SnapshotSummary[]): SnapshotSummary[] {
  return [...snapshots].sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
}

/** A snapshot id as shown: the first 8 characters of a long hash. */
export function shortId(id: string): string {
  return /^[0-9a-f]{16,}$/i.test(id) ? id.slice(0, 8) : id;
}
