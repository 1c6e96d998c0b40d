// The catalog: the source of truth with the original documents (DESIGN.md invariant 1).
// SQLite in WAL mode with synchronous=FULL and foreign keys on. Paths stored here are always
// relative to the data root (invariant 7).
import fs from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  // 1: knowledge bases, documents, chunks, full-text index, vector segments, jobs.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE kb (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    embedder_id TEXT NOT NULL,
    embedder_version TEXT NOT NULL,
    embedder_dim INTEGER NOT NULL,
    embedder_norm TEXT NOT NULL,
    deleted_at TEXT
  );
  -- Names are unique among live knowledge bases; a deleted one keeps its name until purged.
  CREATE UNIQUE INDEX kb_live_name ON kb(name) WHERE deleted_at IS NULL;
  -- AUTOINCREMENT everywhere an id is referenced from outside its row: a deleted chunk's id
  -- stays a tombstone in its segment until compaction and must never be reused.
  CREATE TABLE document (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kb_id INTEGER NOT NULL REFERENCES kb(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    format TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    UNIQUE (kb_id, name)
  );
  CREATE TABLE chunk (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kb_id INTEGER NOT NULL REFERENCES kb(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES document(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading TEXT NOT NULL DEFAULT '',
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    line_start INTEGER,
    line_end INTEGER,
    page INTEGER,
    row INTEGER
  );
  CREATE INDEX chunk_document ON chunk(document_id);
  CREATE INDEX chunk_kb ON chunk(kb_id);
  CREATE VIRTUAL TABLE chunk_fts USING fts5(text, content='chunk', content_rowid='id', tokenize='trigram');
  CREATE TRIGGER chunk_ai AFTER INSERT ON chunk BEGIN
    INSERT INTO chunk_fts(rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER chunk_ad AFTER DELETE ON chunk BEGIN
    INSERT INTO chunk_fts(chunk_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TABLE segment (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kb_id INTEGER NOT NULL REFERENCES kb(id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    dimension INTEGER NOT NULL,
    vectors INTEGER NOT NULL,
    metric TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE segment_row (
    segment_id INTEGER NOT NULL REFERENCES segment(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    chunk_id INTEGER NOT NULL,
    PRIMARY KEY (segment_id, row)
  ) WITHOUT ROWID;
  CREATE INDEX segment_row_chunk ON segment_row(chunk_id);
  CREATE TABLE job (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    progress TEXT NOT NULL DEFAULT '{}',
    error TEXT
  );
  -- Files staged for ingestion (their bytes already in the blob store). A crash leaves pending
  -- items, which the next start resumes; finished documents are not redone.
  CREATE TABLE ingest_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    kb_id INTEGER NOT NULL REFERENCES kb(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    error TEXT
  );
  CREATE INDEX ingest_item_job ON ingest_item(job_id, state);
  `,
  // 2: document frequencies of the full-text index's trigrams, so queries can skip the
  // trigrams that nearly every chunk contains.
  `
  CREATE VIRTUAL TABLE chunk_fts_vocab USING fts5vocab('chunk_fts', 'row');
  `,
  // 3: an approximate (IVF) index beside a large flat segment: derived, rebuildable.
  `
  ALTER TABLE segment ADD COLUMN ann_file TEXT;
  ALTER TABLE segment ADD COLUMN ann_sha256 TEXT;
  ALTER TABLE segment ADD COLUMN ann_params TEXT;
  `,
  // 4: verify runs, for the Health screen's trend and the metrics.
  `
  CREATE TABLE verify_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    deep INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    report TEXT NOT NULL
  );
  `,
  // 5: recovery wizard runs (resumable) and the audit log of every action.
  `
  CREATE TABLE wizard_run (
    id TEXT PRIMARY KEY,
    operator TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL
  );
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    run_id TEXT,
    step TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    ok INTEGER NOT NULL
  );
  `,
  // 6: drill results, for the Drills screen's history and trends.
  `
  CREATE TABLE drill_run (
    id TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    started_at TEXT NOT NULL,
    result TEXT NOT NULL
  );
  `,
];

/** `scratch`: a copy nothing relies on until its whole folder is flushed (see OpenOptions.scratch): written without fsyncs. */
export function openCatalog(file: string, options: { readonly?: boolean; scratch?: boolean } = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw catalogError(file, err);
  }
  try {
    // Set first: switching a rollback-journal file (a copy) to WAL is itself a write.
    db.pragma(options.scratch ? 'synchronous = OFF' : 'synchronous = FULL');
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) migrate(db);
  } catch (err) {
    db.close();
    const e = catalogError(file, err);
    throw e instanceof CatalogError ? e : new Error(`${file}: ${(err as Error).message}`);
  }
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** What is wrong with the catalog file itself (the `code` of a CatalogError and of verify's problem). */
export type CatalogProblemCode = 'catalog-corrupt' | 'catalog-unreadable' | 'catalog-read-only';

/**
 * The catalog cannot be opened or read: it is the source of truth and cannot be rebuilt. The
 * message names the file, the problem and what to do (`lifeline verify` reports it as a problem).
 */
export class CatalogError extends Error {
  constructor(
    readonly code: CatalogProblemCode,
    readonly file: string,
    readonly detail: string,
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** The catalog's content is damaged (not a database, a malformed page). */
export class CatalogDamagedError extends CatalogError {
  constructor(file: string, detail: string) {
    super('catalog-corrupt', file, detail, `${file}: the catalog is damaged (${detail}); it cannot be rebuilt — restore it from a backup`);
    this.name = 'CatalogDamagedError';
  }
}

/**
 * A SQLite error met while opening or using the catalog `file`, as a CatalogError that names the
 * file and the problem: damaged content (SQLITE_CORRUPT, SQLITE_NOTADB), a file that cannot be
 * opened (a folder in its place, no permission: SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH), a
 * read-only file or mount (SQLITE_READONLY), a disk that fails to read (SQLITE_IOERR). Any other
 * SQLite error gets the file's name in front; errors that are not SQLite's are returned as they are.
 */
export function catalogError(file: string, err: unknown): unknown {
  if (err instanceof CatalogError) return err;
  const e = err as Error & { code?: unknown };
  if (!(err instanceof Error) || typeof e.code !== 'string' || !e.code.startsWith('SQLITE_')) return err;
  const code = e.code;
  const detail = e.message;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return new CatalogDamagedError(file, detail);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    let what = 'it cannot be opened';
    try {
      if (fs.statSync(file).isDirectory()) what = 'a folder is where the catalog file should be';
    } catch {
      // missing or not reachable: SQLite's own detail says it
    }
    return new CatalogError('catalog-unreadable', file, detail, `${file}: the catalog cannot be opened (${detail}): ${what}; it cannot be rebuilt — put the file back or restore it from a backup`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new CatalogError('catalog-read-only', file, detail, `${file}: the catalog is read-only (${detail}): check the file's permissions and its mount (a disk is remounted read-only after I/O errors); if the disk is failing, restore from a backup onto another disk`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new CatalogError('catalog-unreadable', file, detail, `${file}: the disk failed while reading or writing the catalog (${detail}): check the disk (kernel log, RAID state); if it is failing, restore from a backup onto another disk`);
  }
  const named = new Error(`${file}: ${detail}`, { cause: err });
  (named as Error & { code?: string }).code = code;
  return named;
}

export function getMeta(db: Db, key: string): string | null {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

export function nowIso(): string {
  return new Date().toISOString();
}
