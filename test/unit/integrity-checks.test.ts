// The pieces of `lifeline verify` that look at one file each: the catalog's SQLite errors named,
// the golden sets, the models cache; and a failed start-up that lets go of the data root.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { DEEP_CATALOG_CHECKS, catalogIntegrityCheck, fastCatalogCheck, goldenProblems } from '../../electron/core/integrity/verify.js';
import { MODELS_CACHE_FILE, modelsCacheProblem } from '../../electron/core/models/registry.js';
import { CatalogDamagedError, CatalogError, catalogError, openCatalog } from '../../electron/core/store/catalog.js';
import { tempDir } from '../helpers/env.js';

let cleanup = () => {};
afterEach(() => cleanup());
function dir(): string {
  const t = tempDir('lifeline-checks-');
  cleanup = t.cleanup;
  return t.dir;
}

const SET = { kb: 'demo', version: 1, questions: [{ id: 'q1', question: '如何请假？', expectedSources: ['请假制度.md'], mustContain: [], tags: ['policy'], maxLatencyMs: 5000 }] };

describe('catalog errors name the file and the problem', () => {
  const sqliteError = (code: string, message: string) => new Database.SqliteError(message, code);

  it('maps SQLite codes to catalog-corrupt, catalog-unreadable and catalog-read-only', () => {
    const file = '/data/catalog.sqlite';
    const corrupt = catalogError(file, sqliteError('SQLITE_CORRUPT', 'database disk image is malformed'));
    expect(corrupt).toBeInstanceOf(CatalogDamagedError);
    expect(corrupt).toMatchObject({ code: 'catalog-corrupt', file });
    expect((corrupt as Error).message).toMatch(/^\/data\/catalog\.sqlite: the catalog is damaged \(database disk image is malformed\).*restore/);
    expect(catalogError(file, sqliteError('SQLITE_NOTADB', 'file is not a database'))).toMatchObject({ code: 'catalog-corrupt' });
    expect(catalogError(file, sqliteError('SQLITE_CANTOPEN', 'unable to open database file'))).toMatchObject({ code: 'catalog-unreadable' });
    const ro = catalogError(file, sqliteError('SQLITE_READONLY', 'attempt to write a readonly database')) as CatalogError;
    expect(ro).toMatchObject({ code: 'catalog-read-only' });
    expect(ro.message).toContain(file);
    expect(catalogError(file, sqliteError('SQLITE_IOERR_READ', 'disk I/O error'))).toMatchObject({ code: 'catalog-unreadable' });
    // Other SQLite errors keep their code and get the file's name; other errors are left alone.
    const full = catalogError(file, sqliteError('SQLITE_FULL', 'database or disk is full')) as Error & { code: string };
    expect(full).not.toBeInstanceOf(CatalogError);
    expect(full).toMatchObject({ code: 'SQLITE_FULL', message: `${file}: database or disk is full` });
    const plain = new Error('ENOSPC');
    expect(catalogError(file, plain)).toBe(plain);
  });

  it('openCatalog on a folder says a folder is where the catalog should be', () => {
    const file = path.join(dir(), 'catalog.sqlite');
    fs.mkdirSync(file);
    let err: unknown;
    try {
      openCatalog(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CatalogError);
    expect(err).toMatchObject({ code: 'catalog-unreadable', file });
    expect((err as Error).message).toContain('a folder is where the catalog file should be');
  });
});

/** A catalog with a few thousand chunks (and their full-text index), checkpointed into one file. */
function catalogFile(): { file: string; bytes: Buffer; pageSize: number } {
  const file = path.join(dir(), 'catalog.sqlite');
  const db = openCatalog(file);
  db.prepare("INSERT INTO kb(name, created_at, embedder_id, embedder_version, embedder_dim, embedder_norm) VALUES ('k', '', 'hash', '1', 8, 'l2')").run();
  db.prepare("INSERT INTO document(kb_id, name, blob_sha256, size, format, ingested_at) VALUES (1, 'd', 'x', 1, 'md', '')").run();
  const ins = db.prepare('INSERT INTO chunk(kb_id, document_id, ordinal, text, char_start, char_end) VALUES (1, 1, ?, ?, 0, 1)');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) ins.run(i, `第${i}号规程：值班人员应检查${i % 97}号机柜 rack ${i} reading ${i * 7}`);
  })();
  db.prepare('DELETE FROM chunk WHERE ordinal % 3 = 0').run(); // some free pages
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  return { file, bytes: fs.readFileSync(file), pageSize };
}
const check = (file: string, bytes: Buffer) => {
  for (const x of ['-wal', '-shm']) fs.rmSync(file + x, { force: true });
  fs.writeFileSync(file, bytes);
  const db = new Database(file, { readonly: true });
  try {
    return fastCatalogCheck(db, file);
  } catch (err) {
    return [`threw: ${(err as Error).message}`];
  } finally {
    db.close();
  }
};

describe("the catalog's fast check", () => {
  it('passes a sound catalog, and finds a damaged page header, a lost page and a truncated file', () => {
    const { file, bytes, pageSize } = catalogFile();
    expect(check(file, bytes)).toEqual([]);
    const pages = bytes.length / pageSize;
    // A b-tree page's type byte (page 2: a table of the schema).
    const flipped = Buffer.from(bytes);
    flipped[pageSize]! ^= 0x5a;
    expect(check(file, flipped).join('; ')).toMatch(/quick_check|malformed/);
    // One page more than any b-tree or the freelist accounts for.
    const orphan = Buffer.concat([bytes, Buffer.alloc(pageSize)]);
    orphan.writeUInt32BE(pages + 1, 28);
    expect(check(file, orphan).join('; ')).toMatch(/page accounting|never used/);
    // The freelist count in the header off by one.
    const freelist = Buffer.from(bytes);
    freelist.writeUInt32BE(freelist.readUInt32BE(36) + 1, 36);
    expect(check(file, freelist)).not.toEqual([]);
    // The last pages cut off.
    expect(check(file, bytes.subarray(0, (pages - 3) * pageSize))).not.toEqual([]);
    expect(check(file, bytes.subarray(0, bytes.length - 100))).not.toEqual([]);
  });
});

describe("the catalog's deep check", () => {
  const FULLTEXT = DEEP_CATALOG_CHECKS.fulltext;
  /** Deep verify's two catalog checks (structure, then full text), and SQLite's own integrity_check; each "damaged" or not. */
  const verdicts = (file: string, bytes: Buffer) => {
    for (const x of ['-wal', '-shm']) fs.rmSync(file + x, { force: true });
    fs.writeFileSync(file, bytes);
    const db = new Database(file); // the full-text check is an INSERT command: not on a read-only connection
    const damaged = (f: () => unknown[] | void) => {
      try {
        const r = f();
        return Array.isArray(r) && r.length > 0;
      } catch {
        return true;
      }
    };
    try {
      let messages: string[];
      try {
        messages = catalogIntegrityCheck(db, file);
      } catch (err) {
        messages = [`threw: ${(err as Error).message}`];
      }
      const ours = messages.length > 0 || damaged(() => void db.prepare(FULLTEXT).run());
      const sqlite = damaged(() => (db.pragma('integrity_check') as { integrity_check: string }[]).filter((r) => r.integrity_check !== 'ok'));
      return { ours, sqlite, messages };
    } finally {
      db.close();
    }
  };

  it('finds whatever PRAGMA integrity_check finds, on pages damaged at random', () => {
    const { file, bytes, pageSize } = catalogFile();
    expect(verdicts(file, bytes)).toMatchObject({ ours: false, sqlite: false });
    const pages = bytes.length / pageSize;
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let bothFound = 0;
    const missed: string[] = [];
    for (let trial = 0; trial < 200; trial++) {
      const b = Buffer.from(bytes);
      const page = 1 + rand(pages - 1); // not the file header's page
      // Half the time a page's header or cell pointers (structure), else anywhere in the page.
      const at = page * pageSize + (trial % 2 === 0 ? rand(24) : rand(pageSize));
      b[at]! ^= 1 + rand(255);
      const v = verdicts(file, b);
      if (v.sqlite && !v.ours) missed.push(`byte ${at} (page ${page + 1})`);
      if (v.sqlite && v.ours) bothFound++;
    }
    expect(missed).toEqual([]);
    expect(bothFound).toBeGreaterThan(30); // the damage was real often enough to mean something
  });

  it('finds a damaged freelist and pages used twice or never, as integrity_check does', () => {
    const { file, bytes, pageSize } = catalogFile();
    const trunk = bytes.readUInt32BE(32);
    expect(trunk).toBeGreaterThan(0);
    expect(bytes.readUInt32BE(36)).toBeGreaterThan(1);
    const at = (trunk - 1) * pageSize;
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['the header counts one free page more', (b) => b.writeUInt32BE(b.readUInt32BE(36) + 1, 36), /Freelist: size is \d+ but should be \d+/],
      ['a trunk page lists more leaves than fit', (b) => b.writeUInt32BE(pageSize, at + 4), /freelist leaf count too big on page \d+/],
      ['a free leaf is page 2, a b-tree page', (b) => b.writeUInt32BE(2, at + 8), /page 2 is used twice/],
      ['a free leaf past the end of the file', (b) => b.writeUInt32BE(bytes.length / pageSize + 5, at + 8), /Freelist: invalid page number \d+/],
      ['the trunk chain loops back to itself', (b) => b.writeUInt32BE(trunk, at), /Freelist: 2nd reference to page \d+/],
      ['a page no b-tree or freelist holds', (b) => b.writeUInt32BE(b.readUInt32BE(36) - 1, 36) && b.writeUInt32BE(b.readUInt32BE(at + 4) - 1, at + 4), /page \d+ is never used/],
    ];
    for (const [what, damage, message] of cases) {
      const b = Buffer.from(bytes);
      damage(b);
      const v = verdicts(file, b);
      expect(v.sqlite, what).toBe(true);
      expect(v.ours, what).toBe(true);
      expect(v.messages.join('; '), what).toMatch(message);
    }
  });

  it('writes nothing to a catalog with WAL frames: it runs integrity_check whole there, and the freelist check once they are checkpointed', () => {
    const { file } = catalogFile();
    const db = openCatalog(file);
    db.prepare('DELETE FROM chunk WHERE ordinal % 5 = 1').run(); // frames in the WAL, not yet in the file
    const wal = fs.statSync(`${file}-wal`).size;
    expect(wal).toBeGreaterThan(0);
    const before = fs.readFileSync(file);
    // The file's freelist is not the current one (pages freed since are only in the WAL): read
    // from the file, it would give false alarms.
    expect(catalogIntegrityCheck(db, file)).toEqual([]);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.statSync(`${file}-wal`).size).toBe(wal);
    // Checkpointed by its owner, it is checked from the file, and is sound.
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(catalogIntegrityCheck(db, file)).toEqual([]);
    db.close();
  });
});

describe('a start-up that fails on the catalog', () => {
  it('closes it and releases the lock: the next open in the same process names the damaged catalog again', async () => {
    const root = path.join(dir(), 'data');
    const app = await openLifeline({ dataDir: root, shell: 'cli', seedDemo: false });
    await app.close();
    // Page 2 (a b-tree page of the schema's tables): the header still reads, the first write fails.
    const cat = path.join(root, 'catalog.sqlite');
    const b = fs.readFileSync(cat);
    b[4096]! ^= 0x5a;
    fs.writeFileSync(cat, b);
    for (const attempt of [1, 2]) {
      const err = await openLifeline({ dataDir: root, shell: 'cli', seedDemo: false }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `attempt ${attempt}`).toBeInstanceOf(CatalogDamagedError);
      expect((err as Error).message).toContain(cat);
      expect(fs.existsSync(path.join(root, 'lifeline.lock')), `attempt ${attempt}`).toBe(false);
    }
  });
});

describe('golden sets in verify', () => {
  function goldenRoot(files: Record<string, string | null>): string {
    const root = dir();
    fs.mkdirSync(path.join(root, 'golden'));
    for (const [name, text] of Object.entries(files)) {
      const f = path.join(root, 'golden', name);
      if (text === null) fs.mkdirSync(f);
      else fs.writeFileSync(f, text);
    }
    return root;
  }

  it('a sound set, baseline and last run, and no golden folder at all, are clean', () => {
    expect(goldenProblems(goldenRoot({ 'demo.json': JSON.stringify(SET), 'demo.baseline.json': '{"kb":"demo"}', 'demo.last-run.json': '{}' }))).toEqual([]);
    expect(goldenProblems(dir())).toEqual([]);
  });

  it('reports a truncated, garbage, invalid, misplaced or folder set, and damaged baselines and runs, each by path', () => {
    const text = JSON.stringify(SET);
    const root = goldenRoot({
      'a.json': text.slice(0, text.length / 2),
      'b.json': '\u0000\u0001garbage',
      'c.json': JSON.stringify({ ...SET, kb: 'c', questions: [{ id: 'q1' }] }),
      'd.json': text, // written for "demo"
      'e.json': null,
      'demo.baseline.json': '[1,2',
      'demo.last-run.json': '"a string"',
      '.f.json.tmp-1-abcd': 'a temp file is sweep\'s business',
      'notes.txt': 'not a golden file',
    });
    const problems = goldenProblems(root);
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['golden/a.json', 'golden-set-damaged'],
      ['golden/b.json', 'golden-set-damaged'],
      ['golden/c.json', 'golden-set-damaged'],
      ['golden/d.json', 'golden-set-damaged'],
      ['golden/demo.baseline.json', 'golden-baseline-damaged'],
      ['golden/demo.last-run.json', 'golden-run-damaged'],
      ['golden/e.json', 'golden-set-damaged'],
    ]);
    expect(problems.every((p) => p.severity === 'warning' && p.message.startsWith(p.path))).toBe(true);
    expect(problems.find((p) => p.path === 'golden/e.json')!.message).toContain('it is a folder');
    expect(problems.find((p) => p.path === 'golden/d.json')!.message).toContain('written for knowledge base "demo"');
    expect(problems.find((p) => p.path === 'golden/c.json')!.message).toContain('question must be a non-empty string');
  });

  it('a golden "folder" that is a file is reported', () => {
    const root = dir();
    fs.writeFileSync(path.join(root, 'golden'), 'x');
    expect(goldenProblems(root)).toMatchObject([{ path: 'golden', code: 'golden-set-damaged' }]);
  });
});

describe('the models cache in verify', () => {
  it('absent or a file (even a damaged one: it is rewritten) is fine; a folder is a problem', () => {
    const models = path.join(dir(), 'models');
    expect(modelsCacheProblem(models)).toBeNull(); // no models folder
    fs.mkdirSync(models);
    expect(modelsCacheProblem(models)).toBeNull();
    fs.writeFileSync(path.join(models, MODELS_CACHE_FILE), 'garbage');
    expect(modelsCacheProblem(models)).toBeNull();
    fs.rmSync(path.join(models, MODELS_CACHE_FILE));
    fs.mkdirSync(path.join(models, MODELS_CACHE_FILE));
    expect(modelsCacheProblem(models)).toMatch(/\.lifeline-models\.json is a folder.*re-hashes every model/);
  });
});
