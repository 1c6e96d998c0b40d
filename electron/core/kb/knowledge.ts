// Knowledge bases: create and list them, ingest documents durably, retrieve and answer.
// Commit order (DESIGN.md invariant 3): blobs and segment files are written first, then one
// catalog transaction references them. A crash at any point leaves the last commit intact.
import fs from 'node:fs';
import path from 'node:path';
import type { AskRequest, AskResponse, DeletedKbSummary, DocumentSummary, EmbedderFingerprint, IngestFileResult, IngestReport, KbSummary } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import { BlobStore } from '../store/blobs.js';
import { type Db, nowIso } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import type { JobContext } from '../jobs/jobs.js';
import { type Embedder, HashEmbedder } from '../models/hashEmbedder.js';
import { type CompactionResult, compactKb, ensureAnnIndexes, needsCompaction, removeUnreferencedSegmentFiles, segmentFilesOf, segmentStats } from '../vectors/compaction.js';
import { annKey, loadAnn, type FaissIndex } from '../vectors/segments.js';
import { loadSegment, writeSegment } from '../vectors/segments.js';
import { ANN_MIN_VECTORS, writeAnn } from '../vectors/ann.js';
import { extractiveAnswer } from './answer.js';
import { type IngestSource, Ingestor, cleanDocumentName } from './ingest.js';
import { type Passage, type LiveSegment, fuse, lexicalSearch, vectorSearch } from './retrieval.js';
interface KbRow {
  id: number;
  name: string;
  description: string;
  created_at: string;
  embedder_id: string;
  embedder_version: string;
  embedder_dim: number;
  embedder_norm: string;
  deleted_at: string | null;
}

const KB_NAME = /^[^\x00-\x1f\x7f-\x9f/\\]{1,64}$/;

export class KnowledgeService {
  readonly blobs: BlobStore;
  private readonly loaded = new Map<number, LiveSegment[]>();
  private readonly defaultEmbedder = new HashEmbedder();
  private readonly extraEmbedders = new Map<string, Embedder>();
  readonly ingestor: Ingestor;
  /** Called after every change to the files of the data root (the app keeps SHA256SUMS current). */
  onFilesChanged: () => void = () => undefined;

  constructor(
    private readonly db: Db,
    private readonly layout: DataRootLayout,
  ) {
    this.blobs = new BlobStore(layout.blobs);
    this.ingestor = new Ingestor(db, layout.root, this.blobs, (kbId) => {
      this.loaded.delete(kbId);
      this.chunkTotal = null;
    });
  }

  isLoaded(kbName: string): boolean {
    const kb = this.findKb(kbName);
    return kb !== undefined && this.loaded.has(kb.id);
  }

  /** Drops a knowledge base's loaded segments, so the next search reloads them from disk. */
  forget(kbId: number): void {
    this.loaded.delete(kbId);
  }

  defaultEmbedderInstance(): Embedder {
    return this.defaultEmbedder;
  }

  /** Makes an embedder (a loaded GGUF model) available to knowledge bases recorded with its fingerprint. */
  registerEmbedder(e: Embedder): void {
    this.extraEmbedders.set(fingerprintKey(e.fingerprint), e);
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

  private summary(name: string): KbSummary {
    return this.listKbs().find((k) => k.name === name)!;
  }

  createKb(name: string, description = '', embedder: Embedder = this.defaultEmbedder): KbSummary {
    checkKbName(name);
    if (this.findKb(name)) throw new UserError('kb-exists', `a knowledge base named "${name}" already exists`);
    const f = embedder.fingerprint;
    this.db
      .prepare('INSERT INTO kb(name, description, created_at, embedder_id, embedder_version, embedder_dim, embedder_norm) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(name, String(description ?? ''), nowIso(), f.id, f.version, f.dimension, f.normalization);
    this.onFilesChanged();
    return this.summary(name);
  }

  renameKb(name: string, newName: string): KbSummary {
    const kb = this.requireKb(name);
    checkKbName(newName);
    if (newName !== name && this.findKb(newName)) throw new UserError('kb-exists', `a knowledge base named "${newName}" already exists`);
    this.db.prepare('UPDATE kb SET name = ? WHERE id = ?').run(newName, kb.id);
    this.onFilesChanged();
    return this.summary(newName);
  }

  /** Soft delete: hidden from lists and retrieval, recoverable with undeleteKb until purged. */
  deleteKb(name: string, confirm: string): void {
    const kb = this.requireKb(name);
    if (confirm !== name) throw new UserError('confirmation-needed', `to delete "${name}", confirm by repeating its name exactly`);
    this.db.prepare('UPDATE kb SET deleted_at = ? WHERE id = ?').run(nowIso(), kb.id);
    this.onFilesChanged();
    this.loaded.delete(kb.id);
  }

  deletedKbs(): DeletedKbSummary[] {
    return this.db
      .prepare(`SELECT k.name, k.deleted_at AS deletedAt, (SELECT count(*) FROM document d WHERE d.kb_id = k.id) AS documents FROM kb k WHERE k.deleted_at IS NOT NULL ORDER BY k.deleted_at DESC`)
      .all() as DeletedKbSummary[];
  }

  private findDeleted(name: string): KbRow {
    const kb = this.db.prepare('SELECT * FROM kb WHERE name = ? AND deleted_at IS NOT NULL ORDER BY deleted_at DESC LIMIT 1').get(name) as KbRow | undefined;
    if (!kb) throw new UserError('no-such-kb', `there is no deleted knowledge base named "${name}"`);
    return kb;
  }

  undeleteKb(name: string): KbSummary {
    const kb = this.findDeleted(name);
    if (this.findKb(name)) throw new UserError('kb-exists', `a live knowledge base is already named "${name}"; rename it first`);
    this.db.prepare('UPDATE kb SET deleted_at = NULL WHERE id = ?').run(kb.id);
    this.onFilesChanged();
    return this.summary(name);
  }

  /** Permanently removes a deleted knowledge base: its rows, then its files. */
  purgeKb(name: string, confirm: string): void {
    const kb = this.findDeleted(name);
    if (confirm !== name) throw new UserError('confirmation-needed', `to purge "${name}" for good, confirm by repeating its name exactly`);
    const files = segmentFilesOf(this.db, kb.id);
    const blobs = (this.db.prepare('SELECT blob_sha256 AS h FROM document WHERE kb_id = ?').all(kb.id) as { h: string }[]).map((r) => r.h);
    this.db.prepare('DELETE FROM kb WHERE id = ?').run(kb.id);
    removeUnreferencedSegmentFiles(this.db, this.layout.root, files);
    this.removeUnreferencedBlobs(blobs);
    this.onFilesChanged();
  }

  private removeUnreferencedBlobs(hashes: readonly string[]): void {
    const used = this.db.prepare('SELECT 1 FROM document WHERE blob_sha256 = ? UNION ALL SELECT 1 FROM ingest_item WHERE blob_sha256 = ? LIMIT 1');
    for (const h of new Set(hashes)) if (!used.get(h, h)) fs.rmSync(this.blobs.pathOf(h), { force: true });
  }

  documents(kbName: string): DocumentSummary[] {
    const kb = this.requireKb(kbName);
    return this.db
      .prepare(
        `SELECT ? AS kb, d.name, d.format, d.size AS bytes, d.blob_sha256 AS sha256, d.ingested_at AS ingestedAt,
                (SELECT count(*) FROM chunk c WHERE c.document_id = d.id) AS chunks
         FROM document d WHERE d.kb_id = ? ORDER BY d.name`,
      )
      .all(kb.name, kb.id) as DocumentSummary[];
  }

  /** Removes a document from the catalog and the full-text index at once; its vectors become tombstones. */
  deleteDocument(kbName: string, document: string): void {
    const kb = this.requireKb(kbName);
    const doc = this.db.prepare('SELECT id, blob_sha256 FROM document WHERE kb_id = ? AND name = ?').get(kb.id, document) as { id: number; blob_sha256: string } | undefined;
    if (!doc) throw new UserError('no-such-document', `knowledge base "${kb.name}" has no document named "${document}"`);
    this.db.prepare('DELETE FROM document WHERE id = ?').run(doc.id);
    this.removeUnreferencedBlobs([doc.blob_sha256]);
    this.maybeCompact(kb.id);
    this.onFilesChanged();
  }

  compact(kbName: string, ctx?: JobContext): CompactionResult {
    const kb = this.requireKb(kbName);
    const r = compactKb(this.db, this.layout.root, kb.id, ctx);
    this.loaded.delete(kb.id);
    this.onFilesChanged();
    return r;
  }

  /** After a change: compact when worthwhile, and give large segments their approximate index. */
  private maybeCompact(kbId: number): void {
    if (needsCompaction(segmentStats(this.db, kbId))) compactKb(this.db, this.layout.root, kbId);
    ensureAnnIndexes(this.db, this.layout.root, kbId);
    this.loaded.delete(kbId);
  }

  private findKb(name: string): KbRow | undefined {
    return this.db.prepare('SELECT * FROM kb WHERE name = ? AND deleted_at IS NULL').get(name) as KbRow | undefined;
  }

  private requireKb(name: string): KbRow {
    const kb = typeof name === 'string' ? this.findKb(name) : undefined;
    if (!kb) throw new UserError('no-such-kb', `there is no knowledge base named "${name}"; existing: ${this.listKbs().map((k) => k.name).join(', ') || '(none)'}`);
    return kb;
  }

  embedderFor(kb: KbRow): Embedder {
    const f = fingerprintOf(kb);
    if (fingerprintKey(f) === fingerprintKey(this.defaultEmbedder.fingerprint)) return this.defaultEmbedder;
    const e = this.extraEmbedders.get(fingerprintKey(f));
    if (e) return e;
    throw new UserError('embedder-unavailable', `knowledge base "${kb.name}" was embedded with ${f.id} (version ${f.version.slice(0, 12)}, dimension ${f.dimension}), which is not loaded here; put that model file in the models folder or re-embed the knowledge base`);
  }

  // -- ingestion --------------------------------------------------------------------------------

  /** Expands files and folders into ingest sources; documents in folders keep their relative path. */
  static collectInputs(paths: readonly string[]): IngestSource[] {
    const out: IngestSource[] = [];
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

  async ingest(kbName: string, sources: readonly IngestSource[], ctx?: JobContext): Promise<IngestReport> {
    const kb = this.requireKb(kbName);
    try {
      return await this.ingestor.ingest(this.kbForIngest(kb), sources, ctx?.jobId ?? `direct-${process.pid}-${Date.now()}`, ctx);
    } finally {
      this.maybeCompact(kb.id);
      this.onFilesChanged();
    }
  }

  async ingestUpload(kbName: string, name: string, bytes: Uint8Array, ctx?: JobContext): Promise<IngestFileResult> {
    const report = await this.ingest(kbName, [{ name: cleanDocumentName(name), bytes }], ctx);
    return report.files[0]!;
  }

  /** Ingest jobs that a crash or power cut interrupted: job id → knowledge base and pending count. */
  interruptedIngests(): { jobId: string; kb: string; pending: number }[] {
    return this.db
      .prepare(
        `SELECT i.job_id AS jobId, k.name AS kb, count(*) AS pending FROM ingest_item i JOIN kb k ON k.id = i.kb_id
         WHERE i.state = 'pending' AND k.deleted_at IS NULL GROUP BY i.job_id, k.name ORDER BY min(i.id)`,
      )
      .all() as { jobId: string; kb: string; pending: number }[];
  }

  /** Finishes an interrupted ingest: only its pending documents are processed. */
  async resumeIngest(jobId: string, ctx?: JobContext): Promise<IngestFileResult[]> {
    const row = this.db.prepare("SELECT DISTINCT kb_id FROM ingest_item WHERE job_id = ? AND state = 'pending'").get(jobId) as { kb_id: number } | undefined;
    if (!row) return [];
    const kb = this.db.prepare('SELECT * FROM kb WHERE id = ?').get(row.kb_id) as KbRow;
    const results = await this.ingestor.processPending(this.kbForIngest(kb), jobId, ctx);
    this.db.prepare("DELETE FROM ingest_item WHERE job_id = ? AND state != 'pending'").run(jobId);
    this.maybeCompact(kb.id);
    this.onFilesChanged();
    return results;
  }

  private kbForIngest(kb: KbRow) {
    return { id: kb.id, name: kb.name, dimension: kb.embedder_dim, embedder: this.embedderFor(kb) };
  }

  // -- retrieval and answers --------------------------------------------------------------------

  /**
   * Loads (or returns the loaded) segments of a knowledge base, each checked against its sha256.
   * `knownHashes` (data-root path → sha256): files whose bytes the caller has itself just hashed
   * (a restore, decrypting them); a file listed with the sha256 the catalog records is not hashed again.
   * `loadedAnn`: approximate indexes already loaded from these very files (a restore's staged
   * verify; key annKey(file, sha256)), used instead of loading them again.
   */
  segmentsOf(kbId: number, knownHashes?: ReadonlyMap<string, string>, loadedAnn?: ReadonlyMap<string, FaissIndex>): LiveSegment[] {
    const cached = this.loaded.get(kbId);
    if (cached) return cached;
    const segs = this.db.prepare('SELECT id, file, sha256, vectors, ann_file, ann_sha256 FROM segment WHERE kb_id = ? ORDER BY id').all(kbId) as {
      id: number;
      file: string;
      sha256: string;
      vectors: number;
      ann_file: string | null;
      ann_sha256: string | null;
    }[];
    const rowsOf = this.db.prepare('SELECT row, chunk_id FROM segment_row WHERE segment_id = ? ORDER BY row');
    const live = segs.map((s) => {
      // The approximate index when there is a sound one; the flat segment otherwise.
      const reused = s.ann_file && s.ann_sha256 ? loadedAnn?.get(annKey(s.ann_file, s.ann_sha256)) : undefined;
      const ann = reused && reused.ntotal() === s.vectors ? reused : s.ann_file && s.ann_sha256 ? loadAnn(this.layout.root, s.ann_file, s.ann_sha256, s.vectors, { hashed: knownHashes?.get(s.ann_file) === s.ann_sha256 }) : null;
      const index = ann ?? loadSegment(this.layout.root, s.file, s.sha256, { hashed: knownHashes?.get(s.file) === s.sha256 }).index;
      const chunkIds = new Int32Array(s.vectors).fill(-1);
      for (const r of rowsOf.iterate(s.id) as Iterable<{ row: number; chunk_id: number }>) chunkIds[r.row] = r.chunk_id;
      return { segmentId: s.id, index, chunkIds, approximate: ann !== null };
    });
    this.loaded.set(kbId, live);
    return live;
  }

  /**
   * Loads every knowledge base's segments at start-up, yielding to the event loop between
   * files so the server keeps answering /readyz ("initializing") during a long cold start.
   * Returns the knowledge bases that failed to load, with why. `opts.knownHashes`, `opts.loadedAnn`:
   * as for segmentsOf (only for this warm-up; later loads read and hash as usual).
   */
  async warmUp(onProgress?: (done: number, total: number) => void, opts: { knownHashes?: ReadonlyMap<string, string>; loadedAnn?: ReadonlyMap<string, FaissIndex> } = {}): Promise<{ kb: string; error: string }[]> {
    const kbs = this.db.prepare('SELECT id, name FROM kb WHERE deleted_at IS NULL').all() as { id: number; name: string }[];
    const files = this.db.prepare('SELECT file, ann_file FROM segment WHERE kb_id = ?');
    const failed: { kb: string; error: string }[] = [];
    for (const [i, k] of kbs.entries()) {
      // Read the files ahead without blocking (the page cache makes the load below fast).
      for (const r of files.all(k.id) as { file: string; ann_file: string | null }[]) {
        for (const f of [r.ann_file ?? r.file]) await readAhead(path.join(this.layout.root, f));
      }
      try {
        this.segmentsOf(k.id, opts.knownHashes, opts.loadedAnn);
      } catch (err) {
        failed.push({ kb: k.name, error: (err as Error).message });
      }
      onProgress?.(i + 1, kbs.length);
      await new Promise((r) => setImmediate(r));
    }
    return failed;
  }

  async search(question: string, options: { kb?: string; documents?: readonly string[]; limit?: number } = {}): Promise<Passage[]> {
    const limit = options.limit ?? 8;
    const kbs = options.kb ? [this.requireKb(options.kb)] : (this.db.prepare('SELECT * FROM kb WHERE deleted_at IS NULL').all() as KbRow[]);
    const docFilter = options.documents?.length ? new Set(options.documents) : null;
    if (docFilter && !options.kb) throw new UserError('bad-request', 'a document filter needs a knowledge base (--kb)');
    if (kbs.length === 0) return [];
    // A document filter searches deeper so the filtered list still has enough candidates.
    const depth = docFilter ? Math.max(limit * 4, 200) : Math.max(limit * 4, 20);
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
    lists.push(lexicalSearch(this.db, question, kbs.map((k) => k.id), depth, this.totalChunks()));
    const candidates = new Set(lists.flatMap((l) => l.map((r) => r.chunkId)));
    const rows = this.chunkRows([...candidates]);
    // Tombstones (rows of deleted chunks) drop out before ranks are counted.
    const keep = (id: number) => rows.has(id) && (!docFilter || docFilter.has(rows.get(id)!.document));
    const fused = fuse(lists.map((l) => dedupeRanked(l.filter((r) => keep(r.chunkId)))));
    return [...fused.entries()]
      .sort((a, b) => b[1].score - a[1].score)
      .slice(0, limit)
      .map(([id, f]) => ({ ...rows.get(id)!, score: f.score, vectorScore: f.similarity }));
  }

  private chunkTotal: number | null = null;

  /** Number of chunks in the catalog (cached; reset by every commit). */
  private totalChunks(): number {
    this.chunkTotal ??= (this.db.prepare('SELECT max(id) AS n FROM chunk').get() as { n: number | null }).n ?? 0;
    return this.chunkTotal;
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

  /** Validates a question and retrieves its passages; the answer is made by the caller. */
  async prepareAsk(req: AskRequest): Promise<{ question: string; limit: number; passages: Passage[]; started: number }> {
    const started = Date.now();
    const question = typeof req.question === 'string' ? req.question.trim() : '';
    if (!question) throw new UserError('empty-question', 'the question is empty');
    if (question.length > 2000) throw new UserError('question-too-long', 'the question is longer than 2000 characters');
    const limit = Math.min(Math.max(Number(req.limit ?? 4) || 4, 1), 10);
    const passages = await this.search(question, { kb: req.kb, documents: req.documents, limit: 8 });
    return { question, limit, passages, started };
  }

  /** An extractive answer with citations (no model needed). */
  async ask(req: AskRequest): Promise<AskResponse> {
    const p = await this.prepareAsk(req);
    return extractiveAnswer(p.question, p.passages, p.limit, p.started);
  }

  /**
   * Re-embeds every chunk of a knowledge base with another embedder, as one swap: the new
   * segment is written first, then one transaction replaces the segments and the recorded
   * fingerprint. Vectors of two embedders are never mixed (invariant 4).
   */
  async reembed(kbName: string, embedder: Embedder, ctx?: JobContext): Promise<{ chunks: number; embedder: EmbedderFingerprint }> {
    const kb = this.requireKb(kbName);
    const rows = this.db.prepare('SELECT id, heading, text FROM chunk WHERE kb_id = ? ORDER BY id').all(kb.id) as { id: number; heading: string; text: string }[];
    const dim = embedder.fingerprint.dimension;
    const vectors = new Float32Array(rows.length * dim);
    const BATCH = 256;
    for (let i = 0; i < rows.length; i += BATCH) {
      if (ctx?.signal.aborted) throw new UserError('cancelled', 're-embedding was cancelled; the knowledge base is unchanged');
      const batch = rows.slice(i, i + BATCH);
      vectors.set(await embedder.embed(batch.map((r) => (r.heading ? `${r.heading}\n${r.text}` : r.text))), i * dim);
      ctx?.progress({ done: Math.min(i + BATCH, rows.length), total: rows.length, message: 're-embedding' });
    }
    const seg = rows.length ? writeSegment(this.layout.root, vectors, dim, 'ip') : null;
    const ann = seg && rows.length >= ANN_MIN_VECTORS ? writeAnn(this.layout.root, vectors, dim) : null;
    const oldFiles = segmentFilesOf(this.db, kb.id);
    const f = embedder.fingerprint;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM segment WHERE kb_id = ?').run(kb.id);
      if (seg) {
        const id = Number(
          this.db
            .prepare('INSERT INTO segment(kb_id, file, sha256, bytes, dimension, vectors, metric, created_at, ann_file, ann_sha256, ann_params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .run(kb.id, seg.file, seg.sha256, seg.bytes, seg.dimension, seg.vectors, seg.metric, nowIso(), ann?.file ?? null, ann?.sha256 ?? null, ann ? JSON.stringify(ann.params) : null).lastInsertRowid,
        );
        const ins = this.db.prepare('INSERT INTO segment_row(segment_id, row, chunk_id) VALUES (?, ?, ?)');
        rows.forEach((r, row) => ins.run(id, row, r.id));
      }
      this.db.prepare('UPDATE kb SET embedder_id = ?, embedder_version = ?, embedder_dim = ?, embedder_norm = ? WHERE id = ?').run(f.id, f.version, f.dimension, f.normalization, kb.id);
    })();
    removeUnreferencedSegmentFiles(this.db, this.layout.root, oldFiles);
    this.loaded.delete(kb.id);
    this.registerEmbedder(embedder);
    this.onFilesChanged();
    return { chunks: rows.length, embedder: f };
  }

  /** Fingerprints recorded by live knowledge bases (to load their embedders at start-up). */
  recordedEmbedders(): { kb: string; embedder: EmbedderFingerprint }[] {
    return (this.db.prepare('SELECT * FROM kb WHERE deleted_at IS NULL').all() as KbRow[]).map((k) => ({ kb: k.name, embedder: fingerprintOf(k) }));
  }
}

function checkKbName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !KB_NAME.test(name) || name.trim() !== name || name === '.' || name === '..') {
    throw new UserError('bad-kb-name', `"${String(name)}" is not a valid knowledge base name (1–64 characters, no slashes or control characters, no leading or trailing spaces)`);
  }
}

function fingerprintKey(f: EmbedderFingerprint): string {
  return `${f.id}\u0000${f.version}\u0000${f.dimension}`;
}

function fingerprintOf(r: KbRow): EmbedderFingerprint {
  return { id: r.embedder_id, version: r.embedder_version, dimension: r.embedder_dim, normalization: r.embedder_norm === 'l2' ? 'l2' : 'none' };
}

function dedupeRanked<T extends { chunkId: number }>(list: T[]): T[] {
  const seen = new Set<number>();
  return list.filter((r) => (seen.has(r.chunkId) ? false : (seen.add(r.chunkId), true)));
}

/** Reads a file in 4 MiB pieces, yielding between them; missing files are left to the loader to report. */
async function readAhead(file: string): Promise<void> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(file, 'r');
    const buf = Buffer.allocUnsafe(4 << 20);
    while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0) await new Promise((r) => setImmediate(r));
  } catch {
    /* reported by the load */
  } finally {
    await fh?.close();
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
