// Runs a format's parser on one document: its units, or a LoadError naming the file. This is the
// body of the parse worker (parseWorker.ts); the app calls parseDocument (loaders.ts), which runs
// it there, because parsers of damaged or hostile files can block for minutes, use gigabytes, or
// leave rejections behind, and the worker's limits (parsePool.ts) contain all of that.
import { type DocumentFormat, type FormatHandler, LoadError, MAX_TEXT_CHARS, type ParseContext, type ParsedUnit, tooMuchText } from './formats/types.js';
import { libraryMessage } from './formats/zip.js';

/** Each format's parser, loaded when first needed (pdf.js alone is several MB of code). */
const HANDLERS: Record<DocumentFormat, () => Promise<FormatHandler>> = {
  txt: async () => (await import('./formats/text.js')).txt,
  md: async () => (await import('./formats/text.js')).md,
  csv: async () => (await import('./formats/text.js')).csv,
  html: async () => (await import('./formats/html.js')).html,
  pdf: async () => (await import('./formats/pdf.js')).pdf,
  docx: async () => (await import('./formats/docx.js')).docx,
  xlsx: async () => (await import('./formats/xlsx.js')).xlsx,
  jsonl: async () => (await import('./formats/jsonl.js')).jsonl,
};

const loaded = new Map<DocumentFormat, Promise<FormatHandler>>();

/** The units of `file` read as `format`: at least one with text, at most MAX_TEXT_CHARS of it. */
export async function extractUnits(file: string, format: DocumentFormat, bytes: Uint8Array, ctx?: ParseContext): Promise<ParsedUnit[]> {
  let loading = loaded.get(format);
  if (!loading) loaded.set(format, (loading = HANDLERS[format]()));
  const handler = await loading;
  let units: ParsedUnit[];
  try {
    units = await handler.parse(file, bytes, ctx);
  } catch (err) {
    if (err instanceof LoadError) throw err;
    throw new LoadError(file, `cannot be read as ${format.toUpperCase()}: ${libraryMessage(err)}`);
  }
  // The parsers count what they build; this catches any that does not. Plain text is the file.
  if (format !== 'txt' && format !== 'md') {
    let chars = 0;
    for (const u of units) chars += u.text.length;
    if (chars > MAX_TEXT_CHARS) throw tooMuchText(file);
  }
  if (!units.some((u) => u.text.trim())) throw new LoadError(file, 'no text could be extracted (a scanned image, or an empty document?)');
  return units;
}

/**
 * Units as the parse worker sends them: their texts joined into a few large strings, the rest in
 * typed arrays. Copying that between threads is a few memcpys, where 900,000 unit objects (a
 * large CSV) would be cloned one by one, blocking the receiving thread for seconds.
 */
export interface PackedUnits {
  /** The units' texts, one after the other, in pieces of about PACK_CHUNK_CHARS (a unit is never split). */
  chunks: string[];
  /** For each unit: the chunk holding its text, and where that text ends in it. */
  chunk: Uint32Array;
  ends: Float64Array;
  starts: Float64Array;
  /** line, page, row of each unit; -1 where a unit has none; absent when no unit has one. */
  line?: Int32Array;
  page?: Int32Array;
  row?: Int32Array;
}

const LOCATIONS = ['line', 'page', 'row'] as const;
const PACK_CHUNK_CHARS = 4 * 1024 * 1024;

/**
 * Packs `units` for the trip to another thread. Each unit's text is dropped from `units` once it
 * is in a chunk, so that the document's text is not held twice over while it is packed.
 */
export function packUnits(units: ParsedUnit[]): { packed: PackedUnits; transfer: ArrayBuffer[] } {
  const n = units.length;
  const chunk = new Uint32Array(n);
  const ends = new Float64Array(n);
  const starts = new Float64Array(n);
  const locations: Partial<Record<(typeof LOCATIONS)[number], Int32Array>> = {};
  for (const key of LOCATIONS) if (units.some((u) => u[key] !== undefined)) locations[key] = new Int32Array(n).fill(-1);
  const chunks: string[] = [];
  let pieces: string[] = [];
  let length = 0;
  units.forEach((u, i) => {
    if (length >= PACK_CHUNK_CHARS) {
      chunks.push(pieces.join(''));
      pieces = [];
      length = 0;
    }
    pieces.push(u.text);
    length += u.text.length;
    chunk[i] = chunks.length;
    ends[i] = length;
    starts[i] = u.start;
    for (const key of LOCATIONS) if (u[key] !== undefined) locations[key]![i] = u[key];
    u.text = '';
  });
  if (pieces.length) chunks.push(pieces.join(''));
  const packed: PackedUnits = { chunks, chunk, ends, starts, ...locations };
  return { packed, transfer: [chunk.buffer, ends.buffer, starts.buffer, ...Object.values(locations).map((a) => a.buffer as ArrayBuffer)] };
}

export function unpackUnits(p: PackedUnits): ParsedUnit[] {
  const units: ParsedUnit[] = new Array(p.ends.length);
  let from = 0;
  for (let i = 0; i < p.ends.length; i++) {
    if (i > 0 && p.chunk[i] !== p.chunk[i - 1]) from = 0;
    const to = p.ends[i]!;
    const u: ParsedUnit = { text: p.chunks[p.chunk[i]!]!.slice(from, to), start: p.starts[i]! };
    for (const key of LOCATIONS) {
      const v = p[key]?.[i];
      if (v !== undefined && v >= 0) u[key] = v;
    }
    units[i] = u;
    from = to;
  }
  return units;
}
