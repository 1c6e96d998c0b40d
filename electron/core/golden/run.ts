// Runs a golden set against anything that answers like the app: each question asked in turn,
// restricted to the set's knowledge base, timed from question to complete answer, stopped by a
// timeout so a hung model shows up as "timed out" instead of hanging the recovery wizard.
import type { AskRequest, AskResponse } from '../../api/contract.js';
import { CancelledError, type JobContext, throwIfCancelled } from '../jobs/jobs.js';
import { GoldenTimeoutError, describeError, evaluateAnswer, summarizeRun } from './evaluate.js';
import type { GoldenQuestion, GoldenResult, GoldenRun, GoldenSet } from './types.js';

/** The part of the app a golden run needs (LifelineApp fits). */
export interface GoldenAnswerer {
  answer(req: AskRequest, options?: { signal?: AbortSignal }): Promise<AskResponse>;
  /** Awaited before the first question, so a cold start's loading is not counted as latency. */
  whenReady?(): Promise<void>;
}

export interface GoldenRunOptions {
  /** Per-question timeout in ms, or a function of the question; default max(30 s, 10× its limit). */
  timeoutMs?: number | ((q: GoldenQuestion) => number);
  /** Only these question ids (in the set's order). */
  only?: readonly string[];
  /** Stops the run between questions (and the current answer, when the answerer honours it). */
  signal?: AbortSignal;
  /** A job's context: its signal cancels, and progress is reported to it. */
  ctx?: JobContext;
  /** Called after each question. */
  onResult?: (result: GoldenResult, done: number, total: number) => void;
}

export function defaultTimeoutMs(q: GoldenQuestion): number {
  return Math.max(30_000, 10 * q.maxLatencyMs);
}

async function askWithTimeout(app: GoldenAnswerer, req: AskRequest, timeoutMs: number, outer: AbortSignal | undefined): Promise<AskResponse> {
  const controller = new AbortController();
  const forward = () => controller.abort();
  outer?.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new GoldenTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    // `answer` may throw synchronously; `Promise.resolve().then` turns that into a rejection.
    return await Promise.race([Promise.resolve().then(() => app.answer(req, { signal: controller.signal })), timeout]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

/** Asks every question of `set` (in order) in its knowledge base and judges each answer. */
export async function runGolden(app: GoldenAnswerer, set: GoldenSet, opts: GoldenRunOptions = {}): Promise<GoldenRun> {
  const signal = opts.signal ?? opts.ctx?.signal;
  const questions = opts.only ? set.questions.filter((q) => opts.only!.includes(q.id)) : set.questions;
  const unknown = opts.only?.filter((id) => !set.questions.some((q) => q.id === id)) ?? [];
  if (unknown.length) throw new Error(`the golden set for "${set.kb}" has no question ${unknown.map((id) => `"${id}"`).join(', ')}`);
  await app.whenReady?.();
  const at = new Date().toISOString();
  const started = performance.now();
  const results: GoldenResult[] = [];
  opts.ctx?.progress({ done: 0, total: questions.length, message: `golden questions for ${set.kb}` });
  for (const q of questions) {
    throwIfCancelled(signal);
    const timeoutMs = typeof opts.timeoutMs === 'function' ? opts.timeoutMs(q) : (opts.timeoutMs ?? defaultTimeoutMs(q));
    const t0 = performance.now();
    let result: GoldenResult;
    try {
      const response = await askWithTimeout(app, { question: q.question, kb: set.kb }, timeoutMs, signal);
      result = evaluateAnswer(q, { response, latencyMs: performance.now() - t0 });
    } catch (err) {
      if (signal?.aborted) throw new CancelledError();
      result = evaluateAnswer(q, { error: describeError(err), latencyMs: performance.now() - t0 });
    }
    // An answer the operator cancelled is not a result: the run stops.
    if (signal?.aborted) throw new CancelledError();
    results.push(result);
    opts.ctx?.progress({ done: results.length, total: questions.length, message: `${q.id}: ${result.passed ? 'passed' : 'failed'}` });
    opts.onResult?.(result, results.length, questions.length);
  }
  return summarizeRun(set, at, performance.now() - started, results);
}
