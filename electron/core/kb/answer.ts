// Extractive answers with citations: when no chat model is loaded, the answer is built from
// the best sentences of the best passages, each followed by its citation marker. Never an
// answer without sources; a question the knowledge base does not cover is told so plainly.
import type { AskResponse, Citation } from '../../api/contract.js';
import { describeLocation } from './splitter.js';
import type { Passage } from './retrieval.js';
import { mostlyCjk, queryTerms, termCoverage } from '../util/text.js';

/**
 * A passage counts when it holds at least half of the question's content terms, or at least two
 * of them and 30% — Chinese questions split into overlapping bigrams, and the bigrams that cross
 * word boundaries ("假需", "要提") appear nowhere, so a strict half would miss good passages.
 */
export const MIN_COVERAGE = 0.5;
const MIN_TERMS = 2;
const MIN_COVERAGE_WITH_TERMS = 0.3;

function covers(terms: readonly string[], text: string): boolean {
  const cov = termCoverage(terms, text);
  return cov >= MIN_COVERAGE || (cov * terms.length >= MIN_TERMS && cov >= MIN_COVERAGE_WITH_TERMS);
}
const MAX_SENTENCES = 3;

const SENTENCE = /[^。！？；!?;\n]+(?:[。！？；!?;]+|\.(?=\s|$)|$)/gmu;

export function notCoveredText(question: string): string {
  return mostlyCjk(question)
    ? '知识库中没有找到与这个问题相关的内容，无法回答。请换一种问法，或确认相关文档已导入知识库。'
    : 'The knowledge base does not cover this question. Try rephrasing it, or check that the relevant documents have been ingested.';
}

export function relevantPassages(question: string, passages: readonly Passage[]): Passage[] {
  const terms = queryTerms(question);
  return passages.filter((p) => covers(terms, `${p.heading}\n${p.text}`));
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
  // Rare terms say more than common ones: a sentence with "禁用" beats three that only repeat
  // the drug's name. Weights come from how many candidate sentences contain each term.
  const df = new Map(terms.map((t) => [t, cands.filter((c) => termCoverage([t], c.text) > 0).length]));
  const idf = (t: string) => Math.log((cands.length + 1) / Math.max(1, df.get(t) ?? 0));
  const maxWeight = terms.reduce((s, t) => s + idf(t), 0) || 1;
  for (const c of cands) {
    const weight = terms.filter((t) => termCoverage([t], c.text) > 0).reduce((s, t) => s + idf(t), 0);
    c.score = weight / maxWeight + 0.3 * relevant[c.passage]!.score - 0.01 * c.pos;
  }
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
