// `lifeline verify`: what is intact, what is not, and what can be rebuilt (DESIGN.md
// invariants 1–6). Fast mode reads sizes and headers, checks every b-tree page of the catalog
// (fastCatalogCheck: quick_check per table and page accounting) and compares counts; deep mode
// re-hashes every file, runs integrity_check, loads each segment and searches stored vectors
// for themselves, and cross-checks chunks, vectors and the full-text index entry by entry.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import { isTempName } from '../store/atomic.js';
import { leftoverFolders } from '../store/sweep.js';
import { sha256File } from '../util/hash.js';
import { annKey, loadAnn, loadSegment, readSegmentHeader, readSegmentRows, type FaissIndex } from '../vectors/segments.js';
import { parseGoldenSet } from '../golden/validate.js';

export type Severity = 'error' | 'warning';
/** What fixes a problem: `rebuild` (derived data, `lifeline repair`), `restore` (from a backup), `reembed`, `sweep`, `resume`, `none`. */
export type RepairKind = 'rebuild' | 'restore' | 'reembed' | 'sweep' | 'resume' | 'none';

export interface Problem {
  code: string;
  severity: Severity;
  /** Relative to the data root. */
  path: string;
  message: string;
  repair: RepairKind;
  /** The knowledge base concerned, when there is one. */
  kb?: string;
}

export interface VerifyReport {
  ok: boolean;
  deep: boolean;
  checked: {
    knowledgeBases: number;
    documents: number;
    chunks: number;
    segments: number;
    approximateIndexes: number;
    blobsHashed: number;
    bytesHashed: number;
    vectorsSelfSearched: number;
  };
  problems: Problem[];
  durationMs: number;
}

export interface EmbedderCheck {
  /** Problems of GGUF embedders recorded by knowledge bases (missing or changed model files). */
  (): Promise<Problem[]>;
}

const SELF_SEARCH_SAMPLE = 64;

export interface VerifyOptions {
  deep: boolean;
  embedders?: EmbedderCheck;
  skipCatalogCheck?: boolean;
  /**
   * Files whose sha256 the caller has itself just computed from their bytes (a restore decrypts
   * and hashes every file it writes into staging): relative path → sha256. Deep mode does not
   * read them again to hash them; a path whose recorded hash differs is hashed as usual.
   */
  knownHashes?: ReadonlyMap<string, string>;
  /**
   * The outcome of {@link DEEP_CATALOG_CHECKS} run by the caller on this very catalog file (a
   * restore runs it on another thread while it decrypts the other files); deep mode uses it
   * instead of running that whole-catalog check again.
   */
  deepCatalogResults?: DeepCatalogResults;
  /**
   * Deep mode puts every sound approximate index it loads here (key: annKey(file, sha256)), for
   * a caller that will load the very same files next (a restore, once the verified files are swapped in).
   */
  loadedAnn?: Map<string, FaissIndex>;
  /**
   * FAISS indexes the caller has already read from these very files (relative path → index): a
   * restore reads each segment and approximate index as it lands in staging, its sha256 proven
   * by the decryption (so it is also in knownHashes). Deep mode uses them instead of reading the
   * files again; a file whose recorded sha256 differs from knownHashes is loaded as usual.
   */
  preloaded?: ReadonlyMap<string, FaissIndex>;
}

/**
 * The deep check that reads the whole catalog and costs the most (~1 s at 100k chunks), run by a
 * restore on another thread: FTS5's check of the full-text index, its structure and every entry
 * against the chunks' text. (The structural check, catalogIntegrityCheck, stays in verify.)
 */
export const DEEP_CATALOG_CHECKS = {
  fulltext: "INSERT INTO chunk_fts(chunk_fts, rank) VALUES ('integrity-check', 1)",
  /** The page cache the check runs with (KiB, negative as SQLite takes it): see runFulltextCheck. */
  cacheSize: -262144,
} as const;

/**
 * Runs the full-text check with a page cache the size of the catalog (at most 256 MB, filled only
 * as pages are read, given back after): with the default 2 MB cache it reads index pages again
 * and again, each a system call (116k for 100k chunks; ~0.25 s of a ~1.2 s check).
 */
export function runFulltextCheck(db: Db): void {
  const before = db.pragma('cache_size', { simple: true }) as number;
  db.pragma(`cache_size = ${DEEP_CATALOG_CHECKS.cacheSize}`);
  try {
    db.prepare(DEEP_CATALOG_CHECKS.fulltext).run();
  } finally {
    db.pragma(`cache_size = ${before}`);
  }
}

/** What {@link DEEP_CATALOG_CHECKS} gave: the full-text check's error (null: consistent). */
export interface DeepCatalogResults {
  fulltext: { error: string | null };
  /**
   * What catalogIntegrityCheck found on this very file ([] when sound), when the caller has run it
   * (a restore, as soon as the catalog lands in staging); deep mode then does not run it again.
   */
  structure?: string[];
}

export async function verifyDataRoot(db: Db, layout: DataRootLayout, options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const problems: Problem[] = [];
  const checked: VerifyReport['checked'] = { knowledgeBases: 0, documents: 0, chunks: 0, segments: 0, approximateIndexes: 0, blobsHashed: 0, bytesHashed: 0, vectorsSelfSearched: 0 };
  const rel = (p: string) => path.relative(layout.root, p).split(path.sep).join('/');

  // 1. The catalog: the one thing that cannot be rebuilt. Deep: integrity_check (catalogIntegrityCheck). Fast:
  // every b-tree page read and checked, and every page accounted for (fastCatalogCheck).
  let catalogOk = true;
  if (!options.skipCatalogCheck) try {
    const msgs = options.deep ? (options.deepCatalogResults?.structure ?? catalogIntegrityCheck(db, layout.catalog)) : fastCatalogCheck(db, layout.catalog);
    if (msgs.length) {
      catalogOk = false;
      problems.push({ code: 'catalog-corrupt', severity: 'error', path: 'catalog.sqlite', message: msgs.slice(0, 3).join('; '), repair: 'restore' });
    }
  } catch (err) {
    catalogOk = false;
    problems.push({ code: 'catalog-corrupt', severity: 'error', path: 'catalog.sqlite', message: (err as Error).message, repair: 'restore' });
  }
  if (!catalogOk) return finish();

  const kbs = db.prepare('SELECT id, name FROM kb WHERE deleted_at IS NULL').all() as { id: number; name: string }[];
  const kbName = new Map(kbs.map((k) => [k.id, k.name]));
  checked.knowledgeBases = kbs.length;

  // 2. Original documents: sizes (fast) or hashes (deep). Originals cannot be rebuilt.
  const docs = db.prepare('SELECT d.name, d.kb_id, d.blob_sha256, d.size FROM document d JOIN kb k ON k.id = d.kb_id').all() as { name: string; kb_id: number; blob_sha256: string; size: number }[];
  checked.documents = docs.length;
  const seenBlob = new Set<string>();
  for (const d of docs) {
    const p = path.join(layout.blobs, d.blob_sha256.slice(0, 2), d.blob_sha256);
    const where = rel(p);
    const kb = kbName.get(d.kb_id) ?? `(deleted kb ${d.kb_id})`;
    let size: number;
    try {
      size = fs.statSync(p).size;
    } catch {
      problems.push({ code: 'document-missing', severity: 'error', path: where, message: `the original of "${d.name}" (${kb}) is missing; it cannot be rebuilt`, repair: 'restore', kb });
      continue;
    }
    if (size !== d.size) {
      problems.push({ code: 'document-corrupt', severity: 'error', path: where, message: `the original of "${d.name}" (${kb}) has ${size} bytes, the catalog records ${d.size}`, repair: 'restore', kb });
      continue;
    }
    if (options.deep && !seenBlob.has(d.blob_sha256)) {
      seenBlob.add(d.blob_sha256);
      checked.blobsHashed++;
      checked.bytesHashed += size;
      if (options.knownHashes?.get(where) !== d.blob_sha256 && sha256File(p) !== d.blob_sha256) problems.push({ code: 'document-corrupt', severity: 'error', path: where, message: `the original of "${d.name}" (${kb}) does not match its sha256`, repair: 'restore', kb });
    }
  }

  // 3. Vector segments and their approximate indexes (derived: rebuildable).
  const segs = db.prepare('SELECT s.id, s.kb_id, s.file, s.sha256, s.bytes, s.dimension, s.vectors, s.ann_file, s.ann_sha256 FROM segment s').all() as {
    id: number;
    kb_id: number;
    file: string;
    sha256: string;
    bytes: number;
    dimension: number;
    vectors: number;
    ann_file: string | null;
    ann_sha256: string | null;
  }[];
  const dims = new Map((db.prepare('SELECT id, embedder_dim FROM kb').all() as { id: number; embedder_dim: number }[]).map((k) => [k.id, k.embedder_dim]));
  for (const s of segs) {
    checked.segments++;
    const kb = kbName.get(s.kb_id);
    if (kb === undefined) continue; // a deleted knowledge base is not searched
    const p = path.join(layout.root, s.file);
    const bad = (code: string, message: string) => problems.push({ code, severity: 'error', path: s.file, message: `${message} (knowledge base ${kb})`, repair: 'rebuild', kb });
    if (!fs.existsSync(p)) {
      bad('segment-missing', 'the vector segment is missing');
      continue;
    }
    const size = fs.statSync(p).size;
    try {
      const h = readSegmentHeader(layout.root, s.file);
      if (h.dimension !== s.dimension || h.vectors !== s.vectors || h.dimension !== dims.get(s.kb_id)) {
        bad('segment-mismatch', `the segment holds ${h.vectors}×${h.dimension}, the catalog records ${s.vectors}×${s.dimension}`);
        continue;
      }
    } catch (err) {
      bad('segment-corrupt', `the segment is damaged: ${(err as Error).message.replace(`${s.file}: `, '')}`);
      continue;
    }
    if (s.ann_file) {
      checked.approximateIndexes++;
      if (!fs.existsSync(path.join(layout.root, s.ann_file))) {
        problems.push({ code: 'ann-missing', severity: 'warning', path: s.ann_file, message: `the approximate index is missing; searches fall back to the exact segment (knowledge base ${kb})`, repair: 'rebuild', kb });
      }
    }
    if (!options.deep) continue;
    checked.bytesHashed += size;
    let loaded;
    try {
      const hashed = options.knownHashes?.get(s.file) === s.sha256;
      loaded = loadSegment(layout.root, s.file, s.sha256, { hashed, index: hashed ? options.preloaded?.get(s.file) : undefined });
    } catch (err) {
      bad('segment-corrupt', (err as Error).message.replace(`${s.file}: `, ''));
      continue;
    }
    const selfSearch = selfSearchFailures(loaded.index, (first, count) => readSegmentRows(layout.root, s.file, loaded.header, first, count), s.dimension, loaded.header.vectors, SELF_SEARCH_SAMPLE);
    checked.vectorsSelfSearched += selfSearch.tried;
    if (selfSearch.failed > 0) bad('segment-self-search', `${selfSearch.failed} of ${selfSearch.tried} sampled vectors did not find themselves first`);
    if (s.ann_file && s.ann_sha256 && fs.existsSync(path.join(layout.root, s.ann_file))) {
      checked.bytesHashed += fs.statSync(path.join(layout.root, s.ann_file)).size;
      const hashed = options.knownHashes?.get(s.ann_file) === s.ann_sha256;
      const ann = loadAnn(layout.root, s.ann_file, s.ann_sha256, s.vectors, { hashed, index: hashed ? options.preloaded?.get(s.ann_file) : undefined });
      if (ann) options.loadedAnn?.set(annKey(s.ann_file, s.ann_sha256), ann);
      else {
        problems.push({ code: 'ann-corrupt', severity: 'warning', path: s.ann_file, message: `the approximate index is damaged; searches fall back to the exact segment (knowledge base ${kb})`, repair: 'rebuild', kb });
      }
    }
  }

  // 4. Chunks, vectors and the full-text index agree; knowledge bases stay apart (invariant 6).
  checked.chunks = (db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
  // Fast mode compares counts (one indexed pass); deep mode pins down each chunk.
  const rowsLive = (db.prepare('SELECT count(*) AS n FROM segment_row r JOIN chunk c ON c.id = r.chunk_id').get() as { n: number }).n;
  if (!options.deep && rowsLive !== checked.chunks) {
    problems.push({ code: 'chunks-without-vectors', severity: 'error', path: 'catalog.sqlite', message: `${checked.chunks} chunks but ${rowsLive} live vector rows`, repair: 'rebuild' });
  }
  // The full-text index holds one row per chunk (its docsize table): a cheap count for fast mode;
  // deep mode checks every entry below.
  if (!options.deep) {
    const ftsRows = (db.prepare('SELECT count(*) AS n FROM chunk_fts_docsize').get() as { n: number }).n;
    if (ftsRows !== checked.chunks) problems.push({ code: 'fulltext-mismatch', severity: 'error', path: 'catalog.sqlite', message: `the full-text index holds ${ftsRows} chunks, the catalog ${checked.chunks}`, repair: 'rebuild' });
  }
  const noVector = !options.deep ? [] : db
    .prepare(
      `SELECT k.name AS kb, count(*) AS n FROM chunk c JOIN kb k ON k.id = c.kb_id
       WHERE k.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM segment_row r JOIN segment s ON s.id = r.segment_id WHERE r.chunk_id = c.id AND s.kb_id = c.kb_id)
       GROUP BY k.name`,
    )
    .all() as { kb: string; n: number }[];
  for (const r of noVector) problems.push({ code: 'chunks-without-vectors', severity: 'error', path: 'catalog.sqlite', message: `${r.n} chunks of knowledge base ${r.kb} have no vector and cannot be found by meaning`, repair: 'rebuild', kb: r.kb });
  const crossKb = !options.deep ? { n: 0 } : db
    .prepare(
      `SELECT count(*) AS n FROM segment_row r JOIN segment s ON s.id = r.segment_id JOIN chunk c ON c.id = r.chunk_id WHERE c.kb_id != s.kb_id`,
    )
    .get() as { n: number };
  const crossDoc = !options.deep ? { n: 0 } : db.prepare('SELECT count(*) AS n FROM chunk c JOIN document d ON d.id = c.document_id WHERE c.kb_id != d.kb_id').get() as { n: number };
  if (crossKb.n + crossDoc.n > 0) {
    problems.push({ code: 'isolation', severity: 'error', path: 'catalog.sqlite', message: `${crossKb.n + crossDoc.n} chunks are reachable from another knowledge base than their own`, repair: 'rebuild' });
  }
  if (options.deep) {
    let error = options.deepCatalogResults ? options.deepCatalogResults.fulltext.error : null;
    if (!options.deepCatalogResults) {
      try {
        runFulltextCheck(db);
      } catch (err) {
        error = (err as Error).message;
      }
    }
    if (error !== null) problems.push({ code: 'fulltext-mismatch', severity: 'error', path: 'catalog.sqlite', message: `the full-text index disagrees with the chunks: ${error}`, repair: 'rebuild' });
  }

  // 5. Leftovers and interrupted work.
  const temps = [...listTemp(layout), ...leftoverFolders(layout.root)];
  if (temps.length) problems.push({ code: 'leftover-files', severity: 'warning', path: temps[0]!, message: `${temps.length} temporary files or work folders of interrupted writes are left over`, repair: 'sweep' });
  const pending = (db.prepare("SELECT count(*) AS n FROM ingest_item WHERE state = 'pending'").get() as { n: number }).n;
  if (pending) problems.push({ code: 'interrupted-ingest', severity: 'warning', path: 'catalog.sqlite', message: `${pending} documents of an interrupted ingest are waiting`, repair: 'resume' });

  // 6. Golden sets and their baselines (written by the operator, backed up, not derivable).
  problems.push(...goldenProblems(layout.root));

  // 7. Embedding models recorded by knowledge bases (and the models folder's other checks).
  if (options.embedders) problems.push(...(await options.embedders()));
  return finish();

  function finish(): VerifyReport {
    return { ok: !problems.some((p) => p.severity === 'error'), deep: options.deep, checked, problems, durationMs: Date.now() - started };
  }
}

/** The messages of an integrity pragma other than "ok". */
function pragmaCheck(db: Db, pragma: string): string[] {
  return (db.pragma(pragma) as Record<string, string>[]).map((r) => String(Object.values(r)[0])).filter((m) => m !== 'ok');
}

/** The page of the SQLite lock byte (at 1 GiB), in no b-tree and not on the freelist; 0 when the file is smaller. */
function lockBytePage(pageSize: number, pageCount: number): number {
  const PENDING_BYTE = 0x40000000;
  return pageCount > PENDING_BYTE / pageSize ? PENDING_BYTE / pageSize + 1 : 0;
}

/** `PRAGMA <pragma>(<table>)` (quick_check or integrity_check) on every table and the schema; each problem named by its table. */
function perTableCheck(db: Db, pragma: 'quick_check' | 'integrity_check'): string[] {
  const out: string[] = [];
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%'").pluck().all() as string[];
  for (const name of ['sqlite_schema', ...tables]) {
    for (const m of pragmaCheck(db, `${pragma}("${name.replace(/"/g, '""')}")`)) out.push(`PRAGMA ${pragma}(${name}): ${m.replace(/^\*\*\* in database main \*\*\*\n/, '').replace(/\n/g, '; ')}`);
  }
  return out;
}

/**
 * The catalog's deep structural check: what `PRAGMA integrity_check` checks, but without its pass
 * over the FTS5 index (the virtual table's xIntegrity, ~0.7 s at 100k chunks), which deep mode
 * runs anyway as part of its full-text check (DEEP_CATALOG_CHECKS: the same index check, plus
 * every entry against the chunks' text). It checks:
 * - every table with its indexes, and the schema, with `PRAGMA integrity_check(<table>)`: every
 *   page, cell and overflow chain, keys in order, index entries against their rows, NOT NULL,
 *   CHECK and UNIQUE; with the schema (root page 1), SQLite also checks the freelist's structure;
 * - what integrity_check checks only when given no table: every page used exactly once — by one
 *   b-tree (dbstat walks each from its root) or by the freelist (walked here from the file's
 *   header) — and none never used.
 * A catalog with frames in its WAL (see mainFileCurrent) or with auto-vacuum
 * (pointer-map pages), or a SQLite without dbstat, gets `PRAGMA integrity_check` itself.
 * Returns problems found ([] when sound); a catalog that cannot be read throws.
 */
export function catalogIntegrityCheck(db: Db, file: string): string[] {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  let pages: { iterate(): IterableIterator<unknown> } | null = null;
  try {
    pages = db.prepare('SELECT name, pageno FROM dbstat');
  } catch {
    // SQLite built without dbstat: no page accounting here
  }
  if (!pages || !mainFileCurrent(file) || db.pragma('auto_vacuum', { simple: true }) !== 0) return pragmaCheck(db, 'integrity_check').map((m) => `PRAGMA integrity_check: ${m}`);
  const out = perTableCheck(db, 'integrity_check');
  if (out.length > 0) return out;
  // Every page: in which b-tree (dbstat walks each from its root, overflow pages included), or free.
  const owner: (string | undefined)[] = new Array(pageCount + 1);
  const MAX = 20;
  const note = (m: string) => {
    if (out.length < MAX) out.push(m);
  };
  for (const r of pages.iterate() as Iterable<{ name: string; pageno: number }>) {
    if (r.pageno < 1 || r.pageno > pageCount) note(`page ${r.pageno} of ${r.name} is past the end of the file (${pageCount} pages)`);
    else if (owner[r.pageno] !== undefined) note(`page ${r.pageno} is used twice (${owner[r.pageno]} and ${r.name})`);
    else owner[r.pageno] = r.name;
  }
  const lockPage = lockBytePage(pageSize, pageCount);
  if (lockPage) owner[lockPage] = '(the lock-byte page)';
  const free = freelistProblems(file, pageSize, pageCount, owner);
  for (const m of free) note(m);
  // (A broken freelist leaves its other pages unmarked: "never used" would only repeat it.)
  if (free.length === 0) for (let p = 1; p <= pageCount && out.length < MAX; p++) if (owner[p] === undefined) note(`page ${p} is never used`);
  return out;
}

/**
 * True when every committed page is in the catalog file itself (its freelist is read from there):
 * no WAL file, or an empty one. Verify does not checkpoint to get there: it writes nothing to the
 * catalog (on a full disk a checkpoint can take the last free blocks). A caller that owns the
 * catalog checkpoints it first (the restore's staged verify does).
 */
function mainFileCurrent(file: string): boolean {
  try {
    return fs.statSync(`${file}-wal`).size === 0;
  } catch {
    return true; // no WAL file
  }
}

/**
 * Walks the freelist from the file's header (first trunk page at byte 32, page total at 36), as
 * SQLite's integrity_check does, marking each page in `owner`; returns what is wrong with it
 * (SQLite's own check of the schema has usually said so first).
 */
function freelistProblems(file: string, pageSize: number, pageCount: number, owner: (string | undefined)[]): string[] {
  const out: string[] = [];
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(100);
    fs.readSync(fd, header, 0, 100, 0);
    const usable = pageSize - header[20]!;
    const expected = header.readUInt32BE(36);
    const page = Buffer.alloc(pageSize);
    let found = 0;
    let trunk = header.readUInt32BE(32);
    const take = (p: number, what: string): boolean => {
      if (p < 2 || p > pageCount) {
        out.push(`the freelist names page ${p} (${what}), outside the file's ${pageCount} pages`);
        return false;
      }
      if (owner[p] !== undefined) {
        out.push(`page ${p} is used twice (${owner[p]} and the freelist)`);
        return false;
      }
      owner[p] = '(freelist)';
      found++;
      return true;
    };
    while (trunk !== 0) {
      if (!take(trunk, 'a trunk page')) break;
      if (fs.readSync(fd, page, 0, pageSize, (trunk - 1) * pageSize) !== pageSize) {
        out.push(`freelist trunk page ${trunk} cannot be read in full`);
        break;
      }
      const leaves = page.readUInt32BE(4);
      if (leaves > usable / 4 - 2) {
        out.push(`freelist trunk page ${trunk} lists ${leaves} leaf pages; at most ${usable / 4 - 2} fit`);
        break;
      }
      for (let i = 0; i < leaves; i++) take(page.readUInt32BE(8 + 4 * i), `a leaf of trunk page ${trunk}`);
      trunk = page.readUInt32BE(0);
    }
    if (found !== expected && out.length === 0) out.push(`the freelist holds ${found} pages; the file's header counts ${expected}`);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/**
 * The catalog's fast check: what `PRAGMA quick_check` checks, minus the FTS5 index's own
 * consistency check (which quick_check runs since SQLite 3.44: ~700 of its ~800 ms at 100k chunks)
 * and the walk of the freelist's trunk pages. It checks:
 * - the file: a whole number of pages, and (no WAL frames pending) as many as the header counts;
 * - every b-tree (each table and its indexes, the full-text index's shadow tables included, the
 *   schema) with `PRAGMA quick_check(<table>)`: every page read, cell and page structure, keys in
 *   order, NOT NULL;
 * - page accounting (dbstat): the b-trees' pages plus the freelist count make the page count,
 *   so no page is lost or used twice.
 * Not checked here (deep mode's integrity_check does): index entries against their rows, UNIQUE,
 * the FTS5 index's structure and content (the index is derived: `repair` rebuilds it), and the
 * freelist's pages themselves.
 */
export function fastCatalogCheck(db: Db, file: string): string[] {
  const out: string[] = [];
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  const freelist = db.pragma('freelist_count', { simple: true }) as number;
  const size = fs.statSync(file).size;
  if (size % pageSize !== 0) out.push(`the file is ${size} bytes, not a whole number of ${pageSize}-byte pages`);
  else if (mainFileCurrent(file) && size < pageCount * pageSize) out.push(`the file holds ${size / pageSize} pages, its header counts ${pageCount} (truncated)`);
  out.push(...perTableCheck(db, 'quick_check'));
  if (out.length === 0 && db.pragma('auto_vacuum', { simple: true }) === 0) {
    let inTrees: number | null = null;
    try {
      inTrees = (db.prepare('SELECT coalesce(sum(pageno), 0) AS n FROM dbstat WHERE aggregate = TRUE').get() as { n: number }).n;
    } catch {
      // SQLite built without dbstat: no page accounting
    }
    const lockPage = lockBytePage(pageSize, pageCount) ? 1 : 0;
    if (inTrees !== null && inTrees + freelist + lockPage !== pageCount) {
      out.push(`page accounting: ${pageCount} pages, but the tables and indexes use ${inTrees} and the freelist counts ${freelist}`);
    }
  }
  return out;
}

/**
 * Stored vectors searched for themselves: the top hit must score as high as the vector itself.
 * The sampled vectors are read straight from the segment file (a few rows, not the whole matrix)
 * and searched in one batch (FAISS scans the segment once for all of them, not once each).
 */
function selfSearchFailures(index: { search(x: number[], k: number): { distances: number[]; labels: number[] } }, readRows: (first: number, count: number) => Float32Array, dim: number, n: number, sample: number): { tried: number; failed: number } {
  const step = Math.max(1, Math.floor(n / sample));
  let tried = 0;
  let failed = 0;
  const rows: number[] = [];
  const selfScores: number[] = [];
  const queries: number[] = [];
  for (let i = 0; i < n; i += step) {
    const v = readRows(i, 1);
    let self = 0;
    for (let j = 0; j < dim; j++) self += v[j]! * v[j]!;
    tried++;
    if (!Number.isFinite(self)) {
      failed++;
      continue;
    }
    rows.push(i);
    selfScores.push(self);
    for (let j = 0; j < dim; j++) queries.push(v[j]!);
  }
  if (rows.length === 0) return { tried, failed };
  const r = index.search(queries, 1);
  for (const [q, i] of rows.entries()) {
    // Identical vectors (duplicate chunks) may win the tie: compare scores, not labels.
    const self = selfScores[q]!;
    if (r.labels[q] !== i && !(Math.abs(r.distances[q]! - self) <= 1e-4 * Math.max(1, self))) failed++;
  }
  return { tried, failed };
}

/**
 * golden/: every set must read and validate (what `golden run` needs), every baseline and last run
 * must be a JSON object. Sets are edited by people and carry no checksum, so a change that still
 * validates (a flipped byte inside a question's text) cannot be told from an edit.
 */
export function goldenProblems(root: string): Problem[] {
  const dir = path.join(root, 'golden');
  const out: Problem[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return out;
    out.push({ code: 'golden-set-damaged', severity: 'warning', path: 'golden', message: `the golden-questions folder cannot be read (${code === 'ENOTDIR' ? 'it is not a folder' : (err as Error).message}); golden runs cannot start`, repair: 'restore' });
    return out;
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.startsWith('.') || isTempName(name)) continue;
    const rel = `golden/${name}`;
    const record = name.endsWith('.baseline.json') ? 'baseline' : name.endsWith('.last-run.json') ? 'last-run' : null;
    const kb = name.slice(0, -(record ? `.${record}.json` : '.json').length);
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EISDIR' ? 'it is a folder, not a file' : e.message;
      out.push(goldenProblem(rel, kb, record, `cannot be read (${why})`));
      continue;
    }
    if (record) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        out.push(goldenProblem(rel, kb, record, `not valid JSON (${(err as Error).message})`));
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) out.push(goldenProblem(rel, kb, record, 'not a golden run Lifeline wrote'));
      continue;
    }
    try {
      const set = parseGoldenSet(text, rel);
      if (set.kb !== kb) out.push(goldenProblem(rel, kb, null, `written for knowledge base "${set.kb}"`));
    } catch (err) {
      out.push(goldenProblem(rel, kb, null, (err as Error).message.replace(`${rel}: `, '')));
    }
  }
  return out;
}

function goldenProblem(rel: string, kb: string, record: 'baseline' | 'last-run' | null, what: string): Problem {
  if (record === 'last-run') {
    return { code: 'golden-run-damaged', severity: 'warning', path: rel, message: `${rel}: ${what}; the last golden run of ${kb} is lost — the next \`lifeline golden run --kb ${kb}\` rewrites it (or delete the file)`, repair: 'none' };
  }
  if (record === 'baseline') {
    return { code: 'golden-baseline-damaged', severity: 'warning', path: rel, message: `${rel}: ${what}; golden runs of ${kb} have no baseline to compare with — restore it from a backup, or record it again (\`lifeline golden baseline --kb ${kb}\`) once the answers are known to be good`, repair: 'restore' };
  }
  return { code: 'golden-set-damaged', severity: 'warning', path: rel, message: `${rel}: ${what}; the golden questions of ${kb} cannot run — restore the file from a backup, or save the set again in the console`, repair: 'restore' };
}

function listTemp(layout: DataRootLayout): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && depth < 3) walk(path.join(dir, e.name), depth + 1);
      else if (isTempName(e.name)) out.push(path.relative(layout.root, path.join(dir, e.name)));
    }
  };
  walk(layout.root, 0);
  return out;
}
