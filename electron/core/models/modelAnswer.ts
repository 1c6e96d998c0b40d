// Answers written by a local GGUF chat model from the retrieved passages (DESIGN.md "Answers").
// The model sees numbered passages [1]…[n] and must cite them; the citations returned are exactly
// the passages it was given (those it cited first), so there is never an answer without sources.
// A question no passage covers is answered "not covered" without calling the model at all.
// The prompt always fits the model's context: passages are kept whole while they fit, then the
// longest are cut first (a common length cap), then the lowest-ranked are dropped.
import type { AskResponse, Citation } from '../../api/contract.js';
import { extractiveAnswer, notCoveredText, relevantPassages, toCitation } from '../kb/answer.js';
import type { Passage } from '../kb/retrieval.js';
import { describeLocation } from '../kb/splitter.js';
import { mostlyCjk } from '../util/text.js';
import type { ChatModel } from './llama.js';

/** Passages are never cut below this many characters while another passage could be dropped instead. */
export const MIN_PASSAGE_CHARS = 160;
/** Safety margin when the model cannot render its exact prompt (no `countPromptTokens`). */
const TEMPLATE_MARGIN = 32;

export type PromptBudget = Pick<ChatModel, 'contextSize' | 'countTokens'> & Partial<Pick<ChatModel, 'countPromptTokens'>>;

export interface ModelPrompt {
  system: string;
  user: string;
  language: 'zh' | 'en';
  /** The passages in the prompt, in prompt order ([1] first), with the text the model saw. */
  passages: { passage: Passage; text: string; truncated: boolean }[];
  /** Tokens of the rendered prompt (or system + user + margin when the template is unknown). */
  promptTokens: number;
  maxTokens: number;
  contextSize: number;
}

export interface ModelAnswerOptions {
  /** Passages given to the model at most (default 4). */
  limit?: number;
  signal?: AbortSignal;
  /** Streamed answer text, piece by piece. */
  onDelta?: (text: string) => void;
  /** Tokens the answer may take (default: a quarter of the context, at most 512). */
  maxTokens?: number;
  /** When the request started (for tookMs); now by default. */
  started?: number;
  /** Called with the prompt before generation: diagnostics and tests. */
  onPrompt?: (prompt: ModelPrompt) => void;
}

function cut(text: string, maxChars: number): { text: string; truncated: boolean } {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return { text, truncated: false };
  return { text: chars.slice(0, Math.max(0, maxChars)).join('').trimEnd() + '…', truncated: true };
}

function render(question: string, zh: boolean, items: readonly { passage: Passage; text: string }[]): { system: string; user: string } {
  const notCovered = notCoveredText(question);
  const system = zh
    ? '你是医院信息科的本地知识库助手。只能根据用户给出的编号资料回答问题，不要使用资料以外的知识。' +
      '每句话后用方括号注明所依据资料的编号，例如 [1] 或 [2][3]。' +
      `如果资料不能回答这个问题，只回答：“${notCovered}”` +
      '请用简体中文简洁回答。'
    : "You are the local knowledge-base assistant of a hospital's IT department. Answer only from the numbered passages the user gives you; do not use outside knowledge. " +
      'After each statement, cite the passages it comes from by their numbers in square brackets, e.g. [1] or [2][3]. ' +
      `If the passages do not answer the question, reply only: "${notCovered}" ` +
      'Answer in English, briefly.';
  const blocks = items.map((it, i) => {
    const where = describeLocation(it.passage);
    return `[${i + 1}] ${it.passage.document}${where ? ` — ${where}` : ''}\n${it.text}`;
  });
  const user = zh ? `资料：\n\n${blocks.join('\n\n')}\n\n问题：${question}` : `Passages:\n\n${blocks.join('\n\n')}\n\nQuestion: ${question}`;
  return { system, user };
}

/**
 * Builds the prompt for `passages` (best first) within the budget:
 * promptTokens(system + passages + question) + maxTokens <= contextSize.
 * Returns null when not even a few characters of one passage fit (the question alone is too long).
 */
export function buildModelPrompt(question: string, passages: readonly Passage[], chat: PromptBudget, opts: { maxTokens?: number } = {}): ModelPrompt | null {
  const zh = mostlyCjk(question);
  const contextSize = chat.contextSize;
  const maxTokens = Math.max(16, Math.min(opts.maxTokens ?? Math.min(512, Math.floor(contextSize / 4)), contextSize - 16));
  const count = (system: string, user: string): number =>
    chat.countPromptTokens ? chat.countPromptTokens(system, user) : chat.countTokens(`${system}\n${user}`) + TEMPLATE_MARGIN;
  const attempt = (k: number, cap: number): ModelPrompt | null => {
    const items = passages.slice(0, k).map((passage) => ({ passage, ...cut(passage.text, cap) }));
    const { system, user } = render(question, zh, items);
    const promptTokens = count(system, user);
    if (promptTokens + maxTokens > contextSize) return null;
    return { system, user, language: zh ? 'zh' : 'en', passages: items, promptTokens, maxTokens, contextSize };
  };
  const longest = Math.max(0, ...passages.map((p) => Array.from(p.text).length));
  // 1. As many passages as fit with the longest ones cut to MIN_PASSAGE_CHARS (best ranked kept).
  let k = passages.length;
  let floor = Math.min(MIN_PASSAGE_CHARS, longest);
  while (k > 0 && attempt(k, floor) === null) k--;
  if (k === 0) {
    // Not even one passage at the minimum: the question is long or the context tiny; cut deeper.
    k = 1;
    let lo = 1;
    let hi = floor - 1;
    if (hi < 1 || attempt(1, 1) === null) return null;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (attempt(1, mid)) lo = mid;
      else hi = mid - 1;
    }
    return attempt(1, lo);
  }
  // 2. The largest common length cap that fits: passages longer than it are cut, longest first.
  if (attempt(k, longest)) return attempt(k, longest);
  let lo = floor;
  let hi = longest - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (attempt(k, mid)) lo = mid;
    else hi = mid - 1;
  }
  floor = lo;
  return attempt(k, floor);
}

const MARKER = /[[【［]\s*(\d+(?:\s*(?:[,，、;；]|-|–|～|~)\s*\d+)*)\s*[\]】］]/gu;

/** Passage numbers the answer cites, in order of first appearance ("[2]", "[1, 3]", "[2-4]", "【1】"). */
export function citedNumbers(answer: string, n: number): number[] {
  const out: number[] = [];
  const add = (x: number): void => {
    if (x >= 1 && x <= n && !out.includes(x)) out.push(x);
  };
  for (const m of answer.matchAll(MARKER)) {
    for (const part of m[1]!.split(/\s*[,，、;；]\s*/u)) {
      const range = /^(\d+)\s*(?:-|–|～|~)\s*(\d+)$/u.exec(part);
      if (range) {
        const a = Number(range[1]);
        const b = Number(range[2]);
        if (b >= a && b - a <= n) for (let x = a; x <= b; x++) add(x);
      } else add(Number(part));
    }
  }
  return out;
}

const NOT_COVERED = /(?:does not|doesn't|do not|don't) (?:cover|answer|mention|contain)|not covered|no (?:relevant )?information|没有找到|无法回答|未涉及|没有提到|没有相关|不包含/iu;

/** The model's reply is (a version of) the not-covered sentence it was told to give. */
function saysNotCovered(answer: string, question: string): boolean {
  const head = (s: string): string => s.replace(/[\s"“”'‘’「」]/gu, '').slice(0, 20).toLowerCase();
  if (head(answer) === head(notCoveredText(question))) return true;
  return answer.length < 200 && NOT_COVERED.test(answer);
}

/**
 * Answers `question` with the chat model from the best `passages` (retrieval order).
 * Mode 'model'; citations numbered as in the prompt, the cited ones listed first.
 */
export async function modelAnswer(question: string, passages: readonly Passage[], chat: ChatModel, opts: ModelAnswerOptions = {}): Promise<AskResponse> {
  const started = opts.started ?? Date.now();
  const limit = opts.limit ?? 4;
  const relevant = relevantPassages(question, passages).slice(0, limit);
  if (relevant.length === 0) {
    return { answer: notCoveredText(question), covered: false, citations: [], mode: 'model', tookMs: Date.now() - started };
  }
  const prompt = buildModelPrompt(question, relevant, chat, { maxTokens: opts.maxTokens });
  if (!prompt) {
    // The question alone fills the model's context: answer from the passages without the model.
    return extractiveAnswer(question, passages, limit, started);
  }
  opts.onPrompt?.(prompt);
  const res = await chat.generate({
    system: prompt.system,
    user: prompt.user,
    maxTokens: prompt.maxTokens,
    signal: opts.signal,
    onToken: opts.onDelta,
  });
  const answer = res.text.trim();
  if (answer.length === 0 && res.stopReason !== 'cancelled') {
    // A model that says nothing still must not leave the operator without an answer and sources.
    return extractiveAnswer(question, passages, limit, started);
  }
  const given = prompt.passages.map((it, i): Citation => toCitation(it.passage, i + 1));
  const cited = citedNumbers(answer, given.length);
  const citations = [...cited.map((n) => given[n - 1]!), ...given.filter((c) => !cited.includes(c.n))];
  const covered = !(cited.length === 0 && saysNotCovered(answer, question));
  return { answer, covered, citations, mode: 'model', ...(res.stopReason === 'cancelled' ? { cancelled: true } : {}), tookMs: Date.now() - started };
}
