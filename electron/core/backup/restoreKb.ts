// Restoring one knowledge base (one department) from a staged snapshot into the live data root:
// its files are copied in (content-addressed, so nothing else is touched), then one transaction
// soft-deletes the live knowledge base of that name (recoverable with `kb undelete`) and
// inserts the snapshot's — with new row ids, so no other knowledge base is affected.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { writeContentAddressed } from '../store/atomic.js';
import { type Db, nowIso } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import { sha256 } from '../util/hash.js';

export function mergeKnowledgeBase(db: Db, layout: DataRootLayout, stagingDir: string, name: string): void {
  const s = new Database(path.join(stagingDir, 'catalog.sqlite'), { readonly: true });
  try {
    const kb = s.prepare('SELECT * FROM kb WHERE name = ? AND deleted_at IS NULL').get(name) as Record<string, unknown> & { id: number };
    const docs = s.prepare('SELECT * FROM document WHERE kb_id = ? ORDER BY id').all(kb.id) as (Record<string, unknown> & { id: number; blob_sha256: string })[];
    const chunks = s.prepare('SELECT * FROM chunk WHERE kb_id = ? ORDER BY id').all(kb.id) as (Record<string, unknown> & { id: number; document_id: number })[];
    const segs = s.prepare('SELECT * FROM segment WHERE kb_id = ? ORDER BY id').all(kb.id) as (Record<string, unknown> & { id: number; file: string; sha256: string; ann_file: string | null; ann_sha256: string | null })[];
    const rowsOf = s.prepare('SELECT row, chunk_id FROM segment_row WHERE segment_id = ? ORDER BY row');
    // 1. Files first (each checked against its hash on the way in).
    const copy = (rel: string, hash: string) => {
      const bytes = fs.readFileSync(path.join(stagingDir, rel));
      if (sha256(bytes) !== hash) throw new Error(`${rel} in the staged copy does not match its sha256`);
      writeContentAddressed(path.join(layout.root, rel), bytes, hash);
    };
    const blobsRel = path.relative(layout.root, layout.blobs).split(path.sep).join('/');
    for (const d of docs) copy(`${blobsRel}/${d.blob_sha256.slice(0, 2)}/${d.blob_sha256}`, d.blob_sha256);
    for (const g of segs) {
      copy(g.file, g.sha256);
      if (g.ann_file && g.ann_sha256) copy(g.ann_file, g.ann_sha256);
    }
    // 2. One transaction.
    db.transaction(() => {
      db.prepare('UPDATE kb SET deleted_at = ? WHERE name = ? AND deleted_at IS NULL').run(nowIso(), name);
      const kbId = Number(
        db
          .prepare('INSERT INTO kb(name, description, created_at, embedder_id, embedder_version, embedder_dim, embedder_norm) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(name, kb.description, kb.created_at, kb.embedder_id, kb.embedder_version, kb.embedder_dim, kb.embedder_norm).lastInsertRowid,
      );
      const docIds = new Map<number, number>();
      const insDoc = db.prepare('INSERT INTO document(kb_id, name, blob_sha256, size, format, ingested_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const d of docs) docIds.set(d.id, Number(insDoc.run(kbId, d.name, d.blob_sha256, d.size, d.format, d.ingested_at).lastInsertRowid));
      const chunkIds = new Map<number, number>();
      const insChunk = db.prepare('INSERT INTO chunk(kb_id, document_id, ordinal, text, heading, char_start, char_end, line_start, line_end, page, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const c of chunks) {
        chunkIds.set(c.id, Number(insChunk.run(kbId, docIds.get(c.document_id), c.ordinal, c.text, c.heading, c.char_start, c.char_end, c.line_start, c.line_end, c.page, c.row).lastInsertRowid));
      }
      const insSeg = db.prepare('INSERT INTO segment(kb_id, file, sha256, bytes, dimension, vectors, metric, created_at, ann_file, ann_sha256, ann_params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const insRow = db.prepare('INSERT INTO segment_row(segment_id, row, chunk_id) VALUES (?, ?, ?)');
      for (const g of segs) {
        const segId = Number(insSeg.run(kbId, g.file, g.sha256, g.bytes, g.dimension, g.vectors, g.metric, g.created_at, g.ann_file, g.ann_sha256, g.ann_params).lastInsertRowid);
        // Rows of chunks deleted before the snapshot stay tombstones (-1 never matches a chunk).
        for (const r of rowsOf.iterate(g.id) as Iterable<{ row: number; chunk_id: number }>) insRow.run(segId, r.row, chunkIds.get(r.chunk_id) ?? -1);
      }
    })();
  } finally {
    s.close();
  }
}
