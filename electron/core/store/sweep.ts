// Start-up sweep (DESIGN.md invariant 3): files the catalog does not reference are leftovers
// of a crash — temp files of interrupted writes, segments written before their transaction,
// blobs of documents that were replaced or purged. Only run while holding the data-root lock.
import fs from 'node:fs';
import path from 'node:path';
import { isTempName } from './atomic.js';
import type { Db } from './catalog.js';
import type { DataRootLayout } from './dataRoot.js';

export interface SweepReport {
  tempFiles: string[];
  segments: string[];
  blobs: string[];
  /** Work folders of a killed backup, restore or drill. */
  folders: string[];
}

/** Work folders at the top of the data root that only live while their operation runs. */
const WORK_FOLDER = /^\.(backup-tmp-|restore-staging-|drills$)/;

export function sweepLeftovers(db: Db, layout: DataRootLayout): SweepReport {
  const report: SweepReport = { tempFiles: [], segments: [], blobs: [], folders: [] };
  const rel = (p: string) => path.relative(layout.root, p).split(path.sep).join('/');
  const remove = (p: string, list: string[]) => {
    fs.rmSync(p, { force: true });
    list.push(rel(p));
  };
  // Work folders of operations that were killed (a restore mid-swap is finished before this
  // runs: its journal is gone by now, so no staging folder here is still needed).
  for (const name of safeList(layout.root)) {
    if (WORK_FOLDER.test(name) && !fs.existsSync(path.join(layout.root, '.restore-swap.json'))) {
      fs.rmSync(path.join(layout.root, name), { recursive: true, force: true });
      report.folders.push(name);
    }
  }
  // Temp files anywhere we write.
  for (const dir of [layout.root, layout.segments, layout.models, ...subdirs(layout.blobs)]) {
    for (const name of safeList(dir)) if (isTempName(name)) remove(path.join(dir, name), report.tempFiles);
  }
  const segs = new Set((db.prepare('SELECT file AS f FROM segment UNION SELECT ann_file FROM segment WHERE ann_file IS NOT NULL').all() as { f: string }[]).map((r) => r.f));
  for (const name of safeList(layout.segments)) {
    const p = path.join(layout.segments, name);
    if ((name.endsWith('.faiss') || name.endsWith('.ivf')) && !segs.has(rel(p))) remove(p, report.segments);
  }
  const blobs = new Set(
    (db.prepare('SELECT blob_sha256 AS h FROM document UNION SELECT blob_sha256 FROM ingest_item').all() as { h: string }[]).map((r) => r.h),
  );
  for (const dir of subdirs(layout.blobs)) {
    for (const name of safeList(dir)) if (/^[0-9a-f]{64}$/.test(name) && !blobs.has(name)) remove(path.join(dir, name), report.blobs);
  }
  return report;
}

/** Work folders left by killed operations (for verify's report). */
export function leftoverFolders(root: string): string[] {
  return safeList(root).filter((n) => WORK_FOLDER.test(n));
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function subdirs(dir: string): string[] {
  return safeList(dir)
    .map((n) => path.join(dir, n))
    .filter((p) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    });
}
