// The job list the console keeps from `jobs.list` and `job` events. Pure.
import type { JobRecord } from '../../electron/api/contract.js';

export type JobMap = Readonly<Record<string, JobRecord>>;

export function isActive(job: JobRecord): boolean {
  return job.state === 'queued' || job.state === 'running';
}

/** Replaces or adds one job; returns the same map when nothing changed. */
export function upsertJob(jobs: JobMap, job: JobRecord): JobMap {
  const old = jobs[job.id];
  if (old && JSON.stringify(old) === JSON.stringify(job)) return jobs;
  return { ...jobs, [job.id]: job };
}

/** Queued and running jobs, oldest first. */
export function activeJobs(jobs: JobMap): JobRecord[] {
  return Object.values(jobs)
    .filter(isActive)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

const STAGE: Record<JobRecord['state'], number> = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };

/** The later of two records of one job: a job only moves forward (queued → running → finished). */
export function laterJob(a: JobRecord, b: JobRecord): JobRecord {
  const sa = STAGE[a.state];
  const sb = STAGE[b.state];
  if (sa !== sb) return sa > sb ? a : b;
  return b.done >= a.done && b.bytesDone >= a.bytesDone ? b : a;
}

/** A fresh `jobs.list` merged with what events already told: the later record of each job wins. */
export function mergeJobs(current: JobMap, list: readonly JobRecord[]): JobMap {
  const out: Record<string, JobRecord> = { ...current };
  for (const job of list) {
    const known = out[job.id];
    out[job.id] = known ? laterJob(known, job) : job;
  }
  return out;
}

/**
 * The newest job of `kind` (queued, running, or finished) whose title mentions `subject` — how
 * a screen finds the progress of the long call it is waiting for (e.g. 'reembed' of one
 * knowledge base). Jobs that started before `since` (ISO time, optional) are ignored.
 */
export function findJob(jobs: JobMap, kind: string, subject?: string, since?: string): JobRecord | null {
  let best: JobRecord | null = null;
  for (const job of Object.values(jobs)) {
    if (job.kind !== kind) continue;
    if (subject !== undefined && !job.title.includes(subject)) continue;
    if (since !== undefined && job.startedAt < since) continue;
    if (!best || job.startedAt > best.startedAt || (job.startedAt === best.startedAt && isActive(job) && !isActive(best))) best = job;
  }
  return best;
}
