// The costliest deep catalog check of a restore's staged verify (FTS5's integrity-check of the
// full-text index against the chunks: it reads the whole catalog, ~1 s per 100k chunks) runs on
// another thread, on its own SQLite connection, as soon as the catalog is in staging — while the
// main thread decrypts the other files. The staged verify then uses its outcome instead of
// running it again (VerifyOptions.deepCatalogResults). Same statement, same file, nothing else
// writes to it meanwhile; the structural check (catalogIntegrityCheck, ~0.2 s) stays in verify.
//
// The worker is CommonJS in a string (eval), as in hasher.ts, and loads better-sqlite3 from the
// path this module resolves. When it cannot start or fails for any reason of its own, the result
// is null and the staged verify runs the checks itself.
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { DEEP_CATALOG_CHECKS, type DeepCatalogResults, catalogIntegrityCheck } from '../integrity/verify.js';

/** Bytes of a scratch catalog file (a backup's copy, a restore's staged one) its checks map (SQLite's cap). */
const MMAP_BYTES = 0x7fff0000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const MMAP = ${MMAP_BYTES};
let out;
try {
  const Database = require(workerData.driver);
  const db = new Database(workerData.file, { fileMustExist: true });
  try {
    let fulltext = { error: null };
    try {
      // As runFulltextCheck in verify: a page cache the size of the catalog for the check. And
      // the file mapped (no one else writes it): pages read from the kernel's cache in place,
      // not copied into fresh memory (~0.07 s of system time less at 100k chunks).
      db.pragma('cache_size = ' + workerData.sql.cacheSize);
      db.pragma('mmap_size = ' + MMAP);
      db.prepare(workerData.sql.fulltext).run();
    } catch (err) {
      fulltext = { error: String(err && err.message || err) };
    }
    out = { fulltext };
  } finally {
    db.close();
  }
} catch (err) {
  out = { failed: String(err && err.message || err) };
}
parentPort.postMessage(out);
`;

/**
 * Starts the deep full-text check of `file` on a worker thread. Resolves with its outcome, or
 * null when it could not be run there (the caller's verify then runs it itself).
 */
export function startDeepCatalogChecks(file: string): Promise<DeepCatalogResults | null> {
  let driver: string;
  try {
    driver = createRequire(import.meta.url).resolve('better-sqlite3');
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    let w: Worker;
    try {
      w = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, sql: DEEP_CATALOG_CHECKS } });
    } catch {
      resolve(null);
      return;
    }
    let settled = false;
    const done = (r: DeepCatalogResults | null) => {
      if (settled) return;
      settled = true;
      resolve(r);
      void w.terminate().catch(() => undefined);
    };
    w.once('message', (m: (DeepCatalogResults & { failed?: undefined }) | { failed: string }) => done(m.failed !== undefined ? null : (m as DeepCatalogResults)));
    w.once('error', () => done(null));
    w.once('exit', () => done(null));
  });
}

let version: string | null = null;

/** The SQLite this process runs (the full-text check's outcome depends on its tokenizers). */
export function sqliteVersion(): string {
  if (version === null) {
    const db = new Database(':memory:');
    try {
      version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    } finally {
      db.close();
    }
  }
  return version;
}

/**
 * The deep structural check (catalogIntegrityCheck, ~0.25 s at 100k chunks) of a catalog file no
 * one else has open, on its own connection, here and now: a restore runs it as the catalog lands
 * in staging, while workers decrypt the large files, instead of after all of them. A catalog that
 * cannot be read at all is one finding, as the verify would report it.
 */
export function structuralCheck(file: string): string[] {
  try {
    const db = new Database(file, { fileMustExist: true });
    try {
      db.pragma(`mmap_size = ${MMAP_BYTES}`); // as the full-text check's
      return catalogIntegrityCheck(db, file);
    } finally {
      db.close();
    }
  } catch (err) {
    return [(err as Error).message];
  }
}
