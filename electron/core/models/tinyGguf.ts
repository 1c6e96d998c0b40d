// A tiny llama-architecture GGUF model (random weights, byte-level vocabulary): the tests load it
// for real through node-llama-cpp, and drills use it as a stand-in embedding model in a sandbox.
// A GGUF v3 writer for tests: builds a tiny but valid llama-architecture model with seeded random
// weights and a byte-level SentencePiece vocabulary, small enough to generate on the fly (well under
// 1 MB) and real enough that llama.cpp (inside node-llama-cpp) loads it, tokenizes any UTF-8 text
// (every byte has a token, so Chinese works), computes embeddings and generates tokens.
//
// Also exposes the low-level encoder (`encodeGguf`) so tests can craft odd files: another
// architecture, an unsupported version, a truncated header.
import fs from 'node:fs';
import path from 'node:path';

/** GGUF metadata value types (the GGUF spec's `gguf_metadata_value_type`). */
export const GGUF_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
export type GgufScalarType = Exclude<keyof typeof GGUF_TYPE, 'array'>;

export type GgufKv =
  | { key: string; type: Exclude<GgufScalarType, 'string' | 'bool' | 'u64' | 'i64'>; value: number }
  | { key: string; type: 'u64' | 'i64'; value: bigint | number }
  | { key: string; type: 'bool'; value: boolean }
  | { key: string; type: 'string'; value: string }
  | { key: string; type: 'array'; itemType: GgufScalarType; value: readonly (number | bigint | boolean | string)[] };

/** ggml tensor types this writer can emit. */
export const GGML_TYPE = { f32: 0, f16: 1 } as const;

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the contiguous (innermost) dimension. */
  dims: readonly number[];
  type: keyof typeof GGML_TYPE;
  data: Float32Array;
}

export interface EncodeOptions {
  version?: number;
  alignment?: number;
}

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u8(v: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  pad(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.push(Buffer.alloc(alignment - rem));
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeScalar(out: ByteSink, type: GgufScalarType, v: number | bigint | boolean | string): void {
  const b8 = Buffer.alloc(8);
  switch (type) {
    case 'u8':
      return out.u8(Number(v));
    case 'i8':
      b8.writeInt8(Number(v));
      return out.push(b8.subarray(0, 1));
    case 'u16':
      b8.writeUInt16LE(Number(v));
      return out.push(b8.subarray(0, 2));
    case 'i16':
      b8.writeInt16LE(Number(v));
      return out.push(b8.subarray(0, 2));
    case 'u32':
      return out.u32(Number(v));
    case 'i32':
      return out.i32(Number(v));
    case 'f32':
      b8.writeFloatLE(Number(v));
      return out.push(b8.subarray(0, 4));
    case 'bool':
      return out.u8(v ? 1 : 0);
    case 'string':
      return out.str(String(v));
    case 'u64':
      return out.u64(BigInt(v as number | bigint));
    case 'i64':
      b8.writeBigInt64LE(BigInt(v as number | bigint));
      return out.push(b8);
    case 'f64':
      b8.writeDoubleLE(Number(v));
      return out.push(b8);
  }
}

/** IEEE 754 binary32 → binary16 (round to nearest even), for F16 tensors. */
export function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

function tensorBytes(t: GgufTensor): Buffer {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims ${t.dims.join('x')}`);
  if (t.type === 'f32') return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeUInt16LE(toHalf(t.data[i]!), i * 2);
  return b;
}

/** Encodes a complete GGUF file: header, key/values, tensor infos, aligned tensor data. */
export function encodeGguf(kvs: readonly GgufKv[], tensors: readonly GgufTensor[], opts: EncodeOptions = {}): Buffer {
  const version = opts.version ?? 3;
  const alignment = opts.alignment ?? 32;
  const out = new ByteSink();
  out.push(Buffer.from('GGUF', 'latin1'));
  out.u32(version);
  out.u64(tensors.length);
  out.u64(kvs.length);
  for (const kv of kvs) {
    out.str(kv.key);
    out.u32(GGUF_TYPE[kv.type]);
    if (kv.type === 'array') {
      out.u32(GGUF_TYPE[kv.itemType]);
      out.u64(kv.value.length);
      for (const v of kv.value) writeScalar(out, kv.itemType, v);
    } else writeScalar(out, kv.type, kv.value);
  }
  const datas = tensors.map(tensorBytes);
  let offset = 0;
  const offsets: number[] = [];
  for (const d of datas) {
    offsets.push(offset);
    offset += d.length;
    offset = Math.ceil(offset / alignment) * alignment;
  }
  tensors.forEach((t, i) => {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_TYPE[t.type]);
    out.u64(offsets[i]!);
  });
  out.pad(alignment);
  datas.forEach((d) => {
    out.push(d);
    out.pad(alignment);
  });
  return out.concat();
}

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface TinyLlamaOptions {
  /** n_embd; 64 by default. */
  embeddingLength?: number;
  /** Number of transformer blocks; 1 by default. */
  blockCount?: number;
  /** Attention heads; 2 by default (head size = embeddingLength / headCount). */
  headCount?: number;
  headCountKv?: number;
  /** FFN width; 2 × embeddingLength by default. */
  feedForwardLength?: number;
  /** Training context recorded in the file; 512 by default. */
  contextLength?: number;
  seed?: number;
  /** Set `llama.pooling_type` (an embedding model): mean = 1, cls = 2, last = 3. */
  pooling?: 'mean' | 'cls' | 'last';
  /** `general.name`; "tiny-llama" (or "tiny-embed" with pooling) by default. */
  name?: string;
  /** `tokenizer.chat_template`; ChatML by default, null for none. */
  chatTemplate?: string | null;
  /** Matrix tensor type; norms are always F32. */
  tensorType?: 'f32' | 'f16';
  /** Zero the output rows of special tokens so greedy decoding never stops early (true by default). */
  suppressSpecialTokens?: boolean;
}

export interface TinyModelInfo {
  path: string;
  bytes: number;
  vocabSize: number;
  embeddingLength: number;
  contextLength: number;
  name: string;
}

/** Token ids of the tiny vocabulary. */
export const TINY_VOCAB = { unk: 0, bos: 1, eos: 2, imStart: 3, imEnd: 4, firstByte: 5, space: 5 + 256 } as const;

function tinyVocab(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types = [2, 3, 3, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  tokens.push('\u2581'); // SentencePiece's space: one token per space instead of three bytes
  types.push(1);
  return { tokens, scores: tokens.map((_, i) => (i === TINY_VOCAB.space ? -1 : 0)), types };
}

/** The tiny model as bytes (deterministic from the options). */
export function tinyLlamaGguf(opts: TinyLlamaOptions = {}): Buffer {
  const nEmbd = opts.embeddingLength ?? 64;
  const nLayer = opts.blockCount ?? 1;
  const nHead = opts.headCount ?? 2;
  const nHeadKv = opts.headCountKv ?? nHead;
  const nFf = opts.feedForwardLength ?? nEmbd * 2;
  const nCtx = opts.contextLength ?? 512;
  const headDim = nEmbd / nHead;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error('embeddingLength / headCount must be an even integer');
  if (nHead % nHeadKv !== 0) throw new Error('headCount must be a multiple of headCountKv');
  const type = opts.tensorType ?? 'f32';
  const rand = rng(opts.seed ?? 1);
  const vocab = tinyVocab();
  const nVocab = vocab.tokens.length;
  const name = opts.name ?? (opts.pooling ? 'tiny-embed' : 'tiny-llama');

  const uniform = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const mat = (name: string, inDim: number, outDim: number, scale = 1 / Math.sqrt(inDim)): GgufTensor => ({
    name,
    dims: [inDim, outDim],
    type,
    data: uniform(inDim * outDim, scale * Math.sqrt(3)),
  });

  const tensors: GgufTensor[] = [];
  tensors.push({ name: 'token_embd.weight', dims: [nEmbd, nVocab], type, data: uniform(nEmbd * nVocab, 1) });
  for (let i = 0; i < nLayer; i++) {
    const p = `blk.${i}.`;
    tensors.push({ name: p + 'attn_norm.weight', dims: [nEmbd], type: 'f32', data: ones(nEmbd) });
    tensors.push(mat(p + 'attn_q.weight', nEmbd, nEmbd));
    tensors.push(mat(p + 'attn_k.weight', nEmbd, headDim * nHeadKv));
    tensors.push(mat(p + 'attn_v.weight', nEmbd, headDim * nHeadKv));
    tensors.push(mat(p + 'attn_output.weight', nEmbd, nEmbd));
    tensors.push({ name: p + 'ffn_norm.weight', dims: [nEmbd], type: 'f32', data: ones(nEmbd) });
    tensors.push(mat(p + 'ffn_gate.weight', nEmbd, nFf));
    tensors.push(mat(p + 'ffn_up.weight', nEmbd, nFf));
    tensors.push(mat(p + 'ffn_down.weight', nFf, nEmbd));
  }
  tensors.push({ name: 'output_norm.weight', dims: [nEmbd], type: 'f32', data: ones(nEmbd) });
  const output = mat('output.weight', nEmbd, nVocab, 4 / Math.sqrt(nEmbd));
  if (opts.suppressSpecialTokens ?? true) {
    // Logit exactly 0 for <unk>, <s>, </s>, <|im_start|>, <|im_end|>: with ~260 random logits,
    // greedy decoding (practically) never picks them, so generation runs to maxTokens.
    for (let t = 0; t < TINY_VOCAB.firstByte; t++) output.data.fill(0, t * nEmbd, (t + 1) * nEmbd);
  }
  tensors.push(output);

  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: 'string', value: 'llama' },
    { key: 'general.name', type: 'string', value: name },
    { key: 'general.alignment', type: 'u32', value: 32 },
    { key: 'general.file_type', type: 'u32', value: type === 'f32' ? 0 : 1 },
    { key: 'llama.vocab_size', type: 'u32', value: nVocab },
    { key: 'llama.context_length', type: 'u32', value: nCtx },
    { key: 'llama.embedding_length', type: 'u32', value: nEmbd },
    { key: 'llama.block_count', type: 'u32', value: nLayer },
    { key: 'llama.feed_forward_length', type: 'u32', value: nFf },
    { key: 'llama.attention.head_count', type: 'u32', value: nHead },
    { key: 'llama.attention.head_count_kv', type: 'u32', value: nHeadKv },
    { key: 'llama.attention.layer_norm_rms_epsilon', type: 'f32', value: 1e-5 },
    { key: 'llama.rope.dimension_count', type: 'u32', value: headDim },
    { key: 'llama.rope.freq_base', type: 'f32', value: 10000 },
  ];
  if (opts.pooling) kvs.push({ key: 'llama.pooling_type', type: 'u32', value: { mean: 1, cls: 2, last: 3 }[opts.pooling] });
  kvs.push(
    { key: 'tokenizer.ggml.model', type: 'string', value: 'llama' },
    { key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: vocab.tokens },
    { key: 'tokenizer.ggml.scores', type: 'array', itemType: 'f32', value: vocab.scores },
    { key: 'tokenizer.ggml.token_type', type: 'array', itemType: 'i32', value: vocab.types },
    { key: 'tokenizer.ggml.unknown_token_id', type: 'u32', value: TINY_VOCAB.unk },
    { key: 'tokenizer.ggml.bos_token_id', type: 'u32', value: TINY_VOCAB.bos },
    { key: 'tokenizer.ggml.eos_token_id', type: 'u32', value: TINY_VOCAB.eos },
    { key: 'tokenizer.ggml.padding_token_id', type: 'u32', value: TINY_VOCAB.unk },
    { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: true },
    { key: 'tokenizer.ggml.add_eos_token', type: 'bool', value: false },
    { key: 'tokenizer.ggml.add_space_prefix', type: 'bool', value: false },
  );
  const template = opts.chatTemplate === undefined ? CHATML_TEMPLATE : opts.chatTemplate;
  if (template !== null) kvs.push({ key: 'tokenizer.chat_template', type: 'string', value: template });
  return encodeGguf(kvs, tensors);
}

/** Writes the tiny model to `file` (parent folders created) and describes it. */
export function writeTinyLlamaGguf(file: string, opts: TinyLlamaOptions = {}): TinyModelInfo {
  const bytes = tinyLlamaGguf(opts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return {
    path: file,
    bytes: bytes.length,
    vocabSize: tinyVocab().tokens.length,
    embeddingLength: opts.embeddingLength ?? 64,
    contextLength: opts.contextLength ?? 512,
    name: opts.name ?? (opts.pooling ? 'tiny-embed' : 'tiny-llama'),
  };
}
