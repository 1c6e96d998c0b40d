// XLSX: every sheet; the first non-empty row of a sheet is its header, and every later
// non-empty row becomes one unit "Sheet: <name>\n<header>: <value>\n…" whose `row` is the
// row number shown in Excel (1-based, counting the header and any empty rows).
import readXlsxFile from 'read-excel-file/node';
import { type FormatHandler, LoadError, type ParsedUnit } from './types.js';
import { checkZipPackage, isOleFile, libraryMessage } from './zip.js';

export const xlsx: FormatHandler = {
  format: 'xlsx',
  extensions: ['.xlsx'],
  parse: parseXlsx,
};

const WHAT = 'Excel workbook';

async function parseXlsx(file: string, bytes: Uint8Array): Promise<ParsedUnit[]> {
  if (isOleFile(bytes)) {
    throw new LoadError(file, 'the file is password-protected or in the old .xls format (Excel 97–2003); remove the password or save it as .xlsx, then add it again');
  }
  const entries = await checkZipPackage(file, bytes, WHAT);
  if (!entries.some((e) => e.name.startsWith('xl/'))) {
    throw new LoadError(file, 'the file is a ZIP archive but not an Excel workbook (no xl/ part inside)');
  }
  let sheets: Awaited<ReturnType<typeof readXlsxFile>>;
  try {
    sheets = await readXlsxFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new LoadError(file, `not a valid Excel workbook: ${libraryMessage(err)}`);
  }
  const units: ParsedUnit[] = [];
  let start = 0;
  for (const { sheet, data } of sheets) {
    const rows = data.map((r, i) => ({ row: i + 1, cells: r.map(cellText) })).filter((r) => r.cells.some((c) => c !== ''));
    // A sheet with a single row has no header to speak of: that row is the data.
    const header = rows.length > 1 ? rows[0]!.cells : [];
    for (const r of rows.length > 1 ? rows.slice(1) : rows) {
      const lines = [`Sheet: ${sheet}`];
      r.cells.forEach((v, c) => {
        if (v === '') return;
        const h = header[c];
        lines.push(h ? `${h}: ${v}` : v);
      });
      const text = lines.join('\n');
      units.push({ text, start, row: r.row });
      start += text.length + 1;
    }
  }
  return units;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return '';
    // Excel stores dates as fractions of a day: round away float noise like 08:29:59.999.
    const iso = new Date(Math.round(v.getTime() / 1000) * 1000).toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v).replace(/\r\n?/g, '\n').replace(/\n+/g, ' ').trim();
}
