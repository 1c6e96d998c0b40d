import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../electron/api/contract.js';
import { formatClock, formatScore, formatTook, fraction, formatDateTime } from '../../renderer/lib/format.js';
import { activeJobs, laterJob, mergeJobs, upsertJob } from '../../renderer/lib/jobs.js';
import { hashWithoutToken, tokenFromHash } from '../../renderer/lib/token.js';

function job(id: string, patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    kind: 'ingest',
    title: `job ${id}`,
    state: 'running',
    done: 0,
    total: 10,
    bytesDone: 0,
    bytesTotal: 0,
    etaMs: null,
    message: '',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    error: null,
    ...patch,
  };
}

describe('display formats', () => {
  it('shows scores with three decimals', () => {
    expect(formatScore(0.83456)).toBe('0.835');
    expect(formatScore(1)).toBe('1.000');
  });

  it('shows answer time in milliseconds below a second, seconds above', () => {
    expect(formatTook(42.4)).toBe('42 ms');
    expect(formatTook(4210)).toBe('4.2 s');
  });

  it('shows an ETA as a clock', () => {
    expect(formatClock(7_000)).toBe('0:07');
    expect(formatClock(725_000)).toBe('12:05');
    expect(formatClock(3_723_000)).toBe('1:02:03');
    expect(formatClock(-1)).toBe('–');
  });

  it('computes progress fractions, zero when the total is unknown', () => {
    expect(fraction(5, 10)).toBe(0.5);
    expect(fraction(12, 10)).toBe(1);
    expect(fraction(3, 0)).toBe(0);
  });

  it('keeps a timestamp that does not parse as written', () => {
    expect(formatDateTime('not a date')).toBe('not a date');
    expect(formatDateTime('2025-03-04T05:06:00')).toBe('2025-03-04 05:06');
  });
});

describe('the job list', () => {
  it('lists only queued and running jobs, oldest first', () => {
    let jobs = upsertJob({}, job('b', { startedAt: '2025-01-02T00:00:00Z' }));
    jobs = upsertJob(jobs, job('a', { startedAt: '2025-01-01T00:00:00Z', state: 'queued' }));
    jobs = upsertJob(jobs, job('c', { state: 'done' }));
    expect(activeJobs(jobs).map((j) => j.id)).toEqual(['a', 'b']);
  });

  it('keeps the same map when an event changes nothing', () => {
    const jobs = upsertJob({}, job('a'));
    expect(upsertJob(jobs, job('a'))).toBe(jobs);
    expect(upsertJob(jobs, job('a', { done: 4 }))).not.toBe(jobs);
  });

  it('prefers the later record of a job: a job only moves forward', () => {
    expect(laterJob(job('a', { state: 'done' }), job('a', { state: 'running' })).state).toBe('done');
    expect(laterJob(job('a', { done: 5 }), job('a', { done: 3 })).done).toBe(5);
    const merged = mergeJobs({ a: job('a', { done: 7 }) }, [job('a', { done: 2 }), job('b')]);
    expect(merged.a?.done).toBe(7);
    expect(Object.keys(merged).sort()).toEqual(['a', 'b']);
  });
});

describe('the access token in the address', () => {
  it('reads the token from the hash', () => {
    expect(tokenFromHash('#token=abc123')).toBe('abc123');
    expect(tokenFromHash('#x=1&token=t%2Fk')).toBe('t/k');
    expect(tokenFromHash('')).toBeNull();
    expect(tokenFromHash('#token=')).toBeNull();
  });

  it('removes only the token from the hash', () => {
    expect(hashWithoutToken('#token=abc')).toBe('');
    expect(hashWithoutToken('#x=1&token=abc')).toBe('#x=1');
  });
});
