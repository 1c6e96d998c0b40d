// Document loaders: bytes in, plain text with locations out. A loader either returns text or
// throws a LoadError naming the file and the reason; it never returns half a document.
import path from 'node:path';

export type DocumentFormat = 'txt' | 'md' | 'csv';

export interface ParsedUnit {
  /** Text of this unit (a whole text file, a page, a table row). */
  text: string;
  /** Offset of the unit in the document's full extracted text. */
  start: number;
  /** First line number of the unit, for line-based formats. */
  line?: number;
  page?: number;
  row?: number;
}

export interface ParsedDocument {
  format: DocumentFormat;
  units: ParsedUnit[];
}

export class LoadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'LoadError';
  }
}

export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

const EXTENSIONS: Record<string, DocumentFormat> = { '.txt': 'txt', '.text': 'txt', '.log': 'txt', '.md': 'md', '.markdown': 'md', '.csv': 'csv' };

export function formatOf(file: string): DocumentFormat | null {
  return EXTENSIONS[path.extname(file).toLowerCase()] ?? null;
}

export function supportedExtensions(): string[] {
  return Object.keys(EXTENSIONS);
}

export function parseDocument(file: string, bytes: Uint8Array): ParsedDocument {
  const format = formatOf(file);
  if (!format) throw new LoadError(file, `unsupported file type "${path.extname(file) || '(none)'}"; supported: ${supportedExtensions().join(' ')}`);
  if (bytes.byteLength === 0) throw new LoadError(file, 'the file is empty');
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new LoadError(file, `the file is ${bytes.byteLength} bytes, more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
  const text = decodeText(file, bytes);
  if (!text.trim()) throw new LoadError(file, 'the file has no text');
  switch (format) {
    case 'txt':
    case 'md':
      return { format, units: [{ text, start: 0, line: 1 }] };
    case 'csv':
      return { format, units: csvUnits(file, text) };
  }
}

/** UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused by name. */
export function decodeText(file: string, bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    try {
      // Many Chinese documents on Windows are saved as GB18030 (GBK).
      const t = new TextDecoder('gb18030', { fatal: true }).decode(bytes);
      return t;
    } catch {
      throw new LoadError(file, 'the text is neither valid UTF-8 nor GB18030; save it as UTF-8 and try again');
    }
  }
}

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
