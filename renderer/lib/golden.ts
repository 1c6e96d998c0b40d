// The golden-question editor's pure logic: the form of one question (comma lists, the latency
// limit), its validation (unique ids, a question that checks something), edits of the set,
// the version to save, and the knowledge bases to choose from. No React, no DOM.
import type { GoldenQuestion, GoldenRunResult, GoldenSet } from '../../electron/api/contract.js';
import type { MessageKey } from '../i18n/index.js';

/** The latency limit a new question starts with (milliseconds). */
export const DEFAULT_MAX_LATENCY_MS = 5000;

/** The form as typed: every field a string. */
export interface QuestionForm {
  id: string;
  question: string;
  /** File names, comma separated. */
  sources: string;
  /** Literal strings the answer must contain, comma separated. */
  facts: string;
  /** Comma separated. */
  tags: string;
  /** Milliseconds. */
  latency: string;
}

export type QuestionField = keyof QuestionForm;

/**
 * Names (file names, tags) are split on ASCII and full-width commas, the enumeration comma 、,
 * semicolons and line breaks — an operator typing Chinese gets the full-width ones.
 */
const NAME_SEPARATORS = /[,，、;；\n\r]+/;
/**
 * Facts are split on ASCII commas and line breaks only: a fact is a literal piece of a sentence
 * and may itself hold a full-width comma (e.g. "每日三次，饭后服用").
 */
const FACT_SEPARATORS = /[,\n\r]+/;

function splitOn(text: string, separators: RegExp): string[] {
  const out: string[] = [];
  for (const part of text.split(separators)) {
    const item = part.trim();
    if (item && !out.includes(item)) out.push(item);
  }
  return out;
}

/** A comma list of names: trimmed, empty items dropped, duplicates dropped, order kept. */
export function splitNames(text: string): string[] {
  return splitOn(text, NAME_SEPARATORS);
}

/** A comma list of facts (see FACT_SEPARATORS). */
export function splitFacts(text: string): string[] {
  return splitOn(text, FACT_SEPARATORS);
}

export function joinList(items: readonly string[]): string {
  return items.join(', ');
}

export function emptyForm(): QuestionForm {
  return { id: '', question: '', sources: '', facts: '', tags: '', latency: String(DEFAULT_MAX_LATENCY_MS) };
}

export function formOfQuestion(q: GoldenQuestion): QuestionForm {
  return {
    id: q.id,
    question: q.question,
    sources: joinList(q.expectedSources),
    facts: joinList(q.mustContain),
    tags: joinList(q.tags),
    latency: String(q.maxLatencyMs),
  };
}

/** Letters, digits, and - _ . inside (e.g. `leave-annual-days`): safe in reports and file names. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A positive whole number of milliseconds, or null. Accepts "2000" and "2 000"; refuses 0, -1, 1.5, "2s". */
export function parseLatency(text: string): number | null {
  const compact = text.replace(/[\s_,]/g, '');
  if (!/^\d+$/.test(compact)) return null;
  const n = Number(compact);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** An id not among `taken`, made from `base` (`q-1`, `q-2`… when there is no base). */
export function uniqueId(taken: readonly string[], base = 'q'): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'q';
  if (base !== 'q' && !taken.includes(clean)) return clean;
  for (let n = 1; ; n++) {
    const id = `${clean}-${n}`;
    if (!taken.includes(id)) return id;
  }
}

export interface QuestionCheck {
  /** The question to keep, when the form is valid. */
  question: GoldenQuestion | null;
  errors: Partial<Record<QuestionField, MessageKey>>;
}

/**
 * Checks the form of one question. `otherIds` are the ids of the set's other questions (not
 * the one being edited). An empty id gets one made up (`q-1`…); a typed id must be unique.
 * A question must check something — an expected source or a fact — or it passes after any
 * disaster.
 */
export function checkQuestionForm(form: QuestionForm, otherIds: readonly string[]): QuestionCheck {
  const errors: Partial<Record<QuestionField, MessageKey>> = {};
  const typedId = form.id.trim();
  if (typedId && !ID_PATTERN.test(typedId)) errors.id = 'golden.err.idFormat';
  else if (typedId && otherIds.includes(typedId)) errors.id = 'golden.err.idTaken';
  const question = form.question.trim();
  if (!question) errors.question = 'golden.err.question';
  const expectedSources = splitNames(form.sources);
  const mustContain = splitFacts(form.facts);
  if (expectedSources.length === 0 && mustContain.length === 0) errors.sources = 'golden.err.nothingChecked';
  const tags = splitNames(form.tags);
  const maxLatencyMs = parseLatency(form.latency);
  if (maxLatencyMs === null) errors.latency = 'golden.err.latency';
  if (Object.keys(errors).length > 0 || maxLatencyMs === null) return { question: null, errors };
  const id = typedId || uniqueId(otherIds);
  return { question: { id, question, expectedSources, mustContain, tags, maxLatencyMs }, errors };
}

/** Ids used by more than one question (a set loaded from a hand-edited file may have them). */
export function duplicateIds(questions: readonly Pick<GoldenQuestion, 'id'>[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const q of questions) {
    if (seen.has(q.id) && !dup.includes(q.id)) dup.push(q.id);
    seen.add(q.id);
  }
  return dup;
}

/** Replaces the question `replacing` (by id) with `q`, or appends `q` when `replacing` is null. */
export function upsertQuestion(questions: readonly GoldenQuestion[], q: GoldenQuestion, replacing: string | null): GoldenQuestion[] {
  if (replacing === null) return [...questions, q];
  let found = false;
  const out = questions.map((x) => {
    if (x.id !== replacing || found) return x;
    found = true;
    return q;
  });
  return found ? out : [...out, q];
}

export function removeQuestion(questions: readonly GoldenQuestion[], id: string): GoldenQuestion[] {
  return questions.filter((q) => q.id !== id);
}

export function questionsChanged(a: readonly GoldenQuestion[], b: readonly GoldenQuestion[]): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

/**
 * The set to save: the version goes up by one when the questions changed (the golden-set
 * format asks for it), and a new set starts at version 1.
 */
export function setToSave(kb: string, loaded: GoldenSet | null, questions: readonly GoldenQuestion[]): GoldenSet {
  const base = loaded && Number.isInteger(loaded.version) && loaded.version > 0 ? loaded.version : 0;
  const changed = !loaded || questionsChanged(loaded.questions, questions);
  return { kb, version: changed ? base + 1 : Math.max(1, base), questions: [...questions] };
}

/** Knowledge bases to choose from: those that exist and those with a golden set, sorted, each once. */
export function goldenKbChoices(sets: readonly Pick<GoldenSet, 'kb'>[] | null, kbs: readonly { name: string }[] | null): string[] {
  const names = new Set<string>();
  for (const k of kbs ?? []) names.add(k.name);
  for (const s of sets ?? []) names.add(s.kb);
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** The knowledge base chosen first: one with a golden set, else the first there is. */
export function defaultGoldenKb(sets: readonly Pick<GoldenSet, 'kb' | 'questions'>[] | null, choices: readonly string[]): string {
  const withQuestions = (sets ?? []).find((s) => s.questions.length > 0 && choices.includes(s.kb));
  return withQuestions?.kb ?? choices[0] ?? '';
}

/** Pass ratio as a whole percentage (0 when there are no questions). */
export function passPercent(run: Pick<GoldenRunResult, 'passed' | 'total'>): number {
  return run.total > 0 ? Math.round((run.passed / run.total) * 100) : 0;
}
