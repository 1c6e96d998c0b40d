// Reading LangChain's FAISS `index.pkl` without Python: a pickle of
//   (InMemoryDocstore(_dict = {doc_id: Document}), {row: doc_id})
// pickleparser decodes the opcodes; our name resolver turns every class into an inert PyObject
// that keeps the pickled arguments and state (nothing named in the file is ever executed), so
// unknown classes and both pydantic generations of Document are readable:
//   pydantic v1: state {__dict__: {page_content, metadata, type}, __fields_set__, __private_attribute_values__}
//   pydantic v2: state {__dict__: {id, metadata, page_content, type}, __pydantic_extra__, __pydantic_fields_set__, __pydantic_private__}
// Anything that does not decode or has another shape becomes a PickleError with a plain reason.
import { BufferReader, Parser } from 'pickleparser';

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** An instance of a Python class, as pickled: constructor arguments and __setstate__ state. */
export class PyObject {
  state: unknown = undefined;
  kwargs: unknown = undefined;
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: unknown[],
  ) {}
  __setstate__(state: unknown): void {
    this.state = state;
  }
  __setnewargs_ex__(kwargs: unknown): void {
    this.kwargs = kwargs;
  }
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

type PyCallable = (...args: unknown[]) => unknown;

function toArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return [...v];
  if (v instanceof Map) return [...v.keys()];
  if (typeof v === 'string') return [...v];
  throw new PickleError(`a set was built from ${describe(v)}`);
}

/**
 * A Python global becomes a plain function (callable by REDUCE and constructible by NEWOBJ —
 * a function returning an object works for both). A few builtins get their real meaning.
 */
function resolveGlobal(module: string, name: string): PyCallable {
  const fqn = `${module}.${name}`;
  switch (fqn) {
    case 'builtins.set':
    case '__builtin__.set':
    case 'builtins.frozenset':
    case '__builtin__.frozenset':
      return function set(items?: unknown) {
        return toArray(items);
      };
    case 'builtins.list':
    case '__builtin__.list':
    case 'builtins.tuple':
    case '__builtin__.tuple':
      return function list(items?: unknown) {
        return toArray(items);
      };
    case 'builtins.dict':
    case '__builtin__.dict':
    case 'collections.OrderedDict':
      return function dict(items?: unknown) {
        const m = new Map<unknown, unknown>();
        if (items instanceof Map) for (const [k, v] of items) m.set(k, v);
        else if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
        return m;
      };
    case 'copyreg._reconstructor':
    case 'copy_reg._reconstructor':
      // Protocol 0/1: _reconstructor(cls, base, state) == object.__new__(cls)
      return function reconstructor(cls?: unknown) {
        if (typeof cls !== 'function') throw new PickleError(`_reconstructor called with ${describe(cls)} instead of a class`);
        return Reflect.construct(cls, []) as unknown;
      };
    case 'copyreg.__newobj__':
    case 'copy_reg.__newobj__':
      return function newobj(cls?: unknown, ...args: unknown[]) {
        if (typeof cls !== 'function') throw new PickleError(`__newobj__ called with ${describe(cls)} instead of a class`);
        return Reflect.construct(cls, args) as unknown;
      };
    default:
      return function pyClass(...args: unknown[]) {
        return new PyObject(module, name, args);
      };
  }
}

const nameResolver = { resolve: (module: string, name: string) => resolveGlobal(String(module), String(name)) };

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Python writes lone surrogates with "surrogatepass": ED A0..BF xx, which strict UTF-8 refuses. */
function hasEncodedSurrogate(b: Uint8Array): boolean {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0xed && (b[i + 1]! & 0xe0) === 0xa0) return true;
  return false;
}

/**
 * pickleparser's reader, made strict: text must be valid UTF-8 (a flipped bit in a chunk's text
 * is then usually caught rather than silently decoded to U+FFFD), and a 64-bit length that is not
 * a safe integer is an error rather than a console warning.
 */
class StrictReader extends BufferReader {
  override string(size: number, encoding: 'ascii' | 'utf-8'): string {
    const raw = this.bytes(size);
    const data = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    if (encoding !== 'utf-8') return latin1.decode(data);
    try {
      return fatalUtf8.decode(data);
    } catch {
      if (hasEncodedSurrogate(data)) return lenientUtf8.decode(data);
      throw new PickleError('a string is not valid UTF-8');
    }
  }
  override uint64(): number {
    const b = this.bytes(8);
    const view = new DataView(b.buffer, b.byteOffset, 8);
    const n = view.getUint32(0, true) + 2 ** 32 * view.getUint32(4, true);
    if (!Number.isSafeInteger(n) || n > this.length) throw new PickleError(`a 64-bit length (${n}) exceeds the file`);
    return n;
  }
}

/** Unpickles bytes into JS values: dict → Map, set/tuple/list → array, objects → PyObject. */
export function unpickle(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new PickleError('the file is empty');
  if (bytes[0] !== 0x80 && bytes[0] !== 0x28 && bytes[0] !== 0x63 && bytes[0] !== 0x5d && bytes[0] !== 0x7d) {
    throw new PickleError(`not a Python pickle (first byte 0x${bytes[0]!.toString(16).padStart(2, '0')})`);
  }
  const parser = new Parser({ nameResolver, unpicklingTypeOfDictionary: 'Map', unpicklingTypeOfSet: 'array' });
  try {
    return parser.read(new StrictReader(bytes));
  } catch (err) {
    if (err instanceof PickleError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    // pickleparser's own messages ("Unexpected end of file.", "Unsupported opcode '…'.") are
    // plain enough; a TypeError from a damaged stream (an opcode applied to the wrong value) is not.
    if (err instanceof TypeError || err instanceof RangeError) throw new PickleError(`the pickle stream is damaged (${msg})`);
    throw new PickleError(msg.replace(/\.$/, ''));
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (v instanceof PyObject) return `a ${v.qualifiedName}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (Array.isArray(v)) return `a tuple/list of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes (${v.byteLength})`;
  if (typeof v === 'function') return 'a class';
  return `a ${typeof v}`;
}

/** The attribute dict of a pickled object: __dict__ of pydantic state, (dict, slots) pairs, or the state itself. */
export function objectFields(obj: unknown): Map<unknown, unknown> | null {
  if (obj instanceof Map) return obj;
  if (!(obj instanceof PyObject)) return null;
  const state = obj.state;
  if (state instanceof Map) {
    const inner = state.get('__dict__');
    if (inner instanceof Map) return inner;
    return state;
  }
  if (Array.isArray(state) && state.length === 2) {
    const merged = new Map<unknown, unknown>();
    for (const part of state) if (part instanceof Map) for (const [k, v] of part) merged.set(k, v);
    const inner = merged.get('__dict__');
    return inner instanceof Map ? inner : merged;
  }
  return null;
}

export type DocumentFlavor = 'pydantic-v1' | 'pydantic-v2' | 'plain';

function flavorOf(obj: unknown): DocumentFlavor {
  if (obj instanceof PyObject && obj.state instanceof Map) {
    if (obj.state.has('__pydantic_fields_set__') || obj.state.has('__pydantic_extra__')) return 'pydantic-v2';
    if (obj.state.has('__fields_set__')) return 'pydantic-v1';
  }
  return 'plain';
}

/** How many values one toPlain call may produce: shared references (memo gets) would otherwise expand exponentially. */
export const MAX_PLAIN_VALUES = 100_000;

class PlainBudgetExceeded extends Error {}

/**
 * Pickled values as JSON-safe data (Map → object, bigint → number or string, bytes → a note).
 * A pickle can reference one list from many places (memo gets); expanded as copies, 30 levels of
 * lists each holding the previous level 4 times make 4^30 values out of 0.5 KB. The conversion
 * therefore stops with a PickleError past `maxValues` values.
 */
export function toPlain(v: unknown, maxValues = MAX_PLAIN_VALUES): unknown {
  const budget = { left: maxValues };
  try {
    return plain(v, 0, new Set(), budget);
  } catch (err) {
    if (err instanceof PlainBudgetExceeded) throw new PickleError(`it expands to more than ${maxValues} values (shared references repeated)`);
    throw err;
  }
}

function plain(v: unknown, depth: number, seen: Set<unknown>, budget: { left: number }): unknown {
  if (--budget.left < 0) throw new PlainBudgetExceeded();
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  if (typeof v !== 'object') return String(v);
  if (depth > 24 || seen.has(v)) return '<…>';
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1, seen, budget));
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x, depth + 1, seen, budget)]));
    if (v instanceof PyObject) {
      const fields = objectFields(v);
      return { __class__: v.qualifiedName, ...(fields ? (plain(fields, depth + 1, seen, budget) as object) : {}) };
    }
    return String(v);
  } finally {
    seen.delete(v);
  }
}

/** A short label of a value for messages; never expands a large structure. */
function label(v: unknown): string {
  try {
    return String(toPlain(v, 1_000));
  } catch {
    return describe(v);
  }
}

export interface DocstoreDoc {
  id: string;
  pageContent: string;
  metadata: Record<string, unknown>;
}

export interface DecodedFaissPickle {
  /** Docstore entries that are Documents, in docstore (insertion) order. */
  docs: Map<string, DocstoreDoc>;
  /** Raw size of the docstore dict, Documents or not. */
  docstoreEntries: number;
  /** Keys whose value is not a readable Document. */
  badDocs: { id: string; reason: string }[];
  /** The id map's well-formed entries: row → doc id, in pickled order. */
  idMap: Map<number, string>;
  /** Raw size of the id map, well-formed or not. */
  idMapEntries: number;
  /** Malformed id map entries (key not a row number, value not a string). */
  badIdMapEntries: string[];
  flavor: DocumentFlavor | 'mixed';
  docstoreClass: string;
}

/** Decodes a LangChain FAISS index.pkl; throws PickleError when it is not one. */
export function decodeFaissPickle(bytes: Uint8Array): DecodedFaissPickle {
  const top = unpickle(bytes);
  if (!Array.isArray(top) || top.length !== 2) {
    throw new PickleError(`a pickle, but not LangChain's (docstore, id map) pair: it holds ${describe(top)}`);
  }
  const [store, ids] = top as [unknown, unknown];
  let dict: Map<unknown, unknown> | null = null;
  let docstoreClass = 'dict';
  if (store instanceof PyObject) {
    docstoreClass = store.qualifiedName;
    const fields = objectFields(store);
    const d = fields?.get('_dict');
    if (d instanceof Map) dict = d;
  } else if (store instanceof Map) {
    dict = store;
  }
  if (!dict) throw new PickleError(`the first element is ${describe(store)}, not a docstore with a _dict of documents`);
  if (!(ids instanceof Map)) throw new PickleError(`the second element is ${describe(ids)}, not the row → docstore id map`);

  const docs = new Map<string, DocstoreDoc>();
  const badDocs: { id: string; reason: string }[] = [];
  const flavors = new Set<DocumentFlavor>();
  for (const [k, v] of dict) {
    const id = typeof k === 'string' ? k : label(k);
    if (typeof k !== 'string') {
      badDocs.push({ id, reason: `the key is ${describe(k)}, not a string id` });
      continue;
    }
    const fields = objectFields(v);
    const text = fields?.get('page_content');
    if (!fields || typeof text !== 'string') {
      badDocs.push({ id, reason: fields ? 'no page_content text' : `${describe(v)} instead of a Document` });
      continue;
    }
    const meta = fields.get('metadata');
    if (meta !== undefined && meta !== null && !(meta instanceof Map)) {
      badDocs.push({ id, reason: `its metadata is ${describe(meta)}, not a dict` });
      continue;
    }
    let metadata: Record<string, unknown> = {};
    if (meta instanceof Map) {
      try {
        metadata = toPlain(meta) as Record<string, unknown>;
      } catch (err) {
        if (!(err instanceof PickleError)) throw err;
        badDocs.push({ id, reason: `its metadata cannot be read: ${err.message}` });
        continue;
      }
    }
    flavors.add(flavorOf(v));
    docs.set(k, { id: k, pageContent: text, metadata });
  }

  const idMap = new Map<number, string>();
  const badIdMapEntries: string[] = [];
  for (const [k, v] of ids) {
    const row = typeof k === 'number' ? k : typeof k === 'bigint' ? Number(k) : NaN;
    if (!Number.isSafeInteger(row) || row < 0 || typeof v !== 'string') {
      badIdMapEntries.push(`${label(k)} → ${typeof v === 'string' ? v : describe(v)}`);
      continue;
    }
    idMap.set(row, v);
  }
  const flavor: DecodedFaissPickle['flavor'] = flavors.size > 1 ? 'mixed' : ([...flavors][0] ?? 'plain');
  return { docs, docstoreEntries: dict.size, badDocs, idMap, idMapEntries: ids.size, badIdMapEntries, flavor, docstoreClass };
}
