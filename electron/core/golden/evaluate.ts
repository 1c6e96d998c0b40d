// Pure judgement of golden questions: one answer against its question, a run's totals, and a run
// against the recorded baseline. No I/O and no clocks, so each rule is pinned down by a unit test
// with hand-made answers.
import type { AskResponse } from '../../api/contract.js';
import type {
  GoldenBaseline,
  GoldenChangeKind,
  GoldenComparison,
  GoldenError,
  GoldenQuestion,
  GoldenQuestionChange,
  GoldenResult,
  GoldenRun,
  GoldenSet,
} from './types.js';

/** What came back for one question: an answer, or the error that stopped it; and how long it took. */
export interface GoldenOutcome {
  response?: AskResponse | null;
  error?: GoldenError | null;
  latencyMs: number;
}

/** Thrown by the runner when an answer does not arrive in time. */
export class GoldenTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms without an answer`);
    this.name = 'GoldenTimeoutError';
  }
}

const OUT_OF_MEMORY = /out of memory|\bENOMEM\b|cannot allocate memory|insufficient memory|InsufficientMemory|failed to allocate|allocation failed|\bOOM\b/i;

/** Names what stopped an answer, so timeouts and out-of-memory stand out from other errors. */
export function describeError(err: unknown): GoldenError {
  if (err instanceof GoldenTimeoutError) return { kind: 'timeout', message: err.message };
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const name = typeof e?.name === 'string' ? e.name : '';
  if (e?.code === 'ENOMEM' || name === 'InsufficientMemoryError' || OUT_OF_MEMORY.test(message) || OUT_OF_MEMORY.test(name)) {
    return { kind: 'out-of-memory', message: /^out of memory/i.test(message) ? message : `out of memory: ${message}` };
  }
  if (e?.code === 'ETIMEDOUT' || name === 'TimeoutError') return { kind: 'timeout', message: /^timed out/i.test(message) ? message : `timed out: ${message}` };
  return { kind: 'error', message };
}

/** An expected source is a file name; documents may have been ingested with a folder path. */
export function citesSource(document: string, expected: string): boolean {
  if (document === expected) return true;
  return document.endsWith(`/${expected}`) || document.endsWith(`\\${expected}`);
}

const list = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ');

/** Judges one outcome against its question: passed, and every reason it did not. */
export function evaluateAnswer(q: GoldenQuestion, outcome: GoldenOutcome): GoldenResult {
  const r = outcome.response ?? null;
  const error = outcome.error ?? (r ? null : { kind: 'error' as const, message: 'no answer came back' });
  const latencyMs = Math.max(0, Math.round(outcome.latencyMs));
  const cited = r ? [...new Set(r.citations.map((c) => c.document))] : [];
  const answer = r?.answer ?? '';
  const sourcesFound = q.expectedSources.filter((s) => cited.some((d) => citesSource(d, s)));
  const sourcesMissing = q.expectedSources.filter((s) => !sourcesFound.includes(s));
  const factsMissing = q.mustContain.filter((f) => !answer.includes(f));
  const slow = latencyMs > q.maxLatencyMs;

  const reasons: string[] = [];
  if (error) reasons.push(error.kind === 'error' ? `the answer failed: ${error.message}` : error.message);
  else {
    if (r!.covered === false) reasons.push('the knowledge base did not cover the question (no passage matched it)');
    if (r!.cancelled) reasons.push('the answer was cancelled before it finished');
    if (sourcesMissing.length) reasons.push(`not cited: ${list(sourcesMissing)} (cited: ${cited.length ? list(cited) : 'nothing'})`);
    if (factsMissing.length) reasons.push(`missing from the answer: ${list(factsMissing)}`);
  }
  if (slow) reasons.push(`took ${latencyMs} ms, over the ${q.maxLatencyMs} ms limit`);

  return {
    id: q.id,
    question: q.question,
    tags: [...q.tags],
    passed: reasons.length === 0,
    reasons,
    expectedSources: [...q.expectedSources],
    sourcesFound,
    sourcesMissing,
    factsMissing,
    latencyMs,
    maxLatencyMs: q.maxLatencyMs,
    slow,
    error,
    covered: r ? r.covered : null,
    mode: r?.mode ?? null,
    answer,
    citations: r ? r.citations.map((c) => ({ document: c.document, location: c.location, score: c.score })) : [],
  };
}

/** A run's totals from its results. */
export function summarizeRun(set: Pick<GoldenSet, 'kb' | 'version'>, at: string, durationMs: number, results: GoldenResult[]): GoldenRun {
  const passed = results.filter((r) => r.passed).length;
  const total = results.length;
  return { kb: set.kb, setVersion: set.version, at, passed, failed: total - passed, total, passRatio: total ? passed / total : 0, durationMs: Math.round(durationMs), results };
}

const normalizeAnswer = (s: string) => s.replace(/\s+/g, ' ').trim();
const citedDocuments = (r: GoldenResult) => [...new Set(r.citations.map((c) => c.document))];

/** How many times slower than the baseline, and over its limit, an answer must be to count as a regression. */
export const LATENCY_REGRESSION_FACTOR = 2;

function compareQuestion(r: GoldenResult, b: GoldenResult | undefined): GoldenQuestionChange | null {
  const changes: GoldenChangeKind[] = [];
  const details: string[] = [];
  let sourcesLost: string[] = [];
  let sourcesGained: string[] = [];
  if (!b) {
    changes.push('new-question');
    details.push(`not in the baseline; ${r.passed ? 'passes' : `fails: ${r.reasons.join('; ')}`}`);
  } else {
    if (b.passed && !r.passed) {
      changes.push('newly-failing');
      details.push(`now fails: ${r.reasons.join('; ')}`);
    }
    if (!b.passed && r.passed) {
      changes.push('newly-passing');
      details.push(`now passes (in the baseline: ${b.reasons.join('; ')})`);
    }
    const before = citedDocuments(b);
    const now = citedDocuments(r);
    sourcesLost = before.filter((d) => !now.includes(d));
    sourcesGained = now.filter((d) => !before.includes(d));
    if (sourcesLost.length || sourcesGained.length) {
      changes.push('sources-changed');
      const parts = [];
      if (sourcesLost.length) parts.push(`no longer cites ${list(sourcesLost)}`);
      if (sourcesGained.length) parts.push(`now cites ${list(sourcesGained)}`);
      details.push(parts.join('; '));
    }
    if (r.latencyMs > LATENCY_REGRESSION_FACTOR * b.latencyMs && r.latencyMs > r.maxLatencyMs) {
      changes.push('latency-regression');
      details.push(`took ${r.latencyMs} ms: more than ${LATENCY_REGRESSION_FACTOR}× the baseline's ${b.latencyMs} ms and over the ${r.maxLatencyMs} ms limit`);
    }
    if (normalizeAnswer(r.answer) !== normalizeAnswer(b.answer)) {
      changes.push('answer-changed');
      details.push('the answer text changed');
    }
  }
  if (changes.length === 0) return null;
  return {
    id: r.id,
    question: r.question,
    passed: r.passed,
    passedInBaseline: b ? b.passed : null,
    changes,
    sourcesLost,
    sourcesGained,
    latencyMs: r.latencyMs,
    baselineLatencyMs: b ? b.latencyMs : null,
    reasons: [...r.reasons],
    answer: r.answer,
    baselineAnswer: b ? b.answer : null,
    details,
  };
}

/** What changed since the known-good run, question by question; `baseline: null` when none was recorded. */
export function compareWithBaseline(run: GoldenRun, baseline: GoldenBaseline | null): GoldenComparison {
  if (!baseline) return { baseline: null, setChanged: false, newlyFailing: [], newlyPassing: [], removed: [], questions: [] };
  const base = baseline.run;
  if (base.kb !== run.kb) throw new Error(`the baseline is for knowledge base "${base.kb}", the run for "${run.kb}"`);
  const byId = new Map(base.results.map((r) => [r.id, r]));
  const questions = run.results.map((r) => compareQuestion(r, byId.get(r.id))).filter((c): c is GoldenQuestionChange => c !== null);
  const ids = new Set(run.results.map((r) => r.id));
  return {
    baseline: { recordedAt: baseline.recordedAt, at: base.at, setVersion: base.setVersion, passed: base.passed, total: base.total, passRatio: base.passRatio },
    setChanged: base.setVersion !== run.setVersion,
    newlyFailing: questions.filter((q) => q.changes.includes('newly-failing')).map((q) => q.id),
    newlyPassing: questions.filter((q) => q.changes.includes('newly-passing')).map((q) => q.id),
    removed: base.results.filter((r) => !ids.has(r.id)).map((r) => r.id),
    questions,
  };
}
