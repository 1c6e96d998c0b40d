import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import faissNode from 'faiss-node';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../electron/api/handlers.js';
import { inspectChatchat } from '../../electron/core/chatchat/index.js';
import type { ChatchatReport, VectorStoreReport } from '../../electron/core/chatchat/index.js';
import {
  FIXTURE_COUNT,
  FIXTURE_DIM,
  FIXTURE_KB,
  FIXTURE_MODEL,
  type FixtureCopy,
  bareCopy,
  copyFixture,
  deleteFileDocRows,
  flipBit,
  flipVectorBit,
  langchainPickle,
  swapIdMapRows,
  truncateFile,
  unitVectors,
  writeSmallFlatIndex,
  writeSyntheticStore,
} from '../helpers/chatchat.js';
import { CHATCHAT_FIXTURE, fixturePresent, tempDir } from '../helpers/env.js';

const fixture = fixturePresent(CHATCHAT_FIXTURE);
const title = (t: string) => (fixture.present ? t : `${t} (skipped: ${fixture.reason})`);

function onlyStore(r: ChatchatReport): VectorStoreReport {
  expect(r.knowledgeBases).toHaveLength(1);
  expect(r.knowledgeBases[0]!.vectorStores).toHaveLength(1);
  return r.knowledgeBases[0]!.vectorStores[0]!;
}

const threeDocs = ['a', 'b', 'c'].map((id) => ({ id, text: `chunk ${id}`, metadata: { source: 'x.md' } }));

const codes = (vs: VectorStoreReport) => vs.problems.map((p) => p.code);

describe.skipIf(!fixture.present)(title('inspecting a real Langchain-Chatchat store'), () => {
  let fx: FixtureCopy | null = null;
  const copy = () => (fx = copyFixture());
  afterEach(() => {
    fx?.cleanup();
    fx = null;
  });

  it('reports the real samples store as ok: IndexFlatL2, l2, 1024 × 323, 323 documents and id map rows, info.db 1 file / 323 chunks, its file present', async () => {
    const r = await inspectChatchat(path.join(CHATCHAT_FIXTURE, 'knowledge_base'), { deep: false });
    expect(r.ok).toBe(true);
    expect(r.root).toBe(path.join(CHATCHAT_FIXTURE, 'knowledge_base'));
    expect(r.problems).toEqual([]);
    const kb = r.knowledgeBases[0]!;
    expect(Object.keys(kb).sort()).toEqual(['content', 'embedModel', 'infoDb', 'name', 'problems', 'vectorStores']);
    expect(kb).toMatchObject({ name: FIXTURE_KB, embedModel: FIXTURE_MODEL, infoDb: { files: 1, docs: 323 }, content: { present: 1, missing: 0 }, problems: [] });
    const vs = onlyStore(r);
    expect(vs).toEqual({
      path: `${FIXTURE_KB}/vector_store/${FIXTURE_MODEL}`,
      indexType: 'IndexFlatL2',
      metric: 'l2',
      dimension: FIXTURE_DIM,
      vectors: FIXTURE_COUNT,
      documents: FIXTURE_COUNT,
      idMap: FIXTURE_COUNT,
      status: 'ok',
      problems: [],
    });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('finds every stored vector of the real store by searching for itself with --deep, and sees they are L2-normalised', async () => {
    const r = await inspectChatchat(path.join(CHATCHAT_FIXTURE, 'knowledge_base'), { deep: true });
    expect(r.ok).toBe(true);
    expect(r.deep).toBe(true);
    const vs = onlyStore(r);
    expect(vs.status).toBe('ok');
    expect(vs.normalized).toBe(true);
    expect(vs.selfSearch).toEqual({ checked: FIXTURE_COUNT, failed: 0 });
  });

  it('accepts the Chatchat folder holding knowledge_base/ and a single knowledge base folder as well', async () => {
    const a = await inspectChatchat(CHATCHAT_FIXTURE);
    expect(a.root).toBe(path.join(CHATCHAT_FIXTURE, 'knowledge_base'));
    expect(a.ok).toBe(true);
    const b = await inspectChatchat(path.join(CHATCHAT_FIXTURE, 'knowledge_base', FIXTURE_KB));
    expect(b.ok).toBe(true);
    expect(b.knowledgeBases.map((k) => k.name)).toEqual([FIXTURE_KB]);
    expect(b.knowledgeBases[0]!.infoDb).toEqual({ files: 1, docs: 323 });
  });

  it('says missing-index when index.faiss is deleted, and still counts the 323 documents of the docstore', async () => {
    const c = copy();
    fs.rmSync(c.index);
    for (const deep of [false, true]) {
      const r = await inspectChatchat(c.root, { deep });
      expect(r.ok).toBe(false);
      const vs = onlyStore(r);
      expect(vs.status).toBe('missing-index');
      expect(vs).toMatchObject({ vectors: null, indexType: null, documents: FIXTURE_COUNT, idMap: FIXTURE_COUNT });
      expect(codes(vs)).toEqual(['index-missing']);
    }
  });

  it('says missing-docstore when index.pkl is deleted', async () => {
    const c = copy();
    fs.rmSync(c.pkl);
    const vs = onlyStore(await inspectChatchat(c.root));
    expect(vs.status).toBe('missing-docstore');
    expect(vs).toMatchObject({ vectors: FIXTURE_COUNT, documents: null, idMap: null });
    expect(codes(vs)).toEqual(['docstore-missing']);
  });

  it('says missing-index for a knowledge base info.db lists whose vector_store folder is gone', async () => {
    const c = copy();
    fs.rmSync(path.join(c.kbDir, 'vector_store'), { recursive: true });
    const vs = onlyStore(await inspectChatchat(c.root));
    expect(vs.path).toBe(`${FIXTURE_KB}/vector_store/${FIXTURE_MODEL}`);
    expect(vs.status).toBe('missing-index');
    expect(codes(vs).sort()).toEqual(['docstore-missing', 'index-missing']);
  });

  it('says corrupt when index.faiss is truncated, naming the size the header implies', async () => {
    const c = copy();
    truncateFile(c.index, 700_000);
    for (const deep of [false, true]) {
      const vs = onlyStore(await inspectChatchat(c.root, { deep }));
      expect(vs.status).toBe('corrupt');
      expect(vs.vectors).toBeNull();
      expect(vs.dimension).toBe(FIXTURE_DIM);
      expect(vs.problems[0]).toMatchObject({ code: 'index-corrupt' });
      expect(vs.problems[0]!.message).toMatch(/truncated/);
    }
  });

  it('says corrupt when index.faiss is empty, as a crash while writing it leaves it', async () => {
    const c = copy();
    truncateFile(c.index, 0);
    const vs = onlyStore(await inspectChatchat(c.root, { deep: true }));
    expect(vs.status).toBe('corrupt');
    expect(vs.problems[0]!.message).toMatch(/empty/);
  });

  it('says corrupt when index.pkl is truncated', async () => {
    const c = copy();
    truncateFile(c.pkl, 60_000);
    const vs = onlyStore(await inspectChatchat(c.root));
    expect(vs.status).toBe('corrupt');
    expect(vs).toMatchObject({ documents: null, idMap: null, vectors: FIXTURE_COUNT });
    expect(vs.problems[0]).toMatchObject({ code: 'docstore-corrupt' });
    expect(vs.problems[0]!.message).toMatch(/index\.pkl .*cannot be read as LangChain's docstore/);
  });

  it('finds a bit flipped inside one stored vector with --deep (self-search fails for that row), while the fast check stays ok', async () => {
    const c = copy();
    flipVectorBit(c.index, 200, 17);
    const fast = await inspectChatchat(c.root);
    expect(fast.ok).toBe(true);
    expect(onlyStore(fast).status).toBe('ok');

    const deep = await inspectChatchat(c.root, { deep: true });
    expect(deep.ok).toBe(false);
    const vs = onlyStore(deep);
    expect(vs.status).toBe('corrupt');
    expect(vs.normalized).toBe(false);
    expect(vs.selfSearch).toEqual({ checked: FIXTURE_COUNT, failed: 1 });
    const self = vs.problems.find((p) => p.code === 'self-search');
    expect(self?.message).toMatch(/row 200\b/);
    expect(vs.problems.find((p) => p.code === 'not-normalized')?.message).toMatch(/1 of 323 stored vectors is not unit length \(row 200/);
  });

  it('reports bit flips in index.pkl as corrupt or mismatch, whatever is true, and never crashes', async () => {
    const c = copy();
    const original = fs.readFileSync(c.pkl);
    const text = original.indexOf(Buffer.from('效果如何优化', 'utf8'));
    const cases: { offset: number; mask: number; expect: string[]; code?: string }[] = [
      { offset: 71, mask: 0x01, expect: ['corrupt'], code: 'docstore-corrupt' }, // the STACK_GLOBAL opcode of InMemoryDocstore
      { offset: 100, mask: 0x01, expect: ['mismatch'], code: 'info-db-mismatch' }, // a character of the first uuid: info.db still has the old id
      { offset: text + 1, mask: 0x40, expect: ['corrupt'], code: 'docstore-corrupt' }, // a UTF-8 continuation byte: no longer valid text
      { offset: original.length - 6, mask: 0x04, expect: ['corrupt', 'mismatch'], code: 'id-map' }, // a memo reference in the id map
    ];
    for (const k of cases) {
      fs.writeFileSync(c.pkl, original);
      flipBit(c.pkl, k.offset, k.mask);
      const vs = onlyStore(await inspectChatchat(c.root));
      expect(k.expect, `offset ${k.offset}: ${JSON.stringify(vs.problems)}`).toContain(vs.status);
      expect(codes(vs)).toContain(k.code);
    }
    // A sweep over the file: whatever the flip hits, the answer is a report, never an exception.
    let s = 12345;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      fs.writeFileSync(c.pkl, original);
      flipBit(c.pkl, s % original.length, 1 << (s >>> 29));
      const vs = onlyStore(await inspectChatchat(c.root));
      expect(['ok', 'corrupt', 'mismatch']).toContain(vs.status);
      seen.add(vs.status);
    }
    expect(seen.has('corrupt')).toBe(true);
  });

  it('says mismatch when info.db file_doc rows are deleted, naming the chunks info.db no longer lists', async () => {
    const c = copy();
    const gone = deleteFileDocRows(c.infoDb, 5);
    const r = await inspectChatchat(c.root);
    expect(r.knowledgeBases[0]!.infoDb).toEqual({ files: 1, docs: 318 });
    const vs = onlyStore(r);
    expect(vs.status).toBe('mismatch');
    const msg = vs.problems.filter((p) => p.code === 'info-db-mismatch').map((p) => p.message).join('\n');
    expect(msg).toMatch(/5 docstore documents are not listed in info.db/);
    expect(msg).toContain(gone.at(-1)); // the earliest of the deleted rows comes first
  });

  it('says mismatch when index.faiss is swapped with a smaller valid one from a different store', async () => {
    const c = copy();
    writeSmallFlatIndex(c.index, 10);
    for (const deep of [false, true]) {
      const vs = onlyStore(await inspectChatchat(c.root, { deep }));
      expect(vs.status).toBe('mismatch');
      expect(vs).toMatchObject({ indexType: 'IndexFlatL2', vectors: 10, documents: FIXTURE_COUNT, idMap: FIXTURE_COUNT });
      expect(vs.problems.find((p) => p.code === 'count-mismatch')?.message).toBe(
        'index.faiss holds 10 vectors, the id map 323 rows, the docstore 323 documents: they must be equal',
      );
    }
  });

  it("finds two swapped id map rows with --deep, from the docstore's insertion order", async () => {
    const c = copy();
    swapIdMapRows(c.pkl, 300, 301);
    expect(onlyStore(await inspectChatchat(c.root)).status).toBe('ok'); // ids and counts still agree
    const vs = onlyStore(await inspectChatchat(c.root, { deep: true }));
    expect(vs.status).toBe('mismatch');
    expect(vs.problems.find((p) => p.code === 'id-map-order')?.message).toMatch(/at 2 rows \(row 300 → .*row 301 →/);
  });

  it('reads a bare LangChain folder (just index.faiss and index.pkl) as one knowledge base named after the folder', async () => {
    const c = copy();
    const t = tempDir();
    try {
      const dir = bareCopy(c, t.dir, 'somefolder');
      const r = await inspectChatchat(dir, { deep: true });
      expect(r.ok).toBe(true);
      expect(r.root).toBe(dir);
      expect(r.knowledgeBases).toHaveLength(1);
      expect(r.knowledgeBases[0]).toMatchObject({ name: 'somefolder', embedModel: null, infoDb: null, content: { present: 0, missing: 0 } });
      expect(onlyStore(r)).toMatchObject({ path: '.', status: 'ok', vectors: FIXTURE_COUNT, documents: FIXTURE_COUNT, idMap: FIXTURE_COUNT });
    } finally {
      t.cleanup();
    }
  });

  it('reports original files missing from content/ on the knowledge base', async () => {
    const c = copy();
    fs.rmSync(c.content, { recursive: true });
    const r = await inspectChatchat(c.root);
    expect(r.ok).toBe(false);
    const kb = r.knowledgeBases[0]!;
    expect(kb.content).toEqual({ present: 0, missing: 1 });
    expect(kb.problems.map((p) => p.code)).toEqual(['content-missing']);
    expect(onlyStore(r).status).toBe('ok');
  });

  it('finds a store whose model name holds a slash, and does not follow a knowledge base name that leaves the folder', async () => {
    const c = copy();
    fs.mkdirSync(path.join(c.kbDir, 'vector_store', 'BAAI'));
    fs.renameSync(c.vsDir, path.join(c.kbDir, 'vector_store', 'BAAI', FIXTURE_MODEL));
    const db = new Database(c.infoDb);
    db.prepare('UPDATE knowledge_base SET embed_model = ?').run(`BAAI/${FIXTURE_MODEL}`);
    db.prepare("INSERT INTO knowledge_base (id, kb_name, vs_type, embed_model, file_count) VALUES (2, '../outside', 'faiss', 'm', 0)").run();
    db.close();
    const r = await inspectChatchat(c.root);
    const samples = r.knowledgeBases.find((k) => k.name === FIXTURE_KB)!;
    expect(samples.embedModel).toBe(`BAAI/${FIXTURE_MODEL}`);
    expect(samples.vectorStores.map((v) => [v.path, v.status])).toEqual([[`${FIXTURE_KB}/vector_store/BAAI/${FIXTURE_MODEL}`, 'ok']]);
    expect(samples.infoDb).toEqual({ files: 1, docs: 323 });
    const outside = r.knowledgeBases.find((k) => k.name === '../outside')!;
    expect(outside.vectorStores).toEqual([]);
    expect(outside.problems.map((p) => p.code)).toEqual(['kb-folder-missing']);
    expect(r.ok).toBe(false);
  });

  it('reports an info.db that is not a database, and still checks the vector store', async () => {
    const c = copy();
    fs.writeFileSync(c.infoDb, Buffer.alloc(4096, 0x5a));
    const r = await inspectChatchat(c.root);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.code)).toEqual(['info-db-corrupt']);
    expect(r.knowledgeBases[0]!.infoDb).toBeNull();
    expect(onlyStore(r).status).toBe('ok');
  });
});

describe('inspecting stores Chatchat itself would not write', () => {
  it('self-searches an evenly spread sample of 2000 rows of a larger index, and says when vectors are not normalised at all', async () => {
    const t = tempDir();
    try {
      const dir = path.join(t.dir, 'big');
      const many = Array.from({ length: 2500 }, (_, i) => ({ id: `id-${i}`, text: `chunk ${i}`, metadata: { source: 'big.txt' } }));
      writeSyntheticStore(dir, many, 'pydantic-v2', 'newobj', 8);
      const vs = onlyStore(await inspectChatchat(dir, { deep: true }));
      expect(vs).toMatchObject({ status: 'ok', vectors: 2500, documents: 2500, normalized: true, selfSearch: { checked: 2000, failed: 0 } });

      const ix = new faissNode.IndexFlatL2(8);
      ix.add(Array.from(unitVectors(2500, 8), (x) => x * 3));
      fs.writeFileSync(path.join(dir, 'index.faiss'), ix.toBuffer());
      const scaled = onlyStore(await inspectChatchat(dir, { deep: true }));
      expect(scaled).toMatchObject({ status: 'mismatch', normalized: false, selfSearch: { checked: 2000, failed: 0 } });
      expect(scaled.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^2500 of 2500 stored vectors are not unit length \(norms 3…3\); Chatchat writes L2-normalised vectors/)]);
    } finally {
      t.cleanup();
    }
  });

  it('reads a non-flat FAISS index (HNSW) through FAISS itself, and says why --deep cannot self-search it', async () => {
    const t = tempDir();
    try {
      const dir = path.join(t.dir, 'hnsw');
      fs.mkdirSync(dir);
      const ix = faissNode.Index.fromFactory(16, 'HNSW8');
      ix.add(Array.from(unitVectors(3, 16)));
      fs.writeFileSync(path.join(dir, 'index.faiss'), ix.toBuffer());
      fs.writeFileSync(path.join(dir, 'index.pkl'), langchainPickle(threeDocs, 'pydantic-v2'));
      const vs = onlyStore(await inspectChatchat(dir, { deep: true }));
      expect(vs).toMatchObject({ indexType: 'IndexHNSWFlat', metric: 'l2', dimension: 16, vectors: 3, documents: 3, status: 'ok', normalized: null });
      expect(vs.selfSearch?.skipped).toMatch(/not a flat index/);
      truncateFile(path.join(dir, 'index.faiss'), 200);
      const broken = onlyStore(await inspectChatchat(dir));
      expect(broken.status).toBe('corrupt');
      expect(broken.problems[0]!.message).toMatch(/FAISS cannot load index\.faiss \(IndexHNSWFlat\)/);
    } finally {
      t.cleanup();
    }
  });
});

describe('inspecting something that is not a Chatchat store', () => {
  it('refuses a missing path and a folder with nothing of Chatchat in it, with a clear error', async () => {
    const t = tempDir();
    try {
      await expect(inspectChatchat(path.join(t.dir, 'nope'))).rejects.toThrow(UserError);
      await expect(inspectChatchat(path.join(t.dir, 'nope'))).rejects.toThrow(/does not exist/);
      fs.writeFileSync(path.join(t.dir, 'notes.txt'), 'hello');
      await expect(inspectChatchat(t.dir)).rejects.toThrow(/neither index\.faiss\/index\.pkl, nor info\.db/);
    } finally {
      t.cleanup();
    }
  });
});
