// Generators of real sample documents for the format tests: PDFs (pdf-lib, with a CJK font
// when the text needs one), DOCX and XLSX packages (Office Open XML built with JSZip), plain
// ZIPs, ZIP bombs and other broken inputs. Everything is built in memory; nothing is mocked.
import fs from 'node:fs';
import zlib from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import JSZip from 'jszip';
import { PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString, StandardFonts, rgb } from 'pdf-lib';
import { LoadError } from '../../electron/core/kb/formats/types.js';

/** A CJK font shipped by the OS (WenQuanYi Micro Hei, a TrueType collection). */
export const CJK_FONT_PATH = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

export function cjkFontAvailable(): boolean {
  return fs.existsSync(CJK_FONT_PATH);
}

const NEEDS_UNICODE_FONT = /[^\u0000-\u00ff]/;

export interface PdfOptions {
  /** Font size in points (default 12). */
  fontSize?: number;
}

/**
 * A PDF with one page per string; '\n' starts a new line on the page. Text outside Latin-1
 * (Chinese, …) is drawn with the CJK font, embedded as a subset; the first font of the
 * TrueType collection is picked because pdf-lib cannot embed a .ttc by itself.
 */
export async function makePdf(pages: readonly string[], opts: PdfOptions = {}): Promise<Uint8Array> {
  const size = opts.fontSize ?? 12;
  const doc = await PDFDocument.create();
  doc.setCreator('lifeline tests');
  const unicode = pages.some((p) => NEEDS_UNICODE_FONT.test(p));
  let font;
  if (unicode) {
    if (!cjkFontAvailable()) throw new Error(`makePdf: Chinese text needs the font ${CJK_FONT_PATH}`);
    doc.registerFontkit({
      create: (buf: Uint8Array, name?: string) => {
        const f = fontkit.create(buf as Buffer, name) as unknown as { fonts?: unknown[] };
        return (f.fonts ? f.fonts[0] : f) as ReturnType<typeof fontkit.create>;
      },
    });
    font = await doc.embedFont(fs.readFileSync(CJK_FONT_PATH), { subset: true });
  } else {
    font = await doc.embedFont(StandardFonts.Helvetica);
  }
  for (const text of pages) {
    const page = doc.addPage([595, 842]);
    let y = 800;
    for (const line of text.split('\n')) {
      if (line) page.drawText(line, { x: 50, y, size, font });
      y -= size * 1.6;
    }
  }
  return doc.save();
}

/** A PDF whose pages only carry drawings, no text layer (like a scanned document). */
export async function makeImageOnlyPdf(pageCount = 1): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pageCount; i++) {
    const page = doc.addPage([595, 842]);
    page.drawRectangle({ x: 50, y: 500, width: 300, height: 200, color: rgb(0.2, 0.4, 0.6) });
  }
  return doc.save();
}

/**
 * A PDF that needs a password to open: the standard security handler (RC4, revision 3) with a
 * user-password check value that the empty password cannot satisfy.
 */
export async function makePasswordPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText('Secret ward roster', { x: 50, y: 800, size: 12, font });
  const hex = (seed: number) => PDFHexString.of(Array.from({ length: 32 }, (_, i) => ((i * 37 + seed) & 0xff).toString(16).padStart(2, '0')).join(''));
  const encrypt = doc.context.obj({
    Filter: PDFName.of('Standard'),
    V: PDFNumber.of(2),
    R: PDFNumber.of(3),
    Length: PDFNumber.of(128),
    P: PDFNumber.of(-3904),
    O: hex(11),
    U: hex(99),
  });
  doc.context.trailerInfo.Encrypt = doc.context.register(encrypt);
  doc.context.trailerInfo.ID = doc.context.obj([hex(5), hex(5)]);
  return doc.save({ useObjectStreams: false });
}

/**
 * A PDF whose text uses a non-embedded Chinese font with a predefined CMap (UniGB-UCS2-H,
 * common in older Chinese PDFs): decoding it needs CMap files that are not available offline.
 */
export async function makeNonEmbeddedCjkPdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const ctx = doc.context;
  const descriptor = ctx.register(
    ctx.obj({ Type: 'FontDescriptor', FontName: 'STSong-Light', Flags: 6, FontBBox: [0, -200, 1000, 900], ItalicAngle: 0, Ascent: 880, Descent: -120, CapHeight: 880, StemV: 93 }),
  );
  const cidFont = ctx.register(
    ctx.obj({ Type: 'Font', Subtype: 'CIDFontType0', BaseFont: 'STSong-Light', CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('GB1'), Supplement: 4 }, FontDescriptor: descriptor }),
  );
  const font = ctx.register(ctx.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: 'STSong-Light-UniGB-UCS2-H', Encoding: 'UniGB-UCS2-H', DescendantFonts: [cidFont] }));
  const page = doc.addPage([595, 842]);
  page.node.setFontDictionary(PDFName.of('F1'), font);
  const hexText = Array.from(text, (ch) => ch.charCodeAt(0).toString(16).padStart(4, '0')).join('');
  page.node.set(PDFName.of('Contents'), ctx.register(ctx.stream(`BT /F1 12 Tf 50 800 Td <${hexText}> Tj ET`)));
  return doc.save();
}

// ---- ZIP packages -------------------------------------------------------------------------

export type ZipEntries = Record<string, string | Uint8Array>;

/** A ZIP archive (DEFLATE) holding the given entries. */
export async function makeZip(entries: ZipEntries): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(entries)) zip.file(name, content);
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 6 } });
}

export interface ZipBombOptions {
  /** Entry name, e.g. 'word/document.xml' so the bomb looks like a DOCX. */
  entry?: string;
  /** How many zero bytes the entry inflates to (any size: memory use stays around 1 MB). */
  inflatedBytes: number;
  /** Extra entries, to make the archive look like a real package. */
  extra?: ZipEntries;
  /**
   * Record this as the entry's uncompressed size (local and central headers) instead of the
   * truth, so that only actually inflating the data reveals the bomb.
   */
  declareSize?: number;
}

interface RawZipEntry {
  name: string;
  /** DEFLATE data. */
  data: Uint8Array;
  crc: number;
  size: number;
}

/**
 * A small ZIP whose entry inflates to `inflatedBytes` zeros. The DEFLATE stream is built
 * from one compressed MiB of zeros repeated (each copy is a self-contained, byte-aligned
 * non-final block), so a 1 GB bomb costs about 1 MB to make.
 */
export function makeZipBomb(opts: ZipBombOptions): Uint8Array {
  const MiB = 1 << 20;
  const zeros = new Uint8Array(MiB);
  const whole = Math.floor(opts.inflatedBytes / MiB);
  const rest = opts.inflatedBytes % MiB;
  const block = zlib.deflateRawSync(zeros, { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const tail = zlib.deflateRawSync(zeros.subarray(0, rest), { level: 9 });
  const data = new Uint8Array(block.length * whole + tail.length);
  for (let i = 0; i < whole; i++) data.set(block, i * block.length);
  data.set(tail, whole * block.length);
  let crc = 0;
  for (let i = 0; i < whole; i++) crc = zlib.crc32(zeros, crc);
  crc = zlib.crc32(zeros.subarray(0, rest), crc);
  const entries: RawZipEntry[] = Object.entries(opts.extra ?? {}).map(([name, content]) => {
    const raw = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    return { name, data: zlib.deflateRawSync(raw), crc: zlib.crc32(raw), size: raw.length };
  });
  entries.push({ name: opts.entry ?? 'word/document.xml', data, crc, size: opts.declareSize ?? opts.inflatedBytes });
  return writeZip(entries);
}

/** A plain ZIP (DEFLATE entries, no ZIP64) from already compressed entries. */
function writeZip(entries: readonly RawZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, 8, true);
    lv.setUint32(14, e.crc >>> 0, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, 8, true);
    cv.setUint32(16, e.crc >>> 0, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, e.data);
    centrals.push(central);
    offset += local.length + e.data.length;
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Overwrites the uncompressed size recorded for `entry` in both its local and central header. */
export function patchDeclaredSize(zip: Uint8Array, entry: string, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= 0; i--) if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new Error('patchDeclaredSize: not a ZIP');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  for (let n = 0; n < count; n++) {
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    if (name === entry) {
      view.setUint32(p + 24, size, true);
      view.setUint32(view.getUint32(p + 42, true) + 22, size, true);
      return;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`patchDeclaredSize: no entry ${entry}`);
}

/** The first bytes of an OLE compound file: what an encrypted DOCX/XLSX or an old .doc/.xls is. */
export function makeOleFile(size = 4096): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
  bytes.set([0x3e, 0x00, 0x03, 0x00, 0xfe, 0xff, 0x09, 0x00], 0x18);
  return bytes;
}

/** Deterministic pseudo-random bytes (never a valid document). */
export function randomBytes(size: number, seed = 42): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

// ---- DOCX ---------------------------------------------------------------------------------

/** A DOCX block: a plain paragraph, a heading (level 1–6), or a table of cell texts. */
export type DocxBlock = string | { text: string; heading?: 1 | 2 | 3 | 4 | 5 | 6 } | { table: string[][] };

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

function docxParagraph(text: string, style?: string): string {
  const pPr = style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : '';
  const runs = text.split('\n').map((part, i) => `${i ? '<w:r><w:br/></w:r>' : ''}<w:r><w:t xml:space="preserve">${xmlEscape(part)}</w:t></w:r>`);
  return `<w:p>${pPr}${runs.join('')}</w:p>`;
}

/** The XML parts of a minimal but complete Word document, so callers can tamper with them. */
export function docxParts(blocks: readonly DocxBlock[]): ZipEntries {
  const body = blocks
    .map((b) => {
      if (typeof b === 'string') return docxParagraph(b);
      if ('table' in b) {
        const rows = b.table.map((r) => `<w:tr>${r.map((c) => `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>${docxParagraph(c)}</w:tc>`).join('')}</w:tr>`);
        return `<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>${rows.join('')}</w:tbl>`;
      }
      return docxParagraph(b.text, b.heading ? `Heading${b.heading}` : undefined);
    })
    .join('');
  const headingStyles = [1, 2, 3, 4, 5, 6]
    .map((n) => `<w:style w:type="paragraph" w:styleId="Heading${n}"><w:name w:val="heading ${n}"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="${n - 1}"/></w:pPr></w:style>`)
    .join('');
  return {
    '[Content_Types].xml': `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
    '_rels/.rels': `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    'word/_rels/document.xml.rels': `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
    'word/styles.xml': `${XML_DECL}<w:styles xmlns:w="${W_NS}"><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>${headingStyles}</w:styles>`,
    'word/document.xml': `${XML_DECL}<w:document xmlns:w="${W_NS}"><w:body>${body}<w:sectPr/></w:body></w:document>`,
  };
}

/** A Word document (.docx) with the given paragraphs, headings and tables. */
export async function makeDocx(blocks: readonly DocxBlock[]): Promise<Uint8Array> {
  return makeZip(docxParts(blocks));
}

// ---- XLSX ---------------------------------------------------------------------------------

/** A cell value; a Date is stored as an Excel serial date with the built-in date format. */
export type XlsxCell = string | number | boolean | Date | null | undefined;

export interface XlsxSheet {
  name: string;
  /** Rows from row 1; null/undefined cells are left out, an all-empty row is left out entirely. */
  rows: readonly (readonly XlsxCell[])[];
}

/** The spreadsheet column letters of a 0-based index: 0 → A, 25 → Z, 26 → AA. */
export function columnName(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** The XML parts of a minimal Excel workbook (strings go to the shared-strings table). */
export function xlsxParts(sheets: readonly XlsxSheet[]): ZipEntries {
  const shared: string[] = [];
  const sharedIndex = new Map<string, number>();
  const stringId = (s: string) => {
    let i = sharedIndex.get(s);
    if (i === undefined) {
      i = shared.length;
      shared.push(s);
      sharedIndex.set(s, i);
    }
    return i;
  };
  const parts: ZipEntries = {};
  sheets.forEach((sheet, si) => {
    const rows = sheet.rows
      .map((row, ri) => {
        const cells = row
          .map((v, ci) => {
            const ref = `${columnName(ci)}${ri + 1}`;
            if (v === null || v === undefined || v === '') return '';
            if (typeof v === 'number') return `<c r="${ref}"><v>${v}</v></c>`;
            if (v instanceof Date) return `<c r="${ref}" s="1"><v>${(v.getTime() - Date.UTC(1899, 11, 30)) / 86_400_000}</v></c>`;
            if (typeof v === 'boolean') return `<c r="${ref}" t="b"><v>${v ? 1 : 0}</v></c>`;
            return `<c r="${ref}" t="s"><v>${stringId(v)}</v></c>`;
          })
          .join('');
        return cells ? `<row r="${ri + 1}">${cells}</row>` : '';
      })
      .join('');
    parts[`xl/worksheets/sheet${si + 1}.xml`] = `${XML_DECL}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`;
  });
  const sheetOverrides = sheets.map((_, i) => `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('');
  const R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  Object.assign(parts, {
    '[Content_Types].xml': `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>${sheetOverrides}<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`,
    '_rels/.rels': `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${R}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml': `${XML_DECL}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${R}"><sheets>${sheets.map((s, i) => `<sheet name="${xmlEscape(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${R}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join('')}<Relationship Id="rId${sheets.length + 1}" Type="${R}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId${sheets.length + 2}" Type="${R}/styles" Target="styles.xml"/></Relationships>`,
    'xl/styles.xml': `${XML_DECL}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`,
  });
  parts['xl/sharedStrings.xml'] = `${XML_DECL}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${shared.length}" uniqueCount="${shared.length}">${shared.map((s) => `<si><t xml:space="preserve">${xmlEscape(s)}</t></si>`).join('')}</sst>`;
  return parts;
}

/** An Excel workbook (.xlsx) with the given sheets. */
export async function makeXlsx(sheets: readonly XlsxSheet[]): Promise<Uint8Array> {
  return makeZip(xlsxParts(sheets));
}

// ---- Text formats -------------------------------------------------------------------------

/** A JSON Lines file: one JSON value per line (strings are written verbatim, as broken lines). */
export function makeJsonl(lines: readonly (object | string)[]): Uint8Array {
  return new TextEncoder().encode(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
}

/** An HTML page with the given <title> and body markup. */
export function makeHtml(title: string, body: string, head = ''): Uint8Array {
  return new TextEncoder().encode(`<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n${head}</head>\n<body>\n${body}\n</body>\n</html>\n`);
}

// ---- Assertions ---------------------------------------------------------------------------

/**
 * The LoadError that `work` fails with. Fails itself (with a message saying what happened
 * instead) if the work succeeds or throws anything that is not a LoadError.
 */
export async function loadErrorOf(work: Promise<unknown> | (() => unknown)): Promise<LoadError> {
  let result: unknown;
  try {
    result = await (typeof work === 'function' ? work() : work);
  } catch (err) {
    if (err instanceof LoadError) return err;
    throw new Error(`expected a LoadError, got ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
  }
  throw new Error(`expected a LoadError, but it succeeded with ${JSON.stringify(result)?.slice(0, 300)}`);
}
