// The pieces of `lifeline verify` that look at one file each: the catalog's SQLite errors named,
// the golden sets, the models cache; and a failed start-up that lets go of the data root.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openLifeline } from '../../electron/core/app.js';
import { goldenProblems } from '../../electron/core/integrity/verify.js';
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
