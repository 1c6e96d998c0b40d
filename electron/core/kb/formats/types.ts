// Shared by every document format: what a parser returns and how it fails.
export type DocumentFormat = 'txt' | 'md' | 'csv' | 'html' | 'pdf' | 'docx' | 'xlsx' | 'jsonl';

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

export class LoadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'LoadError';
  }
}

/** A document format: the extensions it claims and its parser (bytes → units, or LoadError). */
export interface FormatHandler {
  format: DocumentFormat;
  extensions: readonly string[];
  parse(file: string, bytes: Uint8Array): Promise<ParsedUnit[]> | ParsedUnit[];
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

