import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IngestFileResult } from '../../electron/api/contract.js';
import { BASE64_PIECE, bytesToBase64, bytesToBase64Async } from '../../renderer/lib/base64.js';
import { formatBytes } from '../../renderer/lib/format.js';
import { startUploads, summarizeUploads, type UploadFile, type UploadItem, type UploadSteps } from '../../renderer/lib/uploads.js';

describe('base64 encoding of uploads, in pieces', () => {
  const sizes = [0, 1, 2, 3, 4, 5, 7, 100, 8191, 8192, 8193, BASE64_PIECE - 1, BASE64_PIECE, BASE64_PIECE + 1, 3 * BASE64_PIECE + 2, 1_000_003];

  it('equals Node’s base64 for random bytes of every awkward size', () => {
    for (const size of sizes) {
      const bytes = randomBytes(size);
      expect(bytesToBase64(new Uint8Array(bytes)), `size ${size}`).toBe(bytes.toString('base64'));
    }
  });

  it('equals Node’s base64 with small and odd piece sizes (rounded to a multiple of 3)', () => {
    const bytes = randomBytes(1001);
    for (const piece of [1, 2, 3, 4, 5, 10, 299, 300, 1000]) {
      expect(bytesToBase64(new Uint8Array(bytes), piece), `piece ${piece}`).toBe(bytes.toString('base64'));
    }
  });

  it('encodes every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(bytesToBase64(all)).toBe(Buffer.from(all).toString('base64'));
  });

  it('the async form gives the same text, reports progress up to the total and yields', async () => {
    for (const size of [0, 1, 2, 5, 3 * 1024 + 1, 2_500_001]) {
      const bytes = randomBytes(size);
      const progress: number[] = [];
      const text = await bytesToBase64Async(new Uint8Array(bytes), { onProgress: (done) => progress.push(done), yieldEvery: 64 * 1024 });
      expect(text, `size ${size}`).toBe(bytes.toString('base64'));
      expect(progress.at(-1)).toBe(size);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    }
  });

  it('the async form stops when aborted', async () => {
    const controller = new AbortController();
    const promise = bytesToBase64Async(new Uint8Array(4_000_000), {
      signal: controller.signal,
      yieldEvery: 100_000,
      onProgress: (done) => {
        if (done > 200_000) controller.abort();
      },
    });
    await expect(promise).rejects.toThrow(/abort/);
  });
});

describe('sizes', () => {
  it('shows bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(100 * 1024)).toBe('100 KB');
    expect(formatBytes(64 * 1024 * 1024)).toBe('64 MB');
    expect(formatBytes(-1)).toBe('–');
  });
});

interface FakeFile extends UploadFile {
  result?: IngestFileResult;
  fail?: string;
}

function file(name: string, size: number, patch: Partial<FakeFile> = {}): FakeFile {
  return { name, size, ...patch };
}

/** Steps whose sends wait for the test to release them, recording the order of events. */
function controlledSteps() {
  const log: string[] = [];
  const pending: { name: string; resolve: (r: IngestFileResult) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  const steps: UploadSteps<FakeFile> = {
    check: (f) => (f.size > 1000 ? `too large: ${f.name}` : null),
    async read(f) {
      log.push(`read ${f.name}`);
      return `b64:${f.name}`;
    },
    send(f, data, signal, onSent) {
      log.push(`send ${f.name} ${data}`);
      onSent(0.5);
      onSent(1);
      return new Promise((resolve, reject) => {
        pending.push({ name: f.name, resolve, reject, signal });
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
    },
  };
  return { log, pending, steps };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}

const ok = (document: string, status: IngestFileResult['status'] = 'added'): IngestFileResult => ({ document, status, chunks: 3 });

describe('the upload queue', () => {
  it('uploads one file at a time, in order, through every state', async () => {
    const { log, pending, steps } = controlledSteps();
    const states: string[] = [];
    const run = startUploads([file('a.md', 10), file('b.txt', 20), file('c.pdf', 30)], steps, (items) => states.push(items.map((i) => i.state).join(',')));
    expect(run.items().map((i) => i.state)).toEqual(['reading', 'waiting', 'waiting']);
    await until(() => pending.length === 1);
    // Only the first file is in flight; the core is ingesting it.
    expect(run.items().map((i) => i.state)).toEqual(['ingesting', 'waiting', 'waiting']);
    pending[0]!.resolve(ok('a.md'));
    await until(() => pending.length === 2);
    pending[1]!.resolve(ok('b.txt', 'unchanged'));
    await until(() => pending.length === 3);
    pending[2]!.resolve(ok('c.pdf', 'updated'));
    const items = await run.finished;
    expect(items.map((i) => i.state)).toEqual(['added', 'unchanged', 'updated']);
    expect(items.map((i) => i.chunks)).toEqual([3, 3, 3]);
    expect(log).toEqual(['read a.md', 'send a.md b64:a.md', 'read b.txt', 'send b.txt b64:b.txt', 'read c.pdf', 'send c.pdf b64:c.pdf']);
    expect(states).toContain('uploading,waiting,waiting');
    expect(states).toContain('ingesting,waiting,waiting');
    expect(states.at(-1)).toBe('added,unchanged,updated');
  });

  it('goes on with the next file when one fails (by result, by error, or refused before reading)', async () => {
    const steps: UploadSteps<FakeFile> = {
      check: (f) => (f.size > 1000 ? `too large: ${f.name}` : null),
      read: async (f) => `b64:${f.name}`,
      send: async (f) => {
        if (f.fail) throw new Error(f.fail);
        return f.result ?? ok(f.name);
      },
    };
    const run = startUploads(
      [
        file('empty.txt', 0, { result: { document: 'empty.txt', status: 'failed', chunks: 0, error: 'the file is empty' } }),
        file('big.pdf', 5000),
        file('broken.docx', 10, { fail: 'HTTP 500 boom' }),
        file('good.md', 10),
      ],
      steps,
      () => {},
    );
    const items = await run.finished;
    expect(items.map((i) => [i.name, i.state, i.error])).toEqual([
      ['empty.txt', 'failed', 'the file is empty'],
      ['big.pdf', 'failed', 'too large: big.pdf'],
      ['broken.docx', 'failed', 'HTTP 500 boom'],
      ['good.md', 'added', null],
    ]);
    const s = summarizeUploads(items);
    expect(s).toMatchObject({ total: 4, done: 4, failed: 3, cancelled: 0, active: false, bytesTotal: 5020, bytesDone: 5020 });
  });

  it('a failure while reading is that file’s failure only', async () => {
    const steps: UploadSteps<FakeFile> = {
      read: async (f) => {
        if (f.name === 'x.md') throw new Error('cannot read x.md');
        return 'data';
      },
      send: async (f) => ok(f.name),
    };
    const items = await startUploads([file('x.md', 1), file('y.md', 1)], steps, () => {}).finished;
    expect(items.map((i) => [i.state, i.error])).toEqual([
      ['failed', 'cannot read x.md'],
      ['added', null],
    ]);
  });

  it('cancel while the core ingests a file: that file finishes, the rest are skipped', async () => {
    const { log, pending, steps } = controlledSteps();
    const run = startUploads([file('a.md', 10), file('b.md', 10), file('c.md', 10)], steps, () => {});
    await until(() => pending.length === 1);
    run.cancel();
    expect(run.items().map((i) => i.state)).toEqual(['ingesting', 'cancelled', 'cancelled']);
    expect(pending[0]!.signal.aborted).toBe(false);
    pending[0]!.resolve(ok('a.md'));
    const items = await run.finished;
    expect(items.map((i) => i.state)).toEqual(['added', 'cancelled', 'cancelled']);
    expect(log.filter((l) => l.startsWith('read'))).toEqual(['read a.md']);
    const s = summarizeUploads(items);
    expect(s).toMatchObject({ done: 3, total: 3, cancelled: 2, active: false });
  });

  it('cancel while a file is being sent aborts it and skips the rest', async () => {
    let release: (() => void) | undefined;
    const steps: UploadSteps<FakeFile> = {
      read: async () => 'data',
      send: (_f, _d, signal, onSent) =>
        new Promise((_resolve, reject) => {
          onSent(0.25); // a quarter sent, still uploading
          signal.addEventListener('abort', () => reject(new Error('aborted')));
          release = () => undefined;
        }),
    };
    const run = startUploads([file('a.md', 100), file('b.md', 100)], steps, () => {});
    await until(() => release !== undefined);
    expect(run.items()[0]).toMatchObject({ state: 'uploading', progress: 0.25 });
    expect(summarizeUploads(run.items())).toMatchObject({ bytesDone: 25, bytesTotal: 200, done: 0, active: true });
    run.cancel();
    const items = await run.finished;
    expect(items.map((i) => i.state)).toEqual(['cancelled', 'cancelled']);
    expect(items[0]!.error).toBeNull();
  });

  it('cancel while reading stops the read', async () => {
    const steps: UploadSteps<FakeFile> = {
      read: (_f, signal, onProgress) =>
        new Promise((_resolve, reject) => {
          onProgress(0.4);
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
      send: async (f) => ok(f.name),
    };
    const run = startUploads([file('a.md', 10), file('b.md', 10)], steps, () => {});
    expect(run.items()[0]).toMatchObject({ state: 'reading', progress: 0.4 });
    run.cancel();
    expect((await run.finished).map((i) => i.state)).toEqual(['cancelled', 'cancelled']);
  });

  it('reports every change as a new array, leaving earlier snapshots untouched', async () => {
    const snapshots: (readonly UploadItem[])[] = [];
    const steps: UploadSteps<FakeFile> = { read: async () => 'd', send: async (f) => ok(f.name) };
    await startUploads([file('a.md', 1)], steps, (items) => snapshots.push(items)).finished;
    expect(new Set(snapshots).size).toBe(snapshots.length);
    expect(snapshots[0]?.[0]?.state).toBe('reading');
    expect(snapshots.at(-1)?.[0]?.state).toBe('added');
  });

  it('an empty selection finishes at once', async () => {
    const steps: UploadSteps<FakeFile> = { read: async () => 'd', send: async (f) => ok(f.name) };
    expect(await startUploads([], steps, () => {}).finished).toEqual([]);
    expect(summarizeUploads([])).toMatchObject({ total: 0, done: 0, active: false });
  });
});
