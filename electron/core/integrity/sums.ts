// SHA256SUMS at the data root (DESIGN.md invariant 5): every immutable file with its sha256,
// in `sha256sum` format, so `sha256sum -c SHA256SUMS` run in the data root checks it by hand,
// without Lifeline. Files are named by content or recorded with their hash, so no re-hashing
// is needed to write it. The catalog is not listed: it changes with every commit; it is
// checked with `PRAGMA integrity_check` (lifeline verify --deep).
import path from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import type { Db } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';

export function sumsLines(db: Db, layout: DataRootLayout): string[] {
  const blobsRel = path.relative(layout.root, layout.blobs).split(path.sep).join('/');
  const lines = new Map<string, string>();
  for (const r of db.prepare('SELECT DISTINCT blob_sha256 AS h FROM document').all() as { h: string }[]) {
    lines.set(`${blobsRel}/${r.h.slice(0, 2)}/${r.h}`, r.h);
  }
  for (const r of db.prepare('SELECT file, sha256, ann_file, ann_sha256 FROM segment').all() as { file: string; sha256: string; ann_file: string | null; ann_sha256: string | null }[]) {
    lines.set(r.file, r.sha256);
    if (r.ann_file && r.ann_sha256) lines.set(r.ann_file, r.ann_sha256);
  }
  return [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([file, hash]) => `${hash}  ${file}`);
}

export function writeSums(db: Db, layout: DataRootLayout, opts: { durable?: boolean } = {}): number {
  const lines = sumsLines(db, layout);
  writeFileAtomic(layout.sums, lines.length ? lines.join('\n') + '\n' : '', opts);
  return lines.length;
}
