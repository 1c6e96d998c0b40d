// Document loaders: bytes in, plain text with locations out. A loader either returns text or
// throws a LoadError naming the file and the reason; it never returns half a document.
import path from 'node:path';
import { docx } from './formats/docx.js';
import { html } from './formats/html.js';
import { jsonl } from './formats/jsonl.js';
import { pdf } from './formats/pdf.js';
import { csv, md, txt } from './formats/text.js';
import { xlsx } from './formats/xlsx.js';
import { type DocumentFormat, type FormatHandler, LoadError, type ParsedUnit } from './formats/types.js';

export { LoadError, decodeText, type DocumentFormat, type ParsedUnit, type FormatHandler } from './formats/types.js';
export { parseCsv } from './formats/text.js';

export interface ParsedDocument {
  format: DocumentFormat;
  units: ParsedUnit[];
}

export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

const HANDLERS: readonly FormatHandler[] = [txt, md, csv, html, pdf, docx, xlsx, jsonl];

function handlerFor(file: string): FormatHandler | undefined {
  const ext = path.extname(file).toLowerCase();
  return HANDLERS.find((h) => h.extensions.includes(ext));
}

export function formatOf(file: string): DocumentFormat | null {
  return handlerFor(file)?.format ?? null;
}

export function supportedExtensions(): string[] {
  return HANDLERS.flatMap((h) => h.extensions);
}

export async function parseDocument(file: string, bytes: Uint8Array): Promise<ParsedDocument> {
  const handler = handlerFor(file);
  if (!handler) throw new LoadError(file, `unsupported file type "${path.extname(file) || '(none)'}"; supported: ${supportedExtensions().join(' ')}`);
  if (bytes.byteLength === 0) throw new LoadError(file, 'the file is empty');
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new LoadError(file, `the file is ${bytes.byteLength} bytes, more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
  let units: ParsedUnit[];
  try {
    units = await handler.parse(file, bytes);
  } catch (err) {
    if (err instanceof LoadError) throw err;
    throw new LoadError(file, `cannot be read as ${handler.format.toUpperCase()}: ${(err as Error).message}`);
  }
  if (!units.some((u) => u.text.trim())) throw new LoadError(file, 'no text could be extracted (a scanned image, or an empty document?)');
  return { format: handler.format, units };
}
