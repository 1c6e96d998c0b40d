// Long operations run as jobs: progress (done/total, bytes, ETA), cancellation, and a record
// persisted in the catalog so the console can show what ran and how it ended.
import { randomUUID } from 'node:crypto';
import type { JobRecord } from '../../api/contract.js';
import type { Db } from '../store/catalog.js';
import { nowIso } from '../store/catalog.js';

export interface JobProgress {
  done?: number;
  total?: number;
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
}

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(p: JobProgress): void;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled by the operator');
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

export class JobManager {
  private readonly live = new Map<string, { record: JobRecord; controller: AbortController; startedMs: number }>();
  private readonly listeners = new Set<(job: JobRecord) => void>();

  constructor(
    private db: Db | null,
    options: { markInterrupted: boolean } = { markInterrupted: true },
  ) {
    // Jobs still marked running belong to a process that died: say so (only the lock holder may).
    if (options.markInterrupted) db?.prepare(`UPDATE job SET state = 'failed', error = 'interrupted (the process stopped before it finished)', finished_at = ? WHERE state IN ('running', 'queued')`).run(nowIso());
  }

  /** After a restore swapped the catalog: records go to the new one. */
  setDb(db: Db | null): void {
    this.db = db;
  }

  onUpdate(listener: (job: JobRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): JobRecord[] {
    const live = [...this.live.values()].map((j) => j.record);
    if (!this.db) return live;
    const rows = this.db.prepare('SELECT * FROM job ORDER BY started_at DESC LIMIT 50').all() as DbJob[];
    const ids = new Set(live.map((j) => j.id));
    return [...live, ...rows.filter((r) => !ids.has(r.id)).map(fromRow)];
  }

  cancel(id: string): boolean {
    const j = this.live.get(id);
    if (!j) return false;
    j.controller.abort();
    return true;
  }

  /** Runs `fn` as a job; resolves with its result, rejects with its error (recorded either way). */
  async run<T>(kind: string, title: string, fn: (ctx: JobContext) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const controller = new AbortController();
    outer?.addEventListener('abort', () => controller.abort(), { once: true });
    const record: JobRecord = {
      id: randomUUID(),
      kind,
      title,
      state: 'running',
      done: 0,
      total: 0,
      bytesDone: 0,
      bytesTotal: 0,
      etaMs: null,
      message: '',
      startedAt: nowIso(),
      finishedAt: null,
      error: null,
    };
    const entry = { record, controller, startedMs: Date.now() };
    this.live.set(record.id, entry);
    this.persist(record);
    this.emit(record);
    let lastEmit = 0;
    let lastDone = -1;
    const ctx: JobContext = {
      jobId: record.id,
      signal: controller.signal,
      progress: (p) => {
        Object.assign(record, Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
        record.etaMs = estimateEta(record, Date.now() - entry.startedMs);
        const now = Date.now();
        // Every step of a short job is shown; a long one (thousands of steps) at most 10 times a second.
        const stepped = p.done !== undefined && p.done !== lastDone && record.total <= 500;
        lastDone = record.done;
        if (stepped || now - lastEmit >= 100 || record.done === record.total) {
          lastEmit = now;
          this.emit(record);
        }
      },
    };
    try {
      const result = await fn(ctx);
      record.state = 'done';
      return result;
    } catch (err) {
      record.state = err instanceof CancelledError || controller.signal.aborted ? 'cancelled' : 'failed';
      record.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      record.finishedAt = nowIso();
      record.etaMs = null;
      this.live.delete(record.id);
      this.persist(record);
      this.emit(record);
    }
  }

  private emit(job: JobRecord): void {
    const copy = { ...job };
    for (const l of this.listeners) l(copy);
  }

  private persist(r: JobRecord): void {
    if (!this.db || !this.db.open) return;
    const progress = JSON.stringify({ done: r.done, total: r.total, bytesDone: r.bytesDone, bytesTotal: r.bytesTotal, message: r.message });
    this.db
      .prepare(
        `INSERT INTO job(id, kind, title, state, started_at, finished_at, progress, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, finished_at = excluded.finished_at, progress = excluded.progress, error = excluded.error`,
      )
      .run(r.id, r.kind, r.title, r.state, r.startedAt, r.finishedAt, progress, r.error);
  }
}

function estimateEta(r: JobRecord, elapsedMs: number): number | null {
  const frac = r.bytesTotal > 0 ? r.bytesDone / r.bytesTotal : r.total > 0 ? r.done / r.total : 0;
  if (frac <= 0 || frac >= 1 || elapsedMs < 200) return null;
  return Math.round((elapsedMs * (1 - frac)) / frac);
}

interface DbJob {
  id: string;
  kind: string;
  title: string;
  state: JobRecord['state'];
  started_at: string;
  finished_at: string | null;
  progress: string;
  error: string | null;
}

function fromRow(r: DbJob): JobRecord {
  const p = JSON.parse(r.progress) as Partial<JobRecord>;
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    done: p.done ?? 0,
    total: p.total ?? 0,
    bytesDone: p.bytesDone ?? 0,
    bytesTotal: p.bytesTotal ?? 0,
    etaMs: null,
    message: p.message ?? '',
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}
