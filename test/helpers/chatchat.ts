// Broken copies of the real Chatchat fixture (shared/fixtures/chatchat-samples, read in place and
// copied only into a temp dir), plus a tiny pickle writer for LangChain docstores of other
// generations (pydantic v2, protocol-0 _reconstructor) and for pickles of unexpected shape.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import faissNode from 'faiss-node';
import { FLAT_HEADER_BYTES } from '../../electron/core/vectors/faissFormat.js';
import { CHATCHAT_FIXTURE, tempDir } from './env.js';

export const FIXTURE_KB = 'samples';
export const FIXTURE_MODEL = 'bge-large-zh-v1.5';
export const FIXTURE_SOURCE = 'test_files/langchain-ChatGLM_open.csv';
export const FIXTURE_COUNT = 323;
export const FIXTURE_DIM = 1024;

export interface FixtureCopy {
  /** The copied knowledge_base folder. */
  root: string;
  kbDir: string;
  vsDir: string;
  index: string;
  pkl: string;
  infoDb: string;
  content: string;
  cleanup: () => void;
}

/** Copies the fixture's knowledge_base folder into a fresh temp dir, writable. */
export function copyFixture(): FixtureCopy {
  const t = tempDir('lifeline-chatchat-');
  const root = path.join(t.dir, 'knowledge_base');
  fs.cpSync(path.join(CHATCHAT_FIXTURE, 'knowledge_base'), root, { recursive: true });
  const chmod = (p: string) => {
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chmod(path.join(p, e));
  };
  chmod(root);
  const kbDir = path.join(root, FIXTURE_KB);
  const vsDir = path.join(kbDir, 'vector_store', FIXTURE_MODEL);
  return {
    root,
    kbDir,
    vsDir,
    index: path.join(vsDir, 'index.faiss'),
    pkl: path.join(vsDir, 'index.pkl'),
    infoDb: path.join(root, 'info.db'),
    content: path.join(kbDir, 'content'),
    cleanup: t.cleanup,
  };
}

export function truncateFile(file: string, keepBytes: number): void {
  fs.truncateSync(file, keepBytes);
}

export function flipBit(file: string, offset: number, mask = 0x01): void {
  const b = fs.readFileSync(file);
  b[offset] = b[offset]! ^ mask;
  fs.writeFileSync(file, b);
}

/**
 * Flips bit 30 of one float in a flat index (the top exponent bit): a value below 1 becomes
 * ~1e38 times larger, so that vector's squared norm overflows and it can no longer find itself.
 * Returns the byte offset changed.
 */
export function flipVectorBit(indexFile: string, row: number, component: number, dimension = FIXTURE_DIM): number {
  const offset = FLAT_HEADER_BYTES + (row * dimension + component) * 4 + 3;
  flipBit(indexFile, offset, 0x40);
  return offset;
}

/** Writes a valid IndexFlatL2 of `n` unit vectors of `dimension` with faiss-node (a "different store"). */
export function writeSmallFlatIndex(file: string, n: number, dimension = FIXTURE_DIM, seed = 7): Float32Array {
  const v = unitVectors(n, dimension, seed);
  const ix = new faissNode.IndexFlatL2(dimension);
  ix.add(Array.from(v));
  fs.writeFileSync(file, ix.toBuffer());
  return v;
}

export function unitVectors(n: number, dimension: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const v = new Float32Array(n * dimension);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < dimension; j++) norm += (v[i * dimension + j] = rnd()) ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < dimension; j++) v[i * dimension + j]! /= norm;
  }
  return v;
}

/** Deletes `count` file_doc rows (the last ones) of the copied info.db; returns their doc ids. */
export function deleteFileDocRows(infoDb: string, count: number): string[] {
  const db = new Database(infoDb);
  try {
    const rows = db.prepare('SELECT id, doc_id FROM file_doc ORDER BY id DESC LIMIT ?').all(count) as { id: number; doc_id: string }[];
    const del = db.prepare('DELETE FROM file_doc WHERE id = ?');
    for (const r of rows) del.run(r.id);
    return rows.map((r) => r.doc_id);
  } finally {
    db.close();
  }
}

/**
 * Swaps the doc ids of two rows (both ≥ 256) in the fixture pickle's id map: its entries are
 * BININT2 row + LONG_BINGET memo-of-the-uuid, at the end of the file.
 */
export function swapIdMapRows(pkl: string, a: number, b: number): void {
  const buf = fs.readFileSync(pkl);
  const at = (row: number) => {
    if (row < 256 || row > 0xffff) throw new Error('rows 256..65535 only');
    const i = buf.lastIndexOf(Buffer.from([0x4d, row & 0xff, row >> 8, 0x6a]));
    if (i < 0) throw new Error(`row ${row} not found in the id map`);
    return i + 4;
  };
  const pa = at(a);
  const pb = at(b);
  const tmp = Buffer.from(buf.subarray(pa, pa + 4));
  buf.copy(buf, pa, pb, pb + 4);
  tmp.copy(buf, pb);
  fs.writeFileSync(pkl, buf);
}

/** A bare LangChain FAISS folder: just the two files copied into `<parent>/<name>/`. */
export function bareCopy(fx: FixtureCopy, parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(fx.index, path.join(dir, 'index.faiss'));
  fs.copyFileSync(fx.pkl, path.join(dir, 'index.pkl'));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// A minimal pickle writer (protocol 2 opcodes, or protocol-0 style objects), enough for LangChain
// docstores. Values: null, boolean, number (int or float), string, arrays (lists), Map (dicts),
// and the wrappers below.

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PySet {
  constructor(readonly items: PyValue[]) {}
}
export class PyInstance {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly state: PyValue,
    /** "newobj": NEWOBJ (protocol 2+, what Python 3 writes); "reconstructor": copy_reg._reconstructor (protocol 0/1). */
    readonly style: 'newobj' | 'reconstructor' = 'newobj',
  ) {}
}
export type PyValue = null | boolean | number | string | PyValue[] | Map<PyValue, PyValue> | PyTuple | PySet | PyInstance;

export function pickle(value: PyValue): Buffer {
  const out: Buffer[] = [Buffer.from([0x80, 2])];
  const op = (...bytes: number[]) => out.push(Buffer.from(bytes));
  const global = (module: string, name: string) => out.push(Buffer.from(`c${module}\n${name}\n`, 'utf8'));
  const write = (v: PyValue): void => {
    if (v === null) op(0x4e);
    else if (v === true) op(0x88);
    else if (v === false) op(0x89);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= 0 && v < 256) op(0x4b, v);
      else if (Number.isInteger(v) && v >= 0 && v < 65536) op(0x4d, v & 0xff, v >> 8);
      else if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
        const b = Buffer.alloc(5);
        b[0] = 0x4a;
        b.writeInt32LE(v, 1);
        out.push(b);
      } else {
        const b = Buffer.alloc(9);
        b[0] = 0x47;
        b.writeDoubleBE(v, 1);
        out.push(b);
      }
    } else if (typeof v === 'string') {
      const s = Buffer.from(v, 'utf8');
      const h = Buffer.alloc(5);
      h[0] = 0x58;
      h.writeUInt32LE(s.length, 1);
      out.push(h, s);
    } else if (Array.isArray(v)) {
      op(0x5d);
      if (v.length) {
        op(0x28);
        v.forEach(write);
        op(0x65);
      }
    } else if (v instanceof Map) {
      op(0x7d);
      if (v.size) {
        op(0x28);
        for (const [k, x] of v) {
          write(k);
          write(x);
        }
        op(0x75);
      }
    } else if (v instanceof PyTuple) {
      op(0x28);
      v.items.forEach(write);
      op(0x74);
    } else if (v instanceof PySet) {
      global('__builtin__', 'set');
      write(new PyTuple([v.items]));
      op(0x52);
    } else {
      if (v.style === 'newobj') {
        global(v.module, v.name);
        op(0x29, 0x81);
      } else {
        global('copy_reg', '_reconstructor');
        op(0x28);
        global(v.module, v.name);
        global('__builtin__', 'object');
        op(0x4e, 0x74, 0x52);
      }
      write(v.state);
      op(0x62);
    }
  };
  write(value);
  op(0x2e);
  return Buffer.concat(out);
}

export interface SyntheticDoc {
  id: string;
  text: string;
  metadata: Record<string, string | number>;
}

/** A LangChain Document as each generation pickles it. */
export function pickledDocument(d: SyntheticDoc, flavor: 'pydantic-v1' | 'pydantic-v2', style: PyInstance['style'] = 'newobj'): PyInstance {
  const metadata = new Map<PyValue, PyValue>(Object.entries(d.metadata));
  if (flavor === 'pydantic-v1') {
    const dict = new Map<PyValue, PyValue>([
      ['page_content', d.text],
      ['metadata', metadata],
      ['type', 'Document'],
    ]);
    return new PyInstance('langchain_core.documents.base', 'Document', new Map<PyValue, PyValue>([
      ['__dict__', dict],
      ['__fields_set__', new PySet(['metadata', 'page_content'])],
      ['__private_attribute_values__', new Map()],
    ]), style);
  }
  const dict = new Map<PyValue, PyValue>([
    ['id', d.id],
    ['metadata', metadata],
    ['page_content', d.text],
    ['type', 'Document'],
  ]);
  return new PyInstance('langchain_core.documents.base', 'Document', new Map<PyValue, PyValue>([
    ['__dict__', dict],
    ['__pydantic_extra__', null],
    ['__pydantic_fields_set__', new PySet(['id', 'metadata', 'page_content'])],
    ['__pydantic_private__', null],
  ]), style);
}

/** index.pkl bytes: (InMemoryDocstore(_dict), {row: id}) in the given generation. */
export function langchainPickle(docs: SyntheticDoc[], flavor: 'pydantic-v1' | 'pydantic-v2', style: PyInstance['style'] = 'newobj'): Buffer {
  const dict = new Map<PyValue, PyValue>(docs.map((d) => [d.id, pickledDocument(d, flavor, style)]));
  const store = new PyInstance('langchain_community.docstore.in_memory', 'InMemoryDocstore', new Map<PyValue, PyValue>([['_dict', dict]]), style);
  const ids = new Map<PyValue, PyValue>(docs.map((d, i) => [i, d.id]));
  return pickle(new PyTuple([store, ids]));
}

/** A bare LangChain folder with `docs.length` unit vectors and the docstore in the given generation. */
export function writeSyntheticStore(dir: string, docs: SyntheticDoc[], flavor: 'pydantic-v1' | 'pydantic-v2', style: PyInstance['style'] = 'newobj', dimension = 16): void {
  fs.mkdirSync(dir, { recursive: true });
  writeSmallFlatIndex(path.join(dir, 'index.faiss'), docs.length, dimension, 3);
  fs.writeFileSync(path.join(dir, 'index.pkl'), langchainPickle(docs, flavor, style));
}
