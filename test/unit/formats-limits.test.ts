// The bounds on reading one document: the parse worker's time and memory limits (parsePool.ts),
// the cap on the text a document may yield, header names repeated without bound, compression
// bombs inside PDFs, pathological HTML nesting, and reasons that quote control characters.
import zlib from 'node:zlib';
import { PDFDocument, PDFName, PDFRawStream, StandardFonts } from 'pdf-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_HTML_DEPTH } from '../../electron/core/kb/formats/html.js';
import { MAX_PDF_STREAM_BYTES } from '../../electron/core/kb/formats/pdf.js';
import { LoadError, MAX_LABEL_CHARS, MAX_TEXT_CHARS, escapeControls } from '../../electron/core/kb/formats/types.js';
import { parseCsv, parseDocument } from '../../electron/core/kb/loaders.js';
import { type ParseLimits, setParseLimits } from '../../electron/core/kb/parsePool.js';
import { loadErrorOf, makePdf } from '../helpers/documents.js';

const enc = (s: string) => new TextEncoder().encode(s);
const MiB = 1024 * 1024;

/** A one-page PDF with visible text whose page content is replaced by `content` (raw, or FlateDecode). */
async function pdfWithContent(content: Uint8Array, flate: boolean): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([300, 300]);
  page.drawText('Visible text.', { x: 10, y: 200, size: 10, font });
  const dict = doc.context.obj(flate ? { Length: content.length, Filter: 'FlateDecode' } : { Length: content.length });
  page.node.set(PDFName.of('Contents'), doc.context.register(PDFRawStream.of(dict, content)));
  return doc.save();
}

/** Operators that keep pdf.js busy synchronously for ~36 s on one page. */
const manySaveStates = () => pdfWithContent(enc(`${'q '.repeat(20_000)}BT /F1 12 Tf 10 10 Td (x) Tj ET`), false);

describe('the parse worker', () => {
  let saved: ParseLimits | null = null;
  afterEach(() => {
    if (saved) setParseLimits(saved);
    saved = null;
  });

  it('refuses a document that makes no progress within the step limit, keeps the event loop free meanwhile, and reads the next one', async () => {
    saved = setParseLimits({ stepMs: 1_500 });
    let last = Date.now();
    let maxLag = 0;
    const tick = setInterval(() => {
      maxLag = Math.max(maxLag, Date.now() - last - 10);
      last = Date.now();
    }, 10);
    try {
      const t = Date.now();
      const err = await loadErrorOf(parseDocument('many-q.pdf', await manySaveStates()));
      expect(err.file).toBe('many-q.pdf');
      expect(err.reason).toMatch(/^took longer than 1\.5 s to read \(reading page 1\)/);
      expect(Date.now() - t).toBeLessThan(10_000);
    } finally {
      clearInterval(tick);
    }
    // pdf.js ran on another thread: this one kept ticking (generous margin on a shared machine).
    expect(maxLag).toBeLessThan(1_000);
    // The terminated thread is replaced.
    expect((await parseDocument('next.txt', enc('still reading'))).units[0]!.text).toBe('still reading');
  }, 60_000);

  it('refuses a document whose reading needs more memory than allowed', async () => {
    // 100 MB of content-stream operators: under the PDF stream limit, but pdf.js holds and parses it all.
    const content = zlib.deflateSync(Buffer.alloc(100 * MiB, 'q Q '));
    const bytes = await pdfWithContent(content, true);
    saved = setParseLimits({ memoryMb: 48 });
    const err = await loadErrorOf(parseDocument('heavy.pdf', bytes));
    expect(err.reason).toMatch(/^needs more than 48 MB of memory to read/);
  }, 60_000);

  it('refuses a document whose reading fills the worker\'s heap, without harm to this process', async () => {
    saved = setParseLimits({ heapMb: 24, memoryMb: 100_000 });
    // 600,000 rows: ~60 MB of row arrays and field strings on the worker's heap.
    const err = await loadErrorOf(parseDocument('rows.csv', enc(`a,b\n${'1,2\n'.repeat(600_000)}`)));
    expect(err.reason).toMatch(/^needs more than 24 MB of memory to read/);
    setParseLimits(saved);
    saved = null;
    expect((await parseDocument('small.csv', enc('a,b\n1,2\n'))).units).toHaveLength(1);
  }, 60_000);

  it('reads documents side by side, each with its own outcome', async () => {
    const docs = Array.from({ length: 6 }, (_, i) => parseDocument(i % 2 ? `n${i}.md` : `n${i}.jsonl`, enc(i % 2 ? `# note ${i}` : `{"text": "line ${i}"}\n{"text": ]}\n`)));
    const settled = await Promise.allSettled(docs);
    settled.forEach((s, i) => {
      if (i % 2) expect(s).toMatchObject({ status: 'fulfilled', value: { format: 'md', units: [{ text: `# note ${i}` }] } });
      else expect(s.status === 'rejected' && s.reason instanceof LoadError && s.reason.file === `n${i}.jsonl`).toBe(true);
    });
  }, 30_000);
});

describe('bounded output', () => {
  it('leaves empty CSV values out and cuts long header names where every row repeats them', async () => {
    const long = `Q${'x'.repeat(300)}`;
    const doc = await parseDocument('survey.csv', enc(`id,${long},note\n1,yes,\n2,,late\n`));
    expect(doc.units.map((u) => u.text)).toEqual([`id: 1\n${long.slice(0, MAX_LABEL_CHARS - 1)}…: yes`, 'id: 2\nnote: late']);
  });

  it('slices long CSV fields out whole, doubled quotes included', () => {
    const field = `${'a'.repeat(5 * MiB)}""b`;
    const rows = parseCsv(`id,text\n1,"${field}"tail\n`);
    expect(rows[1]![1]!.length).toBe(5 * MiB + 6);
    expect(rows[1]![1]!.endsWith('a"btail')).toBe(true);
  });

  it(`refuses a document that would yield more than ${MAX_TEXT_CHARS} characters of text`, async () => {
    // 0.7 MB of one-character rows under a 100-character header: ~36 M characters of units.
    const csv = `${'h'.repeat(MAX_LABEL_CHARS)}\n${'x\n'.repeat(350_000)}`;
    const err = await loadErrorOf(parseDocument('amplified.csv', enc(csv)));
    expect(err.reason).toMatch(/more than 33,554,432 characters of text, the limit for one document/);
  }, 30_000);

  it('reads plain text as long as the file limit allows, beyond the limit on built text', async () => {
    const doc = await parseDocument('long.log', new Uint8Array(MAX_TEXT_CHARS + 1024).fill(0x61));
    expect(doc.units[0]!.text.length).toBe(MAX_TEXT_CHARS + 1024);
  }, 30_000);

  it(`refuses a PDF stream that unpacks to more than ${MAX_PDF_STREAM_BYTES / MiB} MB before pdf.js reads it`, async () => {
    const bomb = zlib.deflateSync(Buffer.alloc(MAX_PDF_STREAM_BYTES + MiB, 0x20), { level: 9 });
    const err = await loadErrorOf(parseDocument('bomb.pdf', await pdfWithContent(bomb, true)));
    expect(err.reason).toMatch(/a stream of the PDF \(at byte \d+\) unpacks to more than 128 MB; refusing a possible compression bomb/);
    // An ordinary compressed PDF passes the check.
    expect((await parseDocument('ok.pdf', await makePdf(['Hello.']))).units[0]!.text).toBe('Hello.');
  }, 30_000);

  it(`reads a page nested 10,000 levels deep, and refuses one nested deeper than ${MAX_HTML_DEPTH}`, async () => {
    const deep = (n: number) => enc(`<html><body>${'<div>'.repeat(n)}deep text${'</div>'.repeat(n)}</body></html>`);
    expect((await parseDocument('deep.html', deep(10_000))).units[0]!.text).toBe('deep text');
    const err = await loadErrorOf(parseDocument('deeper.html', deep(MAX_HTML_DEPTH + 10)));
    expect(err.reason).toMatch(/nested more than 25,000 levels deep/);
  }, 30_000);
});

describe('reasons', () => {
  it('show the control characters they quote escaped, and keep the file name as given', async () => {
    const e = new LoadError('odd\u0007name.txt', 'bad \u001b[2J\u009b line\nend \u202e');
    expect(e.file).toBe('odd\u0007name.txt');
    expect(e.reason).toBe('bad \\x1b[2J\\x9b line\\x0aend \\u202e');
    expect(e.message).toBe('odd\u0007name.txt: bad \\x1b[2J\\x9b line\\x0aend \\u202e');
    expect(escapeControls('plain 中文 text')).toBe('plain 中文 text');

    const err = await loadErrorOf(parseDocument('esc.jsonl', enc('{"text": "ok"}\n{"text": \u001b[2J}\n')));
    expect(err.reason).toContain('\\x1b[2J');
    expect(err.reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
