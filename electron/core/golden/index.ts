// The golden-questions domain: sets per knowledge base, runs, baselines (see service.ts).
export type * from './types.js';
export { GoldenSetError, parseGoldenSet, validateGoldenQuestion, validateGoldenSet } from './validate.js';
export { GoldenTimeoutError, LATENCY_REGRESSION_FACTOR, citesSource, compareWithBaseline, describeError, evaluateAnswer, summarizeRun, type GoldenOutcome } from './evaluate.js';
export { defaultTimeoutMs, runGolden, type GoldenAnswerer, type GoldenRunOptions } from './run.js';
export { DEMO_GOLDEN_KB, GoldenService, META_DEMO_DECLINED, META_LAST_RUN, META_PASS_RATIO, formatGoldenSet, type GoldenServiceDeps } from './service.js';
export { baselineToGoldenRunResult, toGoldenRunResult } from './contract.js';
