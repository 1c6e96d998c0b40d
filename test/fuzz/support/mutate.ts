// Deterministic mutation engine for the fuzz suites: a seeded PRNG, byte-level mutators
// (bit flips, insertions, deletions, truncation, splices), and a raw ZIP reader/writer so
// package-level damage can be made on purpose (duplicated, removed or renamed entries, entries
// whose XML is broken, path traversal names, lying sizes), which JSZip refuses to write.
import zlib from 'node:zlib';

/** The suite's seed: FUZZ_SEED in the environment, else a fixed one. Every suite prints it. */
export const FUZZ_SEED = Number.isSafeInteger(Number(process.env.FUZZ_SEED)) && process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_261_126;

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** A child generator, so one case's choices do not shift every later case. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.int(0x7fffffff) ^ salt, 0x85ebca6b) >>> 0) || 1);
  }
}

/**
 * A generator for one named stream of choices, derived from FUZZ_SEED and `salt` alone: the same
 * cases whichever tests run, in whatever order (a shared generator would hand out different
 * numbers when a single test is run with -t).
 */
export function seeded(salt: number): Rng {
  return new Rng(Math.imul((FUZZ_SEED ^ Math.imul(salt + 1, 0x9e3779b9)) >>> 0, 0x85ebca6b) >>> 0 || 1);
}

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A large input described rather than built and sent to the sandbox: `prefix`, then `unit`
 * repeated up to `bytes` bytes (padded with spaces, never cutting a character), then `suffix`.
 */
export interface Generate {
  prefix?: string;
  unit: string;
  bytes: number;
  suffix?: string;
}

export function generate(g: Generate): Uint8Array {
  const pre = enc(g.prefix ?? '');
  const unit = enc(g.unit);
  const suf = enc(g.suffix ?? '');
  const out = new Uint8Array(pre.length + g.bytes + suf.length);
  out.set(pre, 0);
  // Whole units in blocks of ~64 KiB, so a one-byte unit does not cost a call per byte.
  const per = Math.max(1, Math.floor(65_536 / Math.max(1, unit.length)));
  const block = new Uint8Array(per * unit.length);
  for (let i = 0; i < per; i++) block.set(unit, i * unit.length);
  let o = pre.length;
  const end = pre.length + g.bytes;
  while (o + block.length <= end) {
    out.set(block, o);
    o += block.length;
  }
  while (o + unit.length <= end) {
    out.set(unit, o);
    o += unit.length;
  }
  out.fill(0x20, o, end);
  out.set(suf, end);
  return out;
}

// ---- byte-level mutators ----------------------------------------------------------------------

/** "Interesting" byte values: boundaries that trip length fields and flags. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x0a, 0x22, 0x3c, 0x3e, 0x25];

export type ByteMutation = 'bitflip' | 'byteset' | 'insert' | 'delete' | 'truncate' | 'duplicate' | 'splice' | 'zero-run';
export const BYTE_MUTATIONS: readonly ByteMutation[] = ['bitflip', 'byteset', 'insert', 'delete', 'truncate', 'duplicate', 'splice', 'zero-run'];

/**
 * One byte-level mutation of `input` (never modified). `region` limits where it lands (e.g. past
 * a header that would otherwise make every case fail the same first check).
 */
export function mutateBytes(rng: Rng, input: Uint8Array, kind: ByteMutation, region: [number, number] = [0, input.length]): { bytes: Uint8Array; what: string } {
  const [lo, hi] = [Math.max(0, region[0]), Math.min(input.length, Math.max(region[0] + 1, region[1]))];
  const at = () => rng.range(lo, Math.max(lo, hi - 1));
  const b = new Uint8Array(input);
  switch (kind) {
    case 'bitflip': {
      const n = rng.pick([1, 1, 2, 4, 8, 32]);
      const offs: number[] = [];
      for (let i = 0; i < n; i++) {
        const o = at();
        b[o] = b[o]! ^ (1 << rng.int(8));
        offs.push(o);
      }
      return { bytes: b, what: `flip ${n} bit(s) at ${offs.slice(0, 4).join(',')}${n > 4 ? ',…' : ''}` };
    }
    case 'byteset': {
      const o = at();
      const v = rng.pick(INTERESTING);
      b[o] = v;
      return { bytes: b, what: `byte ${o} := 0x${v.toString(16)}` };
    }
    case 'insert': {
      const o = at();
      const ins = rng.next() < 0.5 ? rng.bytes(rng.range(1, 64)) : new Uint8Array(rng.range(1, 4096)).fill(rng.pick(INTERESTING));
      return { bytes: concatBytes([input.subarray(0, o), ins, input.subarray(o)]), what: `insert ${ins.length} bytes at ${o}` };
    }
    case 'delete': {
      const o = at();
      const n = Math.min(input.length - o, rng.pick([1, 2, 7, 64, 512]));
      return { bytes: concatBytes([input.subarray(0, o), input.subarray(o + n)]), what: `delete ${n} bytes at ${o}` };
    }
    case 'truncate': {
      const o = rng.range(1, Math.max(1, input.length - 1));
      return { bytes: input.slice(0, o), what: `truncate to ${o} of ${input.length} bytes` };
    }
    case 'duplicate': {
      const o = at();
      const n = Math.min(input.length - o, rng.range(1, 2048));
      const dst = rng.int(input.length);
      return { bytes: concatBytes([input.subarray(0, dst), input.subarray(o, o + n), input.subarray(dst)]), what: `copy ${n} bytes from ${o} to ${dst}` };
    }
    case 'splice': {
      const o = at();
      const n = Math.min(input.length - o, rng.range(4, 256));
      const src = rng.int(Math.max(1, input.length - n));
      b.set(input.subarray(src, src + n), o);
      return { bytes: b, what: `overwrite ${n} bytes at ${o} with bytes from ${src}` };
    }
    case 'zero-run': {
      const o = at();
      const n = Math.min(input.length - o, rng.range(8, 1024));
      b.fill(0, o, o + n);
      return { bytes: b, what: `zero ${n} bytes at ${o}` };
    }
  }
}

/** 1–3 stacked byte mutations of random kinds. */
export function randomByteMutation(rng: Rng, input: Uint8Array, region?: [number, number]): { bytes: Uint8Array; what: string } {
  let bytes = input;
  const whats: string[] = [];
  const n = rng.pick([1, 1, 1, 2, 3]);
  for (let i = 0; i < n; i++) {
    const r = mutateBytes(rng, bytes, rng.pick(BYTE_MUTATIONS), region && i === 0 ? region : undefined);
    bytes = r.bytes;
    whats.push(r.what);
  }
  return { bytes, what: whats.join('; ') };
}

// ---- raw ZIP ------------------------------------------------------------------------------------

export interface RawEntry {
  name: string;
  /** Uncompressed content. */
  data: Uint8Array;
  /** 8 = DEFLATE (default), 0 = stored, anything else is written as is (unsupported methods). */
  method?: number;
  /** Override the recorded uncompressed size (central and local header). */
  declaredSize?: number;
  /** Override the recorded compressed size. */
  declaredCompressed?: number;
  /** General purpose flags (bit 0 = encrypted, bit 3 = data descriptor). */
  flags?: number;
  /** Write a different name in the local header than in the central directory. */
  localName?: string;
  /** Corrupt the CRC. */
  badCrc?: boolean;
  /** Already-compressed bytes to store instead of compressing `data`. */
  raw?: Uint8Array;
}

/** Reads a ZIP written by JSZip (or by writeRawZip) back into entries, inflating each. */
export function readRawZip(zip: Uint8Array): RawEntry[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= 0; i--) if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new Error('readRawZip: not a ZIP');
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: RawEntry[] = [];
  for (let n = 0; n < count; n++) {
    const method = v.getUint16(p + 10, true);
    const csize = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const name = dec(zip.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const comp = zip.subarray(start, start + csize);
    out.push({ name, data: method === 8 ? new Uint8Array(zlib.inflateRawSync(comp)) : comp.slice(), method });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Writes entries as a ZIP (no ZIP64), honouring every override, even the inconsistent ones. */
export function writeRawZip(entries: readonly RawEntry[], opts: { comment?: Uint8Array; prefix?: Uint8Array; cdCount?: number } = {}): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = opts.prefix?.length ?? 0;
  if (opts.prefix) locals.push(opts.prefix);
  for (const e of entries) {
    const method = e.method ?? 8;
    const comp = e.raw ?? (method === 8 ? new Uint8Array(zlib.deflateRawSync(e.data)) : e.data);
    const crc = (zlib.crc32(e.data) ^ (e.badCrc ? 0xdeadbeef : 0)) >>> 0;
    const name = enc(e.name);
    const lname = enc(e.localName ?? e.name);
    const flags = (e.flags ?? 0) | 0x0800;
    const usize = e.declaredSize ?? e.data.length;
    const csize = e.declaredCompressed ?? comp.length;
    const local = new Uint8Array(30 + lname.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, csize >>> 0, true);
    lv.setUint32(22, usize >>> 0, true);
    lv.setUint16(26, lname.length, true);
    local.set(lname, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, csize >>> 0, true);
    cv.setUint32(24, usize >>> 0, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, comp);
    centrals.push(central);
    offset += local.length + comp.length;
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const comment = opts.comment ?? new Uint8Array(0);
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.cdCount ?? entries.length, true);
  ev.setUint16(10, opts.cdCount ?? entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  return concatBytes([...locals, ...centrals, eocd]);
}

// ---- XML damage (inside DOCX/XLSX parts) -------------------------------------------------------

export type XmlMutation =
  | 'truncate'
  | 'unclosed-tag'
  | 'stray-close'
  | 'bad-entity'
  | 'billion-laughs'
  | 'external-entity'
  | 'invalid-utf8'
  | 'nul-bytes'
  | 'deep-nesting'
  | 'huge-attribute'
  | 'wrong-root'
  | 'empty'
  | 'not-xml'
  | 'cdata-garbage'
  | 'duplicate-attr';
export const XML_MUTATIONS: readonly XmlMutation[] = [
  'truncate', 'unclosed-tag', 'stray-close', 'bad-entity', 'billion-laughs', 'external-entity', 'invalid-utf8', 'nul-bytes',
  'deep-nesting', 'huge-attribute', 'wrong-root', 'empty', 'not-xml', 'cdata-garbage', 'duplicate-attr',
];

/** How big the 'deep-nesting' and 'huge-attribute' damage is (defaults: 3,000 levels, 200 kB). */
export interface XmlDamageSizes {
  nesting?: number;
  attributeBytes?: number;
}

export function mutateXml(rng: Rng, xml: string, kind: XmlMutation, sizes: XmlDamageSizes = {}): Uint8Array {
  const gt = [...xml.matchAll(/>/g)].map((m) => m.index!);
  const mid = gt.length ? gt[rng.int(gt.length)]! + 1 : xml.length >> 1;
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  switch (kind) {
    case 'truncate':
      return enc(xml.slice(0, rng.range(1, xml.length - 1)));
    case 'unclosed-tag':
      return enc(`${xml.slice(0, mid)}<w:p><w:r><w:t>never closed${xml.slice(mid)}`);
    case 'stray-close':
      return enc(`${xml.slice(0, mid)}</w:body></worksheet></x>${xml.slice(mid)}`);
    case 'bad-entity':
      return enc(`${xml.slice(0, mid)}&undefinedEntity;&#xFFFFFFFF;&#0;&#55296;${xml.slice(mid)}`);
    case 'billion-laughs': {
      const ents = ['<!ENTITY a0 "lollollollollollollollollollol">'];
      for (let i = 1; i <= 9; i++) ents.push(`<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`);
      const root = /<([A-Za-z:]+)/.exec(body)?.[1] ?? 'x';
      return enc(`${decl}<!DOCTYPE ${root} [${ents.join('')}]>\n${body.replace(/(<w:t[^>]*>|<t[^>]*>|<v>)/, '$1&a9;')}`);
    }
    case 'external-entity': {
      const root = /<([A-Za-z:]+)/.exec(body)?.[1] ?? 'x';
      return enc(`${decl}<!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n${body.replace(/(<w:t[^>]*>|<t[^>]*>|<v>)/, '$1&xxe;')}`);
    }
    case 'invalid-utf8': {
      const b = enc(xml);
      const o = Math.min(b.length - 1, mid);
      return concatBytes([b.subarray(0, o), new Uint8Array([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), b.subarray(o)]);
    }
    case 'nul-bytes': {
      const b = enc(xml);
      const o = Math.min(b.length - 1, mid);
      return concatBytes([b.subarray(0, o), new Uint8Array(16), b.subarray(o)]);
    }
    case 'deep-nesting': {
      const n = sizes.nesting ?? 3_000;
      return enc(`${xml.slice(0, mid)}${'<w:p>'.repeat(n)}${'</w:p>'.repeat(n)}${xml.slice(mid)}`);
    }
    case 'huge-attribute':
      return enc(xml.replace(/<([A-Za-z:]+)( |>)/, (_m, t: string, s: string) => `<${t} junk="${'x'.repeat(sizes.attributeBytes ?? 200_000)}"${s}`));
    case 'wrong-root':
      return enc(`${decl}<html><body>not the expected root</body></html>`);
    case 'empty':
      return new Uint8Array(0);
    case 'not-xml':
      return rng.bytes(rng.range(1, 2000));
    case 'cdata-garbage':
      return enc(`${xml.slice(0, mid)}<![CDATA[ unterminated ${'<'.repeat(50)}${xml.slice(mid)}`);
    case 'duplicate-attr':
      return enc(xml.replace(/<([A-Za-z:]+) /, (_m, t: string) => `<${t} a="1" a="2" `));
  }
}
