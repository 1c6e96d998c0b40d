// Plain text, Markdown and CSV.
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParsedUnit, TextBudget, decodeText, shortLabel } from './types.js';

export const txt: FormatHandler = {
  format: 'txt',
  extensions: FORMAT_EXTENSIONS.txt,
  parse: (file, bytes) => [{ text: decodeText(file, bytes), start: 0, line: 1 }],
};

export const md: FormatHandler = {
  format: 'md',
  extensions: FORMAT_EXTENSIONS.md,
  parse: (file, bytes) => [{ text: decodeText(file, bytes), start: 0, line: 1 }],
};

export const csv: FormatHandler = {
  format: 'csv',
  extensions: FORMAT_EXTENSIONS.csv,
  parse: (file, bytes) => csvUnits(file, decodeText(file, bytes)),
};

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * RFC 4180 CSV: quoted fields, doubled quotes, newlines in quotes. Lenient like spreadsheet
 * programs: a quote opens a quoted part only at the start of a field (elsewhere it is text), text
 * after a closing quote belongs to the field, and a quote never closed runs to the end. Rows
 * whose fields are all blank are left out.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  forEachCsvRow(text, (row) => rows.push(row));
  return rows;
}

/**
 * Calls `onRow` with each row of `text` (see parseCsv), in order, without keeping them. Fields are
 * sliced out of the text whole (never built a character at a time), so a 20 MB field costs one
 * 20 MB string.
 */
function forEachCsvRow(text: string, onRow: (row: string[]) => void): void {
  const emit = (row: string[]) => {
    if (row.some((f) => f.trim() !== '')) onRow(row);
  };
  let row: string[] = [];
  let field = '';
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (field === '' && text.charCodeAt(i) === QUOTE) {
      // A quoted part: up to the first quote that is not doubled (or the end of the text).
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          field = unquote(text.slice(i + 1));
          i = n;
          break;
        }
        if (text.charCodeAt(q + 1) === QUOTE) {
          j = q + 2;
          continue;
        }
        field = unquote(text.slice(i + 1, q));
        i = q + 1;
        break;
      }
      continue;
    }
    // Unquoted text up to the next separator; a quote in it is an ordinary character.
    let k = i;
    while (k < n) {
      const c = text.charCodeAt(k);
      if (c === COMMA || c === LF || c === CR) break;
      k++;
    }
    if (k > i) field += text.slice(i, k);
    if (k >= n) {
      i = n;
      break;
    }
    const c = text.charCodeAt(k);
    row.push(field);
    field = '';
    if (c === COMMA) {
      i = k + 1;
      continue;
    }
    emit(row);
    row = [];
    i = c === CR && text.charCodeAt(k + 1) === LF ? k + 2 : k + 1;
  }
  if (field !== '' || row.length) {
    row.push(field);
    emit(row);
  }
}

const unquote = (s: string) => (s.includes('""') ? s.replaceAll('""', '"') : s);

/**
 * One unit per data row: "header: value" lines for its non-empty fields (a field beyond the
 * header, or under an empty header name, is kept as a bare value). Long header names are
 * shortened where they are repeated (shortLabel), and the text is counted as it is made.
 */
function csvUnits(file: string, text: string): ParsedUnit[] {
  const budget = new TextBudget(file);
  const units: ParsedUnit[] = [];
  let labels: string[] | null = null;
  let r = 0;
  let start = 0;
  forEachCsvRow(text.replace(/^\uFEFF/, ''), (fields) => {
    if (!labels) {
      labels = fields.map((h) => (h ? `${shortLabel(h)}: ` : ''));
      return;
    }
    r++;
    const lines: string[] = [];
    for (let c = 0; c < fields.length; c++) {
      const v = fields[c]!;
      if (v === '') continue;
      const label = labels[c] ?? '';
      budget.take(label.length + v.length + 1);
      lines.push(label + v);
    }
    if (!lines.length) return;
    const t = lines.join('\n');
    units.push({ text: t, start, row: r });
    start += t.length + 1;
  });
  if (!r) throw new LoadError(file, 'the CSV file has a header but no rows');
  return units;
}
