// Fuzz cases for the document loaders: valid files from test/helpers/documents.ts, then mutated
// (bytes, ZIP structure, XML inside packages, PDF structure) plus hand-made hostile inputs (huge
// lines, wrong encodings, deep nesting, bombs). Every case is a name, bytes and a description; a
// case is deterministic for a given seed.
import zlib from 'node:zlib';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, PDFRef, StandardFonts } from 'pdf-lib';
import { columnName, docxParts, makeDocx, makeHtml, makeImageOnlyPdf, makeJsonl, makeOleFile, makePasswordPdf, makePdf, makeXlsx, makeZip, makeZipBomb, xlsxParts } from '../../helpers/documents.js';
import { type Generate, type RawEntry, Rng, XML_MUTATIONS, concatBytes, enc, generate, mutateXml, randomByteMutation, readRawZip, writeRawZip } from './mutate.js';

export interface Case {
  /** File name given to the parser (its extension picks the format). */
  name: string;
  /** The file; empty when `generate` describes it (large inputs are built in the sandbox). */
  bytes: Uint8Array;
  generate?: Generate;
  /** How the case was made, for failure messages. */
  what: string;
  /** Time limit for this case (default: the suite's). */
  timeoutMs?: number;
}

export type Format = 'txt' | 'md' | 'csv' | 'html' | 'pdf' | 'docx' | 'xlsx' | 'jsonl';

const MiB = 1024 * 1024;

// ---- valid seeds --------------------------------------------------------------------------------

const ZH = '夜间值班人员应在22点检查机房的电源与磁盘指示灯，并记录编号。';
const EN = 'Before powering the disks after a power cut, check the UPS battery and the RAID controller log.';

export async function seeds(format: Format): Promise<Uint8Array[]> {
  switch (format) {
    case 'txt':
      return [enc(`${ZH}\n${EN}\n`.repeat(20)), concatBytes([new Uint8Array([0xef, 0xbb, 0xbf]), enc(`标题\n${EN}\n`)]), utf16(`${ZH}\n${EN}`, 'le', true)];
    case 'md':
      return [enc(`# 应急预案\n\n## 数据库故障\n\n${ZH}\n\n- ${EN}\n- 第二项\n\n\`\`\`\ncode block\n\`\`\`\n`.repeat(5))];
    case 'csv':
      return [enc(`科室,电话,说明\n信息科,8001,"负责""全院""网络, 服务器"\n急诊,8120,"多行\n说明"\nICU,8200,${EN}\n`)];
    case 'html':
      return [
        makeHtml('值班表', `<h1>${ZH}</h1><p>${EN}</p><table><tr><th>科室</th><th>电话</th></tr><tr><td>信息科</td><td>8001</td></tr></table><script>var x = "<p>hidden</p>";</script><pre>line 1\nline 2</pre>`),
      ];
    case 'pdf':
      return [await stablePdf(await makePdf([`${EN}\nSecond line of page one.`, 'Page two: ward roster and phone numbers 8001, 8120.', 'Page three.']), false)];
    case 'docx':
      return [stableZip(await makeDocx([{ text: '信息科应急预案', heading: 1 }, ZH, { text: EN, heading: 2 }, { table: [['系统', '负责人'], ['HIS', '张三']] }, 'Line one\nLine two']))];
    case 'xlsx':
      return [stableZip(await makeXlsx([{ name: '值班', rows: [['科室', '电话', '日期'], ['信息科', 8001, new Date(Date.UTC(2024, 0, 2))], ['急诊', 8120, true]] }, { name: 'Sheet2', rows: [['only row']] }]))];
    case 'jsonl':
      return [makeJsonl([{ title: '请假', text: ZH }, { question: 'UPS?', answer: EN, content: 'x' }, 'a plain string line', { a: 1, b: true, c: 'scalar fields' }])];
  }
}

/** A JSZip package rewritten without timestamps, so its bytes are the same on every run. */
export function stableZip(zip: Uint8Array): Uint8Array {
  return writeRawZip(readRawZip(zip));
}

export function utf16(s: string, endian: 'le' | 'be', bom: boolean): Uint8Array {
  const out = new Uint8Array((s.length + (bom ? 1 : 0)) * 2);
  const v = new DataView(out.buffer);
  let o = 0;
  if (bom) {
    v.setUint16(0, 0xfeff, endian === 'le');
    o = 2;
  }
  for (let i = 0; i < s.length; i++, o += 2) v.setUint16(o, s.charCodeAt(i), endian === 'le');
  return out;
}

/** GBK/GB18030 bytes of a short Chinese sentence (encoded by hand: TextEncoder only does UTF-8). */
export const GBK_SAMPLE = new Uint8Array([
  0xd2, 0xb9, 0xbc, 0xe4, 0xd6, 0xb5, 0xb0, 0xe0, 0xc8, 0xcb, 0xd4, 0xb1, 0xd3, 0xa6, 0xd4, 0xda, 0x32, 0x32, 0xb5, 0xe3, 0xbc, 0xec, 0xb2, 0xe9, 0xbb, 0xfa, 0xb7, 0xbf, 0xa1, 0xa3,
]); // 夜间值班人员应在22点检查机房。

// ---- generic byte mutations ----------------------------------------------------------------------

/** `n` random byte-level mutations of the seeds (1–3 stacked per case). */
export function byteCases(rng: Rng, format: Format, base: Uint8Array[], n: number, region?: (b: Uint8Array) => [number, number]): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.fork(i);
    const seed = base[i % base.length]!;
    const m = randomByteMutation(r, seed, region?.(seed));
    out.push({ name: `bytes-${i}.${format}`, bytes: m.bytes, what: `${format} seed #${i % base.length}: ${m.what}` });
  }
  return out;
}

// ---- text formats -------------------------------------------------------------------------------

/** The text of huge lines: English and Chinese, commas, no quotes or backslashes, no newline. */
export const LINE_UNIT = `${EN} ${ZH} `;

/** A single line of `bytes` bytes (ASCII + CJK), no newline. */
export function hugeLine(bytes: number, unit = LINE_UNIT): Uint8Array {
  return generate({ unit, bytes });
}

/** A case whose (large) bytes are generated inside the sandbox. */
export function generatedCase(name: string, g: Generate, what: string, timeoutMs = 60_000): Case {
  return { name, bytes: new Uint8Array(0), generate: g, what, timeoutMs };
}

export function textCases(rng: Rng): Case[] {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array, what: string, timeoutMs?: number) => cases.push({ name, bytes, what, timeoutMs });
  cases.push(generatedCase('huge-line.txt', { unit: LINE_UNIT, bytes: 20 * MiB }, '20 MB single-line text'));
  cases.push(generatedCase('huge-line.md', { unit: '# ', bytes: 20 * MiB }, '20 MB single-line markdown of "# # # …"'));
  cases.push(generatedCase('limit.txt', { unit: LINE_UNIT, bytes: 64 * MiB }, 'exactly 64 MiB of text (the limit)'));
  cases.push(generatedCase('over-limit.txt', { unit: 'a', bytes: 64 * MiB + 1 }, '64 MiB + 1 byte (over the limit)'));
  add('utf16le-nobom.txt', utf16(`${ZH}\n${EN}`, 'le', false), 'UTF-16LE without BOM');
  add('utf16be-nobom.txt', utf16(`${ZH}\n${EN}`, 'be', false), 'UTF-16BE without BOM');
  add('utf16-odd.txt', concatBytes([new Uint8Array([0xff, 0xfe]), enc('abc')]), 'UTF-16LE BOM with an odd byte count');
  add('utf16-bom-only.txt', new Uint8Array([0xfe, 0xff]), 'only a UTF-16BE BOM');
  add('lone-surrogates.txt', concatBytes([enc('before '), new Uint8Array([0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf]), enc(' after')]), 'CESU-8 lone surrogates (ED A0 80, ED BF BF)');
  add('lone-surrogate-16.txt', concatBytes([new Uint8Array([0xff, 0xfe]), new Uint8Array([0x00, 0xd8, 0x41, 0x00, 0x00, 0xdc])]), 'UTF-16LE with lone high and low surrogates');
  add('gbk.txt', GBK_SAMPLE, 'GBK text without any declaration');
  add('overlong.txt', new Uint8Array([0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0xf8, 0x88, 0x80, 0x80, 0x80]), 'overlong / 5-byte UTF-8 sequences');
  add('nul.txt', new Uint8Array(4096), '4 KiB of NUL bytes');
  add('bom-only.txt', new Uint8Array([0xef, 0xbb, 0xbf]), 'only a UTF-8 BOM');
  add('whitespace.md', enc(' \n\t\r\n   \u3000\n'), 'only whitespace');
  add('random.txt', rng.bytes(50_000), '50 KB of random bytes');
  add('control.txt', enc('\u0000\u0001\u0002\u001b[31mred\u001b[0m\u007f\u0085\u2028\u2029 text'), 'control characters and line separators');
  add('cr-only.md', enc('a\rb\rc\r'.repeat(100_000)), 'old Mac CR line ends, 100k lines');
  add('many-lines.txt', enc('x\n'.repeat(2_000_000)), '2 million one-character lines', 60_000);

  // CSV
  add('unbalanced-open.csv', enc(`a,b\n"never closed,1\n2,3\n`), 'CSV with an opening quote never closed');
  add('unbalanced-mid.csv', enc(`a,b\nx"y,1\n"z,2\n3,"4\n`), 'CSV with quotes in the middle of fields and one left open');
  add('only-quotes.csv', enc('"'.repeat(100_001)), '100,001 double quotes');
  add('quote-after-close.csv', enc('a,b\n"x"y,1\n'), 'CSV with text after a closing quote');
  add('header-only.csv', enc('a,b,c\n'), 'CSV with a header and no rows');
  cases.push(generatedCase('long-field.csv', { prefix: 'id,text\n1,"', unit: LINE_UNIT, bytes: 4 * MiB, suffix: '"\n' }, 'CSV with one 4 MB quoted field (20 MB: see the hostile cases)'));
  add('wide-header.csv', concatBytes([hugeLine(2 * MiB, 'col,'), enc('\n1,2\n')]), 'CSV whose header line is 2 MB of columns');
  add('many-rows.csv', enc(`a,b\n${'1,2\n'.repeat(400_000)}`), 'CSV with 400,000 rows', 60_000);
  add('wide-row.csv', enc(`${Array.from({ length: 50_000 }, (_, i) => `c${i}`).join(',')}\n${','.repeat(49_999)}x\n`), 'CSV with 50,000 columns', 60_000);
  add('gbk.csv', concatBytes([enc('a,b\n'), GBK_SAMPLE, enc(',1\n')]), 'CSV with GBK bytes in a row');
  add('bom-crlf.csv', concatBytes([new Uint8Array([0xef, 0xbb, 0xbf]), enc('a,b\r\n1,2\r\n\r\n')]), 'CSV with BOM and CRLF');
  add('nul-fields.csv', enc('a\u0000,b\n\u0000,\u0000\n'), 'CSV with NUL characters in fields');

  // JSONL
  cases.push(generatedCase('huge-line.jsonl', { prefix: '{"text":"', unit: LINE_UNIT, bytes: 20 * MiB, suffix: '"}\n' }, 'JSONL with one 20 MB line'));
  add('unclosed.jsonl', enc('{"text": "a"}\n{"text": "b"\n{"text": "c"}\n'), 'JSONL with an unclosed object');
  add('deep-array.jsonl', enc(`${'['.repeat(500_000)}${']'.repeat(500_000)}\n`), 'JSONL line nested 500,000 arrays deep');
  add('deep-object.jsonl', enc(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}\n`), 'JSONL line nested 200,000 objects deep');
  add('unclosed-deep.jsonl', enc(`${'['.repeat(1_000_000)}\n`), 'JSONL line of 1,000,000 unclosed brackets');
  add('lone-surrogate.jsonl', enc('{"text": "a\\ud800b\\udfffc"}\n"\\udc00"\n'), 'JSONL with escaped lone surrogates');
  add('proto.jsonl', enc('{"__proto__": {"text": "polluted"}, "constructor": {"prototype": 1}}\n{"text": "ok"}\n'), 'JSONL with __proto__ keys');
  add('scalars.jsonl', enc('1\ntrue\nnull\n[1,2]\n'), 'JSONL with non-object lines');
  add('numbers.jsonl', enc('{"a": 1e400, "b": -0, "c": 123456789012345678901234567890}\n'), 'JSONL with out-of-range numbers');
  add('many-lines.jsonl', enc('"x"\n'.repeat(1_000_000)), 'JSONL with 1 million string lines', 60_000);
  add('utf16.jsonl', utf16('{"text":"utf-16 without BOM"}\n', 'le', false), 'JSONL in UTF-16LE without BOM');
  add('bom-mid.jsonl', enc('{"text":"a"}\n\ufeff{"text":"b"}\n'), 'JSONL with a BOM at the start of line 2');
  return cases;
}

/**
 * A CSV (about 10 MB) whose 2,000 header names of 2 KB are repeated into each of its 3,000 rows
 * of empty fields: every row's unit is "name: value" for every column, ~12 GB of text in all.
 */
export function csvHeaderBomb(): Uint8Array {
  const cols = 2000;
  const header = Array.from({ length: cols }, (_, i) => `${'h'.repeat(2000)}${i}`).join(',');
  const row = `${','.repeat(cols - 1)}x\n`;
  return enc(`${header}\n${row.repeat(3000)}`);
}

const SHEET_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';

/**
 * An XLSX (about 0.1 MB) whose header cell is one 1 MB shared string and whose 4,000 data rows are
 * "h": each row's unit repeats the 1 MB header name, ~4 GB of text in all.
 */
export async function xlsxHeaderBomb(): Promise<Uint8Array> {
  const parts = xlsxParts([{ name: 'S', rows: [['h'], ['S'.repeat(1_000_000)]] }]);
  const rows = Array.from({ length: 4000 }, (_, i) => `<row r="${i + 2}"><c r="A${i + 2}" t="s"><v>0</v></c></row>`).join('');
  parts['xl/worksheets/sheet1.xml'] = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${SHEET_NS}"><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c></row>${rows}</sheetData></worksheet>`;
  return stableZip(await makeZip(parts));
}

/**
 * An XLSX (about 0.1 MB) of 30 rows × 300 cells that all show the same 1 MB shared string: no
 * header involved, every row's unit is 300 MB of text, ~9 GB in all.
 */
export async function xlsxSharedStringBomb(): Promise<Uint8Array> {
  const parts = xlsxParts([{ name: 'S', rows: [['h'], ['S'.repeat(1_000_000)]] }]);
  const row = (r: number) => `<row r="${r}">${Array.from({ length: 300 }, (_, c) => `<c r="${columnName(c)}${r}" t="s"><v>1</v></c>`).join('')}</row>`;
  parts['xl/worksheets/sheet1.xml'] = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${SHEET_NS}"><sheetData>${Array.from({ length: 30 }, (_, i) => row(i + 1)).join('')}</sheetData></worksheet>`;
  return stableZip(await makeZip(parts));
}

// ---- HTML ---------------------------------------------------------------------------------------

/** HTML nested `depth` levels deep, in several shapes (100,000 levels: see the hostile cases in loaders.fuzz.test.ts). */
export function deepHtml(depth: number): { name: string; html: string; what: string }[] {
  const n = depth;
  return [
    { name: 'deep-div.html', html: `<html><body>${'<div>'.repeat(n)}deep text${'</div>'.repeat(n)}</body></html>`, what: `${n} nested <div> levels` },
    { name: 'deep-unclosed.html', html: `<html><body>${'<div><span>'.repeat(n)}deep text`, what: `${n} nested <div><span> levels never closed` },
    { name: 'deep-table.html', html: `<table>${'<tr><td><table>'.repeat(n)}cell${'</table></td></tr>'.repeat(n)}</table>`, what: `${n} nested tables` },
    { name: 'deep-pre.html', html: `${'<pre>'.repeat(n)}a\nb${'</pre>'.repeat(n)}`, what: `${n} nested <pre>` },
  ];
}

export function htmlCases(rng: Rng): Case[] {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array | string, what: string, timeoutMs?: number) => cases.push({ name, bytes: typeof bytes === 'string' ? enc(bytes) : bytes, what, timeoutMs });
  const N = 100_000;
  for (const d of deepHtml(10_000)) add(d.name, d.html, d.what);
  add('deep-skip.html', `<p>visible</p>${'<script>'.repeat(N)}x${'</script>'.repeat(N)}<p>after</p>`, '100,000 nested <script>');
  add('deep-head.html', `${'<head><title>'.repeat(N)}t<p>x</p>`, '100,000 nested <head><title>');
  add('deep-inline.html', `<p>${'<b>'.repeat(10_000)}bold${'</b>'.repeat(10_000)}</p>`, '10,000 nested <b> (formatting elements)');
  add('close-only.html', `${'</div></td></head></title></pre>'.repeat(N)}text`, '500,000 stray closing tags');
  add('gbk-declared-utf8.html', concatBytes([enc('<html><head><meta charset="utf-8"><title>t</title></head><body><p>'), GBK_SAMPLE, enc('</p></body></html>')]), 'GBK bytes in a page declaring UTF-8');
  add('gbk-declared-gbk.html', concatBytes([enc('<html><head><meta charset="gbk"></head><body><p>'), GBK_SAMPLE, enc('</p></body></html>')]), 'GBK bytes in a page declaring GBK');
  add('utf8-declared-big5.html', enc(`<meta charset="big5"><p>${ZH}</p>`), 'UTF-8 page declaring Big5');
  add('latin1-declared-shiftjis.html', concatBytes([enc('<meta http-equiv="Content-Type" content="text/html; charset=shift_jis"><p>'), new Uint8Array([0x82, 0xa0, 0xff, 0xfd, 0x80]), enc('</p>')]), 'invalid bytes declared Shift_JIS');
  for (const label of ['replacement', 'utf-16', 'utf-16be', 'x-user-defined', 'iso-2022-jp', 'unknown-charset-x', 'UTF-7', '']) {
    add(`charset-${label || 'empty'}.html`, concatBytes([enc(`<meta charset="${label}"><p>text `), new Uint8Array([0xb0, 0xa1, 0xff, 0x1b, 0x24, 0x42]), enc('</p>')]), `invalid UTF-8 declared charset "${label}"`);
  }
  add('utf16le-nobom.html', utf16(`<html><body><p>${ZH}</p></body></html>`, 'le', false), 'UTF-16LE page without BOM');
  add('utf16be-nobom.html', utf16(`<html><body><p>${EN}</p></body></html>`, 'be', false), 'UTF-16BE page without BOM');
  add('utf16le-bom.html', utf16(`<p>${ZH}</p>`, 'le', true), 'UTF-16LE page with BOM');
  add('surrogate-entities.html', '<p>&#xD800; &#xDFFF; &#55296;&#56320; &#x110000; &#0; &#xFFFFFFFFFF; &#99999999999999999999;</p>', 'lone surrogate and out-of-range character references');
  add('surrogate-bytes.html', concatBytes([enc('<p>a '), new Uint8Array([0xed, 0xa0, 0x80]), enc(' b</p>')]), 'CESU-8 lone surrogate bytes');
  add('unclosed-script.html', `<p>before</p><script>${'var a = 1;\n'.repeat(10_000)}`, 'a <script> never closed');
  add('unclosed-comment.html', `<p>before</p><!-- ${'x'.repeat(100_000)}`, 'a comment never closed');
  add('huge-attr.html', `<p title="${'a'.repeat(5 * MiB)}">text</p>`, 'a 5 MB attribute');
  add('unclosed-attr.html', `<p title="${'a'.repeat(MiB)}`, 'an attribute value never closed');
  cases.push(generatedCase('huge-text.html', { prefix: '<p>', unit: LINE_UNIT, bytes: 20 * MiB, suffix: '</p>' }, '20 MB of text in one paragraph'));
  add('many-entities.html', `<p>${'&amp;&lt;&nbsp;&#x4E2D;'.repeat(500_000)}</p>`, '2 million entities');
  add('hidden-all.html', '<body hidden><p>hidden</p></body>', 'everything hidden');
  add('style-regex.html', `<p style="${'display :'.repeat(200_000)}">x</p>`, 'a style attribute built to stress the hidden-style regex');
  add('meta-regex.html', `<meta ${'charset'.repeat(300_000)}>`.padEnd(4096, ' ') + '\xff', 'a <meta> built to stress the charset regex');
  add('nul.html', concatBytes([enc('<p>a'), new Uint8Array(1000), enc('b</p>')]), 'NUL bytes in a page');
  add('random.html', rng.bytes(30_000), '30 KB of random bytes');
  add('cdata-pi.html', '<p>a<![CDATA[b]]>c<?php echo 1; ?>d<!DOCTYPE x [<!ENTITY e "boom">]>&e;</p>', 'CDATA, processing instructions, a DOCTYPE entity');
  return cases;
}

// ---- PDF ----------------------------------------------------------------------------------------

function lastIndexOf(hay: Uint8Array, needle: string): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).lastIndexOf(needle, undefined, 'latin1');
}

/** The bytes between the header and the trailer: where mutations reach pdf.js's parser. */
export function pdfBody(b: Uint8Array): [number, number] {
  const eof = lastIndexOf(b, '%%EOF');
  return [16, Math.max(17, eof > 0 ? eof : b.length)];
}

function replaceLatin1(b: Uint8Array, re: RegExp, fn: (m: string, ...g: string[]) => string): Uint8Array {
  const s = Buffer.from(b).toString('latin1').replace(re, fn as (m: string) => string);
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** A PDF re-saved with fixed dates, so its bytes (and every mutation of them) are the same on every run. */
export async function stablePdf(bytes: Uint8Array, useObjectStreams: boolean): Promise<Uint8Array> {
  const d = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true });
  d.setCreationDate(new Date(Date.UTC(2024, 0, 1)));
  d.setModificationDate(new Date(Date.UTC(2024, 0, 1)));
  return d.save({ useObjectStreams });
}

/** The two-page PDF most PDF cases start from (classic xref table, no object streams). */
export async function twoPagePdf(): Promise<Uint8Array> {
  return stablePdf(await makePdf(['Broken xref test page one.', 'Page two.']), false);
}

export async function pdfCases(rng: Rng): Promise<Case[]> {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array, what: string) => cases.push({ name, bytes, what });
  const plain = await twoPagePdf();
  const base = await stablePdf(plain, true);

  // xref table damage (a classic xref table: pdf-lib writes one without object streams)
  add('xref-garbage.pdf', replaceLatin1(plain, /xref\r?\n[\s\S]*?trailer/, (m) => m.replace(/\d{10} \d{5} [nf]/g, () => `${String(rng.int(1e10)).padStart(10, '0')} 00000 n`)), 'xref entries pointing at random offsets');
  add('xref-startxref.pdf', replaceLatin1(plain, /startxref\s+\d+/, () => 'startxref\n999999999'), 'startxref beyond the end of the file');
  add('xref-startxref-0.pdf', replaceLatin1(plain, /startxref\s+\d+/, () => 'startxref\n0'), 'startxref pointing at the header');
  add('xref-negative.pdf', replaceLatin1(plain, /startxref\s+\d+/, () => 'startxref\n-5'), 'negative startxref');
  add('xref-removed.pdf', replaceLatin1(plain, /xref\r?\n[\s\S]*?(?=trailer)/, () => ''), 'the xref table removed');
  add('xref-count.pdf', replaceLatin1(plain, /xref\r?\n0 (\d+)/, () => 'xref\n0 999999'), 'xref subsection claiming 999,999 objects');
  add('trailer-root.pdf', replaceLatin1(plain, /\/Root \d+ 0 R/, () => '/Root 9999 0 R'), 'trailer /Root pointing at a missing object');
  add('trailer-size.pdf', replaceLatin1(plain, /\/Size \d+/, () => '/Size 2147483647'), 'trailer /Size 2^31-1');
  add('trailer-prev-loop.pdf', replaceLatin1(plain, /\/Size (\d+)/, (_m, n) => `/Size ${n} /Prev ${lastIndexOf(plain, 'xref')}`), 'trailer /Prev pointing at its own xref (a loop)');
  // stream damage
  add('stream-length-huge.pdf', replaceLatin1(plain, /\/Length \d+/g, () => '/Length 99999999'), 'every stream /Length 99,999,999');
  add('stream-length-zero.pdf', replaceLatin1(plain, /\/Length \d+/g, () => '/Length 0'), 'every stream /Length 0');
  add('stream-length-negative.pdf', replaceLatin1(plain, /\/Length \d+/g, () => '/Length -1'), 'every stream /Length -1');
  add('stream-length-ref.pdf', replaceLatin1(plain, /\/Length \d+/g, () => '/Length 1 0 R'), 'every stream /Length an indirect reference to a non-number');
  add('stream-no-endstream.pdf', replaceLatin1(plain, /endstream/g, () => 'endstrea_'), 'no endstream keyword');
  add('stream-bad-filter.pdf', replaceLatin1(plain, /\/Filter \/FlateDecode/g, () => '/Filter [/FlateDecode /LZWDecode /ASCII85Decode /RunLengthDecode /DCTDecode /JBIG2Decode /Crypt /Bogus]'), 'a chain of filters that cannot decode the data');
  add('no-endobj.pdf', replaceLatin1(plain, /endobj/g, () => ''), 'every endobj removed');
  add('obj-numbers.pdf', replaceLatin1(plain, /(\d+) 0 obj/g, () => `${rng.int(100)} 0 obj`), 'object numbers shuffled');
  add('refs-self.pdf', replaceLatin1(plain, /(\d+) 0 R/g, () => '1 0 R'), 'every reference pointing at object 1');
  add('header-version.pdf', replaceLatin1(plain, /%PDF-\d\.\d/, () => '%PDF-9.9'), 'header version 9.9');

  // hand-built structures: cycles, recursion, huge counts, garbage streams
  const mk = async (build: (doc: PDFDocument) => void | Promise<void>) => {
    const doc = await PDFDocument.create();
    doc.setCreationDate(new Date(Date.UTC(2024, 0, 1)));
    doc.setModificationDate(new Date(Date.UTC(2024, 0, 1)));
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([300, 300]).drawText('A page whose structure is then broken.', { x: 10, y: 200, size: 10, font });
    await build(doc);
    return doc.save({ useObjectStreams: false }); // not reloaded: pdf-lib itself cannot load a page-tree cycle
  };
  const pagesOf = (doc: PDFDocument) => {
    const ref = doc.catalog.get(PDFName.of('Pages')) as PDFRef;
    return { ref, dict: doc.context.lookup(ref, PDFDict) };
  };
  add('pages-cycle.pdf', await mk((doc) => {
    const { ref, dict } = pagesOf(doc);
    dict.lookup(PDFName.of('Kids'), PDFArray).push(ref);
  }), 'the page tree lists itself as a kid (a cycle)');
  add('pages-parent-cycle.pdf', await mk((doc) => {
    const { ref, dict } = pagesOf(doc);
    dict.set(PDFName.of('Parent'), ref);
    dict.set(PDFName.of('Kids'), doc.context.obj([ref, ref]));
    dict.set(PDFName.of('Count'), PDFNumber.of(2));
  }), 'the page tree whose only kids are itself, twice');
  add('pages-count.pdf', await mk((doc) => pagesOf(doc).dict.set(PDFName.of('Count'), PDFNumber.of(2_000_000_000))), 'the page tree claims 2 billion pages');
  add('pages-count-1e6.pdf', await mk((doc) => pagesOf(doc).dict.set(PDFName.of('Count'), PDFNumber.of(1_000_000))), 'the page tree claims a million pages (one exists)');
  const contentCase = async (name: string, content: string | Uint8Array, what: string, filter?: string) =>
    add(name, await mk((doc) => {
      const page = doc.getPage(0);
      const data = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
      const dict = doc.context.obj(filter ? { Length: data.length, Filter: filter } : { Length: data.length });
      page.node.set(PDFName.of('Contents'), doc.context.register(PDFRawStream.of(dict, data)));
    }), what);
  await contentCase('content-deep-arrays.pdf', `BT /F1 12 Tf 10 10 Td ${'['.repeat(100_000)}(x)${']'.repeat(100_000)} TJ ET`, 'a content stream nesting 100,000 arrays');
  await contentCase('content-deep-dicts.pdf', `BT ${'<<'.repeat(50_000)}${'>>'.repeat(50_000)} ET`, 'a content stream nesting 50,000 dictionaries');
  await contentCase('content-many-q.pdf', `${'q '.repeat(1000)}BT (x) Tj ET`, '1,000 unbalanced q (save state) operators (20,000: see the hostile cases)');
  await contentCase('content-garbage.pdf', rng.bytes(20_000), '20 KB of random bytes as the content stream');
  await contentCase('content-bad-flate.pdf', rng.bytes(5_000), 'random bytes declared FlateDecode', 'FlateDecode');
  await contentCase('content-flate-small-bomb.pdf', new Uint8Array(zlib.deflateSync(new Uint8Array(20 * MiB).fill(0x20))), 'a FlateDecode content stream inflating to 20 MB of spaces (300 MB: see the hostile cases)', 'FlateDecode');
  await contentCase('content-huge-string.pdf', `BT /F1 12 Tf 10 10 Td (${'A'.repeat(2 * MiB)}) Tj ET`, 'a 2 MB string shown with Tj');
  await contentCase('content-unclosed-string.pdf', `BT /F1 12 Tf (${'('.repeat(100_000)} Tj ET`, '100,000 nested unclosed string parentheses');
  add('xobject-recursion.pdf', await mk((doc) => {
    const ctx = doc.context;
    const ref = ctx.nextRef();
    const form = PDFRawStream.of(ctx.obj({ Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 100, 100], Resources: { XObject: { X0: ref } }, Length: 7 }), Buffer.from('/X0 Do\n', 'latin1'));
    ctx.assign(ref, form);
    const page = doc.getPage(0);
    const res = page.node.Resources()!;
    res.set(PDFName.of('XObject'), ctx.obj({ X0: ref }));
    const content = Buffer.from('/X0 Do BT /F1 10 Tf 10 10 Td (after) Tj ET', 'latin1');
    page.node.set(PDFName.of('Contents'), ctx.register(PDFRawStream.of(ctx.obj({ Length: content.length }), content)));
  }), 'a form XObject that draws itself (infinite recursion)');
  add('font-loop.pdf', await mk((doc) => {
    const ctx = doc.context;
    const ref = ctx.nextRef();
    ctx.assign(ref, ctx.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: 'Loop', Encoding: 'Identity-H', DescendantFonts: [ref] }));
    const page = doc.getPage(0);
    page.node.setFontDictionary(PDFName.of('F9'), ref);
    const content = Buffer.from('BT /F9 12 Tf 10 10 Td <0041> Tj ET', 'latin1');
    page.node.set(PDFName.of('Contents'), ctx.register(PDFRawStream.of(ctx.obj({ Length: content.length }), content)));
  }), 'a Type0 font that is its own descendant font');
  add('objstm-garbage.pdf', replaceLatin1(base, /\/Type \/ObjStm/g, () => '/Type /ObjStm /N 99999 /First 99999'), 'object streams claiming 99,999 objects at offset 99,999');
  add('password.pdf', await stablePdf(await makePasswordPdf(), false), 'a password-protected PDF');
  add('image-only.pdf', await stablePdf(await makeImageOnlyPdf(3), false), 'a PDF with no text layer');
  add('header-only.pdf', enc('%PDF-1.7\n%%EOF\n'), 'only a header and an end marker');
  add('eof-padding.pdf', concatBytes([plain, new Uint8Array(2 * MiB)]), 'a PDF followed by 2 MB of NUL padding');
  add('two-pdfs.pdf', concatBytes([plain, plain]), 'two PDFs concatenated (incremental-update style)');

  // byte-level damage of the body, with the header and end marker kept
  for (const c of byteCases(rng, 'pdf', [base, plain], 80, pdfBody)) cases.push(c);
  return cases;
}

// ---- DOCX / XLSX (ZIP packages) ---------------------------------------------------------------

export async function packageCases(rng: Rng, format: 'docx' | 'xlsx'): Promise<Case[]> {
  const cases: Case[] = [];
  const add = (name: string, bytes: Uint8Array, what: string) => cases.push({ name: `${name}.${format}`, bytes, what: `${format}: ${what}` });
  const parts =
    format === 'docx'
      ? docxParts([{ text: '标题', heading: 1 }, ZH, EN, { table: [['a', 'b'], ['c', 'd']] }])
      : xlsxParts([{ name: 'S1', rows: [['科室', '电话'], ['信息科', 8001], ['急诊', 8120]] }]);
  const valid = stableZip(await makeZip(parts));
  const entries = readRawZip(valid);
  const main = format === 'docx' ? 'word/document.xml' : 'xl/worksheets/sheet1.xml';
  const xmlParts = entries.filter((e) => e.name.endsWith('.xml') || e.name.endsWith('.rels')).map((e) => e.name);
  const withEntries = (fn: (es: RawEntry[]) => RawEntry[]) => writeRawZip(fn(entries.map((e) => ({ ...e }))));

  // entries removed, duplicated, renamed
  for (const e of entries) add(`remove-${e.name.replace(/\W+/g, '_')}`, withEntries((es) => es.filter((x) => x.name !== e.name)), `entry ${e.name} removed`);
  for (const e of entries) {
    add(`dup-${e.name.replace(/\W+/g, '_')}`, withEntries((es) => [...es, { ...e, data: enc('<broken') }]), `entry ${e.name} duplicated (second copy is broken XML)`);
  }
  add('dup-main-first', withEntries((es) => [{ name: main, data: enc('<?xml version="1.0"?><evil/>') }, ...es]), `a second ${main} before the real one`);
  for (const name of ['../../etc/passwd', '/etc/passwd', '..\\..\\windows\\win.ini', 'word/../../../../tmp/evil', 'C:/evil', 'a\u0000b', '']) {
    add(`traversal-${name.replace(/\W+/g, '_') || 'empty'}`, withEntries((es) => [...es, { name, data: enc('root:x:0:0:root:/root:/bin/bash\n') }]), `extra entry named ${JSON.stringify(name)}`);
  }
  add('traversal-main', withEntries((es) => es.map((x) => (x.name === main ? { ...x, name: `../../${main}` } : x))), `the main part renamed ../../${main}`);
  add('local-name-differs', withEntries((es) => es.map((x) => (x.name === main ? { ...x, localName: '../../etc/passwd' } : x))), 'local header names ../../etc/passwd, central directory the main part');
  add('backslash-names', withEntries((es) => es.map((x) => ({ ...x, name: x.name.replace(/\//g, '\\') }))), 'every entry name with backslashes');
  add('case-names', withEntries((es) => es.map((x) => ({ ...x, name: x.name.toUpperCase() }))), 'every entry name upper-cased');
  add('reversed', withEntries((es) => es.reverse()), 'entries in reverse order');
  add('no-entries', writeRawZip([]), 'an empty ZIP');
  // headers that lie
  add('encrypted-flag', withEntries((es) => es.map((x) => (x.name === main ? { ...x, flags: 1 } : x))), 'main part flagged encrypted');
  add('method-99', withEntries((es) => es.map((x) => (x.name === main ? { ...x, method: 99, raw: new Uint8Array(zlib.deflateRawSync(x.data)) } : x))), 'main part with compression method 99 (AES)');
  add('method-12', withEntries((es) => es.map((x) => (x.name === main ? { ...x, method: 12, raw: new Uint8Array(zlib.deflateRawSync(x.data)) } : x))), 'main part with compression method 12 (bzip2)');
  add('stored', withEntries((es) => es.map((x) => ({ ...x, method: 0 }))), 'every entry stored (not compressed)');
  add('stored-size-lie', withEntries((es) => es.map((x) => (x.name === main ? { ...x, method: 0, declaredSize: x.data.length + 10 } : x))), 'stored main part with a wrong uncompressed size');
  add('bad-crc', withEntries((es) => es.map((x) => ({ ...x, badCrc: true }))), 'every CRC wrong');
  add('descriptor-flag', withEntries((es) => es.map((x) => (x.name === main ? { ...x, flags: 8 } : x))), 'data-descriptor flag without a descriptor');
  add('size-understated', withEntries((es) => es.map((x) => (x.name === main ? { ...x, declaredSize: 10 } : x))), 'main part declares 10 bytes uncompressed');
  add('size-overstated', withEntries((es) => es.map((x) => (x.name === main ? { ...x, declaredSize: 150 * MiB } : x))), 'main part declares 150 MB uncompressed');
  add('csize-lie', withEntries((es) => es.map((x) => (x.name === main ? { ...x, declaredCompressed: 5 } : x))), 'main part declares 5 bytes compressed');
  add('raw-garbage', withEntries((es) => es.map((x) => (x.name === main ? { ...x, raw: rng.bytes(500) } : x))), 'main part is random bytes declared DEFLATE');
  add('raw-truncated-deflate', withEntries((es) => es.map((x) => (x.name === main ? { ...x, raw: new Uint8Array(zlib.deflateRawSync(x.data)).subarray(0, 20) } : x))), 'main part DEFLATE stream cut short');
  add('prefix-garbage', writeRawZip(entries, { prefix: rng.bytes(300) }), '300 bytes of garbage before the first entry');
  add('cd-count-high', writeRawZip(entries, { cdCount: entries.length + 5 }), 'end record counts 5 more entries than exist');
  add('cd-count-low', writeRawZip(entries, { cdCount: 1 }), 'end record counts a single entry');
  add('cd-count-ffff', writeRawZip(entries, { cdCount: 0xffff }), 'end record count 0xFFFF (ZIP64 marker, no ZIP64 record)');
  add('fake-eocd-comment', writeRawZip(entries, { comment: concatBytes([new Uint8Array([0x50, 0x4b, 0x05, 0x06]), new Uint8Array(18).fill(0xff)]) }), 'a fake end record inside the archive comment');
  add('zip-in-zip', withEntries((es) => es.map((x) => (x.name === main ? { ...x, data: valid } : x))), 'the main part replaced by the whole package (nested ZIP)');
  add('many-entries', withEntries((es) => [...es, ...Array.from({ length: 20_001 }, (_, i) => ({ name: `junk/${i}`, data: new Uint8Array(0), method: 0 }))]), '20,001 extra empty entries');
  add('2k-entries', withEntries((es) => [...es, ...Array.from({ length: 2_000 }, (_, i) => ({ name: `junk/${i}.xml`, data: enc('<a/>') }))]), '2,000 extra small entries (under the limit)');
  // bombs
  add('bomb-flat', makeZipBomb({ entry: main, inflatedBytes: 300 * MiB, extra: parts }), 'flat ZIP bomb: main part inflates to 300 MB of zeros, truthfully declared');
  add('bomb-lying', makeZipBomb({ entry: main, inflatedBytes: 300 * MiB, declareSize: 1000, extra: parts }), 'ZIP bomb declaring 1,000 bytes, inflating to 300 MB');
  add('bomb-ratio', makeZipBomb({ entry: main, inflatedBytes: 64 * MiB, extra: parts }), 'ZIP bomb: 64 MB of zeros (ratio ~1000×)');
  add('bomb-many', writeRawZip([...entries, ...Array.from({ length: 40 }, (_, i) => ({ name: `xl/media/z${i}.bin`, data: new Uint8Array(6 * MiB) }))]), '40 entries of 6 MB zeros each (240 MB in total, each under the ratio floor)');
  const inner = makeZipBomb({ entry: 'inner.xml', inflatedBytes: 100 * MiB });
  add('bomb-nested', withEntries((es) => [...es, { name: format === 'docx' ? 'word/embeddings/inner.zip' : 'xl/embeddings/inner.zip', data: inner }]), 'nested: an embedded ZIP that is itself a 100 MB bomb');
  add('bomb-nested-10', withEntries((es) => [...es, ...Array.from({ length: 10 }, (_, i) => ({ name: `${format === 'docx' ? 'word' : 'xl'}/embeddings/inner${i}.zip`, data: inner }))]), 'nested: ten embedded 100 MB bombs');
  add('ole', makeOleFile(), 'an OLE compound file (encrypted Office)');
  add('ole-short', makeOleFile().slice(0, 8), 'only the 8-byte OLE magic');

  // XML damage in each part
  for (const p of xmlParts) {
    for (const k of XML_MUTATIONS) {
      if (p !== main && rng.next() < 0.6) continue; // every kind on the main part, a sample on the others
      const src = new TextDecoder().decode(entries.find((e) => e.name === p)!.data);
      add(`xml-${k}-${p.replace(/\W+/g, '_')}`, withEntries((es) => es.map((x) => (x.name === p ? { ...x, data: mutateXml(rng.fork(k.length), src, k) } : x))), `${p}: XML ${k}`);
    }
  }
  // byte-level damage of the whole package
  for (const c of byteCases(rng, format, [valid], 45)) cases.push(c);
  return cases;
}

// ---- HTML/JSONL/CSV/TXT byte damage ------------------------------------------------------------

export async function byteMutationCases(rng: Rng): Promise<Case[]> {
  const out: Case[] = [];
  const counts: Record<Exclude<Format, 'pdf' | 'docx' | 'xlsx'>, number> = { txt: 12, md: 12, csv: 20, html: 20, jsonl: 20 };
  for (const [f, n] of Object.entries(counts) as [Format, number][]) out.push(...byteCases(rng, f, await seeds(f), n));
  return out;
}

/** A Word package whose _rels/.rels is followed, after its root element, by `n` nested elements. */
export async function docxRels(n: number): Promise<Uint8Array> {
  const parts = docxParts(['hello']);
  parts['_rels/.rels'] = `${parts['_rels/.rels'] as string}${'<w:p>'.repeat(n)}${'</w:p>'.repeat(n)}`;
  return stableZip(await makeZip(parts));
}
