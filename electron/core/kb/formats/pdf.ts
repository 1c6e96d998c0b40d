// PDF: one unit per page (page numbers from 1) with the page's text layer, lines kept where
// pdf.js sees a line end. Uses the pdf.js build bundled in unpdf, quietly (verbosity 0), with
// no network, no fonts loaded and a time limit, so a hostile or broken file ends as a LoadError.
import { getResolvedPDFJS } from 'unpdf';
import { type FormatHandler, LoadError, type ParsedUnit } from './types.js';

/** Longest time pdf.js may take to open a document, or to read the text of one page. */
export const PDF_STEP_TIMEOUT_MS = 30_000;

export const pdf: FormatHandler = {
  format: 'pdf',
  extensions: ['.pdf'],
  parse: parsePdf,
};

const ascii = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);

async function parsePdf(file: string, bytes: Uint8Array): Promise<ParsedUnit[]> {
  if (!ascii(bytes.subarray(0, 1024)).includes('%PDF-')) {
    throw new LoadError(file, 'not a PDF file (no "%PDF-" header): the file is damaged or another format renamed to .pdf');
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x09)) end--;
  if (!ascii(bytes.subarray(Math.max(0, end - 1024), end)).includes('%%EOF')) {
    throw new LoadError(file, 'the PDF is truncated (no "%%EOF" end marker): the download or copy was probably cut short; get the complete file');
  }

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
    const doc = await withTimeout(task.promise, file, 'opening the PDF');
    const units: ParsedUnit[] = [];
    let start = 0;
    for (let n = 1; n <= doc.numPages; n++) {
      const text = await withTimeout(pageText(doc, n), file, `reading page ${n}`);
      if (!text.trim()) continue; // an image-only page: nothing to index
      units.push({ text, start, page: n });
      start += text.length + 1;
    }
    if (!units.length) {
      // No text layer: a scan (the registry says so), unless the pages do draw text that
      // pdf.js could not decode, which happens with non-embedded CJK fonts (see below).
      const textOps = new Set<number>([OPS.showText, OPS.showSpacedText, OPS.nextLineShowText, OPS.nextLineSetSpacingShowText]);
      for (let n = 1; n <= Math.min(doc.numPages, 5); n++) {
        const page = await withTimeout(doc.getPage(n), file, `reading page ${n}`);
        const ops = await withTimeout(page.getOperatorList(), file, `reading page ${n}`);
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

function withTimeout<T>(p: Promise<T>, file: string, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LoadError(file, `the PDF took more than ${PDF_STEP_TIMEOUT_MS / 1000} s ${step}; it is probably malformed`)), PDF_STEP_TIMEOUT_MS);
    timer.unref?.();
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
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
