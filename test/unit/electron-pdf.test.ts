// The desktop app prints recovery reports to PDF (Electron cannot run here: a recording fake of
// BrowserWindow stands in, named as such).
import { describe, expect, it } from 'vitest';
import type { ApiHandlers } from '../../electron/api/handlers.js';
import { createInvokeHandler, printReportToPdf } from '../../electron/main.js';

class FakePrintWindow {
  static made: FakePrintWindow[] = [];
  loaded = '';
  destroyed = false;
  readonly options: { show: boolean; webPreferences: Record<string, unknown> };
  constructor(options: object) {
    this.options = options as FakePrintWindow["options"];
    FakePrintWindow.made.push(this);
  }
  webContents = { printToPDF: async () => Buffer.from(`%PDF-fake of ${this.loaded.length} chars`) };
  async loadURL(url: string) {
    this.loaded = url;
  }
  destroy() {
    this.destroyed = true;
  }
}

describe('report PDFs in the desktop app', () => {
  it('prints in a hidden, sandboxed window with JavaScript off, from a data: URL, and closes it', async () => {
    const pdf = await printReportToPdf(FakePrintWindow, '<h1>报告</h1><script>alert(1)</script>');
    const w = FakePrintWindow.made.at(-1)!;
    expect(w.options.show).toBe(false);
    expect(w.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false });
    expect(w.loaded.startsWith('data:text/html;charset=utf-8;base64,')).toBe(true);
    expect(Buffer.from(w.loaded.split(',')[1]!, 'base64').toString('utf8')).toContain('<h1>报告</h1>');
    expect(w.destroyed).toBe(true);
    expect(pdf.toString()).toMatch(/^%PDF/);
  });

  it('answers reports.pdf through IPC with the printed report, and passes other calls to the core', async () => {
    const core = { handlers: { 'reports.get': async (r: { id: string }) => ({ id: r.id, html: '<p>ok</p>' }) } as unknown as ApiHandlers, onEvent: () => () => undefined, close: async () => undefined };
    const handler = createInvokeHandler({ core: async () => core, isTrustedSender: () => true, printPdf: async (html) => Buffer.from(`PDF:${html}`) });
    const r = await handler({} as never, 'reports.pdf', { id: 'r1' });
    expect(r).toEqual({ ok: true, value: { id: 'r1', pdfBase64: Buffer.from('PDF:<p>ok</p>').toString('base64') } });
    const untrusted = createInvokeHandler({ core: async () => core, isTrustedSender: () => false, printPdf: async () => Buffer.from('x') });
    expect((await untrusted({} as never, 'reports.pdf', { id: 'r1' })).ok).toBe(false);
  });
});
