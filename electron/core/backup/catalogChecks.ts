// The deep catalog checks of a restore's staged verify (integrity_check, FTS5's integrity-check:
// each reads the whole catalog, ~1 s per 100k chunks) run on another thread, on their own SQLite
// connection, as soon as the catalog is in staging — while the main thread decrypts the other
// files. The staged verify then uses their outcomes instead of running them again (VerifyOptions
// .deepCatalogResults). Same statements, same file, nothing else writes to it meanwhile.
//
// The worker is CommonJS in a string (eval), as in hasher.ts, and loads better-sqlite3 from the
// path this module resolves. When it cannot start or fails for any reason of its own, the result
// is null and the staged verify runs the checks itself.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DEEP_CATALOG_CHECKS, type DeepCatalogResults } from '../integrity/verify.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let out;
try {
  const Database = require(workerData.driver);
  const db = new Database(workerData.file, { fileMustExist: true });
  try {
    let integrity;
    try {
      const rows = db.prepare(workerData.sql.integrity).all();
      integrity = { messages: rows.map((r) => String(Object.values(r)[0])).filter((m) => m !== 'ok') };
    } catch (err) {
      integrity = { error: String(err && err.message || err) };
    }
    let fulltext = { error: null };
    // As in verify: the full-text check only means something on a catalog that reads.
    if (!('error' in integrity) && integrity.messages.length === 0) {
      try {
        db.prepare(workerData.sql.fulltext).run();
      } catch (err) {
        fulltext = { error: String(err && err.message || err) };
      }
    }
    out = { integrity, fulltext };
  } finally {
    db.close();
  }
} catch (err) {
  out = { failed: String(err && err.message || err) };
}
parentPort.postMessage(out);
`;

/**
 * Starts the deep catalog checks of `file` on a worker thread. Resolves with their outcomes, or
 * null when they could not be run there (the caller's verify then runs them itself).
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
