// The golden-questions service: sets per knowledge base in `<data>/golden/`, runs judged against
// the recorded baseline, and the last pass ratio in the catalog's meta for the metrics exporter.
//
//   golden/<kb>.json           the set (resources/golden/README.md format), edited in the console
//   golden/<kb>.baseline.json  { kb, recordedAt, run }: the run the operator accepted as known-good
//   golden/<kb>.last-run.json  the last full run with its comparison (what the console shows)
//
// Every file is written with writeFileAtomic (temp → fsync → rename → fsync dir), so a power cut
// while saving leaves the previous set, never half of one.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../api/handlers.js';
import { fsyncDir, isTempName, writeFileAtomic } from '../store/atomic.js';
import { type Db, getMeta, setMeta } from '../store/catalog.js';
import { resourcesDir } from '../util/appRoot.js';
import { compareWithBaseline } from './evaluate.js';
import { type GoldenAnswerer, type GoldenRunOptions, runGolden } from './run.js';
import type { GoldenBaseline, GoldenQuestion, GoldenRun, GoldenRunReport, GoldenSet, GoldenSetSummary } from './types.js';
import { GoldenSetError, parseGoldenSet, validateGoldenQuestion, validateGoldenSet } from './validate.js';

/** The knowledge base whose set ships with Lifeline (resources/golden/demo.json). */
export const DEMO_GOLDEN_KB = 'demo';
/** Catalog meta keys: read by the metrics exporter and the Health screen. */
export const META_PASS_RATIO = 'golden_pass_ratio';
export const META_LAST_RUN = 'golden_last_run';
/** Set when the operator deleted the demo set, so it is not seeded again. */
export const META_DEMO_DECLINED = 'golden_demo_declined';

const BASELINE_SUFFIX = '.baseline.json';
const LAST_RUN_SUFFIX = '.last-run.json';

export interface GoldenServiceDeps {
  /** The data root. */
  root: string;
  /** The catalog (a getter: a restore swaps it under a running app). */
  db: () => Db;
  /** Names of the knowledge bases that exist now. */
  kbNames: () => string[];
  /** What answers the questions: the app's `answer` (and `whenReady`). */
  answerer: GoldenAnswerer;
  /** Where resources/golden/ is; default the installation's resources folder. */
  resourcesDir?: string;
}

/** The set file's text: the layout of resources/golden/demo.json, one question per line. */
export function formatGoldenSet(set: GoldenSet): string {
  const value = (v: unknown) => (Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(v));
  const question = (q: GoldenQuestion) =>
    `    { ${(['id', 'question', 'expectedSources', 'mustContain', 'tags', 'maxLatencyMs'] as const).map((k) => `${JSON.stringify(k)}: ${value(q[k])}`).join(', ')} }`;
  const questions = set.questions.length ? `[\n${set.questions.map(question).join(',\n')}\n  ]` : '[]';
  return `{\n  "kb": ${JSON.stringify(set.kb)},\n  "version": ${set.version},\n  "questions": ${questions}\n}\n`;
}

export class GoldenService {
  constructor(private readonly deps: GoldenServiceDeps) {}

  /** `<data>/golden`. */
  get dir(): string {
    return path.join(this.deps.root, 'golden');
  }

  setFile(kb: string): string {
    return path.join(this.dir, `${this.fileStem(kb)}.json`);
  }

  baselineFile(kb: string): string {
    return path.join(this.dir, `${this.fileStem(kb)}${BASELINE_SUFFIX}`);
  }

  lastRunFile(kb: string): string {
    return path.join(this.dir, `${this.fileStem(kb)}${LAST_RUN_SUFFIX}`);
  }

  /**
   * Seeds `golden/demo.json` from resources/golden/demo.json when the demo knowledge base exists,
   * the file does not, and the operator has not deleted the set on purpose. True when it wrote it.
   */
  seedDemoSet(): boolean {
    if (!this.deps.kbNames().includes(DEMO_GOLDEN_KB)) return false;
    if (fs.existsSync(this.setFile(DEMO_GOLDEN_KB))) return false;
    if (getMeta(this.deps.db(), META_DEMO_DECLINED) !== null) return false;
    const shipped = path.join(this.deps.resourcesDir ?? resourcesDir(), 'golden', `${DEMO_GOLDEN_KB}.json`);
    if (!fs.existsSync(shipped)) return false;
    const set = parseGoldenSet(fs.readFileSync(shipped, 'utf8'), shipped);
    writeFileAtomic(this.setFile(DEMO_GOLDEN_KB), formatGoldenSet(set));
    return true;
  }

  /** Every set in `<data>/golden/`, with its baseline and last run; a broken file is listed with its error. */
  listSets(): GoldenSetSummary[] {
    this.seedDemoSet();
    const kbs = new Set(this.deps.kbNames());
    const out: GoldenSetSummary[] = [];
    for (const name of this.setFileNames()) {
      const stem = name.slice(0, -'.json'.length);
      let set: GoldenSet;
      try {
        set = this.readSet(path.join(this.dir, name));
      } catch (err) {
        out.push({ kb: stem, version: 0, questions: 0, tags: [], kbExists: kbs.has(stem), baseline: null, lastRun: null, error: (err as Error).message });
        continue;
      }
      let baseline: GoldenSetSummary['baseline'] = null;
      let lastRun: GoldenSetSummary['lastRun'] = null;
      let error: string | null = set.kb === stem ? null : `${this.rel(this.setFile(stem))} is written for knowledge base "${set.kb}"`;
      try {
        const b = this.getBaseline(set.kb);
        if (b) baseline = { recordedAt: b.recordedAt, at: b.run.at, passed: b.run.passed, total: b.run.total, setVersion: b.run.setVersion };
        const l = this.lastRun(set.kb);
        if (l) lastRun = { at: l.at, passed: l.passed, total: l.total, passRatio: l.passRatio };
      } catch (err) {
        error = (err as Error).message;
      }
      out.push({ kb: set.kb, version: set.version, questions: set.questions.length, tags: [...new Set(set.questions.flatMap((q) => q.tags))].sort(), kbExists: kbs.has(set.kb), baseline, lastRun, error });
    }
    return out.sort((a, b) => a.kb.localeCompare(b.kb));
  }

  /** The set for `kb`, or null when there is none; throws a GoldenSetError when the file is bad. */
  getSet(kb: string): GoldenSet | null {
    if (kb === DEMO_GOLDEN_KB) this.seedDemoSet();
    const file = this.setFile(kb);
    if (!fs.existsSync(file)) return null;
    const set = this.readSet(file);
    if (set.kb !== kb) throw new GoldenSetError(this.rel(file), [`kb is "${set.kb}", but the file is for knowledge base "${kb}"`]);
    return set;
  }

  /**
   * Validates and saves a whole set (atomically). When its questions differ from the saved set's
   * and its version was not raised, the version is raised by one: a baseline then shows that the
   * set changed since it was recorded. Returns the set as saved.
   */
  saveSet(raw: unknown): GoldenSet {
    const kbField = (raw as { kb?: unknown } | null)?.kb;
    const label = typeof kbField === 'string' && kbField ? this.rel(this.setFile(kbField)) : 'golden set';
    const set = validateGoldenSet(raw, label);
    this.requireKb(set.kb);
    const file = this.setFile(set.kb);
    let stored: GoldenSet | null = null;
    try {
      stored = fs.existsSync(file) ? this.readSet(file) : null;
    } catch {
      stored = null; // a broken file is being replaced
    }
    if (stored) {
      const changed = JSON.stringify(stored.questions) !== JSON.stringify(set.questions);
      set.version = Math.max(set.version, stored.version + (changed ? 1 : 0));
    }
    writeFileAtomic(file, formatGoldenSet(set));
    return set;
  }

  /** Adds a question, or replaces the one with its id (or with `previousId` when the id was edited). */
  upsertQuestion(kb: string, question: unknown, previousId?: string): GoldenSet {
    const set = this.getSet(kb) ?? { kb, version: 1, questions: [] };
    const target = previousId ?? (question as { id?: unknown } | null)?.id;
    const at = set.questions.findIndex((q) => q.id === target);
    const q = validateGoldenQuestion(question, this.rel(this.setFile(kb)), at >= 0 ? at + 1 : set.questions.length + 1);
    const questions = [...set.questions];
    if (at >= 0) questions[at] = q;
    else questions.push(q);
    return this.saveSet({ ...set, questions });
  }

  deleteQuestion(kb: string, id: string): GoldenSet {
    const set = this.getSet(kb);
    if (!set) throw new UserError('no-golden-set', `there is no golden set for knowledge base "${kb}"`);
    if (!set.questions.some((q) => q.id === id)) {
      throw new UserError('no-such-question', `the golden set for "${kb}" has no question "${id}"; it has ${set.questions.map((q) => q.id).join(', ') || 'none'}`);
    }
    return this.saveSet({ ...set, questions: set.questions.filter((q) => q.id !== id) });
  }

  /** Deletes a set with its baseline and last run. The demo set is then not seeded again. */
  deleteSet(kb: string): { deleted: string } {
    const file = this.setFile(kb);
    if (!fs.existsSync(file)) throw new UserError('no-golden-set', `there is no golden set for knowledge base "${kb}"`);
    for (const f of [file, this.baselineFile(kb), this.lastRunFile(kb)]) fs.rmSync(f, { force: true });
    fsyncDir(this.dir);
    if (kb === DEMO_GOLDEN_KB) setMeta(this.deps.db(), META_DEMO_DECLINED, new Date().toISOString());
    return { deleted: kb };
  }

  getBaseline(kb: string): GoldenBaseline | null {
    const b = this.readJson<GoldenBaseline>(this.baselineFile(kb), (v) => isRecord(v) && typeof v.recordedAt === 'string' && isRun(v.run));
    if (b && b.run.kb !== kb) throw new UserError('bad-golden-baseline', `${this.rel(this.baselineFile(kb))} holds a baseline for knowledge base "${b.run.kb}"`);
    return b;
  }

  /** Stores `run` as the known-good run for its knowledge base (replacing the previous baseline). */
  recordBaseline(run: GoldenRun): GoldenBaseline {
    if (!isRun(run)) throw new UserError('bad-golden-run', 'a baseline must be a complete golden run');
    this.fileStem(run.kb);
    const { comparison: _c, ...plain } = run as GoldenRunReport;
    const baseline: GoldenBaseline = { kb: run.kb, recordedAt: new Date().toISOString(), run: plain };
    writeFileAtomic(this.baselineFile(run.kb), `${JSON.stringify(baseline, null, 2)}\n`);
    return baseline;
  }

  /** Records the last full run of `kb` as its baseline. */
  recordLastRunAsBaseline(kb: string): GoldenBaseline {
    const last = this.lastRun(kb);
    if (!last) throw new UserError('no-golden-run', `golden questions have not been run for "${kb}" yet; run them first`);
    return this.recordBaseline(last);
  }

  /** The last full run of `kb`, with its comparison as it was then; null when none. */
  lastRun(kb: string): GoldenRunReport | null {
    return this.readJson<GoldenRunReport>(this.lastRunFile(kb), (v) => isRun(v) && isRecord((v as { comparison?: unknown }).comparison));
  }

  /**
   * Runs the set of `kb` and compares it with its baseline. A full run (no `only`) is kept as the
   * last run and sets `golden_pass_ratio` and `golden_last_run` in the catalog's meta.
   */
  async run(kb: string, opts: GoldenRunOptions = {}): Promise<GoldenRunReport> {
    const report = await this.runOne(kb, opts);
    if (!opts.only) this.recordMeta(report.passRatio, report.at);
    return report;
  }

  /** Runs every set whose knowledge base exists; the meta gets the ratio over all of them. */
  async runAll(opts: Omit<GoldenRunOptions, 'only'> = {}): Promise<GoldenRunReport[]> {
    const kbs = new Set(this.deps.kbNames());
    const sets = this.listSets().filter((s) => s.kbExists && !s.error && s.questions > 0);
    if (sets.length === 0) throw new UserError('no-golden-set', `there are no golden questions for any knowledge base${kbs.size ? ` (${[...kbs].join(', ')})` : ''}; add some in the console`);
    const reports: GoldenRunReport[] = [];
    for (const s of sets) reports.push(await this.runOne(s.kb, opts));
    const passed = reports.reduce((n, r) => n + r.passed, 0);
    const total = reports.reduce((n, r) => n + r.total, 0);
    this.recordMeta(total ? passed / total : 0, reports[0]!.at);
    return reports;
  }

  private async runOne(kb: string, opts: GoldenRunOptions): Promise<GoldenRunReport> {
    this.requireKb(kb);
    const set = this.getSet(kb);
    if (!set) throw new UserError('no-golden-set', `there is no golden set for knowledge base "${kb}"; add questions in the console (${this.rel(this.setFile(kb))})`);
    if (set.questions.length === 0) throw new UserError('no-golden-set', `the golden set for "${kb}" has no questions`);
    const run = await runGolden(this.deps.answerer, set, opts);
    let baseline = this.getBaseline(kb);
    if (baseline && opts.only) {
      // A partial run is compared only on the questions it asked.
      baseline = { ...baseline, run: { ...baseline.run, results: baseline.run.results.filter((r) => opts.only!.includes(r.id)) } };
    }
    const report: GoldenRunReport = { ...run, comparison: compareWithBaseline(run, baseline) };
    if (!opts.only) writeFileAtomic(this.lastRunFile(kb), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  }

  private recordMeta(passRatio: number, at: string): void {
    const db = this.deps.db();
    db.transaction(() => {
      setMeta(db, META_PASS_RATIO, String(passRatio));
      setMeta(db, META_LAST_RUN, at);
    })();
  }

  private requireKb(kb: string): void {
    const names = this.deps.kbNames();
    if (!names.includes(kb)) throw new UserError('no-such-kb', `there is no knowledge base named "${kb}"; existing: ${names.join(', ') || '(none)'}`);
  }

  /** The file name stem for `kb`; refuses names that would collide with a baseline, a last run or a temp file. */
  private fileStem(kb: string): string {
    if (typeof kb !== 'string' || kb === '' || /[\x00-\x1f/\\]/.test(kb) || kb === '.' || kb === '..') {
      throw new UserError('bad-kb-name', `"${String(kb)}" is not a knowledge base name`);
    }
    if (kb.endsWith('.baseline') || kb.endsWith('.last-run') || isTempName(`${kb}.json`)) {
      throw new UserError('bad-kb-name', `golden sets cannot be kept for a knowledge base named "${kb}" (its file would clash with Lifeline's own); rename the knowledge base`);
    }
    return kb;
  }

  private setFileNames(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.json') && !n.endsWith(BASELINE_SUFFIX) && !n.endsWith(LAST_RUN_SUFFIX) && !isTempName(n));
  }

  private readSet(file: string): GoldenSet {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new GoldenSetError(this.rel(file), [`cannot be read (${(err as Error).message})`]);
    }
    return parseGoldenSet(text, this.rel(file));
  }

  private readJson<T>(file: string, check: (v: unknown) => boolean): T | null {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new UserError('bad-golden-file', `${this.rel(file)} cannot be read: ${(err as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UserError('bad-golden-file', `${this.rel(file)} is not valid JSON (${(err as Error).message}); delete it or record it again`);
    }
    if (!check(value)) throw new UserError('bad-golden-file', `${this.rel(file)} is not a golden run Lifeline wrote; delete it or record it again`);
    return value as T;
  }

  /** Paths in messages are relative to the data root (as an operator sees them in it). */
  private rel(file: string): string {
    return path.relative(this.deps.root, file).split(path.sep).join('/');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRun(v: unknown): v is GoldenRun {
  return isRecord(v) && typeof v.kb === 'string' && typeof v.at === 'string' && typeof v.passRatio === 'number' && Array.isArray(v.results);
}
