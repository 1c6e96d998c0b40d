import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyModel, GgufError, readGgufMetadata } from '../../electron/core/models/gguf.js';
import { encodeGguf, tinyLlamaGguf, writeTinyLlamaGguf, type GgufKv } from '../helpers/gguf.js';
import { tempDir } from '../helpers/env.js';

async function rejection(p: Promise<unknown>): Promise<GgufError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GgufError);
    return err as GgufError;
  }
  throw new Error('expected a GgufError');
}

describe('the GGUF metadata reader', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());
  const dir = (): string => {
    const t = tempDir('lifeline-gguf-');
    cleanup = t.cleanup;
    return t.dir;
  };

  it('reads the architecture, sizes and kind of the generated tiny chat model', async () => {
    const file = path.join(dir(), 'tiny.gguf');
    const written = writeTinyLlamaGguf(file, { embeddingLength: 64, blockCount: 2, contextLength: 256, seed: 7 });
    expect(written.bytes).toBeLessThan(2 * 1024 * 1024);
    const info = await readGgufMetadata(file);
    expect(info).toMatchObject({
      version: 3,
      architecture: 'llama',
      name: 'tiny-llama',
      contextLength: 256,
      embeddingLength: 64,
      blockCount: 2,
      poolingType: null,
      fileType: 0,
      fileTypeName: 'F32',
      tokenizerModel: 'llama',
      vocabSize: written.vocabSize,
      hasChatTemplate: true,
      kind: 'chat',
      split: null,
      expectedMinBytes: written.bytes,
    });
    expect(info.tensorCount).toBe(3 + 2 * 9);
    // The token list is summarised, not read into memory.
    expect(info.metadata['tokenizer.ggml.tokens']).toEqual({ arrayType: 'string', length: written.vocabSize });
    expect(info.headerBytes).toBeLessThan(info.dataOffset + 1);
  });

  it('writes the same bytes for the same seed and different weights for another seed', () => {
    const a = tinyLlamaGguf({ seed: 5 });
    expect(a.equals(tinyLlamaGguf({ seed: 5 }))).toBe(true);
    expect(a.equals(tinyLlamaGguf({ seed: 6 }))).toBe(false);
    expect(a.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(a.readUInt32LE(4)).toBe(3);
    expect(a.length % 32).toBe(0);
  });

  it('recognises an embedding model by its pooling type, architecture or name', async () => {
    const d = dir();
    const file = path.join(d, 'embed.gguf');
    writeTinyLlamaGguf(file, { pooling: 'mean', chatTemplate: null });
    const info = await readGgufMetadata(file);
    expect(info).toMatchObject({ poolingType: 1, kind: 'embedding', hasChatTemplate: false, name: 'tiny-embed' });
    const base = { name: null, poolingType: null, hasChatTemplate: false, tokenizerModel: 'bert' };
    expect(classifyModel({ ...base, architecture: 'bert' }).kind).toBe('embedding');
    expect(classifyModel({ ...base, architecture: 'qwen2', name: 'bge-m3', tokenizerModel: 'gpt2' }).kind).toBe('embedding');
    expect(classifyModel({ ...base, architecture: 'qwen3', tokenizerModel: 'gpt2' }, 'Qwen3-Embedding-0.6B-Q8_0.gguf').kind).toBe('embedding');
    expect(classifyModel({ ...base, architecture: 'qwen2', tokenizerModel: 'gpt2', hasChatTemplate: true }).kind).toBe('chat');
    expect(classifyModel({ ...base, architecture: 'pangu-embedded', tokenizerModel: 'llama', hasChatTemplate: true }).kind).toBe('chat');
    expect(classifyModel({ ...base, architecture: 'bert', poolingType: 4 }, 'bge-reranker-v2-m3.gguf').kind).toBe('unknown');
    expect(classifyModel({ ...base, architecture: null, tokenizerModel: null }).kind).toBe('unknown');
  });

  it('rejects a file cut short inside the key/values, naming the file', async () => {
    const file = path.join(dir(), 'cut-header.gguf');
    fs.writeFileSync(file, tinyLlamaGguf().subarray(0, 300));
    const err = await rejection(readGgufMetadata(file));
    expect(err.code).toBe('truncated');
    expect(err.file).toBe(file);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/truncated/);
  });

  it('rejects a file whose tensor data is cut short (an interrupted copy)', async () => {
    const file = path.join(dir(), 'cut-data.gguf');
    const full = tinyLlamaGguf();
    fs.writeFileSync(file, full.subarray(0, full.length - 1000));
    const err = await rejection(readGgufMetadata(file));
    expect(err.code).toBe('truncated');
    expect(err.message).toContain(file);
    expect(err.message).toContain(String(full.length));
  });

  it('rejects garbage, an empty file and a Python pickle as "not a GGUF model file"', async () => {
    const d = dir();
    const cases: Record<string, Uint8Array> = {
      'garbage.gguf': Buffer.from('this is not a model at all, just some text that happens to be here'),
      'empty.gguf': Buffer.alloc(0),
      'index.pkl.gguf': Buffer.from([0x80, 0x04, 0x95, 0x00, 0x00, 0x00, 0x00]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const file = path.join(d, name);
      fs.writeFileSync(file, bytes);
      const err = await rejection(readGgufMetadata(file));
      expect(err.code).toBe('not-gguf');
      expect(err.message).toContain(file);
      expect(err.message).toMatch(/not a GGUF model file/);
    }
  });

  it('rejects unsupported GGUF versions with the version in the message', async () => {
    const d = dir();
    const kv: GgufKv[] = [{ key: 'general.architecture', type: 'string', value: 'llama' }];
    for (const version of [1, 4]) {
      const file = path.join(d, `v${version}.gguf`);
      fs.writeFileSync(file, encodeGguf(kv, [], { version }));
      const err = await rejection(readGgufMetadata(file));
      expect(err.code).toBe('unsupported-version');
      expect(err.message).toContain(file);
      expect(err.message).toContain(`version ${version}`);
    }
  });

  it('reports a missing file as an I/O error naming it, and corrupt lengths as corruption', async () => {
    const d = dir();
    const missing = path.join(d, 'missing.gguf');
    expect((await rejection(readGgufMetadata(missing))).code).toBe('io');
    // A string length of 2^40 in the first key: corrupt, and nothing near that size is read.
    const bytes = Buffer.from(encodeGguf([{ key: 'general.name', type: 'string', value: 'x' }], []));
    bytes.writeBigUInt64LE(1n << 40n, 24);
    const file = path.join(d, 'corrupt.gguf');
    fs.writeFileSync(file, bytes);
    const err = await rejection(readGgufMetadata(file));
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(file);
  });

  it('reads only the header of a large file (a sparse 3 GB model)', async () => {
    const file = path.join(dir(), 'big.gguf');
    const head = encodeGguf(
      [
        { key: 'general.architecture', type: 'string', value: 'qwen2' },
        { key: 'general.name', type: 'string', value: 'Qwen2.5 7B Instruct' },
        { key: 'general.file_type', type: 'u32', value: 15 },
        { key: 'qwen2.context_length', type: 'u32', value: 32768 },
        { key: 'qwen2.embedding_length', type: 'u32', value: 3584 },
        { key: 'tokenizer.ggml.model', type: 'string', value: 'gpt2' },
        { key: 'tokenizer.ggml.merges', type: 'array', itemType: 'string', value: Array.from({ length: 5000 }, (_, i) => `a${i} b${i}`) },
        { key: 'tokenizer.ggml.token_type', type: 'array', itemType: 'i32', value: Array.from({ length: 5000 }, () => 1) },
      ],
      [],
    );
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, head);
    fs.ftruncateSync(fd, 3 * 1024 ** 3);
    fs.closeSync(fd);
    const info = await readGgufMetadata(file);
    expect(info).toMatchObject({ architecture: 'qwen2', contextLength: 32768, embeddingLength: 3584, fileTypeName: 'Q4_K_M', kind: 'chat', fileBytes: 3 * 1024 ** 3 });
    expect(info.metadata['tokenizer.ggml.merges']).toEqual({ arrayType: 'string', length: 5000 });
  });
});
