// The demo golden set against the real app: a fresh data root gets the demo knowledge base and its
// golden set, the extractive answerer is judged on all 16 questions, the run becomes the baseline,
// and losing a document shows up as named questions failing with the source they lost.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { type GoldenRunReport, GoldenService } from '../../electron/core/golden/index.js';
import { createMetrics } from '../../electron/core/metrics/metrics.js';
import { getMeta } from '../../electron/core/store/catalog.js';
import { resourcesDir } from '../../electron/core/util/appRoot.js';
import { tempDir } from '../helpers/env.js';

const LEAVE_DOC = '请假制度.md';

describe('the demo golden set against the real app', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let golden: GoldenService;
  let first: GoldenRunReport;

  beforeAll(async () => {
    t = tempDir();
    app = await openLifeline({ dataDir: path.join(t.dir, 'data'), shell: 'cli' });
    golden = new GoldenService({ root: app.layout.root, db: () => app.db, kbNames: () => app.knowledge.listKbs().map((k) => k.name), answerer: app });
  });
  afterAll(async () => {
    await app?.close();
    t?.cleanup();
  });

  it('seeds the demo set from resources/golden/demo.json into the data root', () => {
    expect(golden.listSets()).toMatchObject([{ kb: 'demo', version: 1, questions: 16, kbExists: true, baseline: null, error: null }]);
    expect(fs.readFileSync(path.join(app.layout.root, 'golden', 'demo.json'), 'utf8')).toBe(fs.readFileSync(path.join(resourcesDir(), 'golden', 'demo.json'), 'utf8'));
  });

  it('runs all 16 demo questions against the extractive answerer and judges every one', async () => {
    first = await golden.run('demo');
    const failing = first.results.filter((r) => !r.passed);
    console.log(
      `demo golden set: ${first.passed}/${first.total} passed in ${first.durationMs} ms` +
        failing.map((r) => `\n  FAIL ${r.id}: ${r.reasons.join('; ')}\n       answer: ${r.answer.slice(0, 160)}`).join(''),
    );
    expect(first.total).toBe(16);
    expect(first.comparison.baseline).toBeNull();
    for (const r of first.results) {
      expect(r.passed, r.id).toBe(r.reasons.length === 0);
      expect(r.error, `${r.id}: ${r.error?.message}`).toBeNull();
      expect(r.mode).toBe('extractive');
      for (const c of r.citations) expect(c.document && c.location, r.id).toBeTruthy();
    }
    // The answerer must not get worse than it was when this test was written (10 of 16).
    expect(first.passed).toBeGreaterThanOrEqual(10);
    expect(first.results.find((r) => r.id === 'leave-howto')).toMatchObject({ passed: true, sourcesFound: [LEAVE_DOC] });
  });

  it('keeps the pass ratio and the time of the run in the catalog meta, where the metrics exporter reads it', async () => {
    expect(getMeta(app.db, 'golden_pass_ratio')).toBe(String(first.passed / 16));
    expect(getMeta(app.db, 'golden_last_run')).toBe(first.at);
    const text = await createMetrics(app).metrics();
    const gauge = /^lifeline_golden_pass_ratio(?:\{[^}]*\})? (\S+)$/m.exec(text);
    expect(Number(gauge?.[1])).toBe(first.passed / 16);
  });

  it('names the questions that fail after a document is deleted, and the source each lost', async () => {
    const baseline = golden.recordBaseline(first);
    expect(golden.listSets()[0]!.baseline).toMatchObject({ passed: first.passed, total: 16 });

    app.knowledge.deleteDocument('demo', LEAVE_DOC);
    const second = await golden.run('demo');
    const c = second.comparison;
    expect(c.baseline).toMatchObject({ recordedAt: baseline.recordedAt, passed: first.passed });

    // Exactly the questions that passed on the leave policy before fail now.
    const expected = first.results.filter((r) => r.passed && r.expectedSources.includes(LEAVE_DOC)).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(c.newlyFailing).toEqual(expected);
    for (const id of expected) {
      const change = c.questions.find((q) => q.id === id)!;
      expect(change.changes).toContain('newly-failing');
      expect(change.changes).toContain('sources-changed');
      expect(change.sourcesLost).toContain(LEAVE_DOC);
      expect(change.reasons.join('; ')).toContain(`"${LEAVE_DOC}"`);
    }
    // Questions on other documents still cite what they cited.
    for (const q of c.questions.filter((x) => !first.results.find((r) => r.id === x.id)!.expectedSources.includes(LEAVE_DOC))) {
      expect(q.changes, q.id).not.toContain('newly-failing');
    }
    expect(second.passed).toBe(first.passed - expected.length);
    expect(getMeta(app.db, 'golden_pass_ratio')).toBe(String(second.passRatio));
    console.log(`after deleting ${LEAVE_DOC}: ${second.passed}/16; newly failing: ${c.newlyFailing.join(', ')}` + c.questions.map((q) => `\n  ${q.id}: ${q.details.join(' | ')}`).join(''));
  });
});
