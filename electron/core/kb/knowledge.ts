// Knowledge bases: create and list them, ingest documents durably, retrieve and answer.
// Commit order (DESIGN.md invariant 3): blobs and segment files are written first, then one
// catalog transaction references them. A crash at any point leaves the last commit intact.
import fs from 'node:fs';
import path from 'node:path';
import type { AskRequest, AskResponse, EmbedderFingerprint, KbSummary } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import { BlobStore } from '../store/blobs.js';
import { type Db, nowIso } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import { sha256 } from '../util/hash.js';
import { type JobContext, throwIfCancelled } from '../jobs/jobs.js';
import { type Embedder, HashEmbedder } from '../models/hashEmbedder.js';
import { loadSegment, writeSegment } from '../vectors/segments.js';
import { extractiveAnswer } from './answer.js';
import { LoadError, MAX_DOCUMENT_BYTES, parseDocument, formatOf } from './loaders.js';
import { type Passage, type LiveSegment, fuse, lexicalSearch, vectorSearch } from './retrieval.js';
import { type Chunk, splitDocument } from './splitter.js';

export interface IngestInput {
  /** Absolute path of the file to read. */
  path: string;
  /** The document's name in the knowledge base (relative, forward slashes). */
  name: string;
}

export type IngestStatus = 'added' | 'updated' | 'unchanged' | 'failed';

export interface IngestFileResult {
  file: string;
  document: string;
  status: IngestStatus;
  chunks: number;
  error?: string;
}

export interface IngestReport {
  kb: string;
  files: IngestFileResult[];
  added: number;
  updated: number;
  unchanged: number;
  failed: number;
}

interface KbRow {
  id: number;
  name: string;
  description: string;
  created_at: string;
  embedder_id: string;
  embedder_version: string;
  embedder_dim: number;
  embedder_norm: string;
}

interface PendingDoc {
  input: IngestInput;
  blob: string;
  size: number;
  format: string;
  chunks: Chunk[];
  vectors: Float32Array;
  replaces: number | null;
}

/** A group commit flushes after this many chunks or documents (one segment, one transaction). */
const GROUP_CHUNKS = 4096;
const GROUP_DOCS = 64;
const KB_NAME = /^[^\x00-\x1f/\\]{1,64}$/;

export class KnowledgeService {
  private readonly blobs: BlobStore;
  private readonly loaded = new Map<number, LiveSegment[]>();
  private readonly defaultEmbedder = new HashEmbedder();

  constructor(
    private readonly db: Db,
    private readonly layout: DataRootLayout,
  ) {
    this.blobs = new BlobStore(layout.blobs);
  }

  // -- knowledge bases --------------------------------------------------------------------------

  listKbs(): KbSummary[] {
    const rows = this.db
      .prepare(
        `SELECT k.*, (SELECT count(*) FROM document d WHERE d.kb_id = k.id) AS documents,
                (SELECT count(*) FROM chunk c WHERE c.kb_id = k.id) AS chunks
         FROM kb k WHERE k.deleted_at IS NULL ORDER BY k.name`,
      )
      .all() as (KbRow & { documents: number; chunks: number })[];
    return rows.map((r) => ({ name: r.name, description: r.description, createdAt: r.created_at, documents: r.documents, chunks: r.chunks, embedder: fingerprintOf(r) }));
  }

  createKb(name: string, description = '', embedder: Embedder = this.defaultEmbedder): KbSummary {
    if (!KB_NAME.test(name) || name.trim() !== name) throw new UserError('bad-kb-name', `"${name}" is not a valid knowledge base name (1–64 characters, no slashes or control characters, no leading or trailing spaces)`);
    if (this.findKb(name)) throw new UserError('kb-exists', `a knowledge base named "${name}" already exists`);
    const f = embedder.fingerprint;
    this.db
      .prepare('INSERT INTO kb(name, description, created_at, embedder_id, embedder_version, embedder_dim, embedder_norm) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(name, description, nowIso(), f.id, f.version, f.dimension, f.normalization);
    return this.listKbs().find((k) => k.name === name)!;
  }

  private findKb(name: string): KbRow | undefined {
    return this.db.prepare('SELECT * FROM kb WHERE name = ? AND deleted_at IS NULL').get(name) as KbRow | undefined;
  }

  private requireKb(name: string): KbRow {
    const kb = this.findKb(name);
    if (!kb) throw new UserError('no-such-kb', `there is no knowledge base named "${name}"; existing: ${this.listKbs().map((k) => k.name).join(', ') || '(none)'}`);
    return kb;
  }

  private embedderFor(kb: KbRow): Embedder {
    const f = fingerprintOf(kb);
    const d = this.defaultEmbedder.fingerprint;
    if (f.id === d.id && f.version === d.version && f.dimension === d.dimension) return this.defaultEmbedder;
    throw new UserError('embedder-unavailable', `knowledge base "${kb.name}" was embedded with ${f.id} ${f.version} (dimension ${f.dimension}), which is not available here`);
  }

  // -- ingestion --------------------------------------------------------------------------------

  /** Expands files and folders into ingest inputs; documents in folders keep their relative path. */
  static collectInputs(paths: readonly string[]): IngestInput[] {
    const out: IngestInput[] = [];
    for (const p of paths) {
      const abs = path.resolve(p);
      let st: fs.Stats;
      try {
        st = fs.statSync(abs);
      } catch {
        throw new UserError('no-such-file', `${p}: no such file or folder`);
      }
      if (st.isDirectory()) {
        for (const rel of walk(abs)) out.push({ path: path.join(abs, rel), name: rel.split(path.sep).join('/') });
      } else out.push({ path: abs, name: path.basename(abs) });
    }
    return out;
  }

  async ingest(kbName: string, inputs: readonly IngestInput[], ctx?: JobContext): Promise<IngestReport> {
    const kb = this.requireKb(kbName);
    const embedder = this.embedderFor(kb);
    const report: IngestReport = { kb: kb.name, files: [], added: 0, updated: 0, unchanged: 0, failed: 0 };
    const bytesTotal = inputs.reduce((s, i) => s + safeSize(i.path), 0);
    let bytesDone = 0;
    let pending: PendingDoc[] = [];
    const pendingResults: IngestFileResult[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      this.commitGroup(kb, pending);
      for (const r of pendingResults) {
        report.files.push(r);
        report[r.status]++;
      }
      pending = [];
      pendingResults.length = 0;
    };
    ctx?.progress({ done: 0, total: inputs.length, bytesDone: 0, bytesTotal, message: '' });
    for (const [i, input] of inputs.entries()) {
      throwIfCancelled(ctx?.signal);
      const result = await this.prepareOne(kb, embedder, input);
      if ('pending' in result) {
        pending.push(result.pending);
        pendingResults.push(result.result);
      } else {
        report.files.push(result.result);
        report[result.result.status]++;
      }
      bytesDone += safeSize(input.path);
      const chunks = pending.reduce((s, d) => s + d.chunks.length, 0);
      if (chunks >= GROUP_CHUNKS || pending.length >= GROUP_DOCS) flush();
      ctx?.progress({ done: i + 1, total: inputs.length, bytesDone, bytesTotal, message: input.name });
    }
    flush();
    return report;
  }

  private async prepareOne(kb: KbRow, embedder: Embedder, input: IngestInput): Promise<{ pending: PendingDoc; result: IngestFileResult } | { result: IngestFileResult }> {
    const base: IngestFileResult = { file: input.path, document: input.name, status: 'failed', chunks: 0 };
    try {
      const size = fs.statSync(input.path).size;
      if (size > MAX_DOCUMENT_BYTES) throw new LoadError(input.name, `the file is ${size} bytes, more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
      const bytes = fs.readFileSync(input.path);
      const hash = sha256(bytes);
      const existing = this.db.prepare('SELECT id, blob_sha256 FROM document WHERE kb_id = ? AND name = ?').get(kb.id, input.name) as { id: number; blob_sha256: string } | undefined;
      if (existing && existing.blob_sha256 === hash) return { result: { ...base, status: 'unchanged', chunks: this.chunkCount(existing.id) } };
      const doc = parseDocument(input.name, bytes);
      const chunks = splitDocument(doc);
      if (chunks.length === 0) throw new LoadError(input.name, 'no text could be extracted');
      const vectors = await embedder.embed(chunks.map(embedText));
      const blob = this.blobs.put(bytes);
      const pending: PendingDoc = { input, blob, size: bytes.byteLength, format: formatOf(input.name)!, chunks, vectors, replaces: existing?.id ?? null };
      return { pending, result: { ...base, status: existing ? 'updated' : 'added', chunks: chunks.length } };
    } catch (err) {
      if (err instanceof LoadError) return { result: { ...base, error: err.reason } };
      const e = err as NodeJS.ErrnoException;
      if (e.code) return { result: { ...base, error: `${e.code}: ${e.message}` } };
      throw err;
    }
  }

  private chunkCount(documentId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM chunk WHERE document_id = ?').get(documentId) as { n: number }).n;
  }

  /** Data first (segment file), then one transaction that references it. */
  private commitGroup(kb: KbRow, docs: PendingDoc[]): void {
    const dim = kb.embedder_dim;
    const total = docs.reduce((s, d) => s + d.chunks.length, 0);
    const all = new Float32Array(total * dim);
    let off = 0;
    for (const d of docs) {
      all.set(d.vectors, off);
      off += d.vectors.length;
    }
    const seg = writeSegment(this.layout.root, all, dim, 'ip');
    const insDoc = this.db.prepare('INSERT INTO document(kb_id, name, blob_sha256, size, format, ingested_at) VALUES (?, ?, ?, ?, ?, ?)');
    const insChunk = this.db.prepare(
      'INSERT INTO chunk(kb_id, document_id, ordinal, text, heading, char_start, char_end, line_start, line_end, page, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insSeg = this.db.prepare('INSERT INTO segment(kb_id, file, sha256, bytes, dimension, vectors, metric, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insRow = this.db.prepare('INSERT INTO segment_row(segment_id, row, chunk_id) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      const segId = Number(insSeg.run(kb.id, seg.file, seg.sha256, seg.bytes, seg.dimension, seg.vectors, seg.metric, nowIso()).lastInsertRowid);
      let row = 0;
      for (const d of docs) {
        if (d.replaces !== null) this.db.prepare('DELETE FROM document WHERE id = ?').run(d.replaces);
        const docId = Number(insDoc.run(kb.id, d.input.name, d.blob, d.size, d.format, nowIso()).lastInsertRowid);
        d.chunks.forEach((c, i) => {
          const chunkId = Number(insChunk.run(kb.id, docId, i, c.text, c.heading, c.charStart, c.charEnd, c.lineStart, c.lineEnd, c.page, c.row).lastInsertRowid);
          insRow.run(segId, row++, chunkId);
        });
      }
    })();
    this.loaded.delete(kb.id);
  }

  // -- retrieval and answers --------------------------------------------------------------------

  /** Loads (or returns the loaded) segments of a knowledge base, each checked against its sha256. */
  segmentsOf(kbId: number): LiveSegment[] {
    const cached = this.loaded.get(kbId);
    if (cached) return cached;
    const segs = this.db.prepare('SELECT id, file, sha256 FROM segment WHERE kb_id = ? ORDER BY id').all(kbId) as { id: number; file: string; sha256: string }[];
    const rowsOf = this.db.prepare('SELECT row, chunk_id FROM segment_row WHERE segment_id = ? ORDER BY row');
    const live = segs.map((s) => {
      const { index, header } = loadSegment(this.layout.root, s.file, s.sha256);
      const chunkIds = new Int32Array(header.vectors).fill(-1);
      for (const r of rowsOf.iterate(s.id) as Iterable<{ row: number; chunk_id: number }>) chunkIds[r.row] = r.chunk_id;
      return { segmentId: s.id, index, chunkIds };
    });
    this.loaded.set(kbId, live);
    return live;
  }

  /** Loads every knowledge base's segments (start-up), reporting progress. */
  warmUp(onProgress?: (done: number, total: number) => void): void {
    const kbs = this.db.prepare('SELECT id FROM kb WHERE deleted_at IS NULL').all() as { id: number }[];
    kbs.forEach((k, i) => {
      this.segmentsOf(k.id);
      onProgress?.(i + 1, kbs.length);
    });
  }

  async search(question: string, options: { kb?: string; limit?: number } = {}): Promise<Passage[]> {
    const limit = options.limit ?? 8;
    const kbs = options.kb ? [this.requireKb(options.kb)] : (this.db.prepare('SELECT * FROM kb WHERE deleted_at IS NULL').all() as KbRow[]);
    if (kbs.length === 0) return [];
    const depth = Math.max(limit * 4, 20);
    // Vectors of different embedders are never mixed: one ranking per fingerprint, then fused.
    const lists = [];
    const byEmbedder = new Map<string, KbRow[]>();
    for (const kb of kbs) {
      const key = JSON.stringify(fingerprintOf(kb));
      byEmbedder.set(key, [...(byEmbedder.get(key) ?? []), kb]);
    }
    for (const group of byEmbedder.values()) {
      const q = await this.embedderFor(group[0]!).embed([question]);
      lists.push(vectorSearch(group.flatMap((kb) => this.segmentsOf(kb.id)), q, depth));
    }
    lists.push(lexicalSearch(this.db, question, kbs.map((k) => k.id), depth));
    const candidates = new Set(lists.flatMap((l) => l.map((r) => r.chunkId)));
    const rows = this.chunkRows([...candidates]);
    // Tombstones (rows of deleted chunks) drop out before ranks are counted.
    const fused = fuse(lists.map((l) => dedupeRanked(l.filter((r) => rows.has(r.chunkId)))));
    return [...fused.entries()]
      .sort((a, b) => b[1].score - a[1].score)
      .slice(0, limit)
      .map(([id, f]) => ({ ...rows.get(id)!, score: f.score, vectorScore: f.similarity }));
  }

  private chunkRows(ids: number[]): Map<number, Omit<Passage, 'score' | 'vectorScore'>> {
    const out = new Map<number, Omit<Passage, 'score' | 'vectorScore'>>();
    if (ids.length === 0) return out;
    const rows = this.db
      .prepare(
        `SELECT c.id AS chunkId, k.name AS kb, k.id AS kbId, d.name AS document, d.id AS documentId, c.text, c.heading,
                c.line_start AS lineStart, c.line_end AS lineEnd, c.page, c.row
         FROM chunk c JOIN document d ON d.id = c.document_id JOIN kb k ON k.id = c.kb_id
         WHERE c.id IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(ids)) as Omit<Passage, 'score' | 'vectorScore'>[];
    for (const r of rows) out.set(r.chunkId, r);
    return out;
  }

  async ask(req: AskRequest): Promise<AskResponse> {
    const started = Date.now();
    const question = typeof req.question === 'string' ? req.question.trim() : '';
    if (!question) throw new UserError('empty-question', 'the question is empty');
    if (question.length > 2000) throw new UserError('question-too-long', 'the question is longer than 2000 characters');
    const limit = Math.min(Math.max(req.limit ?? 4, 1), 10);
    const passages = await this.search(question, { kb: req.kb, limit: 8 });
    return extractiveAnswer(question, passages, limit, started);
  }
}

function fingerprintOf(r: KbRow): EmbedderFingerprint {
  return { id: r.embedder_id, version: r.embedder_version, dimension: r.embedder_dim, normalization: r.embedder_norm === 'l2' ? 'l2' : 'none' };
}

function embedText(c: Chunk): string {
  return c.heading ? `${c.heading}\n${c.text}` : c.text;
}

function dedupeRanked<T extends { chunkId: number }>(list: T[]): T[] {
  const seen = new Set<number>();
  return list.filter((r) => (seen.has(r.chunkId) ? false : (seen.add(r.chunkId), true)));
}

function safeSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** Relative paths of the regular files under `dir`, sorted, hidden files and folders skipped. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? path.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}
