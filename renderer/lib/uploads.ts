// The upload queue of the knowledge-base screen: files go one at a time through
// waiting → reading → uploading → ingesting → added | updated | unchanged | failed,
// or end as `cancelled` when the operator stops the run. A failed file does not stop the others.
// Pure: reading and sending are injected, so tests drive it without a browser.
import type { IngestFileResult, IngestStatus } from '../../electron/api/contract.js';

export type UploadState = 'waiting' | 'reading' | 'uploading' | 'ingesting' | IngestStatus | 'cancelled';

export const UPLOAD_STATES: readonly UploadState[] = [
  'waiting',
  'reading',
  'uploading',
  'ingesting',
  'added',
  'updated',
  'unchanged',
  'failed',
  'cancelled',
];

/** The largest file `kb.upload` accepts. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export const SUPPORTED_EXTENSIONS: readonly string[] = ['.txt', '.md', '.csv', '.html', '.pdf', '.docx', '.xlsx', '.jsonl'];

export function isFinal(state: UploadState): boolean {
  return state !== 'waiting' && state !== 'reading' && state !== 'uploading' && state !== 'ingesting';
}

export interface UploadFile {
  readonly name: string;
  readonly size: number;
}

export interface UploadItem {
  readonly id: number;
  readonly name: string;
  readonly bytes: number;
  readonly state: UploadState;
  /** 0..1 within the current step (reading or uploading). */
  readonly progress: number;
  /** Chunks the core made of it, once ingested. */
  readonly chunks: number | null;
  readonly error: string | null;
}

export interface UploadSteps<F extends UploadFile> {
  /** Refuses a file before it is read (too large…): the reason for the operator, or null. */
  check?(file: F): string | null;
  /** Reads the file as base64. */
  read(file: F, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<string>;
  /** Sends it; `onSent(1)` once every byte is on its way, after which the core ingests it. */
  send(file: F, dataBase64: string, signal: AbortSignal, onSent: (fraction: number) => void): Promise<IngestFileResult>;
}

export interface UploadRun {
  /** The current items (a new array after every change). */
  items(): readonly UploadItem[];
  /** Skips the files not started; stops the file being read or sent. A file already being ingested finishes. */
  cancel(): void;
  readonly finished: Promise<readonly UploadItem[]>;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function newItems(files: readonly UploadFile[]): UploadItem[] {
  return files.map((f, id) => ({ id, name: f.name, bytes: f.size, state: 'waiting', progress: 0, chunks: null, error: null }));
}

export function startUploads<F extends UploadFile>(
  files: readonly F[],
  steps: UploadSteps<F>,
  onChange: (items: readonly UploadItem[]) => void,
): UploadRun {
  let items: readonly UploadItem[] = newItems(files);
  let cancelled = false;
  let current = -1;
  let controller: AbortController | null = null;

  const update = (i: number, patch: Partial<UploadItem>) => {
    items = items.map((it, j) => (j === i ? { ...it, ...patch } : it));
    onChange(items);
  };

  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    if (items.some((it) => it.state === 'waiting')) {
      items = items.map((it) => (it.state === 'waiting' ? { ...it, state: 'cancelled' } : it));
      onChange(items);
    }
    const state = items[current]?.state;
    if (state === 'reading' || state === 'uploading') controller?.abort();
  };

  const run = async (): Promise<readonly UploadItem[]> => {
    for (let i = 0; i < files.length; i++) {
      if (cancelled) break;
      const file = files[i]!;
      current = i;
      let refused: string | null = null;
      try {
        refused = steps.check?.(file) ?? null;
      } catch (err) {
        refused = messageOf(err);
      }
      if (refused !== null) {
        update(i, { state: 'failed', error: refused });
        continue;
      }
      controller = new AbortController();
      const signal = controller.signal;
      try {
        update(i, { state: 'reading', progress: 0 });
        const data = await steps.read(file, signal, (p) => {
          if (items[i]?.state === 'reading') update(i, { progress: clamp01(p) });
        });
        if (signal.aborted) throw new Error('aborted');
        update(i, { state: 'uploading', progress: 0 });
        const result = await steps.send(file, data, signal, (p) => {
          if (items[i]?.state !== 'uploading') return;
          const f = clamp01(p);
          update(i, f >= 1 ? { state: 'ingesting', progress: 1 } : { progress: f });
        });
        const status: IngestStatus = result && ['added', 'updated', 'unchanged', 'failed'].includes(result.status) ? result.status : 'failed';
        update(i, {
          state: status,
          progress: 1,
          chunks: typeof result?.chunks === 'number' ? result.chunks : null,
          error: status === 'failed' ? (result?.error ?? null) : null,
        });
      } catch (err) {
        if (signal.aborted) update(i, { state: 'cancelled', error: null });
        else update(i, { state: 'failed', error: messageOf(err) });
      } finally {
        controller = null;
      }
    }
    current = -1;
    return items;
  };

  return { items: () => items, cancel, finished: run() };
}

export interface UploadSummary {
  total: number;
  /** Files in a final state (including failed and cancelled). */
  done: number;
  bytesTotal: number;
  /** Bytes sent: whole files once past uploading, the sent share of the file being uploaded. */
  bytesDone: number;
  failed: number;
  cancelled: number;
  active: boolean;
}

export function summarizeUploads(items: readonly UploadItem[]): UploadSummary {
  const s: UploadSummary = { total: items.length, done: 0, bytesTotal: 0, bytesDone: 0, failed: 0, cancelled: 0, active: false };
  for (const it of items) {
    s.bytesTotal += it.bytes;
    if (isFinal(it.state)) {
      s.done++;
      if (it.state === 'cancelled') s.cancelled++;
      else s.bytesDone += it.bytes;
      if (it.state === 'failed') s.failed++;
    } else {
      s.active = true;
      if (it.state === 'ingesting') s.bytesDone += it.bytes;
      else if (it.state === 'uploading') s.bytesDone += Math.round(it.bytes * it.progress);
    }
  }
  return s;
}
