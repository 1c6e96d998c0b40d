// PDF loading: real PDFs made with pdf-lib (test/helpers/documents.ts), read by the pdf handler.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { describeLocation, splitDocument } from '../../electron/core/kb/splitter.js';
import { cjkFontAvailable, loadErrorOf, makeImageOnlyPdf, makeNonEmbeddedCjkPdf, makePasswordPdf, makePdf, randomBytes } from '../helpers/documents.js';

describe('PDF documents', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads each page as its own unit, numbered from 1, with its line breaks', async () => {
    const bytes = await makePdf(['Triage protocol. Check the airway first.\nThen check breathing.', '', 'Discharge: give the patient a written plan.']);
    const doc = await parseDocument('triage.pdf', bytes);
    expect(doc.format).toBe('pdf');
    // The empty second page has nothing to index; page numbers stay those of the PDF.
    expect(doc.units.map((u) => u.page)).toEqual([1, 3]);
    expect(doc.units[0]!.text).toBe('Triage protocol. Check the airway first.\nThen check breathing.');
    expect(doc.units[1]!.text).toBe('Discharge: give the patient a written plan.');
    expect(doc.units[1]!.start).toBe(doc.units[0]!.text.length + 1);
  });

  it.skipIf(!cjkFontAvailable())('reads Chinese text drawn with an embedded CJK font', async () => {
    const bytes = await makePdf(['第一章 总则\n阿莫西林胶囊每次500mg，每日三次。', '第二章 注意事项：青霉素过敏者禁用！']);
    const doc = await parseDocument('用药指南.pdf', bytes);
    expect(doc.units.map((u) => [u.page, u.text])).toEqual([
      [1, '第一章 总则\n阿莫西林胶囊每次500mg，每日三次。'],
      [2, '第二章 注意事项：青霉素过敏者禁用！'],
    ]);
  });

  it('gives every chunk the page it came from', async () => {
    const bytes = await makePdf(['Backup runs nightly at 02:00.', 'Restore the database from the latest backup. Then restart the service.']);
    const chunks = splitDocument(await parseDocument('backup.pdf', bytes));
    expect(chunks.map((c) => c.page)).toEqual([1, 2]);
    expect(chunks[1]!.text).toContain('Restore the database');
    expect(chunks[1]!.lineStart).toBeNull();
    expect(describeLocation(chunks[1]!)).toBe('p. 2');
  });

  it('refuses a password-protected PDF and says so', async () => {
    const err = await loadErrorOf(parseDocument('roster.pdf', await makePasswordPdf()));
    expect(err.file).toBe('roster.pdf');
    expect(err.reason).toMatch(/password-protected/);
  });

  it('refuses a truncated PDF instead of returning part of it', async () => {
    const bytes = await makePdf(['Page one text.', 'Page two text.', 'Page three text.']);
    const err = await loadErrorOf(parseDocument('cut.pdf', bytes.subarray(0, Math.floor(bytes.length * 0.6))));
    expect(err.file).toBe('cut.pdf');
    expect(err.reason).toMatch(/truncated/);
  });

  it('refuses random bytes named .pdf, and a PDF whose structure is garbled', async () => {
    const random = await loadErrorOf(parseDocument('random.pdf', randomBytes(4096)));
    expect(random.file).toBe('random.pdf');
    expect(random.reason).toMatch(/not a PDF/);

    const bytes = new Uint8Array(await makePdf(['Some text on the page.']));
    bytes.set(randomBytes(Math.min(800, bytes.length - 300), 7), 150); // keep the header and the end marker
    const garbled = await loadErrorOf(parseDocument('garbled.pdf', bytes));
    expect(garbled.file).toBe('garbled.pdf');
    expect(garbled.reason).toMatch(/not a valid PDF|damaged/);
  });

  it('reports a PDF without a text layer (a scan) as having no text', async () => {
    const err = await loadErrorOf(parseDocument('scan.pdf', await makeImageOnlyPdf(2)));
    expect(err.reason).toMatch(/no text could be extracted/);
  });

  it('tells a PDF with undecodable Chinese fonts apart from a scan', async () => {
    const err = await loadErrorOf(parseDocument('old.pdf', await makeNonEmbeddedCjkPdf('中文测试')));
    expect(err.reason).toMatch(/fonts whose characters cannot be decoded/);
  });

  it('lets pdf.js print nothing, even for broken files', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    const stderr = vi.spyOn(process.stderr, 'write');
    await parseDocument('ok.pdf', await makePdf(['Helvetica is not embedded, so pdf.js would warn about font data.']));
    await loadErrorOf(parseDocument('old.pdf', await makeNonEmbeddedCjkPdf('中文')));
    await loadErrorOf(parseDocument('pw.pdf', await makePasswordPdf()));
    for (const s of spies) expect(s).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
  });

  it('refuses a cut-off PDF even when an end marker was tacked on', async () => {
    const good = await makePdf(['Text that will be cut at many places.', 'Second page.', 'Third page.']);
    for (let cut = 50; cut < good.length; cut += 150) {
      const broken = new Uint8Array(cut + 6);
      broken.set(good.subarray(0, cut));
      broken.set(new TextEncoder().encode('%%EOF\n'), cut);
      const err = await loadErrorOf(parseDocument('cut.pdf', broken));
      expect(err.reason).toMatch(/not a valid PDF|damaged/);
    }
  });
});
