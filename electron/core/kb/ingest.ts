// Ingestion, crash-safe and resumable:
//   1. stage: each file's bytes go to the blob store (content-addressed, durable), and an
//      ingest_item row records it; unchanged files stop here;
//   2. process: items are parsed, split and embedded, and committed in groups: the segment
//      file first, then one transaction that adds the documents, chunks and segment rows and
//      marks the items done. A crash loses at most the group in flight; the next start resumes
//      the pending items, and finished documents are never redone.
import fs from 'node:fs';
import path from 'node:path';
import type { IngestFileResult, IngestReport } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import { type JobContext, throwIfCancelled } from '../jobs/jobs.js';
import type { Embedder } from '../models/hashEmbedder.js';
import type { BlobStore } from '../store/blobs.js';
import { type Db, nowIso } from '../store/catalog.js';
import { sha256 } from '../util/hash.js';
import { writeSegment } from '../vectors/segments.js';
import { LoadError, MAX_DOCUMENT_BYTES, type ParsedDocument, escapeControls, formatOf, parseDocument, supportedExtensions } from './loaders.js';
import { type Chunk, splitDocument } from './splitter.js';

export type { IngestFileResult, IngestReport } from '../../api/contract.js';

export interface IngestSource {
  /** The document's name in the knowledge base (relative, forward slashes). */
  name: string;
  /** Where to read the bytes: a file path, or the bytes themselves (an upload). */
  path?: string;
  bytes?: Uint8Array;
}

export interface KbForIngest {
  id: number;
  name: string;
  dimension: number;
  embedder: Embedder;
}

interface Item {
  id: number;
  name: string;
  blob_sha256: string;
  size: number;
}

interface Prepared {
  item: Item;
  format: string;
  chunks: Chunk[];
  vectors: Float32Array;
  replaces: number | null;
}

/** A group commit flushes after this many chunks or documents (one segment, one transaction). */
export const GROUP_CHUNKS = 4096;
export const GROUP_DOCS = 64;
const STAGE_BATCH = 64;
/** The largest document read in advance, while the one before it is embedded. */
const READ_AHEAD_MAX_BYTES = 8 * 1024 * 1024;

/** A document name as stored: relative, forward slashes, no "." or ".." segments. */
export function cleanDocumentName(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..') || /[\x00-\x1f\x7f-\x9f]/.test(name) || name.length > 512) {
    throw new UserError('bad-document-name', `"${escapeControls(name)}" is not a usable document name (relative path, no "..", no control characters)`);
  }
  return parts.join('/');
}

export class Ingestor {
  constructor(
    private readonly db: Db,
    private readonly dataRoot: string,
    private readonly blobs: BlobStore,
    private readonly onCommitted: (kbId: number) => void,
  ) {}

  async ingest(kb: KbForIngest, sources: readonly IngestSource[], jobId: string, ctx?: JobContext): Promise<IngestReport> {
    const report: IngestReport = { kb: kb.name, files: [], added: 0, updated: 0, unchanged: 0, failed: 0 };
    const add = (r: IngestFileResult) => {
      report.files.push(r);
      report[r.status]++;
    };
    const bytesTotal = sources.reduce((s, src) => s + (src.bytes?.byteLength ?? safeSize(src.path)), 0);
    let bytesDone = 0;
    ctx?.progress({ done: 0, total: sources.length, bytesDone: 0, bytesTotal, message: 'staging' });
    const insItem = this.db.prepare('INSERT INTO ingest_item(job_id, kb_id, name, blob_sha256, size) VALUES (?, ?, ?, ?, ?)');
    let batch: [string, string, number][] = [];
    const flushStage = () => {
      this.db.transaction(() => batch.forEach(([name, blob, size]) => insItem.run(jobId, kb.id, name, blob, size)))();
      batch = [];
    };
    for (const src of sources) {
      throwIfCancelled(ctx?.signal);
      const outcome = this.stageOne(kb, src);
      if ('result' in outcome) add(outcome.result);
      else {
        batch.push([outcome.name, outcome.blob, outcome.size]);
      }
      if (batch.length >= STAGE_BATCH) flushStage();
      bytesDone += src.bytes?.byteLength ?? safeSize(src.path);
      ctx?.progress({ bytesDone, message: `staging ${src.name}` });
    }
    if (batch.length) flushStage();
    const processed = await this.processPending(kb, jobId, ctx, report.files.length, sources.length);
    processed.forEach(add);
    // Items of a finished job are no longer needed; pending ones only survive a crash.
    this.db.prepare("DELETE FROM ingest_item WHERE job_id = ? AND state != 'pending'").run(jobId);
    return report;
  }

  /** Reads one source into the blob store, or says why it was not staged. */
  private stageOne(kb: KbForIngest, src: IngestSource): { name: string; blob: string; size: number } | { result: IngestFileResult } {
    let name = src.name;
    // The reason is one printable line: it may quote the name or a system message about the file.
    const fail = (error: string): { result: IngestFileResult } => ({ result: { document: name, status: 'failed', chunks: 0, error: escapeControls(error) } });
    try {
      name = cleanDocumentName(src.name);
      if (!formatOf(name)) return fail(`unsupported file type "${path.extname(name) || '(none)'}"; supported: ${supportedExtensions().join(' ')}`);
      const size = src.bytes?.byteLength ?? fs.statSync(src.path!).size;
      if (size === 0) return fail('the file is empty');
      if (size > MAX_DOCUMENT_BYTES) return fail(`the file is ${size} bytes, more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
      const bytes = src.bytes ?? fs.readFileSync(src.path!);
      const hash = sha256(bytes);
      const existing = this.db.prepare('SELECT id, blob_sha256 FROM document WHERE kb_id = ? AND name = ?').get(kb.id, name) as { id: number; blob_sha256: string } | undefined;
      if (existing?.blob_sha256 === hash) {
        const n = (this.db.prepare('SELECT count(*) AS n FROM chunk WHERE document_id = ?').get(existing.id) as { n: number }).n;
        return { result: { document: name, status: 'unchanged', chunks: n } };
      }
      this.blobs.put(bytes);
      return { name, blob: hash, size: bytes.byteLength };
    } catch (err) {
      if (err instanceof UserError) return fail(err.message);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOSPC') throw err; // a full disk stops the batch: nothing further can be stored
      return fail(e.code ? `${e.code}: ${e.message}` : e.message);
    }
  }

  /** Parses, embeds and commits the pending items of a job, in groups. */
  async processPending(kb: KbForIngest, jobId: string, ctx: JobContext | undefined, doneBefore = 0, total?: number): Promise<IngestFileResult[]> {
    const items = this.db.prepare("SELECT id, name, blob_sha256, size FROM ingest_item WHERE job_id = ? AND state = 'pending' ORDER BY id").all(jobId) as Item[];
    const all = total ?? items.length;
    const results: IngestFileResult[] = [];
    let group: Prepared[] = [];
    let groupResults: IngestFileResult[] = [];
    let failed: { item: Item; error: string }[] = [];
    const flush = () => {
      if (group.length === 0 && failed.length === 0) return;
      this.commitGroup(kb, group, failed);
      results.push(...groupResults);
      group = [];
      groupResults = [];
      failed = [];
    };
    let done = doneBefore;
    // The next document is read (in the parse worker) while this one is split and embedded, unless
    // it is large: then it waits its turn, so that one large document at most is in memory.
    let ahead: Promise<() => ParsedDocument> | null = null;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      throwIfCancelled(ctx?.signal);
      const outcome = await (ahead ?? this.read(item));
      const following = items[i + 1];
      ahead = following && following.size <= READ_AHEAD_MAX_BYTES ? this.read(following) : null;
      try {
        const prepared = await this.prepare(kb, item, outcome());
        group.push(prepared);
        groupResults.push({ document: item.name, status: prepared.replaces !== null ? 'updated' : 'added', chunks: prepared.chunks.length });
      } catch (err) {
        if (!(err instanceof LoadError)) throw err;
        failed.push({ item, error: err.reason });
        groupResults.push({ document: item.name, status: 'failed', chunks: 0, error: err.reason });
      }
      const chunks = group.reduce((s, d) => s + d.chunks.length, 0);
      if (chunks >= GROUP_CHUNKS || group.length + failed.length >= GROUP_DOCS) flush();
      ctx?.progress({ done: ++done, total: all, message: item.name });
    }
    flush();
    return results;
  }

  /**
   * Starts reading a staged document; resolves (never rejects, so it may wait unobserved) to a
   * function that returns the parsed document or throws what reading it threw.
   */
  private read(item: Item): Promise<() => ParsedDocument> {
    const parse = async () => {
      const bytes = this.blobs.read(item.blob_sha256);
      if (sha256(bytes) !== item.blob_sha256) throw new LoadError(item.name, 'the staged copy is damaged (checksum mismatch); ingest the file again');
      return parseDocument(item.name, bytes);
    };
    return parse().then(
      (doc) => () => doc,
      (err: unknown) => () => {
        throw err;
      },
    );
  }

  private async prepare(kb: KbForIngest, item: Item, doc: ParsedDocument): Promise<Prepared> {
    const chunks = splitDocument(doc);
    if (chunks.length === 0) throw new LoadError(item.name, 'no text could be extracted');
    const vectors = await kb.embedder.embed(chunks.map(embedText));
    const existing = this.db.prepare('SELECT id FROM document WHERE kb_id = ? AND name = ?').get(kb.id, item.name) as { id: number } | undefined;
    return { item, format: doc.format, chunks, vectors, replaces: existing?.id ?? null };
  }

  /** Data first (the segment file), then one transaction that references it. */
  private commitGroup(kb: KbForIngest, docs: Prepared[], failed: { item: Item; error: string }[]): void {
    const total = docs.reduce((s, d) => s + d.chunks.length, 0);
    const seg = total > 0 ? writeSegment(this.dataRoot, concat(docs.map((d) => d.vectors), total * kb.dimension), kb.dimension, 'ip') : null;
    const insDoc = this.db.prepare('INSERT INTO document(kb_id, name, blob_sha256, size, format, ingested_at) VALUES (?, ?, ?, ?, ?, ?)');
    const insChunk = this.db.prepare(
      'INSERT INTO chunk(kb_id, document_id, ordinal, text, heading, char_start, char_end, line_start, line_end, page, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insSeg = this.db.prepare('INSERT INTO segment(kb_id, file, sha256, bytes, dimension, vectors, metric, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insRow = this.db.prepare('INSERT INTO segment_row(segment_id, row, chunk_id) VALUES (?, ?, ?)');
    const delDoc = this.db.prepare('DELETE FROM document WHERE id = ?');
    const markItem = this.db.prepare('UPDATE ingest_item SET state = ?, error = ? WHERE id = ?');
    this.db.transaction(() => {
      const segId = seg ? Number(insSeg.run(kb.id, seg.file, seg.sha256, seg.bytes, seg.dimension, seg.vectors, seg.metric, nowIso()).lastInsertRowid) : 0;
      let row = 0;
      for (const d of docs) {
        if (d.replaces !== null) delDoc.run(d.replaces);
        const docId = Number(insDoc.run(kb.id, d.item.name, d.item.blob_sha256, d.item.size, d.format, nowIso()).lastInsertRowid);
        d.chunks.forEach((c, i) => {
          const chunkId = Number(insChunk.run(kb.id, docId, i, c.text, c.heading, c.charStart, c.charEnd, c.lineStart, c.lineEnd, c.page, c.row).lastInsertRowid);
          insRow.run(segId, row++, chunkId);
        });
        markItem.run('done', null, d.item.id);
      }
      for (const f of failed) markItem.run('failed', f.error, f.item.id);
    })();
    if (docs.length) this.onCommitted(kb.id);
  }
}

function concat(parts: Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function embedText(c: Pick<Chunk, 'heading' | 'text'>): string {
  return c.heading ? `${c.heading}\n${c.text}` : c.text;
}

function safeSize(p: string | undefined): number {
  try {
    return p ? fs.statSync(p).size : 0;
  } catch {
    return 0;
  }
}
