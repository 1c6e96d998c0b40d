// modelAnswer's prompt budget and citation handling, with a scripted stand-in for the chat model
// (the real model is exercised in test/integration/llama-models.test.ts).
import { describe, expect, it } from 'vitest';
import { notCoveredText } from '../../electron/core/kb/answer.js';
import type { Passage } from '../../electron/core/kb/retrieval.js';
import type { ChatModel, GenerateRequest, GenerateResult } from '../../electron/core/models/llama.js';
import { buildModelPrompt, citedNumbers, MIN_PASSAGE_CHARS, modelAnswer, type ModelPrompt } from '../../electron/core/models/modelAnswer.js';

function passage(i: number, text: string): Passage {
  return { chunkId: 100 + i, kb: 'it', kbId: 1, document: `doc-${i}.md`, documentId: i, text, heading: '', lineStart: i + 1, lineEnd: i + 1, page: null, row: null, score: 1 - i / 10, vectorScore: null };
}

/** One "token" per 4 characters, rounded up; the template adds 10. Replies with a fixed script. */
function scripted(reply: string, contextSize = 1000): ChatModel & { requests: GenerateRequest[] } {
  const count = (t: string): number => Math.ceil(t.length / 4);
  const requests: GenerateRequest[] = [];
  return {
    requests,
    file: 'scripted.gguf',
    contextSize,
    chatWrapperName: 'scripted',
    countTokens: count,
    countPromptTokens: (s, u) => count(s) + count(u) + 10,
    async generate(req): Promise<GenerateResult> {
      requests.push(req);
      let text = '';
      for (const piece of reply.match(/.{1,5}/gsu) ?? []) {
        if (req.signal?.aborted) return { text, stopReason: 'cancelled', tokens: text.length, promptTokens: 0, tookMs: 0 };
        text += piece;
        req.onToken?.(piece);
      }
      return { text, stopReason: 'done', tokens: text.length, promptTokens: 0, tookMs: 0 };
    },
    dispose: async () => {},
  };
}

const Q = 'How long are vector index backups kept?';
const relevant = (i: number, extra = ''): Passage => passage(i, `Vector index backups are kept seven days (policy ${i}).${extra}`);

describe('citation markers', () => {
  it('reads [n], [n, m], ranges and full-width brackets, in order of first appearance, within range', () => {
    expect(citedNumbers('Kept 7 days [2]. Daily [1][2]. See [3, 1] and 【4】 and [2-4] but not [9] or [0].', 4)).toEqual([2, 1, 3, 4]);
    expect(citedNumbers('保留七天［2］，每日备份[1、3]。', 3)).toEqual([2, 1, 3]);
    expect(citedNumbers('no markers here (1) {2}', 3)).toEqual([]);
  });
});

describe('the model prompt budget', () => {
  it('keeps every passage whole when they fit', () => {
    const chat = scripted('');
    const p = buildModelPrompt(Q, [relevant(0), relevant(1)], chat, { maxTokens: 100 })!;
    expect(p.passages.map((x) => x.truncated)).toEqual([false, false]);
    expect(p.user).toContain('[1] doc-0.md — L1\nVector index backups are kept seven days (policy 0).');
    expect(p.user).toContain('[2] doc-1.md');
    expect(p.user.endsWith(`Question: ${Q}`)).toBe(true);
    expect(p.promptTokens).toBe(chat.countPromptTokens(p.system, p.user));
  });

  it('cuts the longest passage first and keeps the short ones whole', () => {
    const chat = scripted('', 1000);
    const long = relevant(1, ' Details follow.'.repeat(300)); // ~4800 characters
    const p = buildModelPrompt(Q, [relevant(0), long, relevant(2)], chat, { maxTokens: 200 })!;
    expect(p.passages.map((x) => x.passage.chunkId)).toEqual([100, 101, 102]);
    expect(p.passages.map((x) => x.truncated)).toEqual([false, true, false]);
    expect(p.passages[1]!.text.length).toBeGreaterThanOrEqual(MIN_PASSAGE_CHARS);
    expect(p.passages[1]!.text.endsWith('…')).toBe(true);
    expect(p.promptTokens + p.maxTokens).toBeLessThanOrEqual(1000);
    // As large as the budget allows: ten more characters would not fit.
    expect(p.promptTokens + p.maxTokens).toBeGreaterThan(1000 - 10);
  });

  it('drops the lowest-ranked passages when even cut ones do not fit, never exceeding the context', () => {
    const chat = scripted('', 700);
    const many = Array.from({ length: 10 }, (_, i) => relevant(i, ' More text about the policy.'.repeat(100)));
    const p = buildModelPrompt(Q, many, chat, { maxTokens: 128 })!;
    expect(p.passages.length).toBeGreaterThanOrEqual(1);
    expect(p.passages.length).toBeLessThan(10);
    expect(p.passages.map((x) => x.passage.chunkId)).toEqual(many.slice(0, p.passages.length).map((x) => x.chunkId));
    expect(p.promptTokens + p.maxTokens).toBeLessThanOrEqual(700);
  });

  it('returns null when the question alone fills the context', () => {
    const chat = scripted('', 200);
    expect(buildModelPrompt('backup '.repeat(400), [relevant(0)], chat, { maxTokens: 50 })).toBeNull();
  });
});

describe('modelAnswer', () => {
  it('lists the cited passages first, numbered as in the prompt, then the other given passages', async () => {
    const chat = scripted('Vector index backups are kept seven days [2], per the policy [2][3].');
    let streamed = '';
    let prompt: ModelPrompt | undefined;
    const res = await modelAnswer(Q, [relevant(0), relevant(1), relevant(2)], chat, { onDelta: (d) => (streamed += d), onPrompt: (p) => (prompt = p) });
    expect(res.mode).toBe('model');
    expect(res.covered).toBe(true);
    expect(res.answer).toBe('Vector index backups are kept seven days [2], per the policy [2][3].');
    expect(streamed).toBe(res.answer);
    expect(res.citations.map((c) => [c.n, c.chunkId])).toEqual([
      [2, 101],
      [3, 102],
      [1, 100],
    ]);
    expect(res.citations[0]).toMatchObject({ kb: 'it', document: 'doc-1.md', location: 'L2', passage: relevant(1).text });
    expect(chat.requests[0]!.system).toBe(prompt!.system);
    expect(chat.requests[0]!.maxTokens).toBe(prompt!.maxTokens);
  });

  it('gives at most `limit` passages, and still cites them when the model cites none', async () => {
    const chat = scripted('Seven days.');
    const res = await modelAnswer(Q, [0, 1, 2, 3, 4, 5].map((i) => relevant(i)), chat, { limit: 2 });
    expect(res.citations.map((c) => c.n)).toEqual([1, 2]);
    expect(res.covered).toBe(true);
  });

  it('marks the answer not covered when the model says so, keeping the sources it was shown', async () => {
    const chat = scripted(notCoveredText(Q));
    const res = await modelAnswer(Q, [relevant(0)], chat);
    expect(res.covered).toBe(false);
    expect(res.citations).toHaveLength(1);
    const zhQ = '向量索引备份保留多少天？';
    const zh = await modelAnswer(zhQ, [passage(0, '向量索引备份保留七天。')], scripted(`“${notCoveredText(zhQ)}”`));
    expect(zh.covered).toBe(false);
    expect((await modelAnswer(Q, [relevant(0)], scripted('The passages do not mention how long backups are kept.'))).covered).toBe(false);
    expect((await modelAnswer(Q, [relevant(0)], scripted('The knowledge base says they are kept seven days.'))).covered).toBe(true);
  });

  it('answers not covered without calling the model when no passage is relevant', async () => {
    const chat = scripted('should not be called');
    const res = await modelAnswer(Q, [passage(0, 'The cafeteria opens at seven.')], chat);
    expect(res).toMatchObject({ answer: notCoveredText(Q), covered: false, citations: [], mode: 'model' });
    expect(chat.requests).toHaveLength(0);
  });

  it('falls back to the extractive answer when the model produces nothing', async () => {
    const res = await modelAnswer(Q, [relevant(0)], scripted('   '));
    expect(res.mode).toBe('extractive');
    expect(res.citations).toHaveLength(1);
    expect(res.answer).toContain('[1]');
  });

  it('returns what was produced when cancelled, with its sources', async () => {
    const ac = new AbortController();
    const chat = scripted('Vector index backups are kept seven days [1].');
    let n = 0;
    const res = await modelAnswer(Q, [relevant(0)], chat, {
      signal: ac.signal,
      onDelta: () => {
        if (++n === 2) ac.abort();
      },
    });
    expect(res.answer).toBe('Vector ind'); // two 5-character pieces
    expect(res.citations.map((c) => c.n)).toEqual([1]);
  });
});
