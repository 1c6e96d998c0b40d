// XLSX: every sheet; the first non-empty row of a sheet is its header, and every later
// non-empty row becomes one unit "Sheet: <name>\n<header>: <value>\n…" whose `row` is the
// row number shown in Excel (1-based, counting the header and any empty rows). Long header names
// are shortened where rows repeat them, and the text is counted cell by cell as it is made (a
// small workbook can show one long shared string in thousands of cells).
import readXlsxFile from 'read-excel-file/node';
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParsedUnit, TextBudget, shortLabel } from './types.js';
import { checkZipPackage, isOleFile, libraryMessage } from './zip.js';

export const xlsx: FormatHandler = {
  format: 'xlsx',
  extensions: FORMAT_EXTENSIONS.xlsx,
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
  const budget = new TextBudget(file);
  const cellBudget = new TextBudget(file);
  const units: ParsedUnit[] = [];
  let start = 0;
  for (const { sheet, data } of sheets) {
    const rows = nonEmptyRows(data, cellBudget);
    // A sheet with a single row has no header to speak of: that row is the data.
    const labels = rows.length > 1 ? rows[0]!.cells.map((h) => (h ? `${shortLabel(h)}: ` : '')) : [];
    const sheetLine = `Sheet: ${sheet}`;
    for (const r of rows.length > 1 ? rows.slice(1) : rows) {
      const lines = [sheetLine];
      budget.take(sheetLine.length);
      r.cells.forEach((v, c) => {
        if (v === '') return;
        const label = labels[c] ?? '';
        budget.take(label.length + v.length + 1);
        lines.push(label + v);
      });
      const text = lines.join('\n');
      units.push({ text, start, row: r.row });
      start += text.length + 1;
    }
  }
  return units;
}

/**
 * The rows with at least one non-empty cell, their cells as text, numbered as in Excel. The cells'
 * strings are counted before they are cleaned up: one shared string shown in thousands of cells
 * would otherwise be copied and scanned thousands of times before the units' own count stopped it.
 */
function nonEmptyRows(data: readonly (readonly unknown[])[], budget: TextBudget): { row: number; cells: string[] }[] {
  const rows: { row: number; cells: string[] }[] = [];
  data.forEach((r, i) => {
    const cells = r.map((v) => {
      if (typeof v === 'string') budget.take(v.length);
      return cellText(v);
    });
    if (cells.some((c) => c !== '')) rows.push({ row: i + 1, cells });
  });
  return rows;
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
