// Extractive answers with citations: when no chat model is loaded, the answer is built from
// the best sentences of the best passages, each followed by its citation marker. Never an
// answer without sources; a question the knowledge base does not cover is told so plainly.
import type { AskResponse, Citation } from '../../api/contract.js';
import { describeLocation } from './splitter.js';
import type { Passage } from './retrieval.js';
import { mostlyCjk, queryTerms, termCoverage } from '../util/text.js';

/** A passage must contain at least this share of the question's content terms to count. */
export const MIN_COVERAGE = 0.5;
const MAX_SENTENCES = 3;

const SENTENCE = /[^。！？；!?;\n]+(?:[。！？；!?;]+|\.(?=\s|$)|$)/gmu;

export function notCoveredText(question: string): string {
  return mostlyCjk(question)
    ? '知识库中没有找到与这个问题相关的内容，无法回答。请换一种问法，或确认相关文档已导入知识库。'
    : 'The knowledge base does not cover this question. Try rephrasing it, or check that the relevant documents have been ingested.';
}

export function relevantPassages(question: string, passages: readonly Passage[]): Passage[] {
  const terms = queryTerms(question);
  return passages.filter((p) => termCoverage(terms, `${p.heading}\n${p.text}`) >= MIN_COVERAGE);
}

export function toCitation(p: Passage, n: number): Citation {
  return { n, kb: p.kb, document: p.document, location: describeLocation(p), score: round(p.score), chunkId: p.chunkId, passage: p.text };
}

export function extractiveAnswer(question: string, passages: readonly Passage[], limit: number, started: number): AskResponse {
  const relevant = relevantPassages(question, passages).slice(0, limit);
  if (relevant.length === 0) return { answer: notCoveredText(question), covered: false, citations: [], mode: 'extractive', tookMs: Date.now() - started };
  const terms = queryTerms(question);
  type Cand = { text: string; passage: number; pos: number; score: number };
  const cands: Cand[] = [];
  relevant.forEach((p, pi) => {
    // A table row (CSV, XLSX, JSONL) is one record: its answer is usually in another column
    // than the words of the question, so a short row is quoted whole.
    if (p.row !== null && p.text.length <= 400) {
      cands.push({ text: p.text.split('\n').map((l) => l.trim()).filter(Boolean).join(' · '), passage: pi, pos: 0, score: termCoverage(terms, p.text) + 0.3 * p.score });
      return;
    }
    let pos = 0;
    for (const m of p.text.matchAll(SENTENCE)) {
      const text = m[0].trim();
      if (text.length < 4) continue;
      const cov = termCoverage(terms, text);
      // Coverage first, then the passage's rank, then earlier sentences.
      if (cov > 0) cands.push({ text, passage: pi, pos, score: cov + 0.3 * p.score - 0.01 * pos });
      pos++;
    }
  });
  cands.sort((a, b) => b.score - a.score);
  const chosen = dedupe(cands).slice(0, MAX_SENTENCES);
  if (chosen.length === 0) chosen.push({ text: firstSentence(relevant[0]!.text), passage: 0, pos: 0, score: 0 });
  chosen.sort((a, b) => a.passage - b.passage || a.pos - b.pos);
  // Number the cited passages in the order they first appear in the answer.
  const numbers = new Map<number, number>();
  for (const c of chosen) if (!numbers.has(c.passage)) numbers.set(c.passage, numbers.size + 1);
  const cjk = mostlyCjk(question);
  const answer = chosen.map((c) => `${c.text}${cjk ? '' : ' '}[${numbers.get(c.passage)}]`).join(cjk ? '' : ' ');
  const citations = [...numbers.entries()].map(([pi, n]) => toCitation(relevant[pi]!, n));
  return { answer, covered: true, citations, mode: 'extractive', tookMs: Date.now() - started };
}

function dedupe<T extends { text: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((c) => (seen.has(c.text) ? false : (seen.add(c.text), true)));
}

function firstSentence(text: string): string {
  const m = text.match(SENTENCE);
  return (m?.[0] ?? text).trim();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
