// Plain text, Markdown and CSV.
import { type FormatHandler, LoadError, type ParsedUnit, decodeText } from './types.js';

export const txt: FormatHandler = {
  format: 'txt',
  extensions: ['.txt', '.text', '.log'],
  parse: (file, bytes) => [{ text: decodeText(file, bytes), start: 0, line: 1 }],
};

export const md: FormatHandler = {
  format: 'md',
  extensions: ['.md', '.markdown'],
  parse: (file, bytes) => [{ text: decodeText(file, bytes), start: 0, line: 1 }],
};

export const csv: FormatHandler = {
  format: 'csv',
  extensions: ['.csv'],
  parse: (file, bytes) => csvUnits(file, decodeText(file, bytes)),
};

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines in quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

function csvUnits(file: string, text: string): ParsedUnit[] {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  if (rows.length < 2) throw new LoadError(file, 'the CSV file has a header but no rows');
  const header = rows[0]!;
  const units: ParsedUnit[] = [];
  let start = 0;
  for (let r = 1; r < rows.length; r++) {
    const t = rows[r]!.map((v, c) => (header[c] ? `${header[c]}: ${v}` : v)).join('\n');
    units.push({ text: t, start, row: r });
    start += t.length + 1;
  }
  return units;
}
