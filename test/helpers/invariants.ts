// DESIGN.md's data-root invariants, checked straight from the files (no Lifeline code path that
// could hide a problem): catalog integrity, segment checksums, whole documents, FTS agreement.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

export interface InvariantReport {
  violations: string[];
  documents: number;
  chunks: number;
  segments: number;
}

export function checkDataRoot(root: string, expectedChunks?: Map<string, number>): InvariantReport {
  const violations: string[] = [];
  const db = new Database(path.join(root, 'catalog.sqlite'), { readonly: true });
  try {
    const ic = db.pragma('integrity_check', { simple: true });
    if (ic !== 'ok') violations.push(`integrity_check: ${String(ic)}`);
    const segs = db.prepare('SELECT id, file, sha256, vectors, dimension FROM segment').all() as { id: number; file: string; sha256: string; vectors: number; dimension: number }[];
    for (const s of segs) {
      const p = path.join(root, s.file);
      if (!fs.existsSync(p)) {
        violations.push(`segment ${s.file} is missing`);
        continue;
      }
      const bytes = fs.readFileSync(p);
      if (createHash('sha256').update(bytes).digest('hex') !== s.sha256) violations.push(`segment ${s.file} does not match its sha256`);
      if (bytes.length !== 45 + s.vectors * s.dimension * 4) violations.push(`segment ${s.file} has the wrong size`);
      const rows = (db.prepare('SELECT count(*) AS n FROM segment_row WHERE segment_id = ?').get(s.id) as { n: number }).n;
      if (rows !== s.vectors) violations.push(`segment ${s.file} has ${s.vectors} vectors but ${rows} rows`);
    }
    const docs = db.prepare('SELECT d.id, d.name, d.blob_sha256, (SELECT count(*) FROM chunk c WHERE c.document_id = d.id) AS chunks FROM document d').all() as { id: number; name: string; blob_sha256: string; chunks: number }[];
    for (const d of docs) {
      const blob = path.join(root, 'blobs', 'sha256', d.blob_sha256.slice(0, 2), d.blob_sha256);
      if (!fs.existsSync(blob)) violations.push(`document ${d.name}: original missing`);
      const want = expectedChunks?.get(d.name);
      if (d.chunks === 0 || (want !== undefined && want !== d.chunks)) violations.push(`document ${d.name} is partial: ${d.chunks} chunks, expected ${want ?? '> 0'}`);
      if (fs.existsSync(blob)) {
        // Each chunk's text comes from this document's stored original (not an older version).
        const original = fs.readFileSync(blob, 'utf8').replace(/\s+/g, '');
        for (const c of db.prepare('SELECT text FROM chunk WHERE document_id = ?').all(d.id) as { text: string }[]) {
          if (!original.includes(c.text.replace(/\s+/g, ''))) {
            violations.push(`document ${d.name}: a chunk's text is not in its stored original`);
            break;
          }
        }
      }
      const withVectors = (db.prepare('SELECT count(*) AS n FROM chunk c JOIN segment_row r ON r.chunk_id = c.id WHERE c.document_id = ?').get(d.id) as { n: number }).n;
      if (withVectors !== d.chunks) violations.push(`document ${d.name}: ${d.chunks - withVectors} chunks without vectors`);
    }
    const chunks = (db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
    const fts = (db.prepare('SELECT count(*) AS n FROM chunk_fts').get() as { n: number }).n;
    if (fts !== chunks) violations.push(`full-text index has ${fts} rows for ${chunks} chunks`);
    return { violations, documents: docs.length, chunks, segments: segs.length };
  } finally {
    db.close();
  }
}
