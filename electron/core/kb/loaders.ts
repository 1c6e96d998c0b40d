// Document loaders: bytes in, plain text with locations out. A loader either returns text or
// throws a LoadError naming the file and the reason; it never returns half a document. The
// parsers run in a worker thread with time and memory limits (parsePool.ts), so no document can
// block or crash the process that ingests it. Plain text and Markdown are the exception: they are
// only decoded (no library, linear in the file, at most 64 MiB), which is faster here than the
// round trip to the worker.
import path from 'node:path';
import { extractUnits } from './extract.js';
import { type DocumentFormat, FORMAT_EXTENSIONS, LoadError, MAX_DOCUMENT_BYTES, type ParsedUnit } from './formats/types.js';
import { parseInWorker } from './parsePool.js';

export { LoadError, decodeText, escapeControls, MAX_DOCUMENT_BYTES, MAX_TEXT_CHARS, type DocumentFormat, type ParsedUnit, type FormatHandler } from './formats/types.js';
export { parseCsv } from './formats/text.js';

export interface ParsedDocument {
  format: DocumentFormat;
  units: ParsedUnit[];
}

const FORMATS = Object.entries(FORMAT_EXTENSIONS) as [DocumentFormat, readonly string[]][];

/** Formats read in the caller's thread (see above); every other one goes to the parse worker. */
const IN_PLACE: ReadonlySet<DocumentFormat> = new Set(['txt', 'md']);

export function formatOf(file: string): DocumentFormat | null {
  const ext = path.extname(file).toLowerCase();
  return FORMATS.find(([, exts]) => exts.includes(ext))?.[0] ?? null;
}

export function supportedExtensions(): string[] {
  return FORMATS.flatMap(([, exts]) => exts);
}

export async function parseDocument(file: string, bytes: Uint8Array): Promise<ParsedDocument> {
  const format = formatOf(file);
  if (!format) throw new LoadError(file, `unsupported file type "${path.extname(file) || '(none)'}"; supported: ${supportedExtensions().join(' ')}`);
  if (bytes.byteLength === 0) throw new LoadError(file, 'the file is empty');
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new LoadError(file, `the file is ${bytes.byteLength} bytes, more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
  return { format, units: IN_PLACE.has(format) ? await extractUnits(file, format, bytes) : await parseInWorker(file, format, bytes) };
}
