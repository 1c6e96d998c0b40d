// PDF: one unit per page (page numbers from 1) with the page's text layer, lines kept where
// pdf.js sees a line end. Uses the pdf.js build bundled in unpdf, quietly (verbosity 0), with no
// network and no fonts loaded. pdf.js unpacks every stream it reads whole, with no limit, so the
// compressed streams are measured first (checkStreams: a compression bomb is refused before pdf.js
// sees it). pdf.js is synchronous for long stretches: the parse worker (kb/parseWorker.ts) bounds
// its time, and each page reports progress to it.
import zlib from 'node:zlib';
import { getResolvedPDFJS } from 'unpdf';
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParseContext, type ParsedUnit, TextBudget } from './types.js';
import { inflatedSize } from './zip.js';

/**
 * Most one stream of a PDF may unpack to. Page contents and fonts take a few MB; the largest
 * legitimate streams are images (an A4 colour page scanned at 600 dpi is ~100 MB). pdf.js holds a
 * stream it reads whole, and a page's content stream several times over.
 */
export const MAX_PDF_STREAM_BYTES = 128 * 1024 * 1024;
/** Most all the streams of a PDF may unpack to together (inflating runs at ~1 GB/s, so the check stays within seconds). */
export const MAX_PDF_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;

export const pdf: FormatHandler = {
  format: 'pdf',
  extensions: FORMAT_EXTENSIONS.pdf,
  parse: parsePdf,
};

const ascii = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);

async function parsePdf(file: string, bytes: Uint8Array, ctx?: ParseContext): Promise<ParsedUnit[]> {
  if (!ascii(bytes.subarray(0, 1024)).includes('%PDF-')) {
    throw new LoadError(file, 'not a PDF file (no "%PDF-" header): the file is damaged or another format renamed to .pdf');
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x09)) end--;
  if (!ascii(bytes.subarray(Math.max(0, end - 1024), end)).includes('%%EOF')) {
    throw new LoadError(file, 'the PDF is truncated (no "%%EOF" end marker): the download or copy was probably cut short; get the complete file');
  }
  await checkStreams(file, bytes);

  ctx?.progress('opening the PDF');
  const { getDocument, OPS } = await getResolvedPDFJS();
  const task = getDocument({
    ...optionalFontData(),
    data: new Uint8Array(bytes), // a private copy: pdf.js may take ownership of its buffer
    verbosity: 0,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    enableXfa: false,
    useWasm: false,
    stopAtErrors: false,
  });
  try {
    const doc = await task.promise;
    const budget = new TextBudget(file);
    const units: ParsedUnit[] = [];
    let start = 0;
    for (let n = 1; n <= doc.numPages; n++) {
      ctx?.progress(`reading page ${n}`);
      const text = await pageText(doc, n);
      if (!text.trim()) continue; // an image-only page: nothing to index
      budget.take(text.length + 1);
      units.push({ text, start, page: n });
      start += text.length + 1;
    }
    if (!units.length) {
      // No text layer: a scan (the registry says so), unless the pages do draw text that
      // pdf.js could not decode, which happens with non-embedded CJK fonts (see below).
      const textOps = new Set<number>([OPS.showText, OPS.showSpacedText, OPS.nextLineShowText, OPS.nextLineSetSpacingShowText]);
      for (let n = 1; n <= Math.min(doc.numPages, 5); n++) {
        ctx?.progress(`looking for text drawn on page ${n}`);
        const page = await doc.getPage(n);
        const ops = await page.getOperatorList();
        page.cleanup();
        if (ops.fnArray.some((f) => textOps.has(f))) {
          throw new LoadError(file, 'the PDF draws its text with fonts whose characters cannot be decoded offline (typically non-embedded Chinese fonts); re-create the PDF with fonts embedded, or print it to a new PDF');
        }
      }
    }
    return units;
  } catch (err) {
    throw pdfError(file, err);
  } finally {
    void task.destroy().catch(() => undefined);
  }
}

/**
 * pdf.js needs its CMap files for text in non-embedded CJK fonts (predefined CMaps such as
 * UniGB-UCS2-H) and its standard font data for some simple fonts. They ship with pdfjs-dist,
 * which is not installed; if it ever is, use its files, exactly as unpdf itself would.
 */
function optionalFontData(): { cMapUrl?: string; cMapPacked?: boolean; standardFontDataUrl?: string } {
  try {
    const base = import.meta.resolve('pdfjs-dist/package.json');
    return { cMapUrl: new URL('./cmaps/', base).href, cMapPacked: true, standardFontDataUrl: new URL('./standard_fonts/', base).href };
  } catch {
    return {};
  }
}

type PdfDocument = Awaited<ReturnType<Awaited<ReturnType<typeof getResolvedPDFJS>>['getDocument']>['promise']>;

async function pageText(doc: PdfDocument, n: number): Promise<string> {
  const page = await doc.getPage(n);
  try {
    const content = await page.getTextContent();
    let text = '';
    let lastY: number | null = null;
    for (const item of content.items) {
      if (!('str' in item)) continue;
      const y = item.transform[5] as number;
      // pdf.js marks line ends itself; a jump in y without one is a line end too.
      if (lastY !== null && Math.abs(y - lastY) > Math.max(2, (item.height || 0) / 2) && !text.endsWith('\n')) text += '\n';
      text += item.str;
      if (item.hasEOL) text += '\n';
      lastY = y;
    }
    return cleanText(text);
  } finally {
    page.cleanup();
  }
}

function cleanText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/g, '')
    .split(/\r\n?|\n/)
    .map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0c || b === 0x00;

/** Where a stream's data starts after its "stream" keyword (at `at`): after the next end of line, as pdf.js reads it. */
function streamDataStart(buf: Uint8Array, at: number): number {
  for (let i = at; i < Math.min(buf.length, at + 64); i++) {
    if (buf[i] === 0x0a) return i + 1;
    if (buf[i] === 0x0d) return buf[i + 1] === 0x0a ? i + 2 : i + 1;
  }
  return -1;
}

/** A zlib header as pdf.js's FlateDecode accepts it: deflate method, valid check bits, no preset dictionary. */
function zlibHeader(buf: Uint8Array, at: number): boolean {
  const cmf = buf[at];
  const flg = buf[at + 1];
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0 && !(flg & 0x20);
}

/** Streams this small (compressed) unpack to at most ~16 MB: inflated in one call. */
const SMALL_STREAM = 16 * 1024;

/**
 * Inflates every zlib-compressed stream of the PDF (FlateDecode: whatever its dictionary claims,
 * pdf.js inflates data with a zlib header when a page uses it), discarding the output, and refuses
 * the file when one unpacks to more than MAX_PDF_STREAM_BYTES or all together to more than
 * MAX_PDF_UNPACKED_BYTES. A stream compressed twice over (a filter chain) is measured only once:
 * the parse worker's memory limit is the guard behind this one.
 */
async function checkStreams(file: string, bytes: Uint8Array): Promise<void> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
  let total = 0;
  let from = 0;
  // The first "endstream" at or after `endFrom` (-1: none), kept so that a file without any
  // never costs a search to its end for each stream.
  let endFrom = -1;
  let endAt = -1;
  for (;;) {
    const at = buf.indexOf('stream', from, 'latin1');
    if (at < 0) return;
    from = at + 6;
    // The keyword follows a dictionary (">>" and maybe white space); "endstream" does not.
    if (at > 0 && !isSpace(buf[at - 1]) && buf[at - 1] !== 0x3e) continue;
    const start = streamDataStart(buf, at + 6);
    if (start < 0 || !zlibHeader(buf, start)) continue;
    if (endFrom < 0 || start < endFrom || (endAt >= 0 && endAt < start)) {
      endFrom = start;
      endAt = buf.indexOf('endstream', start, 'latin1');
    }
    const end = endAt >= 0 ? endAt : buf.length;
    const limit = Math.min(MAX_PDF_STREAM_BYTES, MAX_PDF_UNPACKED_BYTES - total);
    const data = buf.subarray(start, end);
    let size: number;
    if (data.length <= SMALL_STREAM) {
      try {
        size = zlib.inflateSync(data, { maxOutputLength: limit + 1, finishFlush: zlib.constants.Z_SYNC_FLUSH }).length;
      } catch (err) {
        size = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? limit + 1 : 0; // else damaged: pdf.js will say so
      }
    } else {
      size = (await inflatedSize(data, limit, 'zlib')).bytes;
    }
    if (size > limit) {
      throw new LoadError(
        file,
        limit < MAX_PDF_STREAM_BYTES
          ? `the streams of the PDF unpack to more than ${mb(MAX_PDF_UNPACKED_BYTES)} in all; refusing a possible compression bomb`
          : `a stream of the PDF (at byte ${at}) unpacks to more than ${mb(MAX_PDF_STREAM_BYTES)}; refusing a possible compression bomb`,
      );
    }
    total += size;
    if (endAt >= 0) from = end;
  }
}

function pdfError(file: string, err: unknown): LoadError {
  if (err instanceof LoadError) return err;
  const name = (err as { name?: string } | null)?.name ?? '';
  const message = String((err as { message?: string } | null)?.message ?? err);
  if (name === 'PasswordException') {
    return new LoadError(file, 'the PDF is password-protected; open it with the password and save or print an unprotected copy, then add that');
  }
  if (name === 'InvalidPDFException') return new LoadError(file, `not a valid PDF (${message}): the file is damaged or not a PDF`);
  return new LoadError(file, `the PDF is damaged and cannot be read (${name && name !== 'Error' ? `${name}: ` : ''}${message})`);
}
