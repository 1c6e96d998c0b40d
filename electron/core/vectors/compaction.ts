// Compaction: the live rows of a knowledge base's segments are rewritten into one new segment
// and swapped in by one transaction; deleted chunks (tombstones) drop out. The old files are
// removed only after the commit, and a crash before that leaves them for the start-up sweep.
import fs from 'node:fs';
import path from 'node:path';
import { type Db, nowIso } from '../store/catalog.js';
import { type JobContext, throwIfCancelled } from '../jobs/jobs.js';
import { flatVectors } from './faissFormat.js';
import { readSegment, writeSegment } from './segments.js';
import { ANN_MIN_VECTORS, writeAnn } from './ann.js';

export interface CompactionResult {
  segmentsBefore: number;
  segmentsAfter: number;
  vectors: number;
  tombstonesDropped: number;
}

export interface SegmentStats {
  segments: number;
  rows: number;
  tombstones: number;
}

export function segmentStats(db: Db, kbId: number): SegmentStats {
  return db
    .prepare(
      `SELECT count(DISTINCT s.id) AS segments, count(r.row) AS rows,
              coalesce(sum(CASE WHEN c.id IS NULL THEN 1 ELSE 0 END), 0) AS tombstones
       FROM segment s LEFT JOIN segment_row r ON r.segment_id = s.id LEFT JOIN chunk c ON c.id = r.chunk_id
       WHERE s.kb_id = ?`,
    )
    .get(kbId) as SegmentStats;
}

/** Compaction pays off when searches touch many small segments or many dead rows. */
export function needsCompaction(s: SegmentStats): boolean {
  return s.segments > 8 || (s.rows > 0 && s.tombstones / s.rows > 0.25) || (s.segments > 1 && s.rows === s.tombstones);
}

export function compactKb(db: Db, dataRoot: string, kbId: number, ctx?: JobContext): CompactionResult {
  const segs = db.prepare('SELECT id, file, sha256, dimension FROM segment WHERE kb_id = ? ORDER BY id').all(kbId) as { id: number; file: string; sha256: string; dimension: number }[];
  const before = segs.length;
  if (before === 0) return { segmentsBefore: 0, segmentsAfter: 0, vectors: 0, tombstonesDropped: 0 };
  const dim = segs[0]!.dimension;
  const liveRows = db.prepare('SELECT r.row, r.chunk_id FROM segment_row r JOIN chunk c ON c.id = r.chunk_id WHERE r.segment_id = ? ORDER BY r.row');
  const parts: Float32Array[] = [];
  const chunkIds: number[] = [];
  let total = 0;
  segs.forEach((s, i) => {
    throwIfCancelled(ctx?.signal);
    const { bytes } = readSegment(dataRoot, s.file, s.sha256); // checks the sha256 before trusting it
    const vecs = flatVectors(bytes);
    for (const r of liveRows.iterate(s.id) as Iterable<{ row: number; chunk_id: number }>) {
      parts.push(vecs.subarray(r.row * dim, (r.row + 1) * dim));
      chunkIds.push(r.chunk_id);
    }
    total += vecs.length / dim;
    ctx?.progress({ done: i + 1, total: before + 1, message: s.file });
  });
  const merged = new Float32Array(chunkIds.length * dim);
  parts.forEach((p, i) => merged.set(p, i * dim));
  const seg = chunkIds.length > 0 ? writeSegment(dataRoot, merged, dim, 'ip') : null;
  const oldFiles = (db.prepare('SELECT file AS f FROM segment WHERE kb_id = ? UNION SELECT ann_file FROM segment WHERE kb_id = ? AND ann_file IS NOT NULL').all(kbId, kbId) as { f: string }[]).map((r) => r.f);
  // A large merged segment gets its approximate index before the swap, in the same commit.
  const ann = seg && chunkIds.length >= ANN_MIN_VECTORS ? writeAnn(dataRoot, merged, dim) : null;
  db.transaction(() => {
    db.prepare('DELETE FROM segment WHERE kb_id = ?').run(kbId);
    if (seg) {
      const id = Number(
        db
          .prepare('INSERT INTO segment(kb_id, file, sha256, bytes, dimension, vectors, metric, created_at, ann_file, ann_sha256, ann_params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(kbId, seg.file, seg.sha256, seg.bytes, seg.dimension, seg.vectors, seg.metric, nowIso(), ann?.file ?? null, ann?.sha256 ?? null, ann ? JSON.stringify(ann.params) : null).lastInsertRowid,
      );
      const ins = db.prepare('INSERT INTO segment_row(segment_id, row, chunk_id) VALUES (?, ?, ?)');
      chunkIds.forEach((c, row) => ins.run(id, row, c));
    }
  })();
  removeUnreferencedSegmentFiles(db, dataRoot, oldFiles);
  ctx?.progress({ done: before + 1, total: before + 1 });
  return { segmentsBefore: before, segmentsAfter: seg ? 1 : 0, vectors: chunkIds.length, tombstonesDropped: total - chunkIds.length };
}

/** Deletes the given segment files unless some segment row still names them (files are shared by content). */
export function removeUnreferencedSegmentFiles(db: Db, dataRoot: string, files: readonly string[]): void {
  const used = db.prepare('SELECT 1 FROM segment WHERE file = ? OR ann_file = ? LIMIT 1');
  for (const f of new Set(files)) if (!used.get(f, f)) fs.rmSync(path.join(dataRoot, f), { force: true });
}

/** Segment files (flat and approximate) of a knowledge base, for removal after a purge. */
export function segmentFilesOf(db: Db, kbId: number): string[] {
  return (db.prepare('SELECT file AS f FROM segment WHERE kb_id = ? UNION SELECT ann_file FROM segment WHERE kb_id = ? AND ann_file IS NOT NULL').all(kbId, kbId) as { f: string }[]).map((r) => r.f);
}

/** Builds the missing approximate index of every large segment (file first, then the catalog). */
export function ensureAnnIndexes(db: Db, dataRoot: string, kbId: number): number {
  const big = db.prepare('SELECT id, file, sha256, dimension FROM segment WHERE kb_id = ? AND vectors >= ? AND ann_file IS NULL').all(kbId, ANN_MIN_VECTORS) as { id: number; file: string; sha256: string; dimension: number }[];
  for (const s of big) {
    const { bytes } = readSegment(dataRoot, s.file, s.sha256);
    const ann = writeAnn(dataRoot, flatVectors(bytes), s.dimension);
    db.prepare('UPDATE segment SET ann_file = ?, ann_sha256 = ?, ann_params = ? WHERE id = ?').run(ann.file, ann.sha256, JSON.stringify(ann.params), s.id);
  }
  return big.length;
}
