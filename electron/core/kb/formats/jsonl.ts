// JSON Lines (.jsonl, .ndjson): one unit per non-empty line, `row` = the line number. A line
// is an object: its text/content/page_content field (with title/question/answer when present),
// or else all its scalar fields as "key: value" lines. One bad line rejects the whole file.
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParsedUnit, TextBudget, decodeText } from './types.js';

export const jsonl: FormatHandler = {
  format: 'jsonl',
  extensions: FORMAT_EXTENSIONS.jsonl,
  parse: (file, bytes) => jsonlUnits(file, decodeText(file, bytes)),
};

const BODY_FIELDS = ['text', 'content', 'page_content'] as const;
const LABEL_FIELDS = ['title', 'question', 'answer'] as const;

function jsonlUnits(file: string, source: string): ParsedUnit[] {
  const budget = new TextBudget(file);
  const units: ParsedUnit[] = [];
  let start = 0;
  source
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const lineNo = i + 1;
      const line = raw.replace(/\r$/, '').trim();
      if (!line) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        const detail = ((err as Error).message ?? '').replace(/\s+/g, ' ').slice(0, 120);
        throw new LoadError(file, `line ${lineNo}: not valid JSON${detail ? ` (${detail})` : ''}; every line must be one JSON object`);
      }
      const text = recordText(value);
      if (text === null) throw new LoadError(file, `line ${lineNo}: expected a JSON object or string, found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
      if (!text.trim()) return;
      budget.take(text.length + 1);
      units.push({ text, start, row: lineNo });
      start += text.length + 1;
    });
  return units;
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v.trim();
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return null;
}

function recordText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  const bodyKey = BODY_FIELDS.find((k) => typeof obj[k] === 'string');
  if (bodyKey) {
    const lines: string[] = [];
    for (const k of LABEL_FIELDS) {
      const v = scalar(obj[k]);
      if (v) lines.push(`${k}: ${v}`);
    }
    lines.push((obj[bodyKey] as string).trim());
    return lines.filter(Boolean).join('\n');
  }
  const lines: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const s = scalar(v);
    if (s) lines.push(`${k}: ${s}`);
  }
  return lines.join('\n');
}
