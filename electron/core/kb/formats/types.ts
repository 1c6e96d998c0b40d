// Shared by every document format: what a parser returns, how it fails, and the limits on what
// one document may produce.
export type DocumentFormat = 'txt' | 'md' | 'csv' | 'html' | 'pdf' | 'docx' | 'xlsx' | 'jsonl';

/**
 * The file extensions of each format, in the order they are listed to users. Kept apart from the
 * parsers so that choosing a format never loads one (they run in the parse worker: parseWorker.ts).
 */
export const FORMAT_EXTENSIONS: Readonly<Record<DocumentFormat, readonly string[]>> = {
  txt: ['.txt', '.text', '.log'],
  md: ['.md', '.markdown'],
  csv: ['.csv'],
  html: ['.html', '.htm'],
  pdf: ['.pdf'],
  docx: ['.docx'],
  xlsx: ['.xlsx'],
  jsonl: ['.jsonl', '.ndjson'],
};

/** The largest file accepted (bytes). */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/**
 * The most text a parser may build for one document (UTF-16 code units): 32 Mi characters, some
 * 16,000 pages of dense text or a 400,000-row table. A hospital's longest documents (formularies,
 * device manuals, rosters) stay far below it; a file that yields more is amplifying — header
 * names repeated into every row, one long shared string shown in thousands of cells, a small
 * archive unpacking to gigabytes — or is a data dump better split. Reading a document costs about
 * ten bytes of memory per character of its text (its copies in the parse worker, in transit, and
 * in the caller), so the limit also keeps one document within the worker's memory limit
 * (parsePool.ts). Parsers count what they build (TextBudget) and stop at the limit. Plain text and
 * Markdown are exempt: their text is the file itself, bounded by MAX_DOCUMENT_BYTES.
 */
export const MAX_TEXT_CHARS = 32 * 1024 * 1024;

/**
 * Column labels longer than this are shortened where a row repeats them ("label: value"): real
 * headers are short, and repeating a long one into every row multiplies a file's text.
 */
export const MAX_LABEL_CHARS = 100;

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

/**
 * A document that cannot be read: `file` as the caller named it, and a one-line `reason`. The
 * reason often quotes the file or a library's message about it, so its control characters are
 * shown escaped (escapeControls): an ESC sequence in a document must not reach the operator's
 * terminal through `lifeline ingest`.
 */
export class LoadError extends Error {
  readonly reason: string;

  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${escapeControls(reason)}`);
    this.name = 'LoadError';
    this.reason = escapeControls(reason);
  }
}

/** What a parser may report while it works (the parse worker's watchdog counts it as progress). */
export interface ParseContext {
  /** A step is done (a PDF page): the parse is making progress; `step` names the next one. */
  progress(step: string): void;
}

/** A document format: the extensions it claims and its parser (bytes → units, or LoadError). */
export interface FormatHandler {
  format: DocumentFormat;
  extensions: readonly string[];
  parse(file: string, bytes: Uint8Array, ctx?: ParseContext): Promise<ParsedUnit[]> | ParsedUnit[];
}

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidirectional overrides
// (they reorder or break what a terminal shows).
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every control character written as an escape: "\x1b[2J", "\x07", "\u202e". */
export function escapeControls(s: string): string {
  return s.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Counts the characters a parser extracts, and refuses the document once they pass `limit`. */
export class TextBudget {
  private used = 0;

  constructor(
    readonly file: string,
    readonly limit = MAX_TEXT_CHARS,
  ) {}

  /** Adds `chars` characters; throws the LoadError once the document's text is over the limit. */
  take(chars: number): void {
    this.used += chars;
    if (this.used > this.limit) throw tooMuchText(this.file, this.limit);
  }

  get chars(): number {
    return this.used;
  }
}

export function tooMuchText(file: string, limit = MAX_TEXT_CHARS): LoadError {
  return new LoadError(file, `it yields more than ${limit.toLocaleString('en-US')} characters of text, the limit for one document: split it into smaller files (or it is damaged, e.g. one long value repeated into every row)`);
}

/** `label` as repeated in front of every value of its column: at most MAX_LABEL_CHARS characters. */
export function shortLabel(label: string): string {
  return label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1).trimEnd()}…` : label;
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
