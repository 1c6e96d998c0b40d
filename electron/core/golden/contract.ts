// The golden run as the API contract carries it (electron/api/contract.ts `GoldenRunResult`):
// each result with its changes since the baseline in words, and whether there was a baseline.
import type { GoldenRunResult } from '../../api/contract.js';
import type { GoldenBaseline, GoldenRun, GoldenRunReport } from './types.js';

export function toGoldenRunResult(report: GoldenRunReport | GoldenRun): GoldenRunResult {
  const comparison = 'comparison' in report ? report.comparison : null;
  const changes = new Map((comparison?.questions ?? []).map((q) => [q.id, q.details]));
  return {
    kb: report.kb,
    at: report.at,
    passed: report.passed,
    failed: report.failed,
    total: report.total,
    passRatio: report.passRatio,
    durationMs: report.durationMs,
    hasBaseline: comparison?.baseline != null,
    results: report.results.map((r) => ({
      id: r.id,
      question: r.question,
      passed: r.passed,
      reasons: r.reasons,
      latencyMs: r.latencyMs,
      answer: r.answer,
      citations: r.citations.map((c) => ({ document: c.document, location: c.location })),
      changes: changes.get(r.id) ?? [],
    })),
  };
}

/** A recorded baseline in the contract's shape (its run; `hasBaseline` is true: it is one). */
export function baselineToGoldenRunResult(baseline: GoldenBaseline): GoldenRunResult {
  return { ...toGoldenRunResult(baseline.run), hasBaseline: true };
}
