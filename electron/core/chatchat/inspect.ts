// inspectChatchat: checks a Langchain-Chatchat knowledge_base folder (or a bare LangChain FAISS
// folder) without the embedding model, by cross-checking what its three files say about each other
// (DESIGN.md "Langchain-Chatchat stores"):
//   index.faiss ntotal == id map size == docstore size; id map rows are 0..n-1, a bijection onto
//   the docstore keys; file_doc.doc_id set (info.db) == docstore keys; files listed in info.db are
//   under <kb>/content/.
// --deep also loads the index in FAISS and searches stored vectors for themselves, checks they are
// L2-normalised (Chatchat writes them so) and that the id map's row order is the docstore's
// insertion order (LangChain adds both in the same order, so swapped rows show there).
// Never throws for damaged data: every failure becomes a problem in the report.
import fs from 'node:fs';
import path from 'node:path';
import '../vectors/nativeThreads.js'; // before faiss-node
import faissNode from 'faiss-node';
import { flatVectors } from '../vectors/faissFormat.js';
import {
  DOCSTORE_FILE,
  INDEX_FILE,
  type InfoDb,
  type InfoKb,
  type LocatedKb,
  type LocatedVectorStore,
  decodeFlatHeader,
  existingContentFile,
  isSafeRelative,
  locateStore,
  normalizeSource,
  readIndexHeader,
  readInfoDb,
  rel,
} from './layout.js';
import { type DecodedFaissPickle, PickleError, decodeFaissPickle } from './pickle.js';
import type {
  ChatchatKbReport,
  ChatchatProblem,
  ChatchatReport,
  InspectOptions,
  SelfSearchSummary,
  VectorStoreReport,
  VectorStoreStatus,
} from './types.js';

type FaissIndex = InstanceType<typeof faissNode.Index>;

/** Self-search looks at every vector up to this many, else at an evenly spread sample of this size. */
export const SELF_SEARCH_SAMPLE = 2000;
/** |norm − 1| above this is "not normalised". */
export const NORM_TOLERANCE = 1e-3;
const SEARCH_BATCH = 64;
const EXAMPLES = 3;

const SEVERITY: VectorStoreStatus[] = ['corrupt', 'missing-index', 'missing-docstore', 'mismatch'];

class Problems {
  readonly items: (ChatchatProblem & { status: VectorStoreStatus | null })[] = [];
  add(code: string, message: string, status: VectorStoreStatus | null = null): void {
    this.items.push({ code, message, status });
  }
  list(): ChatchatProblem[] {
    return this.items.map(({ code, message }) => ({ code, message }));
  }
  status(): VectorStoreStatus {
    for (const s of SEVERITY) if (this.items.some((p) => p.status === s)) return s;
    return 'ok';
  }
}

function examples<T>(items: T[], show: (t: T) => string = String): string {
  const head = items.slice(0, EXAMPLES).map(show).join(', ');
  return items.length > EXAMPLES ? `${head}, …` : head;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "is"/"are", "has"/"have", … for a count. */
function verb(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------
// index.faiss

interface IndexRead {
  indexType: string | null;
  metric: 'l2' | 'ip' | null;
  dimension: number | null;
  vectors: number | null;
  /** deep + flat: the stored vectors and the index as FAISS loaded it. */
  data?: Float32Array;
  faiss?: FaissIndex;
  /** deep, why self-search cannot run. */
  skip?: string;
}

function readIndex(file: string, deep: boolean, problems: Problems): IndexRead {
  const out: IndexRead = { indexType: null, metric: null, dimension: null, vectors: null };
  let size: number;
  let head: Buffer;
  try {
    size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(Math.min(size, 64));
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    problems.add('index-corrupt', `${INDEX_FILE} cannot be read: ${errMessage(err)}`, 'corrupt');
    return out;
  }
  if (size === 0) {
    problems.add('index-corrupt', `${INDEX_FILE} is empty (0 bytes): typical of a crash while it was being written`, 'corrupt');
    return out;
  }
  const header = readIndexHeader(head);
  if (!header) {
    const fourcc = head.toString('latin1', 0, Math.min(4, head.length)).replace(/[^\x20-\x7e]/g, '?');
    problems.add('index-corrupt', `${INDEX_FILE} is not a FAISS index this tool knows (type "${fourcc}")`, 'corrupt');
    return out;
  }
  out.indexType = header.indexType;
  out.metric = header.metric;
  out.dimension = header.dimension;

  if (header.flat) {
    try {
      const h = decodeFlatHeader(head.subarray(0, Math.min(head.length, 45)), size);
      out.metric = h.metric;
      out.dimension = h.dimension;
      out.vectors = h.vectors;
    } catch (err) {
      problems.add('index-corrupt', `${INDEX_FILE}: ${errMessage(err)}`, 'corrupt');
      return out;
    }
    if (!deep) return out;
    let buf: Buffer;
    let before: fs.Stats;
    try {
      before = fs.statSync(file);
      buf = fs.readFileSync(file);
      decodeFlatHeader(buf);
    } catch (err) {
      problems.add('index-corrupt', `${INDEX_FILE} changed or could not be read whole: ${errMessage(err)}`, 'corrupt');
      out.vectors = null;
      return out;
    }
    try {
      // FAISS reads the file itself: faiss-node's fromBuffer copies the bytes twice more and
      // keeps one copy for good (see vectors/segments.ts). The file must not have changed since
      // it was read above (Chatchat may be writing its store while it is inspected).
      out.faiss = faissNode.Index.read(file);
      const after = fs.statSync(file);
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error('it changed while it was being read; inspect it again once Chatchat has stopped writing');
    } catch (err) {
      problems.add('index-corrupt', `FAISS cannot load ${INDEX_FILE}: ${errMessage(err)}`, 'corrupt');
      out.vectors = null;
      return out;
    }
    if (out.faiss.ntotal() !== out.vectors || out.faiss.getDimension() !== out.dimension) {
      problems.add(
        'index-corrupt',
        `FAISS loaded ${out.faiss.ntotal()} vectors of ${out.faiss.getDimension()} from ${INDEX_FILE}, its header says ${out.vectors} of ${out.dimension}`,
        'corrupt',
      );
    }
    out.data = flatVectors(buf);
    return out;
  }

  // Not a flat index (Chatchat never writes one, but a hand-built LangChain store may): only FAISS
  // itself can tell whether the rest of the file is whole.
  try {
    const ix = faissNode.Index.read(file);
    out.vectors = ix.ntotal();
    out.dimension = ix.getDimension();
    if (deep) out.skip = `${header.indexType} is not a flat index: its vectors cannot be read back for self-search`;
  } catch (err) {
    problems.add('index-corrupt', `FAISS cannot load ${INDEX_FILE} (${header.indexType}): ${errMessage(err)}`, 'corrupt');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// index.pkl

function readDocstore(file: string, problems: Problems): DecodedFaissPickle | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    problems.add('docstore-corrupt', `${DOCSTORE_FILE} cannot be read: ${errMessage(err)}`, 'corrupt');
    return null;
  }
  try {
    return decodeFaissPickle(bytes);
  } catch (err) {
    const reason = err instanceof PickleError ? err.message : `unexpected error: ${errMessage(err)}`;
    problems.add('docstore-corrupt', `${DOCSTORE_FILE} (${bytes.byteLength} bytes) cannot be read as LangChain's docstore: ${reason}`, 'corrupt');
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// cross-checks

function checkDocstoreShape(ds: DecodedFaissPickle, problems: Problems): void {
  if (ds.badDocs.length) {
    problems.add(
      'docstore-corrupt',
      `${plural(ds.badDocs.length, 'docstore entry', 'docstore entries')} ${verb(ds.badDocs.length, 'is', 'are')} not a readable Document (${examples(ds.badDocs, (b) => `${b.id}: ${b.reason}`)})`,
      'corrupt',
    );
  }
  if (ds.badIdMapEntries.length) {
    problems.add('id-map', `${plural(ds.badIdMapEntries.length, 'id map entry', 'id map entries')} ${verb(ds.badIdMapEntries.length, 'is', 'are')} malformed (${examples(ds.badIdMapEntries)})`, 'corrupt');
  }
}

function checkCounts(vectors: number | null, ds: DecodedFaissPickle | null, problems: Problems): void {
  const parts: string[] = [];
  const counts: number[] = [];
  if (vectors !== null) {
    parts.push(`${INDEX_FILE} holds ${plural(vectors, 'vector')}`);
    counts.push(vectors);
  }
  if (ds) {
    parts.push(`the id map ${plural(ds.idMapEntries, 'row')}`, `the docstore ${plural(ds.docstoreEntries, 'document')}`);
    counts.push(ds.idMapEntries, ds.docstoreEntries);
  }
  if (counts.length > 1 && new Set(counts).size > 1) problems.add('count-mismatch', `${parts.join(', ')}: they must be equal`, 'mismatch');
}

function checkIdMap(ds: DecodedFaissPickle, problems: Problems): void {
  const n = ds.idMap.size;
  const outOfRange = [...ds.idMap.keys()].filter((r) => r >= n).sort((a, b) => a - b);
  if (outOfRange.length) {
    const gaps: number[] = [];
    for (let r = 0; r < n && gaps.length < EXAMPLES + 1; r++) if (!ds.idMap.has(r)) gaps.push(r);
    problems.add(
      'id-map',
      `the id map's rows are not 0..${n - 1}: ${plural(outOfRange.length, 'row')} beyond (${examples(outOfRange)}), missing rows ${examples(gaps)}`,
      'mismatch',
    );
  }
  const seen = new Map<string, number>();
  const dup: string[] = [];
  for (const [row, id] of ds.idMap) {
    const first = seen.get(id);
    if (first !== undefined) dup.push(`rows ${first} and ${row} → ${id}`);
    else seen.set(id, row);
  }
  if (dup.length) problems.add('id-map', `${plural(dup.length, 'document')} ${verb(dup.length, 'has', 'have')} more than one row (${examples(dup)})`, 'mismatch');
  const bad = new Set(ds.badDocs.map((b) => b.id));
  const dangling = [...ds.idMap].filter(([, id]) => !ds.docs.has(id) && !bad.has(id));
  if (dangling.length) {
    problems.add('id-map', `${plural(dangling.length, 'row')} ${verb(dangling.length, 'points', 'point')} to ids the docstore does not hold (${examples(dangling, ([r, id]) => `row ${r} → ${id}`)})`, 'mismatch');
  }
  const orphans = [...ds.docs.keys()].filter((id) => !seen.has(id));
  if (orphans.length) {
    problems.add('id-map', `${plural(orphans.length, 'docstore document')} ${verb(orphans.length, 'has', 'have')} no row in the index (${examples(orphans)})`, 'mismatch');
  }
}

function checkInfoDb(info: InfoKb, kbName: string, vectors: number | null, ds: DecodedFaissPickle | null, problems: Problems): void {
  const add = (m: string) => problems.add('info-db-mismatch', m, 'mismatch');
  if (info.fileDocs) {
    const ids = new Set(info.fileDocs.map((d) => d.docId));
    if (ids.size !== info.fileDocs.length) add(`info.db file_doc lists ${info.fileDocs.length - ids.size} doc ids more than once`);
    if (ds) {
      const notInDocstore = [...ids].filter((id) => !ds.docs.has(id));
      const notInInfo = [...ds.docs.keys()].filter((id) => !ids.has(id));
      if (notInDocstore.length) add(`${plural(notInDocstore.length, 'chunk')} listed in info.db (file_doc) ${verb(notInDocstore.length, 'is', 'are')} not in the docstore (${examples(notInDocstore)})`);
      if (notInInfo.length) add(`${plural(notInInfo.length, 'docstore document')} ${verb(notInInfo.length, 'is', 'are')} not listed in info.db (file_doc) (${examples(notInInfo)})`);
    } else if (vectors !== null && ids.size !== vectors) {
      add(`info.db lists ${plural(ids.size, 'chunk')} (file_doc), ${INDEX_FILE} holds ${plural(vectors, 'vector')}`);
    }
    const perFile = new Map<string, number>();
    for (const d of info.fileDocs) perFile.set(d.fileName, (perFile.get(d.fileName) ?? 0) + 1);
    const off = info.files.filter((f) => f.docsCount !== null && f.docsCount !== (perFile.get(f.fileName) ?? 0));
    if (off.length) {
      add(`info.db disagrees with itself for ${plural(off.length, 'file')}: ${examples(off, (f) => `knowledge_file says ${f.fileName} has ${f.docsCount} chunks, file_doc lists ${perFile.get(f.fileName) ?? 0}`)}`);
    }
  } else {
    const total = info.files.reduce((s, f) => s + (f.docsCount ?? 0), 0);
    const have = ds ? ds.docs.size : vectors;
    if (info.files.every((f) => f.docsCount !== null) && have !== null && total !== have) {
      add(`info.db (knowledge_file.docs_count) counts ${plural(total, 'chunk')}, the store holds ${have}`);
    }
  }
  if (ds) {
    const listed = new Set(info.files.map((f) => normalizeSource(f.fileName, kbName)));
    const bySource = new Map<string, number>();
    for (const d of ds.docs.values()) {
      const s = normalizeSource(d.metadata.source, kbName);
      if (s !== null) bySource.set(s, (bySource.get(s) ?? 0) + 1);
    }
    const unlisted = [...bySource.keys()].filter((s) => !listed.has(s));
    if (unlisted.length) add(`the docstore holds chunks of ${plural(unlisted.length, 'file')} info.db does not list (${examples(unlisted)})`);
    const absent = info.files.filter((f) => (f.docsCount ?? 1) > 0 && !bySource.has(normalizeSource(f.fileName, kbName) ?? ''));
    if (absent.length) add(`${plural(absent.length, 'file')} listed in info.db ${verb(absent.length, 'has', 'have')} no chunks in the docstore (${examples(absent, (f) => f.fileName)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// --deep

function sampleRows(n: number): number[] {
  if (n <= SELF_SEARCH_SAMPLE) return Array.from({ length: n }, (_, i) => i);
  const rows = new Set<number>();
  for (let i = 0; i < SELF_SEARCH_SAMPLE; i++) rows.add(Math.floor((i * (n - 1)) / (SELF_SEARCH_SAMPLE - 1)));
  return [...rows];
}

function sameVector(data: Float32Array, d: number, a: number, b: number): boolean {
  for (let j = 0; j < d; j++) if (Math.abs(data[a * d + j]! - data[b * d + j]!) > 1e-6) return false;
  return true;
}

interface DeepResult {
  normalized: boolean | null;
  selfSearch: SelfSearchSummary;
}

async function deepChecks(ix: IndexRead, problems: Problems): Promise<DeepResult> {
  if (!ix.data || !ix.faiss || ix.dimension === null || ix.vectors === null) {
    return { normalized: null, selfSearch: { checked: 0, failed: 0, skipped: ix.skip ?? `${INDEX_FILE} is missing or unreadable` } };
  }
  const { data, faiss } = ix;
  const d = ix.dimension;
  const n = ix.vectors;

  // Norms and finiteness of every stored vector.
  const norm2 = new Float64Array(n);
  const nonFinite: number[] = [];
  const offNorm: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    let finite = true;
    for (let j = i * d, end = j + d; j < end; j++) {
      const x = data[j]!;
      if (!Number.isFinite(x)) finite = false;
      s += x * x;
    }
    norm2[i] = s;
    if (!finite) nonFinite.push(i);
    if (!finite || !Number.isFinite(s) || Math.abs(Math.sqrt(s) - 1) > NORM_TOLERANCE) offNorm.push(i);
    if (i % 20000 === 19999) await tick();
  }
  if (nonFinite.length) {
    problems.add('vector-not-finite', `${plural(nonFinite.length, 'stored vector')} ${verb(nonFinite.length, 'holds', 'hold')} NaN or infinite values (rows ${examples(nonFinite)}): the index data is damaged`, 'corrupt');
  }
  const mostlyNormalized = offNorm.length < n / 2;
  const damaged = new Set(nonFinite);
  if (offNorm.length) {
    const norms = offNorm.map((r) => Math.sqrt(norm2[r]!));
    if (mostlyNormalized) {
      for (const r of offNorm) damaged.add(r);
      problems.add(
        'not-normalized',
        `${offNorm.length} of ${n} stored vectors ${verb(offNorm.length, 'is', 'are')} not unit length (${examples(offNorm.map((r, i) => `row ${r}: norm ${fmt(norms[i]!)}`))}) while the rest are: ${verb(offNorm.length, 'that vector looks', 'those vectors look')} damaged`,
        'corrupt',
      );
    } else {
      problems.add(
        'not-normalized',
        `${offNorm.length} of ${n} stored vectors are not unit length (norms ${fmt(Math.min(...norms))}…${fmt(Math.max(...norms))}); Chatchat writes L2-normalised vectors, so this index was not written by it (or was replaced)`,
        'mismatch',
      );
    }
  }

  // Every (or a sample of) stored vector searched for itself must come back first, at distance ~0.
  const rows = sampleRows(n);
  const failures: { row: number; reason: string }[] = [];
  for (let start = 0; start < rows.length; start += SEARCH_BATCH) {
    const batch = rows.slice(start, start + SEARCH_BATCH);
    const q = new Array<number>(batch.length * d);
    batch.forEach((r, bi) => {
      for (let j = 0; j < d; j++) q[bi * d + j] = data[r * d + j]!;
    });
    let res: { labels: number[]; distances: number[] };
    try {
      res = faiss.search(q, 1);
    } catch (err) {
      problems.add('self-search', `FAISS search failed: ${errMessage(err)}`, 'corrupt');
      return { normalized: offNorm.length === 0, selfSearch: { checked: start, failed: failures.length } };
    }
    batch.forEach((r, bi) => {
      const label = res.labels[bi]!;
      const dist = res.distances[bi]!;
      const own = norm2[r]!;
      const tol = 1e-3 * Math.max(1, Number.isFinite(own) ? own : 1);
      const same = label === r || (label >= 0 && label < n && sameVector(data, d, label, r));
      if (ix.metric === 'ip') {
        if (same && Math.abs(dist - own) <= tol) return;
        if (!mostlyNormalized && label >= 0 && dist > own) return; // unnormalised IP: another row may score higher
      } else if (same && Number.isFinite(dist) && Math.abs(dist) <= tol) {
        return;
      }
      const reason =
        label < 0 || label >= n ? `nothing came back (distance ${fmt(dist)})` : label === r ? `it came back at distance ${fmt(dist)}, not ~0` : `row ${label} came back first (distance ${fmt(dist)})`;
      failures.push({ row: r, reason });
    });
    await tick();
  }
  if (failures.length) {
    const allDamaged = failures.every((f) => damaged.has(f.row));
    problems.add(
      'self-search',
      `${failures.length} of ${rows.length} stored vectors searched did not find ${failures.length === 1 ? 'itself' : 'themselves'} first (${examples(failures, (f) => `row ${f.row}: ${f.reason}`)})`,
      allDamaged ? 'corrupt' : 'mismatch',
    );
  }
  return { normalized: offNorm.length === 0, selfSearch: { checked: rows.length, failed: failures.length } };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Math.round(x * 1e4) / 1e4);
}

function checkRowOrder(ds: DecodedFaissPickle, problems: Problems): void {
  const keys = [...ds.docs.keys()];
  if (keys.length !== ds.idMap.size) return;
  const off: { row: number; id: string; expected: string }[] = [];
  for (let row = 0; row < keys.length; row++) {
    const id = ds.idMap.get(row);
    if (id !== undefined && id !== keys[row]) off.push({ row, id, expected: keys[row]! });
  }
  if (off.length) {
    problems.add(
      'id-map-order',
      `the id map disagrees with the docstore's insertion order at ${plural(off.length, 'row')} (${examples(off, (o) => `row ${o.row} → ${o.id}, the docstore's document #${o.row} is ${o.expected}`)}): LangChain adds both in the same order, so rows were probably swapped and searches return the wrong chunk`,
      'mismatch',
    );
  }
}

// ---------------------------------------------------------------------------------------------

export interface InspectedVectorStore {
  report: VectorStoreReport;
  docstore: DecodedFaissPickle | null;
}

export async function inspectVectorStore(
  vs: LocatedVectorStore,
  kbName: string,
  info: InfoKb | null,
  deep: boolean,
): Promise<InspectedVectorStore> {
  const problems = new Problems();
  const indexFile = path.join(vs.abs, INDEX_FILE);
  const docFile = path.join(vs.abs, DOCSTORE_FILE);
  const indexExists = vs.exists && fs.existsSync(indexFile);
  const docExists = vs.exists && fs.existsSync(docFile);
  const where = vs.exists ? vs.rel : `${vs.rel} (the folder does not exist)`;
  if (!indexExists) problems.add('index-missing', `${INDEX_FILE} is missing from ${where}`, 'missing-index');
  if (!docExists) problems.add('docstore-missing', `${DOCSTORE_FILE} is missing from ${where}`, 'missing-docstore');

  const ix: IndexRead = indexExists ? readIndex(indexFile, deep, problems) : { indexType: null, metric: null, dimension: null, vectors: null };
  const ds = docExists ? readDocstore(docFile, problems) : null;
  if (ds) checkDocstoreShape(ds, problems);
  checkCounts(ix.vectors, ds, problems);
  if (ds) checkIdMap(ds, problems);
  if (info) checkInfoDb(info, kbName, ix.vectors, ds, problems);

  const report: VectorStoreReport = {
    path: vs.rel,
    indexType: ix.indexType,
    metric: ix.metric,
    dimension: ix.dimension,
    vectors: ix.vectors,
    documents: ds ? ds.docstoreEntries : null,
    idMap: ds ? ds.idMapEntries : null,
    status: 'ok',
    problems: [],
  };
  if (deep) {
    const r = indexExists ? await deepChecks(ix, problems) : { normalized: null, selfSearch: { checked: 0, failed: 0, skipped: `${INDEX_FILE} is missing` } };
    if (ds && !problems.items.some((p) => p.code === 'id-map' || p.code === 'count-mismatch')) checkRowOrder(ds, problems);
    report.normalized = r.normalized;
    report.selfSearch = r.selfSearch;
  }
  report.status = problems.status();
  report.problems = problems.list();
  return { report, docstore: ds };
}

function isFaiss(vsType: string | null): boolean {
  return vsType === null || vsType.trim() === '' || vsType.toLowerCase() === 'faiss';
}

/** The vector store info.db's rows describe: the one named after the embed model, else the only one. */
function crossCheckTarget(kb: LocatedKb, info: InfoKb | null): LocatedVectorStore | null {
  if (!info) return null;
  const byModel = kb.vectorStores.find((v) => v.model !== null && v.model === info.embedModel);
  if (byModel) return byModel;
  return kb.vectorStores.length === 1 ? kb.vectorStores[0]! : null;
}

async function inspectKb(root: string, kb: LocatedKb, infoDb: InfoDb | null, hasInfoDb: boolean, deep: boolean): Promise<ChatchatKbReport> {
  const info = infoDb?.kbs.get(kb.name) ?? null;
  const problems = new Problems();
  const embedModel = info?.embedModel ?? (kb.vectorStores.length === 1 ? kb.vectorStores[0]!.model : null);
  const faissKb = isFaiss(info?.vsType ?? null);

  if (!kb.dirExists && kb.dir) problems.add('kb-folder-missing', `info.db lists the knowledge base "${kb.name}" but its folder ${rel(root, kb.dir)} is missing`);
  if (!kb.dirExists && !kb.dir) problems.add('kb-folder-missing', `info.db lists a knowledge base named "${kb.name}", which cannot be a folder name: it was not looked for`);
  if (hasInfoDb && infoDb && !info) problems.add('info-db-kb-missing', `info.db has no row for "${kb.name}": Chatchat does not list this knowledge base`);
  if (!faissKb) {
    problems.add(
      'not-faiss',
      `"${kb.name}" keeps its vectors in ${info?.vsType} (not FAISS files); only info.db and content/ could be checked`,
    );
  }

  const stores = [...kb.vectorStores];
  if (stores.length === 0 && faissKb && kb.dir) {
    // Chatchat would have written them here: report them missing rather than say nothing.
    const abs = path.join(kb.dir, 'vector_store', ...(embedModel && isSafeRelative(embedModel) ? [embedModel] : []));
    stores.push({ rel: rel(root, abs), abs, model: embedModel, exists: fs.existsSync(abs) });
  }
  const target = crossCheckTarget({ ...kb, vectorStores: stores }, info);
  const inspected: InspectedVectorStore[] = [];
  for (const vs of stores) inspected.push(await inspectVectorStore(vs, kb.name, vs === target ? info : null, deep));

  // content/: the files info.db lists (or, without info.db, the sources the docstore names).
  const content = { present: 0, missing: 0 };
  if (kb.dir) {
    let expected: string[];
    if (info) expected = info.files.map((f) => f.fileName);
    else {
      const ds = inspected.find((i) => i.docstore)?.docstore;
      expected = ds ? [...new Set([...ds.docs.values()].map((d) => normalizeSource(d.metadata.source, kb.name)).filter((s): s is string => s !== null))] : [];
    }
    const contentDir = path.join(kb.dir, 'content');
    const missing: string[] = [];
    for (const name of expected) {
      const rn = normalizeSource(name, kb.name);
      if (rn && existingContentFile(contentDir, rn)) content.present++;
      else missing.push(name);
    }
    content.missing = missing.length;
    if (missing.length) {
      problems.add(
        'content-missing',
        `${missing.length} of ${expected.length} original files ${info ? 'listed in info.db' : 'named by the docstore'} ${verb(missing.length, 'is', 'are')} not under ${rel(root, contentDir)}/ (${examples(missing)}): Chatchat cannot rebuild ${missing.length === 1 ? 'it' : 'them'}; the docstore may still hold the text`,
      );
    }
  }

  return {
    name: kb.name,
    embedModel,
    vectorStores: inspected.map((i) => i.report),
    infoDb: info ? { files: info.files.length, docs: info.fileDocs ? info.fileDocs.length : null } : null,
    content,
    problems: problems.list(),
  };
}

export function readInfoDbReporting(infoDbPath: string, deep: boolean, problems: ChatchatProblem[]): InfoDb | null {
  try {
    const db = readInfoDb(infoDbPath, { quickCheck: deep });
    if (db.quickCheck !== undefined && db.quickCheck !== 'ok') problems.push({ code: 'info-db-corrupt', message: `info.db fails SQLite's quick_check: ${db.quickCheck}` });
    return db;
  } catch (err) {
    const msg = errMessage(err);
    const corrupt = /malformed|not a database|corrupt|disk image/i.test(msg);
    problems.push({ code: corrupt ? 'info-db-corrupt' : 'info-db-unreadable', message: `info.db cannot be read: ${msg}` });
    return null;
  }
}

/** Inspects a Chatchat knowledge_base folder or a bare LangChain FAISS folder. */
export async function inspectChatchat(dir: string, opts: InspectOptions = {}): Promise<ChatchatReport> {
  const deep = opts.deep === true;
  const located = locateStore(dir);
  const problems: ChatchatProblem[] = [];
  const infoDb = located.infoDbPath ? readInfoDbReporting(located.infoDbPath, deep, problems) : null;
  const knowledgeBases: ChatchatKbReport[] = [];
  for (const kb of located.kbs) knowledgeBases.push(await inspectKb(located.root, kb, infoDb, located.infoDbPath !== null, deep));
  const ok =
    knowledgeBases.length > 0 &&
    problems.length === 0 &&
    knowledgeBases.every((kb) => kb.problems.length === 0 && kb.vectorStores.every((v) => v.status === 'ok' && v.problems.length === 0));
  return { root: located.root, ok, deep, knowledgeBases, problems };
}
