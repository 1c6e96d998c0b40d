// GGUF models in a data root, end to end: listed, chosen, answering with streaming and stop,
// embedding a knowledge base, and a re-embed back to the built-in embedder.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../electron/api/contract.js';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { KnowledgeService } from '../../electron/core/kb/knowledge.js';
import { tempDir, writeFiles } from '../helpers/env.js';
import { writeTinyLlamaGguf } from '../helpers/gguf.js';

describe('GGUF models in the data root', () => {
  const t = tempDir();
  const data = path.join(t.dir, 'data');
  let app: LifelineApp;

  beforeAll(async () => {
    writeTinyLlamaGguf(path.join(data, 'models', 'tiny-chat.gguf'), { contextLength: 2048, seed: 3, name: 'tiny chat' });
    writeTinyLlamaGguf(path.join(data, 'models', 'tiny-embed.gguf'), { contextLength: 512, seed: 4, pooling: 'mean', name: 'tiny embed' });
    writeFiles(t.dir, { 'docs/ward.md': '# 病房\n探视时间为每天15:00至20:00。\n\n# 药房\n夜间发药窗口位于门诊楼一层。' });
    app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    t.cleanup();
  }, 60_000);

  it('lists each model with its kind and checksum', async () => {
    const list = await app.handlers['models.list']({});
    expect(list.map((m) => [m.name, m.kind])).toEqual([
      ['tiny-chat.gguf', 'chat'],
      ['tiny-embed.gguf', 'embedding'],
    ]);
    expect(list.every((m) => /^[0-9a-f]{64}$/.test(m.sha256))).toBe(true);
  });

  it('builds a knowledge base with the GGUF embedder and answers from the chat model, streaming, with citations', async () => {
    const kb = await app.handlers['kb.create']({ name: 'g', embedder: 'tiny-embed.gguf' });
    expect(kb.embedder).toMatchObject({ id: 'gguf:tiny-embed.gguf', dimension: 64, normalization: 'l2' });
    expect(kb.embedder.version).toMatch(/^[0-9a-f]{64}$/);
    await app.knowledge.ingest('g', KnowledgeService.collectInputs([path.join(t.dir, 'docs')]));
    const deltas: string[] = [];
    const off = app.onEvent((e: ApiEvent) => {
      if (e.type === 'answer.delta' && e.streamId === 's1') deltas.push(e.text);
    });
    const r = await app.handlers.ask({ question: '探视时间', kb: 'g', streamId: 's1' });
    off();
    expect(r.mode).toBe('model');
    expect(r.model).toBe('tiny-chat.gguf');
    expect(r.citations.length).toBeGreaterThan(0);
    expect(r.citations[0]!.document).toBe('ward.md');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('').trim()).toBe(r.answer);
  }, 60_000);

  it('stops a generation when the operator cancels it, keeping what was produced', async () => {
    let cancelled = false;
    const off = app.onEvent((e) => {
      if (e.type === 'answer.delta' && e.streamId === 's2' && !cancelled) {
        cancelled = true;
        void app.handlers['ask.cancel']({ streamId: 's2' });
      }
    });
    const r = await app.handlers.ask({ question: '探视时间', kb: 'g', streamId: 's2' });
    off();
    expect(r.cancelled).toBe(true);
    expect(r.citations.length).toBeGreaterThan(0);
  }, 60_000);

  it('answers extractively when the operator turns the chat model off', async () => {
    await app.handlers['models.useChat']({ name: null });
    const r = await app.handlers.ask({ question: '探视时间是几点？', kb: 'g' });
    expect(r.mode).toBe('extractive');
    await app.handlers['models.useChat']({ name: 'tiny-chat.gguf' });
  }, 60_000);

  it('re-embeds the knowledge base with the built-in embedder as one swap', async () => {
    const before = app.knowledge.documents('g');
    const r = await app.handlers['kb.reembed']({ kb: 'g', embedder: 'default' });
    expect(r.embedder.id).toBe('lifeline-hash-ngram');
    expect(app.knowledge.listKbs().find((k) => k.name === 'g')!.embedder.dimension).toBe(384);
    expect(app.knowledge.documents('g')).toEqual(before);
    await app.handlers['models.useChat']({ name: null });
    const a = await app.handlers.ask({ question: '探视时间是几点？', kb: 'g' });
    expect(a.answer).toContain('15:00');
    // The old 64-dimension segment files are gone; only 384-dimension vectors remain.
    const segs = app.db.prepare('SELECT dimension FROM segment').all() as { dimension: number }[];
    expect(segs.every((s) => s.dimension === 384)).toBe(true);
    expect(fs.readdirSync(path.join(data, 'segments')).length).toBe(segs.length);
  }, 60_000);

  it('refuses a model file that is not an embedding model, by name', async () => {
    await expect(app.handlers['kb.create']({ name: 'bad', embedder: 'tiny-chat.gguf' })).rejects.toThrow(/tiny-chat\.gguf looks like a chat model/);
    await expect(app.handlers['kb.create']({ name: 'bad', embedder: 'nope.gguf' })).rejects.toThrow(/no model file named "nope\.gguf"/);
  });
});
