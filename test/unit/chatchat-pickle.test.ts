import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectChatchat, readChatchatDocuments } from '../../electron/core/chatchat/index.js';
import { PickleError, PyObject, decodeFaissPickle, toPlain, unpickle } from '../../electron/core/chatchat/pickle.js';
import {
  PyInstance,
  PyTuple,
  type PyValue,
  type SyntheticDoc,
  langchainPickle,
  pickle,
  pickledDocument,
  writeSmallFlatIndex,
  writeSyntheticStore,
} from '../helpers/chatchat.js';
import { CHATCHAT_FIXTURE, fixturePresent, tempDir } from '../helpers/env.js';

const fixture = fixturePresent(CHATCHAT_FIXTURE);
const fixturePkl = path.join(CHATCHAT_FIXTURE, 'knowledge_base/samples/vector_store/bge-large-zh-v1.5/index.pkl');

const docs: SyntheticDoc[] = [
  { id: 'a1', text: '探视时间为下午三点到八点', metadata: { source: 'rules/visiting.md', page: 1 } },
  { id: 'b2', text: 'Amoxicillin 500 mg three times a day', metadata: { source: 'leaflets/amoxicillin.txt' } },
  { id: 'c3', text: 'Wait 30 seconds before powering the disks again', metadata: { source: 'rules/visiting.md', page: 2 } },
];

describe('reading LangChain docstores (index.pkl) without Python', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());
  const temp = () => {
    const t = tempDir();
    cleanup = t.cleanup;
    return t.dir;
  };

  it('reads a pydantic-v2 era docstore (LangChain ≥ 0.3) and a pydantic-v1 one the same way', async () => {
    for (const flavor of ['pydantic-v1', 'pydantic-v2'] as const) {
      const decoded = decodeFaissPickle(langchainPickle(docs, flavor));
      expect(decoded.flavor).toBe(flavor);
      expect(decoded.docstoreClass).toBe('langchain_community.docstore.in_memory.InMemoryDocstore');
      expect([...decoded.docs.values()]).toEqual(docs.map((d) => ({ id: d.id, pageContent: d.text, metadata: d.metadata })));
      expect([...decoded.idMap]).toEqual([
        [0, 'a1'],
        [1, 'b2'],
        [2, 'c3'],
      ]);
    }
    const dir = path.join(temp(), 'v2store');
    writeSyntheticStore(dir, docs, 'pydantic-v2');
    const r = await inspectChatchat(dir, { deep: true });
    expect(r.ok).toBe(true);
    expect(r.knowledgeBases[0]!.vectorStores[0]).toMatchObject({ status: 'ok', vectors: 3, documents: 3, idMap: 3, dimension: 16, normalized: true });
    const read = readChatchatDocuments(dir);
    expect(read.kb).toBe('v2store');
    expect(read.documents.map((d) => [d.source, d.text, d.docId])).toEqual(docs.map((d) => [d.metadata.source, d.text, d.id]));
  });

  it('reads objects pickled the protocol-0 way, rebuilt through copy_reg._reconstructor', () => {
    const decoded = decodeFaissPickle(langchainPickle(docs, 'pydantic-v1', 'reconstructor'));
    expect(decoded.docs.size).toBe(3);
    expect(decoded.docs.get('b2')?.pageContent).toBe(docs[1]!.text);
    expect(decoded.flavor).toBe('pydantic-v1');
  });

  it('keeps classes it does not know as inert data, and never runs what the pickle names', () => {
    const odd = new PyInstance('os', 'system', new Map<PyValue, PyValue>([['cmd', 'rm -rf /']]));
    const value = unpickle(pickle(new PyTuple([odd, new Map<PyValue, PyValue>([['when', new PyInstance('datetime', 'datetime', null)]])])));
    expect(Array.isArray(value)).toBe(true);
    const [obj, meta] = value as [PyObject, Map<string, unknown>];
    expect(obj).toBeInstanceOf(PyObject);
    expect(obj.qualifiedName).toBe('os.system');
    expect(toPlain(meta)).toEqual({ when: { __class__: 'datetime.datetime' } });
    const withObjectMeta = decodeFaissPickle(
      pickle(
        new PyTuple([
          new PyInstance('langchain_community.docstore.in_memory', 'InMemoryDocstore', new Map<PyValue, PyValue>([['_dict', new Map<PyValue, PyValue>([['x', pickledDocument({ id: 'x', text: 't', metadata: {} }, 'pydantic-v2')]])]])),
          new Map<PyValue, PyValue>([[0, 'x']]),
        ]),
      ),
    );
    expect(withObjectMeta.docs.get('x')?.pageContent).toBe('t');
  });

  it('turns random bytes into a clear corrupt problem, not a throw', async () => {
    let s = 99;
    const random = Buffer.alloc(5000, 0).map(() => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
    expect(() => decodeFaissPickle(random)).toThrow(PickleError);
    expect(() => decodeFaissPickle(Buffer.alloc(0))).toThrow(/empty/);
    // random bytes after a valid protocol header still only give a PickleError
    for (let i = 0; i < 200; i++) {
      const b = Buffer.concat([Buffer.from([0x80, 4]), random.subarray(i * 20, i * 20 + 64)]);
      try {
        decodeFaissPickle(b);
      } catch (err) {
        expect(err).toBeInstanceOf(PickleError);
      }
    }
    const dir = path.join(temp(), 'store');
    writeSyntheticStore(dir, docs, 'pydantic-v2');
    fs.writeFileSync(path.join(dir, 'index.pkl'), random);
    const vs = (await inspectChatchat(dir)).knowledgeBases[0]!.vectorStores[0]!;
    expect(vs.status).toBe('corrupt');
    expect(vs.problems).toEqual([{ code: 'docstore-corrupt', message: expect.stringMatching(/^index\.pkl \(5000 bytes\) cannot be read as LangChain's docstore: not a Python pickle/) }]);
  });

  it('turns a pickle of an unexpected shape into a clear corrupt problem', async () => {
    const shapes: [PyValue, RegExp][] = [
      [new Map<PyValue, PyValue>([['a', 1]]), /not LangChain's \(docstore, id map\) pair: it holds a dict of 1/],
      [new PyTuple([1, 2, 3]), /it holds a tuple\/list of 3/],
      [new PyTuple(['docstore?', new Map()]), /the first element is a string, not a docstore/],
      [new PyTuple([new PyInstance('x', 'Store', new Map<PyValue, PyValue>([['_dict', new Map()]])), ['not', 'a', 'map']]), /the second element is a tuple\/list of 3, not the row → docstore id map/],
    ];
    const dir = path.join(temp(), 'store');
    writeSyntheticStore(dir, docs, 'pydantic-v1');
    for (const [shape, message] of shapes) {
      expect(() => decodeFaissPickle(pickle(shape))).toThrow(message);
      fs.writeFileSync(path.join(dir, 'index.pkl'), pickle(shape));
      const vs = (await inspectChatchat(dir)).knowledgeBases[0]!.vectorStores[0]!;
      expect(vs.status).toBe('corrupt');
      expect(vs.problems[0]!.message).toMatch(message);
    }
    // Right shape, wrong contents: values that are not Documents.
    const store = new PyInstance('langchain_community.docstore.in_memory', 'InMemoryDocstore', new Map<PyValue, PyValue>([
      ['_dict', new Map<PyValue, PyValue>([['a1', 'just a string'], ['b2', pickledDocument(docs[1]!, 'pydantic-v1')], ['c3', new PyInstance('m', 'Other', new Map())]])],
    ]));
    fs.writeFileSync(path.join(dir, 'index.pkl'), pickle(new PyTuple([store, new Map<PyValue, PyValue>([[0, 'a1'], [1, 'b2'], [2, 'c3']])])));
    const vs = (await inspectChatchat(dir)).knowledgeBases[0]!.vectorStores[0]!;
    expect(vs).toMatchObject({ status: 'corrupt', documents: 3, idMap: 3 });
    expect(vs.problems[0]!.message).toMatch(/^2 docstore entries are not a readable Document \(a1: a string instead of a Document, c3: no page_content text\)/);
  });

  it.skipIf(!fixture.present)(`survives bit flips and truncations anywhere in the real index.pkl, failing only with PickleError${fixture.present ? '' : ` (skipped: ${fixture.reason})`}`, () => {
    const original = fs.readFileSync(fixturePkl);
    let s = 4242;
    const next = () => (s = (s * 1664525 + 1013904223) >>> 0);
    let failures = 0;
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(original);
      if (i % 3 === 0) {
        const cut = next() % b.length;
        try {
          decodeFaissPickle(b.subarray(0, cut));
          throw new Error(`a truncation at ${cut} decoded`);
        } catch (err) {
          expect(err).toBeInstanceOf(PickleError);
        }
        continue;
      }
      const at = next() % b.length;
      b[at] = b[at]! ^ (1 << (next() % 8));
      try {
        decodeFaissPickle(b);
      } catch (err) {
        expect(err, `flip at ${at}`).toBeInstanceOf(PickleError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('checks an inner-product store (IndexFlatIP, as some Chatchat versions configure) with --deep as well', async () => {
    const dir = path.join(temp(), 'ipstore');
    fs.mkdirSync(dir);
    writeSmallFlatIndex(path.join(dir, 'index.faiss'), 3, 16);
    const b = fs.readFileSync(path.join(dir, 'index.faiss'));
    b.write('IxFI', 0, 'latin1');
    b.writeInt32LE(0, 33);
    fs.writeFileSync(path.join(dir, 'index.faiss'), b);
    fs.writeFileSync(path.join(dir, 'index.pkl'), langchainPickle(docs, 'pydantic-v2'));
    const vs = (await inspectChatchat(dir, { deep: true })).knowledgeBases[0]!.vectorStores[0]!;
    expect(vs).toMatchObject({ indexType: 'IndexFlatIP', metric: 'ip', status: 'ok', normalized: true, selfSearch: { checked: 3, failed: 0 } });
  });
});
