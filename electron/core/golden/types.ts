// Golden questions: the shapes of a set (resources/golden/README.md), of one run and of its
// comparison with the recorded baseline. "Common" code: types only, no Node or browser APIs, so
// the contract and the console can take them as they are.

/** One question with a known answer (resources/golden/README.md, "Question fields"). */
export interface GoldenQuestion {
  /** Unique, stable identifier (lowercase, hyphenated); used in reports. */
  id: string;
  /** The question exactly as a user would type it. */
  question: string;
  /** File names (not paths) that must appear among the answer's citations. */
  expectedSources: string[];
  /** Literal strings that must appear verbatim in the answer (case-sensitive). */
  mustContain: string[];
  /** policy, procedure, number, drug, outage, … */
  tags: string[];
  /** Most milliseconds from question to complete answer. */
  maxLatencyMs: number;
}

/** `<data>/golden/<kb>.json`, and resources/golden/demo.json. */
export interface GoldenSet {
  kb: string;
  /** Increases whenever questions or expected answers change. */
  version: number;
  questions: GoldenQuestion[];
}

/** What the editor lists: one line per set. */
export interface GoldenSetSummary {
  kb: string;
  version: number;
  questions: number;
  tags: string[];
  /** False when the knowledge base the set was written for is gone (deleted, not restored). */
  kbExists: boolean;
  baseline: { recordedAt: string; at: string; passed: number; total: number; setVersion: number } | null;
  lastRun: { at: string; passed: number; total: number; passRatio: number } | null;
  /** Set when the file cannot be used (invalid JSON, a bad question): the editor shows it. */
  error: string | null;
}

/** Why a question could not be answered at all. */
export interface GoldenError {
  /** `timeout` and `out-of-memory` are named on their own: they are what an outage leaves behind. */
  kind: 'timeout' | 'out-of-memory' | 'error';
  message: string;
}

export interface GoldenCitation {
  document: string;
  location: string;
  score: number;
}

/** One question's outcome. */
export interface GoldenResult {
  id: string;
  question: string;
  tags: string[];
  passed: boolean;
  /** Every reason it failed, in the operator's words; empty when it passed. */
  reasons: string[];
  expectedSources: string[];
  /** Expected sources that were cited. */
  sourcesFound: string[];
  /** Expected sources that were not cited. */
  sourcesMissing: string[];
  /** `mustContain` strings absent from the answer. */
  factsMissing: string[];
  /** Wall-clock time from question to complete answer (or to the error). */
  latencyMs: number;
  maxLatencyMs: number;
  slow: boolean;
  error: GoldenError | null;
  /** null when no answer came back. */
  covered: boolean | null;
  mode: 'extractive' | 'model' | null;
  answer: string;
  citations: GoldenCitation[];
}

/** One run of a set against its knowledge base. */
export interface GoldenRun {
  kb: string;
  setVersion: number;
  /** ISO time the run started. */
  at: string;
  passed: number;
  failed: number;
  total: number;
  /** passed / total (0 when the set is empty). */
  passRatio: number;
  durationMs: number;
  results: GoldenResult[];
}

/** `<data>/golden/<kb>.baseline.json`: a run the operator accepted as known-good. */
export interface GoldenBaseline {
  kb: string;
  recordedAt: string;
  run: GoldenRun;
}

export type GoldenChangeKind = 'newly-failing' | 'newly-passing' | 'sources-changed' | 'latency-regression' | 'answer-changed' | 'new-question';

/** What changed for one question since the baseline (only questions with a change are listed). */
export interface GoldenQuestionChange {
  id: string;
  question: string;
  passed: boolean;
  /** null for a question the baseline did not have. */
  passedInBaseline: boolean | null;
  changes: GoldenChangeKind[];
  /** Documents cited in the baseline and no longer cited. */
  sourcesLost: string[];
  /** Documents cited now that the baseline did not cite. */
  sourcesGained: string[];
  latencyMs: number;
  baselineLatencyMs: number | null;
  /** The failure reasons now (for a newly failing question: why). */
  reasons: string[];
  answer: string;
  baselineAnswer: string | null;
  /** One line per change, in the operator's words. */
  details: string[];
}

export interface GoldenComparison {
  /** null when no baseline was recorded for this knowledge base. */
  baseline: { recordedAt: string; at: string; setVersion: number; passed: number; total: number; passRatio: number } | null;
  /** True when the set changed (version) since the baseline was recorded. */
  setChanged: boolean;
  newlyFailing: string[];
  newlyPassing: string[];
  /** Question ids in the baseline that the set no longer has. */
  removed: string[];
  questions: GoldenQuestionChange[];
}

/** A run as the service returns it: the run and what changed since the baseline. */
export interface GoldenRunReport extends GoldenRun {
  comparison: GoldenComparison;
}
