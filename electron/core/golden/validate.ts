// Validation of golden sets, strict on purpose: a misspelt field ("mustcontain") would silently
// check nothing, and a golden set that checks nothing passes after any disaster. Every problem
// is reported at once, naming the file and the question, so a hand-edited file is fixed in one go.
import { UserError } from '../../api/handlers.js';
import type { GoldenQuestion, GoldenSet } from './types.js';

const SET_FIELDS = ['kb', 'version', 'questions'] as const;
const QUESTION_FIELDS = ['id', 'question', 'expectedSources', 'mustContain', 'tags', 'maxLatencyMs'] as const;

/** A golden set that cannot be used; `problems` lists each one (the message joins them). */
export class GoldenSetError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super('bad-golden-set', `${file}: ${problems.join('; ')}`);
    this.name = 'GoldenSetError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function unknownFields(obj: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(obj).filter((k) => !allowed.includes(k));
}

function checkStrings(value: unknown, field: string, problems: string[], where: string, opts: { allowEmptyList: boolean }): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${where}: ${field} must be an array of strings${value === undefined ? ' (it is missing)' : ''}`);
    return [];
  }
  const bad = value.findIndex((s) => !nonEmptyString(s));
  if (bad >= 0) problems.push(`${where}: ${field}[${bad}] must be a non-empty string (found ${JSON.stringify(value[bad]) ?? 'undefined'})`);
  if (!opts.allowEmptyList && value.length === 0) problems.push(`${where}: ${field} must not be empty`);
  return value.filter(nonEmptyString);
}

function checkQuestion(raw: unknown, index: number, seen: Map<string, number>, problems: string[]): GoldenQuestion | null {
  const label = isObject(raw) && nonEmptyString(raw.id) ? `question ${index + 1} ("${raw.id}")` : `question ${index + 1}`;
  if (!isObject(raw)) {
    problems.push(`${label} must be an object`);
    return null;
  }
  const before = problems.length;
  const extra = unknownFields(raw, QUESTION_FIELDS);
  if (extra.length) problems.push(`${label}: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((f) => `"${f}"`).join(', ')} (expected ${QUESTION_FIELDS.join(', ')})`);
  if (!nonEmptyString(raw.id)) problems.push(`${label}: id must be a non-empty string`);
  else {
    const first = seen.get(raw.id);
    if (first !== undefined) problems.push(`${label}: id "${raw.id}" is already used by question ${first + 1}; ids must be unique`);
    else seen.set(raw.id, index);
  }
  if (!nonEmptyString(raw.question)) problems.push(`${label}: question must be a non-empty string`);
  const expectedSources = checkStrings(raw.expectedSources, 'expectedSources', problems, label, { allowEmptyList: true });
  const mustContain = checkStrings(raw.mustContain, 'mustContain', problems, label, { allowEmptyList: true });
  const tags = checkStrings(raw.tags, 'tags', problems, label, { allowEmptyList: true });
  const ms = raw.maxLatencyMs;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    problems.push(`${label}: maxLatencyMs must be a positive number of milliseconds (found ${JSON.stringify(ms) ?? 'nothing'})`);
  }
  if (problems.length > before) return null;
  return { id: raw.id as string, question: raw.question as string, expectedSources, mustContain, tags, maxLatencyMs: ms as number };
}

/**
 * Checks `raw` (parsed JSON) as a golden set; `file` names it in the errors (e.g. `golden/demo.json`).
 * Returns a clean copy; throws a GoldenSetError listing every problem.
 */
export function validateGoldenSet(raw: unknown, file: string): GoldenSet {
  if (!isObject(raw)) throw new GoldenSetError(file, ['a golden set must be a JSON object with kb, version and questions']);
  const problems: string[] = [];
  const extra = unknownFields(raw, SET_FIELDS);
  if (extra.length) problems.push(`unknown top-level field${extra.length > 1 ? 's' : ''} ${extra.map((f) => `"${f}"`).join(', ')} (expected ${SET_FIELDS.join(', ')})`);
  if (!nonEmptyString(raw.kb)) problems.push('kb must be the name of a knowledge base');
  if (typeof raw.version !== 'number' || !Number.isInteger(raw.version) || raw.version < 1) {
    problems.push(`version must be a positive integer (found ${JSON.stringify(raw.version) ?? 'nothing'})`);
  }
  const questions: GoldenQuestion[] = [];
  if (!Array.isArray(raw.questions)) problems.push('questions must be an array');
  else {
    const seen = new Map<string, number>();
    raw.questions.forEach((q, i) => {
      const ok = checkQuestion(q, i, seen, problems);
      if (ok) questions.push(ok);
    });
  }
  if (problems.length) throw new GoldenSetError(file, problems);
  return { kb: raw.kb as string, version: raw.version as number, questions };
}

/** Parses and validates the text of a golden-set file. */
export function parseGoldenSet(text: string, file: string): GoldenSet {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new GoldenSetError(file, [`not valid JSON (${(err as Error).message})`]);
  }
  return validateGoldenSet(raw, file);
}

/** Checks one question on its own (the editor's form); `position` is its 1-based place in the set. */
export function validateGoldenQuestion(raw: unknown, file: string, position = 1): GoldenQuestion {
  const problems: string[] = [];
  const q = checkQuestion(raw, position - 1, new Map(), problems);
  if (!q) throw new GoldenSetError(file, problems);
  return q;
}
