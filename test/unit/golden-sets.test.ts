// Golden sets on disk: validation that names the file and the question, the demo set seeded from
// resources/, atomic saves, baselines, and the pass ratio kept in the catalog's meta.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AskResponse } from '../../electron/api/contract.js';
import {
  type GoldenAnswerer,
  type GoldenSet,
  GoldenService,
  GoldenSetError,
  formatGoldenSet,
  parseGoldenSet,
  validateGoldenSet,
} from '../../electron/core/golden/index.js';
import { type Db, getMeta, openCatalog } from '../../electron/core/store/catalog.js';
import { resourcesDir } from '../../electron/core/util/appRoot.js';
import { tempDir } from '../helpers/env.js';

const SHIPPED = path.join(resourcesDir(), 'golden', 'demo.json');

const q = (id: string, extra: Record<string, unknown> = {}) => ({ id, question: `${id}?`, expectedSources: ['a.md'], mustContain: ['fact'], tags: ['policy'], maxLatencyMs: 1000, ...extra });
const set = (questions: unknown[], extra: Record<string, unknown> = {}) => ({ kb: 'hr', version: 1, questions, ...extra });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GoldenSetError);
    return (err as GoldenSetError).problems;
  }
  throw new Error('expected a GoldenSetError');
}

describe('validating a golden set', () => {
  it('accepts the shipped demo set, and writes it back byte for byte in the same layout', () => {
    const text = fs.readFileSync(SHIPPED, 'utf8');
    const demo = parseGoldenSet(text, SHIPPED);
    expect(demo.kb).toBe('demo');
    expect(demo.questions).toHaveLength(16);
    expect(formatGoldenSet(demo)).toBe(text);
  });

  it('names the file and the question for a duplicate id', () => {
    const err = (() => {
      try {
        validateGoldenSet(set([q('a'), q('b'), q('a')]), 'golden/hr.json');
      } catch (e) {
        return e as GoldenSetError;
      }
    })();
    expect(err?.code).toBe('bad-golden-set');
    expect(err?.message).toBe('golden/hr.json: question 3 ("a"): id "a" is already used by question 1; ids must be unique');
  });

  it('reports an empty question, arrays that are not strings and a latency that is not positive, all at once', () => {
    const problems = problemsOf(() =>
      validateGoldenSet(set([q('a', { question: '  ' }), q('b', { mustContain: 'fact' }), q('c', { expectedSources: ['a.md', 3] }), q('d', { tags: undefined }), q('e', { maxLatencyMs: 0 }), q('f', { maxLatencyMs: '2000' })]), 'golden/hr.json'),
    );
    expect(problems).toEqual([
      'question 1 ("a"): question must be a non-empty string',
      'question 2 ("b"): mustContain must be an array of strings',
      'question 3 ("c"): expectedSources[1] must be a non-empty string (found 3)',
      'question 4 ("d"): tags must be an array of strings (it is missing)',
      'question 5 ("e"): maxLatencyMs must be a positive number of milliseconds (found 0)',
      'question 6 ("f"): maxLatencyMs must be a positive number of milliseconds (found "2000")',
    ]);
  });

  it('refuses a misspelt field instead of silently checking nothing', () => {
    const { mustContain: _m, ...rest } = q('a');
    expect(problemsOf(() => validateGoldenSet(set([{ ...rest, mustcontain: ['fact'] }]), 'f.json'))).toEqual([
      'question 1 ("a"): unknown field "mustcontain" (expected id, question, expectedSources, mustContain, tags, maxLatencyMs)',
      'question 1 ("a"): mustContain must be an array of strings (it is missing)',
    ]);
  });

  it('checks the top level: kb, a positive integer version, a questions array', () => {
    expect(problemsOf(() => validateGoldenSet({ kb: '', version: 1.5, questions: {} }, 'f.json'))).toEqual([
      'kb must be the name of a knowledge base',
      'version must be a positive integer (found 1.5)',
      'questions must be an array',
    ]);
    expect(() => validateGoldenSet([], 'f.json')).toThrow('f.json: a golden set must be a JSON object');
    expect(() => parseGoldenSet('{"kb": "hr",', 'golden/hr.json')).toThrow(/^golden\/hr\.json: not valid JSON/);
  });
});

function answerer(answers: Record<string, string>): GoldenAnswerer {
  return {
    async answer(req): Promise<AskResponse> {
      const a = answers[req.question];
      return { answer: a ?? 'not covered', covered: a !== undefined, citations: a ? [{ n: 1, kb: req.kb!, document: 'a.md', location: 'lines 1–2', score: 1, chunkId: 1, passage: a }] : [], mode: 'extractive', tookMs: 1 };
    },
  };
}

describe('golden sets in the data root', () => {
  let t: ReturnType<typeof tempDir>;
  let db: Db;
  let kbs: string[];
  let answers: Record<string, string>;
  let golden: GoldenService;
  const files = () => fs.readdirSync(golden.dir).sort();

  beforeEach(() => {
    t = tempDir();
    db = openCatalog(path.join(t.dir, 'catalog.sqlite'));
    kbs = ['hr'];
    answers = { 'a?': 'the fact [1]', 'b?': 'the fact [1]' };
    golden = new GoldenService({ root: t.dir, db: () => db, kbNames: () => kbs, answerer: answerer(answers) });
  });
  afterEach(() => {
    db.close();
    t.cleanup();
  });

  it('seeds golden/demo.json from the shipped set when the demo knowledge base exists and the file does not', () => {
    expect(golden.listSets()).toEqual([]);
    expect(fs.existsSync(golden.dir)).toBe(false);
    kbs.push('demo');
    const listed = golden.listSets();
    expect(listed).toEqual([{ kb: 'demo', version: 1, questions: 16, tags: ['drug', 'number', 'outage', 'policy', 'procedure'], kbExists: true, baseline: null, lastRun: null, error: null }]);
    expect(fs.readFileSync(path.join(t.dir, 'golden', 'demo.json'), 'utf8')).toBe(fs.readFileSync(SHIPPED, 'utf8'));
    // An edited demo set is never overwritten by the shipped one.
    golden.deleteQuestion('demo', 'visitor-children');
    expect(golden.getSet('demo')?.questions).toHaveLength(15);
    expect(golden.seedDemoSet()).toBe(false);
  });

  it('does not seed the demo set again after the operator deleted it', () => {
    kbs.push('demo');
    expect(golden.getSet('demo')?.questions).toHaveLength(16);
    expect(golden.deleteSet('demo')).toEqual({ deleted: 'demo' });
    expect(golden.getSet('demo')).toBeNull();
    expect(golden.listSets()).toEqual([]);
  });

  it('saves a set atomically, leaving no temp file, and reads it back', () => {
    const saved = golden.saveSet(set([q('a')]));
    expect(saved).toEqual(set([q('a')]));
    expect(files()).toEqual(['hr.json']);
    expect(golden.getSet('hr')).toEqual(saved);
    expect(fs.readFileSync(golden.setFile('hr'), 'utf8')).toBe(formatGoldenSet(saved));
  });

  it('raises the version when the questions change and the editor did not', () => {
    golden.saveSet(set([q('a')]));
    expect(golden.saveSet(set([q('a')])).version).toBe(1);
    expect(golden.saveSet(set([q('a', { mustContain: ['other'] })])).version).toBe(2);
    expect(golden.saveSet(set([q('a')], { version: 7 })).version).toBe(7);
    expect(golden.getSet('hr')?.version).toBe(7);
  });

  it('refuses a set for a knowledge base that does not exist, or an invalid one, and keeps the saved set', () => {
    golden.saveSet(set([q('a')]));
    expect(() => golden.saveSet(set([q('a')], { kb: 'radiology' }))).toThrow('there is no knowledge base named "radiology"; existing: hr');
    expect(() => golden.saveSet(set([q('a'), q('a')]))).toThrow('golden/hr.json: question 2 ("a"): id "a" is already used by question 1');
    expect(golden.getSet('hr')?.questions.map((x) => x.id)).toEqual(['a']);
  });

  it('adds, replaces, renames and deletes single questions', () => {
    golden.upsertQuestion('hr', q('a'));
    golden.upsertQuestion('hr', q('b'));
    expect(golden.upsertQuestion('hr', q('a', { maxLatencyMs: 500 })).questions.map((x) => [x.id, x.maxLatencyMs])).toEqual([['a', 500], ['b', 1000]]);
    expect(golden.upsertQuestion('hr', q('a2'), 'a').questions.map((x) => x.id)).toEqual(['a2', 'b']);
    expect(() => golden.upsertQuestion('hr', q('c', { maxLatencyMs: -1 }))).toThrow('golden/hr.json: question 3 ("c"): maxLatencyMs must be a positive number');
    expect(golden.deleteQuestion('hr', 'b').questions.map((x) => x.id)).toEqual(['a2']);
    expect(() => golden.deleteQuestion('hr', 'zz')).toThrow('the golden set for "hr" has no question "zz"; it has a2');
  });

  it('reports a hand-edited file that is broken or written for another knowledge base, naming the file', () => {
    fs.mkdirSync(golden.dir, { recursive: true });
    fs.writeFileSync(golden.setFile('hr'), JSON.stringify(set([q('a', { maxLatencyMs: 'fast' })])));
    expect(() => golden.getSet('hr')).toThrow('golden/hr.json: question 1 ("a"): maxLatencyMs must be a positive number of milliseconds (found "fast")');
    expect(golden.listSets()).toMatchObject([{ kb: 'hr', questions: 0, error: expect.stringContaining('golden/hr.json: question 1') }]);
    fs.writeFileSync(golden.setFile('hr'), JSON.stringify(set([q('a')], { kb: 'icu' })));
    expect(() => golden.getSet('hr')).toThrow('golden/hr.json: kb is "icu", but the file is for knowledge base "hr"');
  });

  it('refuses knowledge-base names whose files would clash with a baseline', () => {
    kbs.push('hr.baseline');
    expect(() => golden.saveSet(set([q('a')], { kb: 'hr.baseline' }))).toThrow(/would clash/);
  });

  it('runs a set, keeps the last run, and sets golden_pass_ratio and golden_last_run in the meta', async () => {
    golden.saveSet(set([q('a'), q('b'), q('c')]));
    const report = await golden.run('hr');
    expect(report).toMatchObject({ kb: 'hr', passed: 2, failed: 1, total: 3, comparison: { baseline: null } });
    expect(getMeta(db, 'golden_pass_ratio')).toBe(String(2 / 3));
    expect(getMeta(db, 'golden_last_run')).toBe(report.at);
    expect(golden.lastRun('hr')).toEqual(report);
    expect(golden.listSets()[0]).toMatchObject({ lastRun: { passed: 2, total: 3 }, baseline: null });

    // A partial run neither replaces the last run nor the ratio.
    const partial = await golden.run('hr', { only: ['c'] });
    expect(partial.total).toBe(1);
    expect(getMeta(db, 'golden_pass_ratio')).toBe(String(2 / 3));
    expect(golden.lastRun('hr')?.total).toBe(3);
  });

  it('records a baseline and compares later runs with it', async () => {
    golden.saveSet(set([q('a'), q('b')]));
    const first = await golden.run('hr');
    const baseline = golden.recordBaseline(first);
    expect(baseline.run).not.toHaveProperty('comparison');
    expect(files()).toEqual(['hr.baseline.json', 'hr.json', 'hr.last-run.json']);
    expect(golden.getBaseline('hr')).toEqual(baseline);

    delete answers['b?'];
    const second = await golden.run('hr');
    expect(second.comparison.baseline).toMatchObject({ passed: 2, total: 2, recordedAt: baseline.recordedAt });
    expect(second.comparison.newlyFailing).toEqual(['b']);
    expect(second.comparison.questions[0]).toMatchObject({ id: 'b', sourcesLost: ['a.md'] });
    expect(getMeta(db, 'golden_pass_ratio')).toBe('0.5');

    expect(golden.recordLastRunAsBaseline('hr').run.passed).toBe(1);
    expect((await golden.run('hr')).comparison.questions).toEqual([]);
  });

  it('runs every set whose knowledge base exists and keeps the overall ratio', async () => {
    kbs.push('icu');
    golden.saveSet(set([q('a'), q('b')]));
    golden.saveSet(set([q('x')], { kb: 'icu' }));
    const reports = await golden.runAll();
    expect(reports.map((r) => [r.kb, r.passed, r.total])).toEqual([['hr', 2, 2], ['icu', 0, 1]]);
    expect(getMeta(db, 'golden_pass_ratio')).toBe(String(2 / 3));
  });

  it('says plainly when there is nothing to run', async () => {
    await expect(golden.run('hr')).rejects.toThrow('there is no golden set for knowledge base "hr"; add questions in the console (golden/hr.json)');
    golden.saveSet(set([]));
    await expect(golden.run('hr')).rejects.toThrow('the golden set for "hr" has no questions');
    await expect(golden.run('icu')).rejects.toThrow('there is no knowledge base named "icu"');
    expect(() => golden.recordLastRunAsBaseline('hr')).toThrow('golden questions have not been run for "hr" yet');
  });

  it('reports a damaged baseline file by name', () => {
    golden.saveSet(set([q('a')]));
    fs.writeFileSync(golden.baselineFile('hr'), '{"kb":');
    expect(() => golden.getBaseline('hr')).toThrow(/^golden\/hr\.baseline\.json is not valid JSON/);
  });

  it('keeps a set whose knowledge base was deleted, and lists it as such', () => {
    golden.saveSet(set([q('a')]) as GoldenSet);
    kbs = [];
    expect(golden.listSets()).toMatchObject([{ kb: 'hr', kbExists: false, error: null }]);
  });
});
