// GGUF metadata reader: the header, the key/values and the tensor directory of a model file, never
// the tensor data. Reads on demand in 1 MiB windows, so a multi-GB model costs a few MB of reads
// (big tokenizer arrays of numbers are skipped by seeking; string arrays are walked, not decoded).
// Every failure is a `GgufError` whose message names the file and says what is wrong in words an
// operator can act on; the models step of the recovery wizard turns them into findings.
import fs from 'node:fs/promises';
import path from 'node:path';

export type GgufErrorCode = 'not-gguf' | 'truncated' | 'unsupported-version' | 'corrupt' | 'io';

export class GgufError extends Error {
  constructor(
    readonly file: string,
    readonly code: GgufErrorCode,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'GgufError';
  }
}

/** A metadata value; arrays longer than `ARRAY_KEEP` are summarised instead of read. */
export type GgufValue = number | bigint | boolean | string | GgufArraySummary | GgufScalar[];
export type GgufScalar = number | bigint | boolean | string;
export interface GgufArraySummary {
  arrayType: string;
  length: number;
}

export type ModelKind = 'embedding' | 'chat' | 'unknown';

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  ggmlType: number;
  /** Offset relative to the start of the tensor data. */
  offset: number;
}

export interface GgufInfo {
  file: string;
  version: number;
  fileBytes: number;
  tensorCount: number;
  /** Every key/value; long arrays (token lists, merges) summarised as { arrayType, length }. */
  metadata: Record<string, GgufValue>;
  /** Bytes from the start of the file to the end of the tensor directory (what was parsed). */
  headerBytes: number;
  /** Where tensor data starts, and the size the file must have to hold every tensor. */
  dataOffset: number;
  expectedMinBytes: number | null;
  architecture: string | null;
  name: string | null;
  contextLength: number | null;
  embeddingLength: number | null;
  blockCount: number | null;
  /** llama.cpp pooling type: 0 none, 1 mean, 2 cls, 3 last, 4 rank; null when not recorded. */
  poolingType: number | null;
  fileType: number | null;
  fileTypeName: string | null;
  tokenizerModel: string | null;
  vocabSize: number | null;
  hasChatTemplate: boolean;
  /** Set for split models (`model-00001-of-00003.gguf`). */
  split: { no: number; count: number } | null;
  kind: ModelKind;
  /** Why `kind` was chosen, for findings ("pooling_type=1", "architecture bert", …). */
  kindReason: string;
}

export interface ReadGgufOptions {
  /** Refuse metadata larger than this (a corrupt length field must not read the whole disk). */
  maxHeaderBytes?: number;
  /** Skip reading the tensor directory (then `expectedMinBytes` is null). */
  skipTensors?: boolean;
}

const MAGIC = 0x46554747; // "GGUF" read as little-endian u32
const WINDOW = 1 << 20;
const DEFAULT_MAX_HEADER = 256 << 20;
const MAX_STRING = 64 << 20;
const ARRAY_KEEP = 64;

const TYPE_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** ggml type → [block size, bytes per block] (as reported by ggml itself). */
const GGML_BLOCK: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17], 40: [64, 36], 41: [128, 18], 42: [64, 18],
};

const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0',
  37: 'TQ2_0', 38: 'MXFP4_MOE', 39: 'NVFP4', 40: 'Q1_0', 41: 'Q2_0',
};

/** Encoder-only / embedding architectures in llama.cpp. */
const EMBEDDING_ARCHS = new Set([
  'bert', 'modern-bert', 'nomic-bert', 'nomic-bert-moe', 'neo-bert', 'jina-bert-v2', 'jina-bert-v3', 'eurobert',
  't5encoder', 'gemma-embedding',
]);
/** Architectures that are not text generators (audio decoders, vision projectors, drafts). */
const NON_CHAT_ARCHS = new Set(['wavtokenizer-dec', 'clip', 'mmproj', 'eagle3', 'dflash']);
const EMBEDDING_NAME = /embed(?!ded)|\bbge\b|bge[-_]|\be5[-_]|\bgte[-_]|m3e|text2vec|sentence|minilm|mpnet/i;
const RERANK_NAME = /rerank/i;

/** Buffered little-endian reader over a file handle: reads 1 MiB windows as the parser needs them. */
class WindowReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly fh: fs.FileHandle,
    private readonly file: string,
    readonly size: number,
    private readonly maxBytes: number,
  ) {}

  private async ensure(n: number, what: string): Promise<void> {
    const end = this.pos + n;
    if (end > this.size) throw new GgufError(this.file, 'truncated', `the file ends inside the ${what} (at byte ${this.size} of at least ${end}); it is truncated — copy it again from the original`);
    if (end > this.maxBytes) throw new GgufError(this.file, 'corrupt', `the GGUF header claims more than ${this.maxBytes} bytes of metadata (${what}); the file is corrupt`);
    if (this.pos >= this.bufStart && end <= this.bufStart + this.buf.length) return;
    const len = Math.min(Math.max(n, WINDOW), this.size - this.pos);
    const b = Buffer.alloc(len);
    let got = 0;
    try {
      while (got < len) {
        const { bytesRead } = await this.fh.read(b, got, len - got, this.pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw new GgufError(this.file, 'io', `cannot read the file: ${(err as Error).message}`);
    }
    if (got < n) throw new GgufError(this.file, 'truncated', `the file ends inside the ${what}; it is truncated`);
    this.buf = b.subarray(0, got);
    this.bufStart = this.pos;
  }

  private at(): number {
    return this.pos - this.bufStart;
  }

  async u8(what: string): Promise<number> {
    await this.ensure(1, what);
    const v = this.buf.readUInt8(this.at());
    this.pos += 1;
    return v;
  }
  async u32(what: string): Promise<number> {
    await this.ensure(4, what);
    const v = this.buf.readUInt32LE(this.at());
    this.pos += 4;
    return v;
  }
  async u64(what: string): Promise<number> {
    await this.ensure(8, what);
    const v = this.buf.readBigUInt64LE(this.at());
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(this.file, 'corrupt', `impossible ${what} (${v}); the file is corrupt`);
    return Number(v);
  }
  async bytes(n: number, what: string): Promise<Buffer> {
    await this.ensure(n, what);
    const b = this.buf.subarray(this.at(), this.at() + n);
    this.pos += n;
    return b;
  }
  skip(n: number, what: string): void {
    if (this.pos + n > this.size) throw new GgufError(this.file, 'truncated', `the file ends inside the ${what}; it is truncated`);
    this.pos += n;
  }
  async string(what: string): Promise<string> {
    const len = await this.u64(`length of ${what}`);
    if (len > MAX_STRING) throw new GgufError(this.file, 'corrupt', `impossible string length ${len} in ${what}; the file is corrupt`);
    return (await this.bytes(len, what)).toString('utf8');
  }
  async scalar(type: number, what: string): Promise<GgufScalar> {
    const size = FIXED_SIZE[type];
    if (type === 8) return this.string(what);
    if (size === undefined) throw new GgufError(this.file, 'corrupt', `unknown value type ${type} in ${what}; the file is corrupt or from a newer GGUF version`);
    const b = await this.bytes(size, what);
    switch (type) {
      case 0: return b.readUInt8(0);
      case 1: return b.readInt8(0);
      case 2: return b.readUInt16LE(0);
      case 3: return b.readInt16LE(0);
      case 4: return b.readUInt32LE(0);
      case 5: return b.readInt32LE(0);
      case 6: return b.readFloatLE(0);
      case 7: return b.readUInt8(0) !== 0;
      case 10: return safeBig(b.readBigUInt64LE(0));
      case 11: return safeBig(b.readBigInt64LE(0));
      default: return b.readDoubleLE(0);
    }
  }
}

function safeBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Reads the header, key/values and tensor directory of a GGUF file (versions 2 and 3).
 * Throws `GgufError` (with the file name in the message) for a file that is not GGUF, is
 * truncated, has an unsupported version, or is corrupt.
 */
export async function readGgufMetadata(file: string, opts: ReadGgufOptions = {}): Promise<GgufInfo> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    throw new GgufError(file, 'io', `cannot open the file: ${(err as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const r = new WindowReader(fh, file, size, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER);
    if (size < 4) throw new GgufError(file, 'not-gguf', `not a GGUF model file (only ${size} bytes)`);
    const magic = await r.u32('magic');
    if (magic !== MAGIC) {
      const head = (await fh.read(Buffer.alloc(4), 0, 4, 0)).buffer;
      throw new GgufError(file, 'not-gguf', `not a GGUF model file (it starts with ${JSON.stringify(head.toString('latin1'))}, not "GGUF")`);
    }
    const version = await r.u32('version');
    if (version !== 2 && version !== 3) {
      const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
      if (swapped === 2 || swapped === 3) throw new GgufError(file, 'unsupported-version', `big-endian GGUF v${swapped} is not supported on this machine`);
      throw new GgufError(file, 'unsupported-version', `unsupported GGUF version ${version} (supported: 2 and 3)${version === 1 ? '; convert it with a current llama.cpp' : ''}`);
    }
    const tensorCount = await r.u64('tensor count');
    const kvCount = await r.u64('key/value count');
    // Real models have a few dozen key/values and at most tens of thousands of tensors; a file cut
    // short keeps its counts and is reported as truncated when the reads run past its end.
    if (kvCount > 1_000_000 || tensorCount > 10_000_000) throw new GgufError(file, 'corrupt', `impossible header counts (${kvCount} key/values, ${tensorCount} tensors); the file is corrupt`);

    const metadata: Record<string, GgufValue> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = await r.string(`key #${i + 1}`);
      const type = await r.u32(`type of ${key}`);
      if (type === 9) {
        const itemType = await r.u32(`array type of ${key}`);
        const length = await r.u64(`array length of ${key}`);
        if (itemType === 9) throw new GgufError(file, 'corrupt', `nested arrays in ${key} are not supported`);
        const fixed = FIXED_SIZE[itemType];
        if (itemType !== 8 && fixed === undefined) throw new GgufError(file, 'corrupt', `unknown array type ${itemType} in ${key}; the file is corrupt`);
        if (length <= ARRAY_KEEP) {
          const items: GgufScalar[] = [];
          for (let j = 0; j < length; j++) items.push(await r.scalar(itemType, key));
          metadata[key] = items;
        } else {
          if (itemType === 8) {
            for (let j = 0; j < length; j++) {
              const len = await r.u64(`string length in ${key}`);
              if (len > MAX_STRING) throw new GgufError(file, 'corrupt', `impossible string length ${len} in ${key}; the file is corrupt`);
              r.skip(len, key);
            }
          } else r.skip(length * fixed!, key);
          metadata[key] = { arrayType: TYPE_NAMES[itemType]!, length };
        }
      } else {
        metadata[key] = await r.scalar(type, key);
      }
    }

    const alignment = num(metadata['general.alignment']) ?? 32;
    if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new GgufError(file, 'corrupt', `invalid general.alignment ${alignment}`);
    let expectedMinBytes: number | null = null;
    let dataOffset = 0;
    if (!opts.skipTensors) {
      const tensors: GgufTensorInfo[] = [];
      for (let i = 0; i < tensorCount; i++) {
        const name = await r.string(`name of tensor #${i + 1}`);
        const nDims = await r.u32(`dimensions of ${name}`);
        if (nDims > 8) throw new GgufError(file, 'corrupt', `tensor ${name} has ${nDims} dimensions; the file is corrupt`);
        const dims: number[] = [];
        for (let d = 0; d < nDims; d++) dims.push(await r.u64(`shape of ${name}`));
        const ggmlType = await r.u32(`type of ${name}`);
        const offset = await r.u64(`offset of ${name}`);
        tensors.push({ name, dims, ggmlType, offset });
      }
      dataOffset = Math.ceil(r.pos / alignment) * alignment;
      let end = 0;
      let known = true;
      for (const t of tensors) {
        const block = GGML_BLOCK[t.ggmlType];
        if (!block) {
          known = false;
          continue;
        }
        const elems = t.dims.reduce((a, b) => a * b, 1);
        end = Math.max(end, t.offset + Math.ceil(elems / block[0]) * block[1]);
      }
      expectedMinBytes = known ? dataOffset + end : null;
      if (expectedMinBytes !== null && size < expectedMinBytes)
        throw new GgufError(file, 'truncated', `the file is truncated: its tensors need ${expectedMinBytes} bytes but it has ${size} — copy it again from the original`);
    }
    return describe(file, version, size, tensorCount, metadata, r.pos, dataOffset, expectedMinBytes);
  } finally {
    await fh.close();
  }
}

function num(v: GgufValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

function str(v: GgufValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function describe(
  file: string,
  version: number,
  fileBytes: number,
  tensorCount: number,
  metadata: Record<string, GgufValue>,
  headerBytes: number,
  dataOffset: number,
  expectedMinBytes: number | null,
): GgufInfo {
  const architecture = str(metadata['general.architecture']);
  const arch = (key: string): GgufValue | undefined => (architecture ? metadata[`${architecture}.${key}`] : undefined);
  const fileType = num(metadata['general.file_type']);
  const tokens = metadata['tokenizer.ggml.tokens'];
  const vocabSize = num(arch('vocab_size')) ?? (Array.isArray(tokens) ? tokens.length : tokens && typeof tokens === 'object' ? (tokens as GgufArraySummary).length : null);
  const splitCount = num(metadata['split.count']);
  const info: Omit<GgufInfo, 'kind' | 'kindReason'> = {
    file,
    version,
    fileBytes,
    tensorCount,
    metadata,
    headerBytes,
    dataOffset,
    expectedMinBytes,
    architecture,
    name: str(metadata['general.name']),
    contextLength: num(arch('context_length')),
    embeddingLength: num(arch('embedding_length')),
    blockCount: num(arch('block_count')),
    poolingType: num(arch('pooling_type')),
    fileType,
    fileTypeName: fileType === null ? null : (FILE_TYPES[fileType] ?? `type ${fileType}`),
    tokenizerModel: str(metadata['tokenizer.ggml.model']),
    vocabSize,
    hasChatTemplate: typeof metadata['tokenizer.chat_template'] === 'string' || Object.keys(metadata).some((k) => k.startsWith('tokenizer.chat_template.')),
    split: splitCount !== null && splitCount > 1 ? { no: num(metadata['split.no']) ?? 0, count: splitCount } : null,
  };
  const { kind, reason } = classifyModel(info, path.basename(file));
  return { ...info, kind, kindReason: reason };
}

/**
 * Embedding or chat model? Embedding signals first: a pooling type (mean/cls/last), an
 * encoder-only architecture, or a name like "bge"/"embed"; then chat: a chat template or any
 * other text-generating architecture. Rerankers (pooling "rank") and odd files are "unknown".
 */
export function classifyModel(
  info: Pick<GgufInfo, 'architecture' | 'name' | 'poolingType' | 'hasChatTemplate' | 'tokenizerModel'>,
  fileName = '',
): { kind: ModelKind; reason: string } {
  const names = `${info.name ?? ''} ${fileName}`;
  if (info.poolingType === 4 || RERANK_NAME.test(names)) return { kind: 'unknown', reason: 'a reranker (pooling type "rank"), neither an embedder nor a chat model' };
  if (info.poolingType !== null && info.poolingType >= 1 && info.poolingType <= 3)
    return { kind: 'embedding', reason: `pooling type ${['', 'mean', 'cls', 'last'][info.poolingType]}` };
  if (info.architecture && EMBEDDING_ARCHS.has(info.architecture)) return { kind: 'embedding', reason: `architecture ${info.architecture}` };
  if (EMBEDDING_NAME.test(names)) return { kind: 'embedding', reason: 'the model name says it is an embedding model' };
  if (!info.architecture) return { kind: 'unknown', reason: 'no general.architecture' };
  if (NON_CHAT_ARCHS.has(info.architecture) || !info.tokenizerModel) return { kind: 'unknown', reason: `architecture ${info.architecture} without a text tokenizer` };
  if (info.hasChatTemplate) return { kind: 'chat', reason: 'has a chat template' };
  return { kind: 'chat', reason: `text-generating architecture ${info.architecture} (no chat template: a generic prompt format will be used)` };
}
