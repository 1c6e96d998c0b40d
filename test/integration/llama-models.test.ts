// The real llama.cpp runtime (node-llama-cpp's prebuilt CPU binary) on tiny GGUF models the test
// writes itself: loading, tokenizing, embeddings, streamed and cancelled generation, and answers
// built from passages within the model's context.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notCoveredText } from '../../electron/core/kb/answer.js';
import type { Passage } from '../../electron/core/kb/retrieval.js';
import { readGgufMetadata } from '../../electron/core/models/gguf.js';
import { disposeLlamaRuntime, getLlamaRuntime, loadChatModel, loadEmbeddingModel, type ChatModel, type GgufEmbedder } from '../../electron/core/models/llama.js';
import { modelAnswer, type ModelPrompt } from '../../electron/core/models/modelAnswer.js';
import { sha256File } from '../../electron/core/util/hash.js';
import { writeTinyLlamaGguf } from '../helpers/gguf.js';
import { tempDir } from '../helpers/env.js';

// Byte-level vocabulary: about one token per character (three per CJK character), so the chat
// model gets a context that holds the answer prompt's instructions; the embedder keeps 512.
const CONTEXT = 2048;
const EMBED_CONTEXT = 512;
let dir: { dir: string; cleanup: () => void };
let chatFile: string;
let embedFile: string;
let chat: ChatModel;
let embedder: GgufEmbedder;
const timings: Record<string, number> = {};

beforeAll(async () => {
  dir = tempDir('lifeline-llama-');
  chatFile = path.join(dir.dir, 'tiny-chat.gguf');
  embedFile = path.join(dir.dir, 'tiny-embed.gguf');
  writeTinyLlamaGguf(chatFile, { embeddingLength: 64, blockCount: 2, headCount: 2, contextLength: CONTEXT, seed: 11 });
  writeTinyLlamaGguf(embedFile, { embeddingLength: 64, blockCount: 1, headCount: 2, contextLength: EMBED_CONTEXT, seed: 12, pooling: 'mean', chatTemplate: null });
  let t = Date.now();
  await getLlamaRuntime();
  timings.runtime = Date.now() - t;
  t = Date.now();
  chat = await loadChatModel(chatFile, { contextSize: CONTEXT });
  timings.chatLoad = Date.now() - t;
  t = Date.now();
  embedder = await loadEmbeddingModel(embedFile, sha256File(embedFile));
  timings.embedLoad = Date.now() - t;
}, 60_000); // generous: a loaded 2-core CI box is much slower than an idle one

afterAll(async () => {
  const t = Date.now();
  await disposeLlamaRuntime();
  timings.dispose = Date.now() - t;
  dir?.cleanup();
  // Measured figures for the report (visible with --reporter=verbose or in the console output).
  console.log('llama timings (ms / tokens per second):', JSON.stringify(timings));
}, 60_000);

function passage(i: number, text: string, heading = ''): Passage {
  return { chunkId: i, kb: 'it', kbId: 1, document: `doc-${i}.md`, documentId: i, text, heading, lineStart: 1, lineEnd: 9, page: null, row: null, score: 1 / (i + 1), vectorScore: null };
}

describe('node-llama-cpp on a generated tiny GGUF', () => {
  it('uses the prebuilt CPU binary without building or downloading', async () => {
    const llama = await getLlamaRuntime();
    expect(llama.gpu).toBe(false);
    expect(llama.buildType).toBe('prebuilt');
    expect(llama.maxThreads).toBeGreaterThanOrEqual(1);
  });

  it('loads the generated model and tokenizes English and Chinese text', async () => {
    const info = await readGgufMetadata(chatFile);
    expect(info.kind).toBe('chat');
    expect(chat.contextSize).toBe(CONTEXT);
    expect(chat.chatWrapperName).toBe('ChatML');
    expect(chat.countTokens('ab')).toBe(2);
    expect(chat.countTokens('急诊')).toBe(6); // byte-level vocabulary: 3 bytes per CJK character
    expect(chat.countTokens('a b')).toBe(3); // one "▁" token per space
    expect(chat.countPromptTokens('sys', 'hi')).toBeGreaterThan(chat.countTokens('sys\nhi'));
  });
});

describe('the GGUF embedder', () => {
  it('has the fingerprint of its file: id, sha256 version, dimension and l2 normalisation', () => {
    expect(embedder.fingerprint).toEqual({ id: 'gguf:tiny-embed.gguf', version: sha256File(embedFile), dimension: 64, normalization: 'l2' });
  });

  it('returns unit-length vectors, identical for identical text and different for different text (Chinese too)', async () => {
    const texts = ['Wait 30 seconds before powering the disks again.', 'Wait 30 seconds before powering the disks again.', '停电后先检查 RAID 状态和内核 I/O 错误。', 'Restore the vector store from the encrypted USB drive.'];
    const t = Date.now();
    const v = await embedder.embed(texts);
    timings.embed4 = Date.now() - t;
    const dim = embedder.fingerprint.dimension;
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(texts.length * dim);
    const row = (i: number): Float32Array => v.subarray(i * dim, (i + 1) * dim);
    for (let i = 0; i < texts.length; i++) {
      const norm = Math.sqrt(row(i).reduce((s, x) => s + x * x, 0));
      expect(norm).toBeCloseTo(1, 5);
      expect(row(i).every(Number.isFinite)).toBe(true);
    }
    expect(Array.from(row(0))).toEqual(Array.from(row(1)));
    const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(row(0), row(2))).toBeLessThan(0.9999);
    expect(dot(row(0), row(3))).toBeLessThan(0.9999);
    // Same text in another call: the same vector (the index must be reproducible).
    const again = await embedder.embed([texts[2]!]);
    expect(Array.from(again)).toEqual(Array.from(row(2)));
  });

  it('truncates a text longer than its context instead of failing, and embeds empty text as zeros', async () => {
    const long = '知识库索引备份 '.repeat(400); // far more than the embedder's 512 tokens
    expect(embedder.tokens(long).length).toBe(embedder.maxInputTokens);
    const t = Date.now();
    const v = await embedder.embed([long, '']);
    timings.embedLongMs = Date.now() - t;
    const dim = embedder.fingerprint.dimension;
    expect(Math.hypot(...v.subarray(0, dim))).toBeCloseTo(1, 5);
    expect(Array.from(v.subarray(dim)).every((x) => x === 0)).toBe(true);
  });
});

describe('chat generation', () => {
  it('streams tokens through onToken and returns them, reproducibly', async () => {
    const pieces: string[] = [];
    const t = Date.now();
    const r = await chat.generate({ system: 'You are terse.', user: 'How do I restart the containers?', maxTokens: 48, onToken: (p) => pieces.push(p) });
    const ms = Date.now() - t;
    timings.generate48Ms = ms;
    timings.tokensPerSecond = Math.round((r.tokens / ms) * 1000);
    expect(r.stopReason).toBe('max-tokens');
    expect(r.tokens).toBeGreaterThan(40); // node-llama-cpp may hold back the last byte of a partial UTF-8 character
    expect(r.tokens).toBeLessThanOrEqual(48);
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.join('')).toBe(r.text);
    expect(r.promptTokens).toBe(chat.countPromptTokens('You are terse.', 'How do I restart the containers?'));
    const again = await chat.generate({ system: 'You are terse.', user: 'How do I restart the containers?', maxTokens: 48 });
    expect(again.text).toBe(r.text);
  });

  it('stops promptly when cancelled after the first token and keeps what was produced', async () => {
    const ac = new AbortController();
    const pieces: string[] = [];
    const r = await chat.generate({
      system: 'You are terse.',
      user: '机房停电后怎么恢复？',
      maxTokens: 400,
      signal: ac.signal,
      onToken: (p) => {
        pieces.push(p);
        ac.abort();
      },
    });
    expect(r.stopReason).toBe('cancelled');
    expect(r.tokens).toBeGreaterThanOrEqual(1);
    expect(r.tokens).toBeLessThanOrEqual(3);
    expect(r.text).toBe(pieces.join(''));
    expect(r.text.length).toBeGreaterThan(0);
    // The model is still usable afterwards.
    const next = await chat.generate({ system: 's', user: 'u', maxTokens: 4 });
    expect(next.stopReason).toBe('max-tokens');
  });

  it('returns at once, cancelled and empty, for a signal aborted before the start', async () => {
    const r = await chat.generate({ system: 's', user: 'u', maxTokens: 8, signal: AbortSignal.abort() });
    expect(r).toMatchObject({ text: '', stopReason: 'cancelled', tokens: 0 });
  });
});

describe('answers from the chat model', () => {
  const longText = (i: number): string =>
    `Backup policy section ${i}: vector indexes are backed up daily to the NAS and to an encrypted USB drive and kept seven days. ` +
    'Original documents are synchronised continuously and kept forever. '.repeat(12);

  it('fits many long passages into the context, numbers them and returns them as citations', async () => {
    const passages = Array.from({ length: 12 }, (_, i) => passage(i, longText(i)));
    const prompts: ModelPrompt[] = [];
    let streamed = '';
    const res = await modelAnswer('How long are vector index backups kept?', passages, chat, { limit: 6, onPrompt: (p) => prompts.push(p), onDelta: (d) => (streamed += d), maxTokens: 64 });
    expect(prompts).toHaveLength(1);
    const p = prompts[0]!;
    expect(p.language).toBe('en');
    expect(p.contextSize).toBe(CONTEXT);
    expect(p.promptTokens).toBe(chat.countPromptTokens(p.system, p.user));
    expect(p.promptTokens + p.maxTokens).toBeLessThanOrEqual(CONTEXT);
    expect(p.passages.length).toBeGreaterThanOrEqual(1);
    expect(p.passages.some((x) => x.truncated)).toBe(true);
    p.passages.forEach((x, i) => expect(p.user).toContain(`[${i + 1}] ${x.passage.document}`));
    expect(p.system).toMatch(/\[1\]/);
    expect(p.system).toContain(notCoveredText('How long are vector index backups kept?'));

    expect(res.mode).toBe('model');
    expect(res.answer.length).toBeGreaterThan(0);
    expect(streamed.trim()).toBe(res.answer);
    expect(res.citations.map((c) => c.n).sort((a, b) => a - b)).toEqual(p.passages.map((_, i) => i + 1));
    expect(res.citations.map((c) => c.document).sort()).toEqual(p.passages.map((x) => x.passage.document).sort());
    expect(res.citations[0]!.passage).toBe(passages[res.citations[0]!.n - 1]!.text);
  });

  it('writes the prompt in Chinese for a Chinese question', async () => {
    const passages = [passage(0, '停电后应等待约三十秒再给磁盘上电，然后检查 RAID 状态。'), passage(1, '向量索引每天增量备份到 NAS 和加密 U 盘，保留七天。')];
    let prompt: ModelPrompt | undefined;
    const res = await modelAnswer('向量索引备份保留多少天？', passages, chat, { onPrompt: (p) => (prompt = p), maxTokens: 16 });
    expect(prompt!.language).toBe('zh');
    expect(prompt!.system).toContain('编号');
    expect(prompt!.user).toContain('问题：向量索引备份保留多少天？');
    expect(prompt!.promptTokens + prompt!.maxTokens).toBeLessThanOrEqual(CONTEXT);
    expect(res.citations.length).toBeGreaterThanOrEqual(1);
    expect(res.citations.every((c) => c.document === 'doc-1.md' || c.document === 'doc-0.md')).toBe(true);
  });

  it('answers "not covered" without calling the model when no passage is relevant', async () => {
    let calls = 0;
    const spy: ChatModel = {
      file: chat.file,
      contextSize: chat.contextSize,
      chatWrapperName: chat.chatWrapperName,
      countTokens: (t) => chat.countTokens(t),
      countPromptTokens: (s, u) => chat.countPromptTokens(s, u),
      generate: (req) => {
        calls++;
        return chat.generate(req);
      },
      dispose: async () => {},
    };
    const passages = [passage(0, 'The cafeteria opens at seven and serves lunch until two.'), passage(1, '食堂早上七点开门。')];
    const en = await modelAnswer('How long are vector index backups kept?', passages, spy);
    expect(en).toMatchObject({ answer: notCoveredText('How long are vector index backups kept?'), covered: false, citations: [], mode: 'model' });
    const zh = await modelAnswer('向量索引备份保留多少天？', passages, spy);
    expect(zh.answer).toBe(notCoveredText('向量索引备份保留多少天？'));
    expect(calls).toBe(0);
  });
});

describe('model variants', () => {
  it('loads an F16 model with four heads sharing two key/value heads (GQA)', async () => {
    const f16 = path.join(dir.dir, 'tiny-f16.gguf');
    writeTinyLlamaGguf(f16, { embeddingLength: 64, headCount: 4, headCountKv: 2, tensorType: 'f16', seed: 13, pooling: 'cls', contextLength: 128 });
    expect((await readGgufMetadata(f16)).fileTypeName).toBe('F16');
    const e = await loadEmbeddingModel(f16, sha256File(f16));
    try {
      const v = await e.embed(['hello', '你好']);
      expect(v.length).toBe(128);
      expect(Math.hypot(...v.subarray(64))).toBeCloseTo(1, 5);
    } finally {
      await e.dispose();
    }
  });
});

describe('loading failures', () => {
  it('names the file when llama.cpp cannot load it', async () => {
    const bad = path.join(dir.dir, 'bad.gguf');
    fs.writeFileSync(bad, fs.readFileSync(chatFile).subarray(0, 2000));
    const err = await loadChatModel(bad).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toContain(bad);
    expect(err?.message).toMatch(/llama\.cpp could not load this model: .*key-value pairs/);
  });
});
