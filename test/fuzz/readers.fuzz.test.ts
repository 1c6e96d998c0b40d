// Fuzzing the readers of files Lifeline did not write itself (or that a damaged disk gives back):
//   - Langchain-Chatchat stores: the real fixture's index.pkl, index.faiss and info.db, mutated
//     copy by copy; inspectChatchat never throws (damage ends up as problems in its report);
//     unpickle/decodeFaissPickle on random and mutated bytes throw only PickleError;
//   - age files (X25519 and passphrase): damaged headers, stanzas, MACs, chunks and truncations
//     give only AgeError, whole-buffer and streamed;
//   - backup snapshots: a mutated snapshot file in a real repository is UserError
//     'snapshot-damaged'; so is a forged manifest (any drive holder can encrypt one: the
//     recipient is public in lifeline-repo.json);
//   - GGUF model headers: readGgufMetadata resolves or throws GgufError;
//   - FAISS flat index headers: decodeFlatHeader returns or throws a plain Error with a reason.
// Every case runs in a sandbox child process (support/sandbox.ts): a hang or a crash is a failure
// of that case, not of the run. Deterministic from FUZZ_SEED (printed).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../electron/api/handlers.js';
import { encryptBufferToRecipient, encryptWithPassphrase, generateIdentity } from '../../electron/core/backup/age.js';
import { Repository, type SnapshotManifest } from '../../electron/core/backup/repo.js';
import { type RestoreHooks, restoreSnapshot } from '../../electron/core/backup/restore.js';
import { readGgufMetadata } from '../../electron/core/models/gguf.js';
import { FLAT_HEADER_BYTES, encodeFlatIndex } from '../../electron/core/vectors/faissFormat.js';
import { copyFixture, langchainPickle, pickle, PyInstance, PyTuple } from '../helpers/chatchat.js';
import { CHATCHAT_FIXTURE, fixturePresent, tempDir } from '../helpers/env.js';
import { tinyLlamaGguf } from '../helpers/gguf.js';
import { FUZZ_SEED, Rng, concatBytes, enc, mutateBytes, randomByteMutation, seeded } from './support/mutate.js';
import { type ErrorInfo, type Outcome, SandboxPool, describeOutcome } from './support/sandbox.js';

const CASE_TIMEOUT_MS = 15_000;
const MEMORY_LIMIT_MB = 600;
const fixture = fixturePresent(CHATCHAT_FIXTURE);
let pool: SandboxPool;
let work: ReturnType<typeof tempDir>;
const counts = new Map<string, number>();

beforeAll(() => {
  console.log(`readers fuzz: FUZZ_SEED=${FUZZ_SEED} (set FUZZ_SEED to replay or explore another seed)`);
  pool = new SandboxPool(2);
  work = tempDir('lifeline-fuzz-readers-');
});

afterAll(() => {
  pool?.close();
  work?.cleanup();
  console.log(`readers fuzz total: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}; sandboxes busy ${(pool.busyMs / 1000).toFixed(1)} s`);
});

interface Checked {
  what: string;
  o: Outcome;
  problem: string | null;
}

/** Runs cases through the sandboxes; `judge` says what is wrong with an outcome (null: fine). */
async function fuzz<T extends { what: string }>(label: string, cases: readonly T[], op: string, args: (c: T) => unknown, judge: (c: T, o: Outcome) => string | null): Promise<Checked[]> {
  const results = await Promise.all(
    cases.map(async (c) => {
      const o = await pool.run(op, args(c), CASE_TIMEOUT_MS, MEMORY_LIMIT_MB);
      return { what: c.what, o, problem: judge(c, o) };
    }),
  );
  counts.set(label, (counts.get(label) ?? 0) + results.length);
  const kinds = new Map<string, number>();
  for (const r of results) {
    const k = r.o.kind === 'error' ? r.o.error.constructorName : r.o.kind;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const slowest = [...results].sort((a, b) => b.o.ms - a.o.ms)[0];
  console.log(`${label}: ${results.length} cases — ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; slowest ${slowest?.o.ms} ms (${slowest?.what.slice(0, 80)})`);
  const bad = results.filter((r) => r.problem);
  expect(bad.map((r) => `${r.what}: ${r.problem}`), `FUZZ_SEED=${FUZZ_SEED}`).toEqual([]);
  return results;
}

/** Only errors of the expected class; a hang, crash or runaway memory is always wrong. */
function onlyErrors(expected: (e: ErrorInfo) => boolean, name: string) {
  return (_c: unknown, o: Outcome): string | null => {
    if (o.kind === 'ok') return null;
    if (o.kind !== 'error') return describeOutcome(o);
    if (!expected(o.error)) return `threw ${o.error.constructorName}${o.error.code ? ` (${o.error.code})` : ''} instead of ${name}: ${o.error.message.slice(0, 300)}`;
    if (o.error.message.trim().length < 8) return `${name} without a reason: ${JSON.stringify(o.error.message)}`;
    return null;
  };
}

// ---------------------------------------------------------------------------------------------
// Langchain-Chatchat

/** A pickle whose Document metadata is `levels` lists, each holding the previous one `fanout` times (memo references). */
export function sharedListPickle(levels: number, fanout: number): Buffer {
  const out: number[] = [0x80, 2];
  const str = (s: string) => {
    const b = Buffer.from(s);
    out.push(0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
  };
  out.push(0x5d, 0x71, 0, 0x30); // [] → memo 0, popped
  for (let i = 1; i <= levels; i++) {
    out.push(0x5d, 0x28);
    for (let k = 0; k < fanout; k++) out.push(0x68, i - 1); // BINGET i-1
    out.push(0x65, 0x71, i, 0x30); // APPENDS, BINPUT i, POP
  }
  out.push(0x28); // MARK: (docstore, id map)
  out.push(0x7d, 0x28);
  str('doc-1');
  out.push(0x7d, 0x28);
  str('page_content');
  str('text of the only chunk');
  str('metadata');
  out.push(0x7d, 0x28);
  str('source');
  out.push(0x68, levels, 0x75, 0x75, 0x75); // metadata {source: the DAG}
  out.push(0x7d, 0x28, 0x4b, 0);
  str('doc-1');
  out.push(0x75, 0x74, 0x2e); // {0: 'doc-1'}, TUPLE, STOP
  return Buffer.from(out);
}

const PICKLE_OPS = [0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4b, 0x4d, 0x4a, 0x4e, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68, 0x6a, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x93, 0x94, 0x95, 0x52, 0x47, 0x42, 0x43, 0x54, 0x55, 0x56, 0x67, 0x70, 0x64, 0x6c, 0x69, 0x6f];

/** A random opcode stream: valid-looking opcodes with random arguments. */
function randomPickle(r: Rng): Uint8Array {
  const parts: number[] = [0x80, r.pick([2, 3, 4, 5])];
  const n = r.range(1, 60);
  for (let i = 0; i < n; i++) {
    parts.push(r.pick(PICKLE_OPS));
    const args = r.range(0, 9);
    for (let k = 0; k < args; k++) parts.push(r.next() < 0.5 ? r.int(8) : r.int(256));
    if (r.next() < 0.2) parts.push(...enc(r.pick(['builtins\nset\n', 'copy_reg\n_reconstructor\n', 'os\nsystem\n', 'x\n', 'langchain_core.documents.base\nDocument\n'])));
  }
  if (r.next() < 0.7) parts.push(0x2e);
  return new Uint8Array(parts);
}

describe.skipIf(!fixture.present)(`Langchain-Chatchat stores under fuzzing${fixture.present ? '' : ` (skipped: ${fixture.reason})`} (FUZZ_SEED=${FUZZ_SEED})`, () => {
  type StoreCase = { what: string; dir: string; deep: boolean };
  const stores: { cleanup: () => void }[] = [];
  afterAll(() => stores.forEach((s) => s.cleanup()));

  /** A fresh copy of the fixture with one of its files damaged by `damage`. */
  function damagedCopy(file: 'pkl' | 'index' | 'infoDb', i: number, damage: (bytes: Uint8Array, r: Rng) => { bytes: Uint8Array; what: string }): StoreCase {
    const fx = copyFixture();
    stores.push(fx);
    const p = fx[file];
    const r = seeded(i * 31 + file.length);
    const d = damage(new Uint8Array(fs.readFileSync(p)), r);
    fs.writeFileSync(p, d.bytes);
    return { what: `${path.basename(p)}: ${d.what}`, dir: fx.root, deep: i % 3 === 0 };
  }

  const neverThrows = (_c: StoreCase, o: Outcome): string | null => {
    if (o.kind !== 'ok') return `inspectChatchat did not return a report: ${describeOutcome(o)}`;
    const v = o.value as { ok: boolean; problems: string[] };
    if (!Array.isArray(v.problems)) return `no problems list in the report: ${JSON.stringify(v)}`;
    return null;
  };

  it('inspectChatchat returns a report, never throws, for copies whose index.pkl is bit-flipped, truncated, spliced or replaced', async () => {
    const cases: StoreCase[] = [];
    for (let i = 0; i < 24; i++) cases.push(damagedCopy('pkl', i, (b, r) => randomByteMutation(r, b)));
    cases.push(damagedCopy('pkl', 100, () => ({ bytes: new Uint8Array(0), what: 'emptied' })));
    cases.push(damagedCopy('pkl', 101, (_b, r) => ({ bytes: r.bytes(5000), what: 'random bytes' })));
    cases.push(damagedCopy('pkl', 102, () => ({ bytes: pickle(new PyTuple([null, null])), what: 'a pickle of (None, None)' })));
    cases.push(damagedCopy('pkl', 103, () => ({ bytes: pickle(new PyInstance('os', 'system', 'rm -rf /')), what: 'a pickle naming os.system' })));
    cases.push(damagedCopy('pkl', 104, () => ({ bytes: langchainPickle([{ id: 'x', text: 'only one', metadata: { source: '../../../../etc/passwd' } }], 'pydantic-v2'), what: 'a one-document docstore whose source escapes content/' })));
    cases.push(damagedCopy('pkl', 105, (b) => ({ bytes: concatBytes([b, b]), what: 'the pickle twice' })));
    const results = await fuzz('chatchat index.pkl', cases, 'inspectChatchat', (c) => ({ dir: c.dir, deep: c.deep }), neverThrows);
    // Damage that changes what the pickle holds is reported as a problem.
    expect(results.filter((r) => r.o.kind === 'ok' && (r.o.value as { ok: boolean }).ok === false).length).toBeGreaterThan(results.length / 2);
  }, 120_000);

  it('inspectChatchat returns a report, never throws, for copies whose index.faiss has a damaged header, other index types, truncated or flipped vectors', async () => {
    const cases: StoreCase[] = [];
    for (let i = 0; i < 12; i++) cases.push(damagedCopy('index', i, (b, r) => randomByteMutation(r, b, [0, 64])));
    for (let i = 12; i < 18; i++) cases.push(damagedCopy('index', i, (b, r) => randomByteMutation(r, b)));
    for (const [i, cc] of ['IwFl', 'IHNf', 'IxPQ', 'IxM2', 'IwPQ', 'IxLS'].entries()) {
      cases.push(damagedCopy('index', 200 + i, (b, r) => {
        const out = new Uint8Array(b);
        out.set(enc(cc), 0); // read as another index type: FAISS itself parses the rest
        const m = mutateBytes(r, out, 'bitflip', [4, 200]);
        return { bytes: m.bytes, what: `fourcc ${cc}, then ${m.what}` };
      }));
    }
    for (const keep of [0, 3, 44, 45, 46, 4096]) cases.push(damagedCopy('index', 300 + keep, (b) => ({ bytes: b.slice(0, keep), what: `truncated to ${keep} bytes` })));
    cases.push(damagedCopy('index', 400, (b) => {
      const out = new Uint8Array(b);
      new DataView(out.buffer).setBigInt64(8, 0x7fffffffffffffffn, true);
      return { bytes: out, what: 'ntotal 2^63-1' };
    }));
    cases.push(damagedCopy('index', 401, (b) => {
      const out = new Uint8Array(b);
      new DataView(out.buffer).setInt32(4, -1, true);
      return { bytes: out, what: 'dimension -1' };
    }));
    await fuzz('chatchat index.faiss', cases, 'inspectChatchat', (c) => ({ dir: c.dir, deep: c.deep }), neverThrows);
  }, 120_000);

  it('inspectChatchat returns a report, never throws, for copies whose info.db (SQLite) is damaged', async () => {
    const cases: StoreCase[] = [];
    for (let i = 0; i < 10; i++) cases.push(damagedCopy('infoDb', i, (b, r) => randomByteMutation(r, b)));
    for (let i = 10; i < 16; i++) cases.push(damagedCopy('infoDb', i, (b, r) => randomByteMutation(r, b, [0, 100])));
    for (const keep of [0, 50, 4096, 40_000]) cases.push(damagedCopy('infoDb', 500 + keep, (b) => ({ bytes: b.slice(0, keep), what: `truncated to ${keep} bytes` })));
    cases.push(damagedCopy('infoDb', 600, (_b, r) => ({ bytes: r.bytes(8192), what: 'random bytes' })));
    await fuzz('chatchat info.db', cases, 'inspectChatchat', (c) => ({ dir: c.dir, deep: c.deep }), neverThrows);
  }, 120_000);

  it('unpickle and decodeFaissPickle throw only PickleError on random bytes, random opcode streams and mutations of the real index.pkl', async () => {
    const real = new Uint8Array(fs.readFileSync(path.join(CHATCHAT_FIXTURE, 'knowledge_base/samples/vector_store/bge-large-zh-v1.5/index.pkl')));
    const synthetic = langchainPickle([{ id: 'a', text: 'chunk a', metadata: { source: 'x.md', page: 1 } }, { id: 'b', text: 'chunk b', metadata: {} }], 'pydantic-v1', 'reconstructor');
    const cases: { what: string; bytes: Uint8Array; op: string }[] = [];
    for (let i = 0; i < 40; i++) cases.push({ what: `random bytes #${i}`, bytes: seeded(1000 + i).bytes(seeded(1100 + i).range(1, 3000)), op: 'unpickle' });
    for (let i = 0; i < 60; i++) cases.push({ what: `random opcodes #${i}`, bytes: randomPickle(seeded(2000 + i)), op: i % 2 ? 'unpickle' : 'decodeFaissPickle' });
    for (let i = 0; i < 60; i++) {
      const m = randomByteMutation(seeded(3000 + i), real);
      cases.push({ what: `index.pkl: ${m.what}`, bytes: m.bytes, op: i % 2 ? 'unpickle' : 'decodeFaissPickle' });
    }
    for (let i = 0; i < 30; i++) {
      const m = randomByteMutation(seeded(4000 + i), synthetic);
      cases.push({ what: `synthetic protocol-0 pickle: ${m.what}`, bytes: m.bytes, op: 'decodeFaissPickle' });
    }
    for (let keep = 1; keep < real.length; keep += Math.floor(real.length / 12)) cases.push({ what: `index.pkl truncated to ${keep}`, bytes: real.slice(0, keep), op: 'decodeFaissPickle' });
    // One op per call: group by op so the judge sees what ran.
    await fuzz('pickle', cases, 'pickleCase', (c) => ({ op: c.op, bytes: c.bytes }), onlyErrors((e) => e.isPickleError, 'PickleError'));
  }, 120_000);

  // chatchat/pickle.ts toPlain(): shared references in a pickle (memo BINGET) are expanded as if
  // they were copies: a 0.5 KB index.pkl whose one Document's metadata is 30 levels of lists, each
  // holding the previous level 4 times, expands to ~4^24 values. Once that grew RSS by 600 MB in
  // 3 s; now the conversion stops at MAX_PLAIN_VALUES and that Document is reported unreadable.
  it('inspectChatchat reports (within 15 s and 600 MB) on a 0.5 KB index.pkl of shared nested lists', async () => {
    const fx = copyFixture();
    stores.push(fx);
    fs.writeFileSync(fx.pkl, sharedListPickle(30, 4));
    const o = await pool.run('inspectChatchat', { dir: fx.root, deep: false }, CASE_TIMEOUT_MS, MEMORY_LIMIT_MB, { fresh: true });
    console.log(`shared-reference pickle: ${describeOutcome(o)}`);
    expect(neverThrows({ what: '', dir: fx.root, deep: false }, o)).toBeNull();
    // The store is reported as damaged, not as healthy.
    expect((o as { value: { ok: boolean; problems: string[] } }).value.ok).toBe(false);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// age

describe(`age files under fuzzing (FUZZ_SEED=${FUZZ_SEED})`, () => {
  const me = generateIdentity();
  const CT_CHUNK = 64 * 1024 + 16;

  function headerEnd(b: Uint8Array): number {
    const i = Buffer.from(b).indexOf('\n--- ');
    return i < 0 ? 0 : Buffer.from(b).indexOf(0x0a, i + 1) + 1;
  }

  it('X25519 files with damaged headers, stanzas, MACs, nonces, chunks and lengths give only AgeError, whole and streamed', async () => {
    const plains = [new Uint8Array(0), enc('backup manifest'), seeded(7).bytes(64 * 1024), seeded(8).bytes(64 * 1024 + 1), seeded(9).bytes(200_000)];
    const files = plains.map((p) => new Uint8Array(encryptBufferToRecipient(p, me.recipient)));
    const cases: { what: string; bytes: Uint8Array; stream: boolean; step?: number }[] = [];
    files.forEach((f, fi) => {
      const he = headerEnd(f);
      for (let i = 0; i < 16; i++) {
        const r = seeded(fi * 100 + i);
        const region: [number, number] = i % 3 === 0 ? [0, he] : i % 3 === 1 ? [he, he + 16] : [he + 16, f.length];
        const m = randomByteMutation(r, f, region);
        cases.push({ what: `file ${fi} (${plains[fi]!.length} B): ${m.what}`, bytes: m.bytes, stream: i % 2 === 0 });
      }
      for (const cut of [1, 10, 22, he - 1, he, he + 8, he + 16, he + 17, he + 16 + CT_CHUNK, he + 16 + CT_CHUNK + 1, f.length - 1]) {
        if (cut > 0 && cut < f.length) cases.push({ what: `file ${fi} truncated at ${cut}`, bytes: f.slice(0, cut), stream: cut % 2 === 0 });
      }
      cases.push({ what: `file ${fi} with a byte appended`, bytes: concatBytes([f, new Uint8Array([0])]), stream: false });
      cases.push({ what: `file ${fi} with a chunk appended`, bytes: concatBytes([f, f.slice(f.length - Math.min(CT_CHUNK, f.length - he - 16))]), stream: true });
    });
    const text = Buffer.from(files[1]!).toString('latin1');
    const head = text.slice(0, headerEnd(files[1]!));
    const body = files[1]!.slice(headerEnd(files[1]!));
    const withHeader = (h: string, what: string) => cases.push({ what, bytes: concatBytes([Buffer.from(h, 'latin1'), body]), stream: false }, { what: `${what} (streamed)`, bytes: concatBytes([Buffer.from(h, 'latin1'), body]), stream: true });
    withHeader(head.replace('age-encryption.org/v1', 'age-encryption.org/v2'), 'version line v2');
    withHeader(head.replace('-> X25519', '-> scrypt'), 'stanza type scrypt');
    withHeader(head.replace('-> X25519 ', '-> X25519  '), 'empty stanza argument');
    withHeader(head.replace(/\n--- .*\n$/, '\n---\n'), 'MAC line without MAC');
    withHeader(head.replace(/\n--- (.)/, (_m, c: string) => `\n--- ${c === 'A' ? 'B' : 'A'}`), 'MAC altered');
    withHeader(head.replace(/\n/g, '\r\n'), 'CRLF line ends');
    withHeader(head.replace(/(-> X25519 .*\n.*\n)/, '$1$1'), 'stanza repeated');
    withHeader(head.replace(/(-> X25519 .*\n)/, `$1${'A'.repeat(64)}\n`), 'an extra full body line');
    withHeader(head.replace(/(-> X25519 )/, `-> ${'x'.repeat(5000)}\n$1`), 'a 5000-column stanza line');
    withHeader(head.replace(/(-> X25519 )/, `${'-> a\n\n'.repeat(200)}$1`), '200 extra stanzas (more than allowed)');
    withHeader(head.replace(/(-> X25519 )/, '-> \u00ff\u0001 arg\n\n$1'), 'non-printable stanza');
    withHeader(`-----BEGIN AGE ENCRYPTED FILE-----\n${head}`, 'armored prefix');
    withHeader(head.slice(0, -1), 'header without its final newline');
    // Streamed in 64 KiB chunks: the streaming header parser starts again from the first byte at
    // every chunk, so with 777-byte chunks this one case costs ~10 s (quadratic up to the 1 MiB cap).
    cases.push({ what: 'a header of 2 MB without end', bytes: enc(`age-encryption.org/v1\n-> X25519 ${'A'.repeat(43)}\n${`${'A'.repeat(64)}\n`.repeat(33_000)}`), stream: true, step: 65_536 });
    cases.push({ what: 'empty file', bytes: new Uint8Array(0), stream: false });
    cases.push({ what: 'random bytes', bytes: seeded(10).bytes(3000), stream: true });
    await fuzz('age X25519', cases, 'ageCase', (c) => ({ kind: c.stream ? 'stream' : 'buffer', bytes: c.bytes, identity: me.identity, step: c.step ?? 777 }), onlyErrors((e) => e.isAgeError, 'AgeError'));
  }, 120_000);

  it('passphrase-protected files with damaged scrypt stanzas, work factors and MACs give only AgeError', async () => {
    const f = new Uint8Array(await encryptWithPassphrase(enc('AGE-SECRET-KEY-1 repository key'), 'correct horse battery', { logN: 10 }));
    const cases: { what: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < 24; i++) {
      const m = randomByteMutation(seeded(9000 + i), f, i % 2 ? [0, headerEnd(f)] : undefined);
      cases.push({ what: m.what, bytes: m.bytes });
    }
    const text = Buffer.from(f).toString('latin1');
    for (const [from, to, what] of [
      [/ 10\n/, ' 21\n', 'work factor 21 (above the maximum)'],
      [/ 10\n/, ' 0\n', 'work factor 0'],
      [/ 10\n/, ' 99999999999999999999\n', 'work factor 10^20'],
      [/ 10\n/, ' -1\n', 'work factor -1'],
      [/ 10\n/, ' 1e1\n', 'work factor 1e1'],
      [/-> scrypt (\S+)/, '-> scrypt AAAA', 'salt of 3 bytes'],
      [/-> scrypt/, '-> X25519', 'stanza renamed X25519'],
    ] as const) {
      cases.push({ what, bytes: new Uint8Array(Buffer.from(text.replace(from, to), 'latin1')) });
    }
    await fuzz('age passphrase', cases, 'agePassphrase', (c) => ({ bytes: c.bytes, passphrase: 'correct horse battery' }), onlyErrors((e) => e.isAgeError, 'AgeError'));
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Backup repository snapshots

describe(`backup snapshot manifests under fuzzing (FUZZ_SEED=${FUZZ_SEED})`, () => {
  const PASS = 'fuzzing passphrase 1';
  let repoDir = '';
  let repo: Repository;
  let good = '';
  const manifest: SnapshotManifest = {
    format: 'lifeline-snapshot',
    version: 1,
    id: 'a1b2c3d4',
    time: '2026-01-02T03:04:05.000Z',
    host: 'ward-pc',
    lifelineVersion: '0.1.0',
    knowledgeBases: [{ name: 'ops', documents: 1, chunks: 2, embedder: 'hash' }],
    files: [{ path: 'catalog.sqlite', sha256: 'ab'.repeat(32), size: 4096, blob: 'cd'.repeat(32), class: 'catalog' }],
    sha256sums: `${'ab'.repeat(32)}  catalog.sqlite\n`,
  };

  beforeAll(async () => {
    repoDir = path.join(work.dir, 'repo');
    repo = await Repository.init(repoDir, PASS);
    good = await repo.writeSnapshot(manifest);
  }, 60_000);

  const damaged = (c: { file: string }, o: Outcome): string | null => {
    if (o.kind === 'error' && o.error.isUserError && o.error.code === 'snapshot-damaged') {
      return o.error.message.includes(c.file) ? null : `snapshot-damaged without naming ${c.file}: ${o.error.message}`;
    }
    return `expected UserError snapshot-damaged, got ${describeOutcome(o)}`;
  };

  it('a snapshot file damaged in any way (bytes, truncation, appended data) is UserError snapshot-damaged naming the snapshot', async () => {
    expect(repo.readSnapshot(good).id).toBe(manifest.id);
    const bytes = new Uint8Array(fs.readFileSync(path.join(repoDir, 'snapshots', good)));
    const cases: { what: string; file: string }[] = [];
    for (let i = 0; i < 36; i++) {
      const m = randomByteMutation(seeded(7000 + i), bytes);
      const file = `2026-01-01T00-00-${String(i).padStart(2, '0')}-000Z-m${i}.age`;
      fs.writeFileSync(path.join(repoDir, 'snapshots', file), m.bytes);
      cases.push({ what: m.what, file });
    }
    for (const [i, b] of [new Uint8Array(0), bytes.slice(0, 30), enc('{"format":"lifeline-snapshot"}'), concatBytes([bytes, bytes])].entries()) {
      const file = `2026-01-01T00-01-0${i}-000Z-x${i}.age`;
      fs.writeFileSync(path.join(repoDir, 'snapshots', file), b);
      cases.push({ what: ['empty', 'truncated to 30 bytes', 'plaintext JSON', 'the file twice'][i]!, file });
    }
    await fuzz('snapshot bytes', cases, 'readSnapshot', (c) => ({ repoDir, passphrase: PASS, file: c.file }), damaged);
  }, 120_000);

  /** Writes a manifest of our choosing, encrypted to the repository's public recipient. */
  function forge(name: string, plaintext: string): string {
    const file = `2026-01-01T00-02-00-000Z-${name}.age`;
    fs.writeFileSync(path.join(repoDir, 'snapshots', file), encryptBufferToRecipient(enc(plaintext), repo.info.recipient));
    return file;
  }

  it('a forged manifest that is not JSON, not an object, or not a Lifeline manifest is UserError snapshot-damaged', async () => {
    const cases = [
      ['not-json', '{"format": "lifeline-snapshot",'],
      ['null', 'null'],
      ['array', '[1, 2]'],
      ['number', '42'],
      ['other-format', JSON.stringify({ ...manifest, format: 'restic-snapshot' })],
      ['deep', `${'['.repeat(200_000)}${']'.repeat(200_000)}`],
    ].map(([name, text]) => ({ what: name!, file: forge(name!, text!) }));
    await fuzz('forged manifests', cases, 'readSnapshot', (c) => ({ repoDir, passphrase: PASS, file: c.file }), damaged);
  }, 60_000);

  // backup/repo.ts readSnapshot checks only `format`: a manifest whose files/knowledgeBases are not
  // arrays, or whose file entries lack path/blob/sha256/size, is returned as sound. restore.ts then
  // fails with a TypeError ("manifest.files.reduce is not a function", "Cannot read properties of
  // null") instead of 'snapshot-damaged'; `backups verify`/prune likewise (backup.ts iterates m.files).
  it('BUG-SNAPSHOT-SHAPE-UNCHECKED (fixed): a forged manifest with format "lifeline-snapshot" but no usable files list is UserError snapshot-damaged', async () => {
    const cases = [
      ['files-null', { ...manifest, files: null }],
      ['files-string', { ...manifest, files: 'catalog.sqlite' }],
      ['file-entry-null', { ...manifest, files: [null] }],
      ['file-size-string', { ...manifest, files: [{ ...manifest.files[0], size: 'big' }] }],
      ['kbs-missing', { format: 'lifeline-snapshot', id: 'x', files: [] }],
    ].map(([name, m]) => ({ what: name as string, file: forge(name as string, JSON.stringify(m)) }));
    await fuzz('forged manifest shapes', cases, 'readSnapshot', (c) => ({ repoDir, passphrase: PASS, file: c.file }), damaged);
  }, 60_000);

  // backup/restore.ts restoreSnapshot: the staging folder is path.join(root, `.restore-staging-${manifest.id}`)
  // and is first removed with fs.rmSync(…, { recursive: true, force: true }). manifest.id comes
  // from the (forgeable) manifest and is never checked, so an id of "/../../victim" makes a restore
  // delete the folder "victim" beside the data root's parent — any folder the process may delete.
  // readSnapshot should refuse such an id ('snapshot-damaged'); here the restore runs in a temp
  // folder and the "victim" is a folder made for the test.
  it('BUG-SNAPSHOT-ID-TRAVERSAL (fixed): a forged manifest id cannot make a restore delete a folder outside the data root', async () => {
    const base = path.join(work.dir, 'traversal');
    const root = path.join(base, 'site', 'data');
    const victim = path.join(base, 'victim');
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(victim, { recursive: true });
    fs.writeFileSync(path.join(victim, 'precious.txt'), 'not part of any data root');
    const forged = { ...manifest, id: '/../../../victim', time: '2099-01-01T00:00:00.000Z', files: [] };
    const file = forge('zz-traversal', JSON.stringify(forged));
    try {
      let error: unknown = null;
      try {
        const hooks: RestoreHooks = {
          before: [],
          verifyStaged: async () => {
            throw new UserError('test-stop', 'stopped by the test before anything is swapped');
          },
          releaseLive: async () => undefined,
        };
        await restoreSnapshot(root, repo, file, hooks);
      } catch (err) {
        error = err;
      }
      console.log(`restore of a forged id: ${(error as Error | null)?.message ?? 'no error'}; victim folder ${fs.existsSync(victim) ? 'kept' : 'DELETED'}`);
      expect(fs.existsSync(path.join(victim, 'precious.txt'))).toBe(true);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).code).toBe('snapshot-damaged');
    } finally {
      fs.rmSync(path.join(repoDir, 'snapshots', file), { force: true });
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// GGUF and FAISS headers

describe(`model and index headers under fuzzing (FUZZ_SEED=${FUZZ_SEED})`, () => {
  it('a damaged tiny GGUF model (header, key/values, tensor directory, truncation) resolves or throws GgufError only', async () => {
    const dir = path.join(work.dir, 'gguf');
    fs.mkdirSync(dir, { recursive: true });
    const valid = new Uint8Array(tinyLlamaGguf({ embeddingLength: 16, headCount: 2 }));
    const validFile = path.join(dir, 'valid.gguf');
    fs.writeFileSync(validFile, valid);
    const header = (await readGgufMetadata(validFile)).headerBytes;
    const cases: { what: string; file: string }[] = [];
    const add = (what: string, bytes: Uint8Array) => {
      const file = path.join(dir, `case-${cases.length}.gguf`);
      fs.writeFileSync(file, bytes);
      cases.push({ what, file });
    };
    for (let i = 0; i < 70; i++) {
      const m = randomByteMutation(seeded(5000 + i), valid, i % 5 === 4 ? undefined : [0, header]);
      add(m.what, m.bytes);
    }
    for (let keep = 0; keep < header + 64; keep += Math.max(1, Math.floor(header / 16))) add(`truncated to ${keep}`, valid.slice(0, keep));
    const v = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const patched = (what: string, f: (d: DataView) => void) => {
      const b = new Uint8Array(valid);
      f(v(b));
      add(what, b);
    };
    patched('version 1', (d) => d.setUint32(4, 1, true));
    patched('version big-endian 3', (d) => d.setUint32(4, 0x03000000, true));
    patched('tensor count 2^53', (d) => d.setBigUint64(8, 2n ** 53n, true));
    patched('key/value count 2^64-1', (d) => d.setBigUint64(16, 2n ** 64n - 1n, true));
    patched('key/value count 999,999', (d) => d.setBigUint64(16, 999_999n, true));
    patched('first key length 2^40', (d) => d.setBigUint64(24, 2n ** 40n, true));
    patched('first key length 60 MB', (d) => d.setBigUint64(24, 60_000_000n, true));
    add('only the magic', enc('GGUF'));
    add('random bytes after the magic', concatBytes([enc('GGUF'), seeded(11).bytes(4000)]));
    await fuzz('gguf', cases, 'gguf', (c) => ({ file: c.file }), onlyErrors((e) => e.isGgufError, 'GgufError'));
  }, 120_000);

  it('decodeFlatHeader on damaged or truncated flat index bytes returns a header or throws a plain Error with a reason', async () => {
    const vectors = new Float32Array(Array.from({ length: 12 * 8 }, (_, i) => Math.sin(i)));
    const valid = new Uint8Array(Buffer.concat(encodeFlatIndex(vectors, 8, 'ip')));
    const cases: { what: string; bytes: Uint8Array; total?: number }[] = [];
    for (let i = 0; i < 90; i++) {
      const m = randomByteMutation(seeded(6000 + i), valid, i % 4 === 3 ? undefined : [0, FLAT_HEADER_BYTES]);
      cases.push({ what: m.what, bytes: m.bytes });
    }
    for (let keep = 0; keep <= FLAT_HEADER_BYTES + 8; keep += 3) cases.push({ what: `truncated to ${keep}`, bytes: valid.slice(0, keep) });
    for (const total of [0, -1, 45, valid.length - 1, valid.length + 1, Number.MAX_SAFE_INTEGER, Number.NaN]) cases.push({ what: `header with a claimed total of ${total}`, bytes: valid.slice(0, FLAT_HEADER_BYTES), total });
    const fields: [string, (d: DataView) => void][] = [
      ['ntotal -1', (d) => d.setBigInt64(8, -1n, true)],
      ['ntotal 2^62', (d) => d.setBigInt64(8, 2n ** 62n, true)],
      ['count 2^64-1', (d) => d.setBigUint64(37, 2n ** 64n - 1n, true)],
      ['dimension 0', (d) => d.setInt32(4, 0, true)],
      ['dimension 2^31-1', (d) => d.setInt32(4, 2 ** 31 - 1, true)],
      ['metric 7', (d) => d.setInt32(33, 7, true)],
      ['ntotal and count both 2^60 / d', (d) => {
        d.setBigInt64(8, 2n ** 57n, true);
        d.setBigUint64(37, 2n ** 60n, true);
      }],
    ];
    for (const [what, f] of fields) {
      const b = new Uint8Array(valid);
      f(new DataView(b.buffer));
      cases.push({ what, bytes: b });
    }
    await fuzz('faiss flat header', cases, 'decodeFlatHeader', (c) => ({ bytes: c.bytes, total: c.total }), (_c, o) => {
      if (o.kind === 'ok') return null;
      if (o.kind !== 'error') return describeOutcome(o);
      if (o.error.constructorName !== 'Error') return `threw ${o.error.constructorName} instead of a plain Error: ${o.error.message}`;
      if (o.error.message.trim().length < 8) return `no reason: ${JSON.stringify(o.error.message)}`;
      return null;
    });
  }, 60_000);
});

// The harness itself: a hang, a crash and an unhandled rejection are caught as such.
describe('the fuzz sandbox', () => {
  it('reports a synchronous hang, a native crash, an unhandled rejection and runaway memory as failures of the case', async () => {
    const [hang, crash, rejection, memory] = await Promise.all([
      pool.run('selftestHang', {}, 1_000),
      pool.run('selftestCrash', {}, 10_000),
      pool.run('selftestReject', {}, 10_000),
      pool.run('selftestMemory', { mb: 700 }, 10_000, 600),
    ]);
    expect(hang.kind).toBe('hang');
    expect(crash).toMatchObject({ kind: 'crash', signal: 'SIGSEGV' });
    expect(rejection).toMatchObject({ kind: 'crash', fatal: { event: 'unhandledRejection', constructorName: 'TypeError' } });
    expect(memory.kind).toBe('memory');
  }, 30_000);
});
