// Where things are in a Chatchat store, and reading its two catalogs: info.db and the FAISS header.
//
//   knowledge_base/info.db
//   knowledge_base/<kb>/content/<file>                       the original documents
//   knowledge_base/<kb>/vector_store/<embed model>/index.faiss + index.pkl
//
// A bare LangChain FAISS folder (just index.faiss + index.pkl) is one knowledge base named after
// the folder. Nothing here writes to the store: info.db is opened read-only.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../api/handlers.js';
import { FLAT_HEADER_BYTES, decodeFlatHeader } from '../vectors/faissFormat.js';

export const INDEX_FILE = 'index.faiss';
export const DOCSTORE_FILE = 'index.pkl';

export interface LocatedVectorStore {
  /** Relative to the root, forward slashes. */
  rel: string;
  abs: string;
  /** The sub-folder name under vector_store/ (the embedding model), or null. */
  model: string | null;
  /** False when only expected (info.db names the knowledge base) but the folder is absent. */
  exists: boolean;
}

export interface LocatedKb {
  name: string;
  /** Absolute folder of the knowledge base; null for a bare folder (no content/), or a name info.db gives that is not a folder name. */
  dir: string | null;
  dirExists: boolean;
  vectorStores: LocatedVectorStore[];
}

export interface LocatedStore {
  kind: 'chatchat' | 'bare';
  root: string;
  infoDbPath: string | null;
  kbs: LocatedKb[];
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export function rel(root: string, abs: string): string {
  const r = path.relative(root, abs).split(path.sep).join('/');
  return r === '' ? '.' : r;
}

function hasIndexFiles(dir: string): boolean {
  return exists(path.join(dir, INDEX_FILE)) || exists(path.join(dir, DOCSTORE_FILE));
}

function looksLikeKbFolder(dir: string): boolean {
  return isDir(path.join(dir, 'vector_store')) || isDir(path.join(dir, 'content'));
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * The vector stores of a knowledge base folder: vector_store/<model>/ (or vector_store/ itself,
 * older layouts). A model name with a slash ("BAAI/bge-large-zh") is a nested folder; a folder
 * holding neither index file nor such a nested store is reported as an (empty) store.
 */
function vectorStoresOf(root: string, kbDir: string): LocatedVectorStore[] {
  const vs = path.join(kbDir, 'vector_store');
  const out: LocatedVectorStore[] = [];
  if (hasIndexFiles(vs)) out.push({ rel: rel(root, vs), abs: vs, model: null, exists: true });
  const visit = (abs: string, model: string, depth: number): boolean => {
    if (hasIndexFiles(abs)) {
      out.push({ rel: rel(root, abs), abs, model, exists: true });
      return true;
    }
    let found = false;
    if (depth < 3) for (const sub of subdirs(abs)) found = visit(path.join(abs, sub), `${model}/${sub}`, depth + 1) || found;
    return found;
  };
  for (const model of subdirs(vs)) {
    const abs = path.join(vs, model);
    if (!visit(abs, model, 1)) out.push({ rel: rel(root, abs), abs, model, exists: true });
  }
  return out;
}

/** A name usable as one folder name: no separators, not "." or "..". */
export function isSafeSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\x00]/.test(name);
}

/** A relative path with no "..", not absolute (a model name like "BAAI/bge-large-zh" is fine). */
export function isSafeRelative(name: string): boolean {
  return name !== '' && !path.isAbsolute(name) && !/^[A-Za-z]:/.test(name) && !name.includes('\x00') && name.split(/[/\\]/).every((p) => p !== '..');
}

/**
 * Finds the store under `dir`: a bare LangChain folder, a knowledge_base folder, a Chatchat data
 * folder holding knowledge_base/, or a single knowledge base folder. Throws a UserError when `dir`
 * is none of these.
 */
export function locateStore(dir: string): LocatedStore {
  const abs = path.resolve(dir);
  if (!exists(abs)) throw new UserError('chatchat-not-found', `${abs} does not exist`);
  if (!isDir(abs)) throw new UserError('chatchat-not-a-folder', `${abs} is not a folder (give the knowledge_base folder, or a folder holding index.faiss and index.pkl)`);

  if (hasIndexFiles(abs)) {
    return {
      kind: 'bare',
      root: abs,
      infoDbPath: null,
      kbs: [{ name: path.basename(abs), dir: null, dirExists: true, vectorStores: [{ rel: '.', abs, model: null, exists: true }] }],
    };
  }
  const nested = path.join(abs, 'knowledge_base');
  if (!exists(path.join(abs, 'info.db')) && !subdirs(abs).some((d) => looksLikeKbFolder(path.join(abs, d))) && isDir(nested)) {
    return locateStore(nested);
  }
  if (looksLikeKbFolder(abs) && !exists(path.join(abs, 'info.db'))) {
    // One knowledge base folder: its catalog is the parent's info.db.
    const root = path.dirname(abs);
    const infoDbPath = exists(path.join(root, 'info.db')) ? path.join(root, 'info.db') : null;
    const name = path.basename(abs);
    return { kind: 'chatchat', root, infoDbPath, kbs: [{ name, dir: abs, dirExists: true, vectorStores: vectorStoresOf(root, abs) }] };
  }
  const infoDbPath = exists(path.join(abs, 'info.db')) ? path.join(abs, 'info.db') : null;
  const names = new Set(subdirs(abs).filter((d) => looksLikeKbFolder(path.join(abs, d))));
  if (infoDbPath) {
    try {
      for (const n of kbNamesInInfoDb(infoDbPath)) names.add(n);
    } catch {
      // an unreadable info.db is reported by the inspection; the folders still count
    }
  }
  if (names.size === 0 && !infoDbPath) {
    throw new UserError(
      'chatchat-not-recognised',
      `${abs} holds neither index.faiss/index.pkl, nor info.db, nor knowledge base folders (<kb>/vector_store, <kb>/content)`,
    );
  }
  const kbs = [...names].sort().map((name): LocatedKb => {
    if (!isSafeSegment(name)) return { name, dir: null, dirExists: false, vectorStores: [] };
    const kbDir = path.join(abs, name);
    const dirExists = isDir(kbDir);
    return { name, dir: kbDir, dirExists, vectorStores: dirExists ? vectorStoresOf(abs, kbDir) : [] };
  });
  return { kind: 'chatchat', root: abs, infoDbPath, kbs };
}

// ---------------------------------------------------------------------------------------------
// info.db

export interface InfoKb {
  name: string;
  vsType: string | null;
  embedModel: string | null;
  fileCount: number | null;
  files: { fileName: string; docsCount: number | null }[];
  /** file_doc rows (file name, doc id), or null when the table does not exist (older Chatchat). */
  fileDocs: { fileName: string; docId: string }[] | null;
}

export interface InfoDb {
  kbs: Map<string, InfoKb>;
  /** Rows in conversation/message tables (chat history, never imported). */
  chatRows: number;
  /** PRAGMA quick_check result when asked for: "ok" or the first complaints. */
  quickCheck?: string;
}

function openInfoDb(p: string): Database.Database {
  return new Database(p, { readonly: true, fileMustExist: true });
}

function tableColumns(db: Database.Database, table: string): Set<string> | null {
  const row = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
  if (!row) return null;
  return new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name));
}

function kbNamesInInfoDb(p: string): string[] {
  const db = openInfoDb(p);
  try {
    const cols = tableColumns(db, 'knowledge_base');
    if (!cols?.has('kb_name')) return [];
    return (db.prepare('SELECT kb_name FROM knowledge_base').all() as { kb_name: unknown }[])
      .map((r) => r.kb_name)
      .filter((n): n is string => typeof n === 'string' && n !== '');
  } finally {
    db.close();
  }
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

/** Reads info.db read-only. Throws (SqliteError) when it cannot be opened or read. */
export function readInfoDb(p: string, opts: { quickCheck?: boolean } = {}): InfoDb {
  const db = openInfoDb(p);
  try {
    const out: InfoDb = { kbs: new Map(), chatRows: 0 };
    if (opts.quickCheck) {
      const rows = db.prepare('PRAGMA quick_check(5)').all() as Record<string, unknown>[];
      out.quickCheck = rows.map((r) => String(Object.values(r)[0])).join('; ');
    }
    const kbCols = tableColumns(db, 'knowledge_base');
    if (kbCols?.has('kb_name')) {
      const pick = (c: string) => (kbCols.has(c) ? `"${c}"` : 'NULL');
      const rows = db.prepare(`SELECT kb_name, ${pick('vs_type')} AS vs_type, ${pick('embed_model')} AS embed_model, ${pick('file_count')} AS file_count FROM knowledge_base`).all() as Record<string, unknown>[];
      for (const r of rows) {
        const name = str(r.kb_name);
        if (!name) continue;
        out.kbs.set(name, { name, vsType: str(r.vs_type), embedModel: str(r.embed_model), fileCount: num(r.file_count), files: [], fileDocs: null });
      }
    }
    const ensure = (name: string): InfoKb => {
      let kb = out.kbs.get(name);
      if (!kb) {
        kb = { name, vsType: null, embedModel: null, fileCount: null, files: [], fileDocs: null };
        out.kbs.set(name, kb);
      }
      return kb;
    };
    const fileCols = tableColumns(db, 'knowledge_file');
    if (fileCols?.has('kb_name') && fileCols.has('file_name')) {
      const dc = fileCols.has('docs_count') ? 'docs_count' : 'NULL';
      const order = fileCols.has('id') ? 'ORDER BY id' : '';
      for (const r of db.prepare(`SELECT kb_name, file_name, ${dc} AS docs_count FROM knowledge_file ${order}`).all() as Record<string, unknown>[]) {
        const kb = str(r.kb_name);
        const fileName = str(r.file_name);
        if (kb && fileName) ensure(kb).files.push({ fileName, docsCount: num(r.docs_count) });
      }
    }
    const docCols = tableColumns(db, 'file_doc');
    if (docCols?.has('kb_name') && docCols.has('doc_id')) {
      for (const kb of out.kbs.values()) kb.fileDocs = [];
      const fn = docCols.has('file_name') ? 'file_name' : "''";
      const order = docCols.has('id') ? 'ORDER BY id' : '';
      for (const r of db.prepare(`SELECT kb_name, ${fn} AS file_name, doc_id FROM file_doc ${order}`).all() as Record<string, unknown>[]) {
        const kb = str(r.kb_name);
        const docId = str(r.doc_id);
        if (!kb || docId === null) continue;
        const k = ensure(kb);
        (k.fileDocs ??= []).push({ fileName: str(r.file_name) ?? '', docId });
      }
    }
    for (const t of ['conversation', 'message']) {
      if (tableColumns(db, t)) out.chatRows += Number((db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n);
    }
    return out;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Sources and content/

/**
 * metadata.source as a path relative to <kb>/content/. Newer Chatchat stores it relative; older
 * versions stored the absolute path of the file under content/, possibly with Windows separators.
 * Returns null when there is no usable source.
 */
export function normalizeSource(source: unknown, kbName: string): string | null {
  if (typeof source !== 'string' || source.trim() === '') return null;
  let s = source.replace(/\\/g, '/');
  const isAbs = s.startsWith('/') || /^[A-Za-z]:\//.test(s);
  if (isAbs) {
    const marker = `/${kbName}/content/`;
    const i = s.lastIndexOf(marker);
    const j = s.lastIndexOf('/content/');
    if (i >= 0) s = s.slice(i + marker.length);
    else if (j >= 0) s = s.slice(j + '/content/'.length);
    else s = s.slice(s.lastIndexOf('/') + 1);
  }
  const parts = s.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  return parts.length ? parts.join('/') : null;
}

/** The absolute path of a content file, or null when the name would leave content/. */
export function contentPath(contentDir: string, relName: string): string | null {
  const p = path.resolve(contentDir, relName);
  const r = path.relative(contentDir, p);
  if (r === '' || r.startsWith('..') || path.isAbsolute(r)) return null;
  return p;
}

/** A content file that exists as a regular file and, after symlinks, is still inside content/. */
export function existingContentFile(contentDir: string, relName: string): string | null {
  const p = contentPath(contentDir, relName);
  if (!p || !isFile(p)) return null;
  try {
    const real = fs.realpathSync(p);
    const base = fs.realpathSync(contentDir);
    const r = path.relative(base, real);
    return r.startsWith('..') || path.isAbsolute(r) ? null : p;
  } catch {
    return null;
  }
}

/** Files under a folder, relative, forward slashes. */
export function listFiles(dir: string, limit = 100_000): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(rel(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// index.faiss

const INDEX_TYPES: Record<string, string> = {
  IxF2: 'IndexFlatL2',
  IxFI: 'IndexFlatIP',
  IxFl: 'IndexFlat',
  IwFl: 'IndexIVFFlat',
  IwFL: 'IndexIVFFlat',
  IwPQ: 'IndexIVFPQ',
  IwSQ: 'IndexIVFScalarQuantizer',
  IwSq: 'IndexIVFScalarQuantizer',
  IHNf: 'IndexHNSWFlat',
  IHNp: 'IndexHNSWPQ',
  IHNs: 'IndexHNSWSQ',
  IxPQ: 'IndexPQ',
  IxSQ: 'IndexScalarQuantizer',
  IxMp: 'IndexIDMap',
  IxM2: 'IndexIDMap2',
  IxLS: 'IndexLSH',
};

export interface IndexHeader {
  fourcc: string;
  indexType: string;
  flat: boolean;
  /** From the common index header (same layout for every float index type); null when implausible. */
  dimension: number | null;
  ntotal: number | null;
  metric: 'l2' | 'ip' | null;
}

/** The common FAISS index header (fourcc, d, ntotal, 2 dummies, is_trained, metric) of any float index. */
export function readIndexHeader(head: Uint8Array): IndexHeader | null {
  if (head.byteLength < 4) return null;
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const fourcc = b.toString('latin1', 0, 4);
  const known = INDEX_TYPES[fourcc];
  if (!known) return null;
  const out: IndexHeader = { fourcc, indexType: known, flat: fourcc === 'IxF2' || fourcc === 'IxFI', dimension: null, ntotal: null, metric: null };
  if (head.byteLength >= FLAT_HEADER_BYTES - 8) {
    const d = b.readInt32LE(4);
    const n = Number(b.readBigInt64LE(8));
    const m = b.readInt32LE(33);
    if (d > 0 && d <= 65536) out.dimension = d;
    if (n >= 0 && Number.isSafeInteger(n)) out.ntotal = n;
    out.metric = m === 0 ? 'ip' : m === 1 ? 'l2' : null;
  }
  return out;
}

export { decodeFlatHeader };
