// DOCX and XLSX loading, and the ZIP checks in front of both: real packages built with JSZip
// (and ZIP bombs built by hand) in test/helpers/documents.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_UNZIPPED_BYTES, RATIO_FLOOR } from '../../electron/core/kb/formats/zip.js';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { describeLocation, splitDocument } from '../../electron/core/kb/splitter.js';
import { docxParts, loadErrorOf, makeDocx, makeOleFile, makeXlsx, makeZip, makeZipBomb, randomBytes, xlsxParts } from '../helpers/documents.js';

describe('Word documents (.docx)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps headings, paragraphs, line breaks and table rows as separate lines', async () => {
    const bytes = await makeDocx([
      { text: '信息科应急预案', heading: 1 },
      '本预案适用于全院信息系统故障。',
      { text: '一、数据库故障', heading: 2 },
      '先切换到备用服务器，再通知厂商。\n值班电话：8001',
      { table: [['系统', '负责人'], ['HIS', '张三']] },
      'Plain English paragraph & symbols <ok>.',
    ]);
    const doc = await parseDocument('预案.docx', bytes);
    expect(doc.format).toBe('docx');
    expect(doc.units).toHaveLength(1);
    expect(doc.units[0]!.text.split('\n')).toEqual([
      '信息科应急预案',
      '本预案适用于全院信息系统故障。',
      '一、数据库故障',
      '先切换到备用服务器，再通知厂商。',
      '值班电话：8001',
      '系统 | 负责人',
      'HIS | 张三',
      'Plain English paragraph & symbols <ok>.',
    ]);
  });

  it('splits a Word document into chunks that keep its text', async () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `第${i + 1}条：服务器机房温度应保持在18至27摄氏度之间，每日巡检两次。`);
    const chunks = splitDocument(await parseDocument('机房.docx', await makeDocx(paragraphs)), { maxChars: 200, overlapChars: 40 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const p of paragraphs) expect(chunks.some((c) => c.text.includes(p))).toBe(true);
    expect(chunks.every((c) => c.page === null && c.row === null)).toBe(true);
  });

  it('refuses an encrypted .docx (an OLE file) as password-protected or old .doc', async () => {
    const err = await loadErrorOf(parseDocument('secret.docx', makeOleFile()));
    expect(err.file).toBe('secret.docx');
    expect(err.reason).toMatch(/password-protected or in the old \.doc format/);
  });

  it('refuses random bytes, a truncated package, and a ZIP that is not a Word document', async () => {
    expect((await loadErrorOf(parseDocument('random.docx', randomBytes(3000)))).reason).toMatch(/not a ZIP package/);
    const good = await makeDocx(['hello']);
    expect((await loadErrorOf(parseDocument('cut.docx', good.subarray(0, good.length >> 1)))).reason).toMatch(/damaged.*truncated/);
    const zip = await loadErrorOf(parseDocument('photos.docx', await makeZip({ 'a.txt': 'hello', 'b/c.txt': 'world' })));
    expect(zip.file).toBe('photos.docx');
    expect(zip.reason).toMatch(/ZIP archive but not a Word document/);
    expect((await loadErrorOf(parseDocument('book.docx', await makeXlsx([{ name: 'S', rows: [['a'], ['b']] }])))).reason).toMatch(/not a Word document/);
  });

  it('refuses a Word package whose document part is missing or broken', async () => {
    const missing = docxParts(['x']);
    delete missing['word/document.xml'];
    expect((await loadErrorOf(parseDocument('missing.docx', await makeZip(missing)))).reason).toMatch(/^not a valid Word document: /);
    const broken = { ...docxParts(['x']), 'word/document.xml': '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>' };
    const err = await loadErrorOf(parseDocument('broken.docx', await makeZip(broken)));
    expect(err.reason).toMatch(/^not a valid Word document: /);
    expect(err.reason).not.toContain('\n');
  });
});

describe('Excel workbooks (.xlsx)', () => {
  const sheets = [
    {
      name: '药品目录',
      rows: [['药品', '剂量', '途径', '库存'], ['阿莫西林', '500mg', '口服', 120], [], ['布洛芬缓释胶囊', '300mg', null, 0], ['头孢曲松', '1g', '静脉', 35, true]],
    },
    { name: 'Contacts', rows: [[null], ['Name', 'Phone'], ['IT on call', '8001']] },
    { name: 'Empty', rows: [] },
  ];

  it('reads every sheet, one unit per data row, with the row number shown in Excel', async () => {
    const doc = await parseDocument('drugs.xlsx', await makeXlsx(sheets));
    expect(doc.format).toBe('xlsx');
    expect(doc.units.map((u) => u.row)).toEqual([2, 4, 5, 3]);
    expect(doc.units[0]!.text).toBe('Sheet: 药品目录\n药品: 阿莫西林\n剂量: 500mg\n途径: 口服\n库存: 120');
    // An empty cell is left out; a cell without a header is kept as a bare value.
    expect(doc.units[1]!.text).toBe('Sheet: 药品目录\n药品: 布洛芬缓释胶囊\n剂量: 300mg\n库存: 0');
    expect(doc.units[2]!.text).toBe('Sheet: 药品目录\n药品: 头孢曲松\n剂量: 1g\n途径: 静脉\n库存: 35\nTRUE');
    // The header of a sheet is its first non-empty row, wherever it is.
    expect(doc.units[3]!.text).toBe('Sheet: Contacts\nName: IT on call\nPhone: 8001');
    let start = 0;
    for (const u of doc.units) {
      expect(u.start).toBe(start);
      start += u.text.length + 1;
    }
  });

  it('keeps a single-row sheet as data rather than taking it for a header', async () => {
    const doc = await parseDocument('notes.xlsx', await makeXlsx([{ name: 'Notes', rows: [[], [], ['Call the vendor before 9:00']] }]));
    expect(doc.units).toEqual([{ text: 'Sheet: Notes\nCall the vendor before 9:00', start: 0, row: 3 }]);
  });

  it('writes dates as dates and numbers as typed', async () => {
    const doc = await parseDocument('log.xlsx', await makeXlsx([{ name: 'Log', rows: [['日期', '时间', '温度'], [new Date(Date.UTC(2024, 2, 15)), new Date(Date.UTC(2024, 2, 15, 8, 30)), 23.5]] }]));
    expect(doc.units[0]!.text).toBe('Sheet: Log\n日期: 2024-03-15\n时间: 2024-03-15 08:30:00\n温度: 23.5');
  });

  it('gives every chunk the row it came from', async () => {
    const chunks = splitDocument(await parseDocument('drugs.xlsx', await makeXlsx(sheets)));
    expect(chunks.map((c) => c.row)).toEqual([2, 4, 5, 3]);
    expect(chunks[0]!.text).toContain('阿莫西林');
    expect(describeLocation(chunks[1]!)).toBe('row 4');
  });

  it('refuses an encrypted .xlsx, random bytes, and a ZIP that is not a workbook', async () => {
    expect((await loadErrorOf(parseDocument('secret.xlsx', makeOleFile()))).reason).toMatch(/password-protected or in the old \.xls format/);
    const random = await loadErrorOf(parseDocument('random.xlsx', randomBytes(3000, 9)));
    expect(random.file).toBe('random.xlsx');
    expect(random.reason).toMatch(/not a ZIP package/);
    expect((await loadErrorOf(parseDocument('doc.xlsx', await makeDocx(['hi'])))).reason).toMatch(/ZIP archive but not an Excel workbook/);
    const broken = { ...xlsxParts([{ name: 'S', rows: [['a'], ['b']] }]), 'xl/workbook.xml': '<workbook><sheets><sheet' };
    expect((await loadErrorOf(parseDocument('broken.xlsx', await makeZip(broken)))).reason).toMatch(/^not a valid Excel workbook: /);
  });
});

describe('ZIP bombs and tampered packages', () => {
  const MiB = 1024 * 1024;
  const overLimit = MAX_UNZIPPED_BYTES + 16 * MiB;

  it('refuses a package that unpacks beyond the size limit, without unpacking it', async () => {
    const docx = makeZipBomb({ inflatedBytes: overLimit, extra: docxParts(['x']) });
    expect(docx.length).toBeLessThan(1 * MiB);
    const err = await loadErrorOf(parseDocument('bomb.docx', docx));
    expect(err.file).toBe('bomb.docx');
    expect(err.reason).toMatch(/unpacks to 216 MB, more than the 200 MB limit/);

    const xlsx = makeZipBomb({ inflatedBytes: overLimit, entry: 'xl/worksheets/sheet1.xml', extra: xlsxParts([{ name: 'S', rows: [['a'], ['b']] }]) });
    expect((await loadErrorOf(parseDocument('bomb.xlsx', xlsx))).reason).toMatch(/more than the 200 MB limit/);
  });

  it('refuses a large entry that expands more than 200 times', async () => {
    const bytes = makeZipBomb({ inflatedBytes: RATIO_FLOOR + MiB, extra: docxParts(['x']) });
    expect((await loadErrorOf(parseDocument('zeros.docx', bytes))).reason).toMatch(/expands \d+ times \(more than 200×\)/);
  });

  it('refuses a bomb whose headers understate its size, by inflating it (bounded)', async () => {
    const bytes = makeZipBomb({ inflatedBytes: overLimit, extra: docxParts(['x']), declareSize: 50_000 });
    const err = await loadErrorOf(parseDocument('liar.docx', bytes));
    expect(err.reason).toMatch(/unpacks to more than its recorded size \(50000 bytes\)/);
    const xlsx = makeZipBomb({ inflatedBytes: overLimit, entry: 'xl/worksheets/sheet1.xml', extra: xlsxParts([{ name: 'S', rows: [['a'], ['b']] }]), declareSize: 50_000 });
    expect((await loadErrorOf(parseDocument('liar.xlsx', xlsx))).reason).toMatch(/more than its recorded size/);
  });

  it('refuses data hidden outside the ZIP directory', async () => {
    const good = await makeDocx(['hello']);
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    // Shift the central directory by 64 bytes of junk (an unlisted entry could hide there).
    let eocd = good.length - 22;
    while (view.getUint32(eocd, true) !== 0x06054b50) eocd--;
    const cd = view.getUint32(eocd + 16, true);
    const tampered = new Uint8Array(good.length + 64);
    tampered.set(good.subarray(0, cd));
    tampered.set(good.subarray(cd), cd + 64);
    new DataView(tampered.buffer).setUint32(eocd + 64 + 16, cd + 64, true);
    expect((await loadErrorOf(parseDocument('hidden.docx', tampered))).reason).toMatch(/tampered with: unlisted data/);
  });

  it('accepts a large, ordinary package well within the limits', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [`设备${i}`, `机房${i % 7}`, i * 3]);
    const doc = await parseDocument('assets.xlsx', await makeXlsx([{ name: '资产', rows: [['设备', '位置', '编号'], ...rows] }]));
    expect(doc.units).toHaveLength(10_000);
    expect(doc.units.at(-1)).toMatchObject({ row: 10_001, text: 'Sheet: 资产\n设备: 设备9999\n位置: 机房3\n编号: 29997' });
  });
});
