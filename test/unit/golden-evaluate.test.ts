// Judging golden questions with hand-made answers: every way an answer can fail is named, and a
// run compared with its baseline says which questions broke and which sources they lost.
import { describe, expect, it } from 'vitest';
import type { AskRequest, AskResponse } from '../../electron/api/contract.js';
import {
  type GoldenAnswerer,
  type GoldenBaseline,
  type GoldenQuestion,
  type GoldenResult,
  type GoldenSet,
  GoldenTimeoutError,
  compareWithBaseline,
  describeError,
  evaluateAnswer,
  runGolden,
  summarizeRun,
} from '../../electron/core/golden/index.js';
import { CancelledError } from '../../electron/core/jobs/jobs.js';

const ANNUAL: GoldenQuestion = {
  id: 'leave-annual-days',
  question: '工作满20年的职工每年有几天年假？',
  expectedSources: ['请假制度.md'],
  mustContain: ['年假15天'],
  tags: ['policy', 'number'],
  maxLatencyMs: 2000,
};
const PORT: GoldenQuestion = {
  id: 'outage-port-7860',
  question: 'What should I do if port 7860 is already in use?',
  expectedSources: ['IT-outage-runbook.md'],
  mustContain: ['7860', 'ss -ltnp'],
  tags: ['outage'],
  maxLatencyMs: 2000,
};

function response(answer: string, documents: string[], extra: Partial<AskResponse> = {}): AskResponse {
  return {
    answer,
    covered: true,
    mode: 'extractive',
    tookMs: 5,
    citations: documents.map((document, i) => ({ n: i + 1, kb: 'demo', document, location: `lines ${i + 1}–${i + 3}`, score: 0.9, chunkId: i + 1, passage: answer })),
    ...extra,
  };
}

const GOOD_ANNUAL = response('已满20年的，每年享受带薪年假15天。[1]', ['请假制度.md']);
const GOOD_PORT = response('Find the process holding port 7860 with `ss -ltnp | grep 7860` and stop it. [1]', ['IT-outage-runbook.md']);

describe('evaluating one answer against its golden question', () => {
  it('passes an answer that cites the expected document, contains every fact and arrives in time', () => {
    const r = evaluateAnswer(ANNUAL, { response: GOOD_ANNUAL, latencyMs: 12 });
    expect(r).toMatchObject({ passed: true, reasons: [], sourcesFound: ['请假制度.md'], sourcesMissing: [], factsMissing: [], slow: false, error: null, covered: true });
    expect(r.citations).toEqual([{ document: '请假制度.md', location: 'lines 1–3', score: 0.9 }]);
    expect(r.answer).toBe(GOOD_ANNUAL.answer);
  });

  it('fails an answer that lacks a required fact and names the missing string', () => {
    const r = evaluateAnswer(PORT, { response: response('Port 7860 is used by the web interface. [1]', ['IT-outage-runbook.md']), latencyMs: 10 });
    expect(r.passed).toBe(false);
    expect(r.factsMissing).toEqual(['ss -ltnp']);
    expect(r.reasons).toEqual(['missing from the answer: "ss -ltnp"']);
  });

  it('checks facts case-sensitively and verbatim', () => {
    const r = evaluateAnswer(PORT, { response: response('Port 7860: run SS -LTNP. [1]', ['IT-outage-runbook.md']), latencyMs: 10 });
    expect(r.factsMissing).toEqual(['ss -ltnp']);
  });

  it('fails an answer that cites the wrong document and names both the expected and the cited ones', () => {
    const r = evaluateAnswer(ANNUAL, { response: response('年假15天。[1]', ['visitor-policy.md']), latencyMs: 10 });
    expect(r.passed).toBe(false);
    expect(r.sourcesFound).toEqual([]);
    expect(r.sourcesMissing).toEqual(['请假制度.md']);
    expect(r.reasons).toEqual(['not cited: "请假制度.md" (cited: "visitor-policy.md")']);
  });

  it('accepts an expected file name cited under the folder path it was ingested with', () => {
    const r = evaluateAnswer(ANNUAL, { response: response('年假15天。[1]', ['hr/制度/请假制度.md']), latencyMs: 10 });
    expect(r.passed).toBe(true);
    expect(evaluateAnswer(ANNUAL, { response: response('年假15天。[1]', ['旧请假制度.md']), latencyMs: 10 }).passed).toBe(false);
  });

  it('fails a slow answer and gives its latency and the limit', () => {
    const r = evaluateAnswer(ANNUAL, { response: GOOD_ANNUAL, latencyMs: 2500.4 });
    expect(r).toMatchObject({ passed: false, slow: true, latencyMs: 2500, maxLatencyMs: 2000, factsMissing: [], sourcesMissing: [] });
    expect(r.reasons).toEqual(['took 2500 ms, over the 2000 ms limit']);
  });

  it('fails a thrown error with its message, and names out-of-memory as such', () => {
    const plain = evaluateAnswer(ANNUAL, { error: describeError(new Error('SQLITE_CORRUPT: database disk image is malformed')), latencyMs: 3 });
    expect(plain).toMatchObject({ passed: false, error: { kind: 'error' }, covered: null, answer: '', citations: [], sourcesMissing: ['请假制度.md'], factsMissing: ['年假15天'] });
    expect(plain.reasons).toEqual(['the answer failed: SQLITE_CORRUPT: database disk image is malformed']);

    const oom = evaluateAnswer(ANNUAL, { error: describeError(Object.assign(new Error('ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 2147483648'), { name: 'InsufficientMemoryError' })), latencyMs: 3 });
    expect(oom.error?.kind).toBe('out-of-memory');
    expect(oom.reasons[0]).toMatch(/^out of memory: .*failed to allocate buffer/);
  });

  it('recognises the usual out-of-memory messages', () => {
    for (const msg of ['Cannot allocate memory', 'spawn ENOMEM', 'CUDA error: out of memory', 'InsufficientMemoryError: not enough VRAM', 'llama: OOM while loading']) {
      expect(describeError(new Error(msg)).kind, msg).toBe('out-of-memory');
    }
    expect(describeError(Object.assign(new Error('spawn failed'), { code: 'ENOMEM' })).kind).toBe('out-of-memory');
    expect(describeError(new Error('the question is empty')).kind).toBe('error');
    expect(describeError('a string was thrown')).toEqual({ kind: 'error', message: 'a string was thrown' });
  });

  it('fails a timeout and says it timed out', () => {
    const r = evaluateAnswer(ANNUAL, { error: describeError(new GoldenTimeoutError(30000)), latencyMs: 30001 });
    expect(r.error).toEqual({ kind: 'timeout', message: 'timed out after 30000 ms without an answer' });
    expect(r.reasons).toEqual(['timed out after 30000 ms without an answer', 'took 30001 ms, over the 2000 ms limit']);
  });

  it('fails an answer that says the knowledge base does not cover the question', () => {
    const r = evaluateAnswer(ANNUAL, { response: response('知识库中没有找到与这个问题相关的内容，无法回答。', [], { covered: false }), latencyMs: 4 });
    expect(r.passed).toBe(false);
    expect(r.covered).toBe(false);
    expect(r.reasons[0]).toBe('the knowledge base did not cover the question (no passage matched it)');
    expect(r.reasons).toContain('not cited: "请假制度.md" (cited: nothing)');
  });

  it('fails an answer that was cancelled before it finished', () => {
    const r = evaluateAnswer(ANNUAL, { response: { ...GOOD_ANNUAL, cancelled: true }, latencyMs: 4 });
    expect(r.reasons).toEqual(['the answer was cancelled before it finished']);
  });

  it('lists every reason when an answer fails in several ways at once', () => {
    const r = evaluateAnswer(PORT, { response: response('Restart the container. [1]', ['visitor-policy.md']), latencyMs: 4100 });
    expect(r.reasons).toEqual(['not cited: "IT-outage-runbook.md" (cited: "visitor-policy.md")', 'missing from the answer: "7860", "ss -ltnp"', 'took 4100 ms, over the 2000 ms limit']);
  });
});

const SET: GoldenSet = { kb: 'demo', version: 3, questions: [ANNUAL, PORT] };

function result(q: GoldenQuestion, r: AskResponse, latencyMs = 10): GoldenResult {
  return evaluateAnswer(q, { response: r, latencyMs });
}

function baselineOf(results: GoldenResult[], setVersion = 3): GoldenBaseline {
  return { kb: 'demo', recordedAt: '2025-01-01T00:00:00.000Z', run: summarizeRun({ kb: 'demo', version: setVersion }, '2025-01-01T00:00:00.000Z', 40, results) };
}

describe('a run and its comparison with the baseline', () => {
  it('sums a run: passed, failed, total and the pass ratio', () => {
    const run = summarizeRun(SET, '2025-02-01T00:00:00.000Z', 123.6, [result(ANNUAL, GOOD_ANNUAL), result(PORT, response('no', []))]);
    expect(run).toMatchObject({ kb: 'demo', setVersion: 3, at: '2025-02-01T00:00:00.000Z', passed: 1, failed: 1, total: 2, passRatio: 0.5, durationMs: 124 });
    expect(summarizeRun(SET, 'x', 0, []).passRatio).toBe(0);
  });

  it('has baseline null and no changes when none was recorded', () => {
    const run = summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL)]);
    expect(compareWithBaseline(run, null)).toEqual({ baseline: null, setChanged: false, newlyFailing: [], newlyPassing: [], removed: [], questions: [] });
  });

  it('lists nothing when the run matches its baseline', () => {
    const base = baselineOf([result(ANNUAL, GOOD_ANNUAL), result(PORT, GOOD_PORT)]);
    const run = summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL, 30), result(PORT, GOOD_PORT, 25)]);
    const c = compareWithBaseline(run, base);
    expect(c.baseline).toMatchObject({ recordedAt: '2025-01-01T00:00:00.000Z', passed: 2, total: 2, passRatio: 1 });
    expect(c.questions).toEqual([]);
  });

  it('names a newly failing question, why it fails and the sources it lost', () => {
    const base = baselineOf([result(ANNUAL, GOOD_ANNUAL), result(PORT, GOOD_PORT)]);
    const lost = response('事假应至少提前3个工作日提出申请。[1]', ['员工手册.md']);
    const c = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, lost), result(PORT, GOOD_PORT)]), base);
    expect(c.newlyFailing).toEqual(['leave-annual-days']);
    expect(c.questions).toHaveLength(1);
    const q = c.questions[0]!;
    expect(q).toMatchObject({ id: 'leave-annual-days', passed: false, passedInBaseline: true, sourcesLost: ['请假制度.md'], sourcesGained: ['员工手册.md'] });
    expect(q.changes).toEqual(['newly-failing', 'sources-changed', 'answer-changed']);
    expect(q.details[0]).toBe('now fails: not cited: "请假制度.md" (cited: "员工手册.md"); missing from the answer: "年假15天"');
    expect(q.details[1]).toBe('no longer cites "请假制度.md"; now cites "员工手册.md"');
    expect(q.baselineAnswer).toBe(GOOD_ANNUAL.answer);
  });

  it('names a newly passing question', () => {
    const base = baselineOf([result(ANNUAL, response('没有找到', [], { covered: false })), result(PORT, GOOD_PORT)]);
    const c = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL), result(PORT, GOOD_PORT)]), base);
    expect(c.newlyPassing).toEqual(['leave-annual-days']);
    expect(c.questions[0]!.changes).toEqual(['newly-passing', 'sources-changed', 'answer-changed']);
    expect(c.questions[0]!.sourcesGained).toEqual(['请假制度.md']);
  });

  it('reports a latency regression only when an answer is over twice the baseline and over its limit', () => {
    const base = baselineOf([result(ANNUAL, GOOD_ANNUAL, 900), result(PORT, GOOD_PORT, 100)]);
    // 1900 ms: more than 2× 900 but within the 2000 ms limit; 2100 ms for PORT: over 2× 100 and over the limit.
    const c = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL, 1900), result(PORT, GOOD_PORT, 2100)]), base);
    expect(c.questions.map((q) => q.id)).toEqual(['outage-port-7860']);
    expect(c.questions[0]!.changes).toEqual(['newly-failing', 'latency-regression']);
    expect(c.questions[0]!.details[1]).toBe("took 2100 ms: more than 2× the baseline's 100 ms and over the 2000 ms limit");
    // Over the limit but not twice as slow as a baseline that was already slow: no regression.
    const slowBase = baselineOf([result(ANNUAL, GOOD_ANNUAL, 1900)]);
    const c2 = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL, 2500)]), slowBase);
    expect(c2.questions[0]!.changes).toEqual(['newly-failing']);
  });

  it('notices a changed answer text even when the question still passes, ignoring whitespace', () => {
    const base = baselineOf([result(ANNUAL, GOOD_ANNUAL), result(PORT, GOOD_PORT)]);
    const reworded = response('每年享受带薪年假15天（已满20年）。[1]', ['请假制度.md']);
    const respaced = response(`  ${GOOD_PORT.answer.replace('. [1]', '.\n  [1]')}\n`, ['IT-outage-runbook.md']);
    const c = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, reworded), result(PORT, respaced)]), base);
    expect(c.questions.map((q) => [q.id, q.changes])).toEqual([['leave-annual-days', ['answer-changed']]]);
  });

  it('lists questions added since the baseline, questions removed, and a changed set version', () => {
    const base = baselineOf([result(PORT, GOOD_PORT), result({ ...PORT, id: 'old-question' }, GOOD_PORT)], 2);
    const c = compareWithBaseline(summarizeRun(SET, 'now', 1, [result(ANNUAL, GOOD_ANNUAL), result(PORT, GOOD_PORT)]), base);
    expect(c.setChanged).toBe(true);
    expect(c.removed).toEqual(['old-question']);
    expect(c.questions).toMatchObject([{ id: 'leave-annual-days', changes: ['new-question'], passedInBaseline: null, baselineAnswer: null }]);
  });

  it('refuses to compare a run with the baseline of another knowledge base', () => {
    const base = { ...baselineOf([]), run: { ...baselineOf([]).run, kb: 'hr' } };
    expect(() => compareWithBaseline(summarizeRun(SET, 'now', 1, []), base)).toThrow(/baseline is for knowledge base "hr"/);
  });
});

/** An answerer driven by a table: question → response, error or "hang". */
function fakeApp(table: Record<string, AskResponse | Error | 'hang'>, asked: AskRequest[] = []): GoldenAnswerer {
  return {
    async answer(req, options) {
      asked.push(req);
      const v = table[req.question];
      if (v === 'hang') {
        return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      if (v instanceof Error) throw v;
      if (!v) throw new Error(`unexpected question ${req.question}`);
      return v;
    },
  };
}

describe('running a golden set', () => {
  it('asks every question in order, restricted to the set’s knowledge base, and judges each', async () => {
    const asked: AskRequest[] = [];
    const progress: number[] = [];
    const run = await runGolden(fakeApp({ [ANNUAL.question]: GOOD_ANNUAL, [PORT.question]: GOOD_PORT }, asked), SET, { onResult: (_r, done) => progress.push(done) });
    expect(asked).toEqual([{ question: ANNUAL.question, kb: 'demo' }, { question: PORT.question, kb: 'demo' }]);
    expect(run).toMatchObject({ kb: 'demo', setVersion: 3, passed: 2, failed: 0, total: 2, passRatio: 1 });
    expect(progress).toEqual([1, 2]);
    expect(Date.parse(run.at)).not.toBeNaN();
  });

  it('records a thrown out-of-memory error and a hung answer as failures and goes on', async () => {
    const set: GoldenSet = { ...SET, questions: [ANNUAL, PORT, { ...ANNUAL, id: 'again', question: 'again?' }] };
    const run = await runGolden(fakeApp({ [ANNUAL.question]: new Error('CUDA error: out of memory'), [PORT.question]: 'hang', 'again?': GOOD_ANNUAL }), set, { timeoutMs: 50 });
    expect(run.results.map((r) => [r.id, r.passed, r.error?.kind ?? null])).toEqual([
      ['leave-annual-days', false, 'out-of-memory'],
      ['outage-port-7860', false, 'timeout'],
      ['again', true, null],
    ]);
    expect(run.results[0]!.reasons[0]).toBe('out of memory: CUDA error: out of memory');
    expect(run.results[1]!.reasons[0]).toBe('timed out after 50 ms without an answer');
    expect(run.results[1]!.latencyMs).toBeGreaterThanOrEqual(45);
  });

  it('runs only the questions asked for, and refuses an id the set does not have', async () => {
    const run = await runGolden(fakeApp({ [PORT.question]: GOOD_PORT }), SET, { only: ['outage-port-7860'] });
    expect(run.results.map((r) => r.id)).toEqual(['outage-port-7860']);
    await expect(runGolden(fakeApp({}), SET, { only: ['nope'] })).rejects.toThrow(/has no question "nope"/);
  });

  it('stops when cancelled instead of counting the unanswered questions as failures', async () => {
    const controller = new AbortController();
    const app = fakeApp({ [ANNUAL.question]: GOOD_ANNUAL, [PORT.question]: 'hang' });
    const p = runGolden(app, SET, { signal: controller.signal, onResult: () => setTimeout(() => controller.abort(), 10) });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });

  it('waits for the app to be ready before timing the first question', async () => {
    let ready = false;
    const app: GoldenAnswerer = {
      whenReady: () => new Promise((resolve) => setTimeout(() => ((ready = true), resolve()), 30)),
      answer: async () => (ready ? GOOD_ANNUAL : Promise.reject(new Error('not ready'))),
    };
    const run = await runGolden(app, { ...SET, questions: [ANNUAL] });
    expect(run.results[0]).toMatchObject({ passed: true });
    expect(run.results[0]!.latencyMs).toBeLessThan(30);
  });
});
