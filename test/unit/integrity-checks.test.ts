// The pieces of `lifeline verify` that look at one file each: the catalog's SQLite errors named,
// the golden sets, the models cache; and a failed start-up that lets go of the data root.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { fastCatalogCheck, goldenProblems } from '../../electron/core/integrity/verify.js';
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

describe("the catalog's fast check", () => {
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
