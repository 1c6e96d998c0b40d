import { describe, expect, it } from 'vitest';
import { parseCsv, parseDocument, LoadError } from '../../electron/core/kb/loaders.js';
import { describeLocation, splitDocument } from '../../electron/core/kb/splitter.js';

const md = ['# 制度', '', '## 一、请假', '职工请假应先申请。经批准后方可离岗！病假需要诊断证明；事假需提前3天。', '', '## 二、销假', '假期结束后应及时销假。'].join('\n');

describe('Chinese-aware splitting', () => {
  it('keeps each Markdown section in its own chunks, with its heading path and lines', async () => {
    const chunks = splitDocument(await parseDocument('rules.md', Buffer.from(md)));
    expect(chunks.map((c) => c.heading)).toEqual(['制度 › 一、请假', '制度 › 二、销假']);
    expect(chunks[0]!.lineStart).toBe(4);
    expect(chunks[1]!.text).toBe('假期结束后应及时销假。');
  });

  it('records offsets that point back at the exact text in the document', async () => {
    const chunks = splitDocument(await parseDocument('rules.md', Buffer.from(md)));
    for (const c of chunks) expect(md.slice(c.charStart, c.charEnd).replace(/\n/g, '')).toBe(c.text.replace(/\n/g, ''));
  });

  it('cuts long text at sentence ends (。！？；) into chunks no longer than the limit, overlapping by whole sentences', async () => {
    const sentences = Array.from({ length: 40 }, (_, i) => `第${i}条规定的内容比较长一些需要完整保留。`);
    const chunks = splitDocument(await parseDocument('long.txt', Buffer.from(sentences.join(''))), { maxChars: 100, overlapChars: 30 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(100);
      expect(c.text.endsWith('。')).toBe(true);
    }
    // Overlap: each chunk after the first starts with the last sentence of the previous one.
    for (let i = 1; i < chunks.length; i++) {
      const prevLast = chunks[i - 1]!.text.split('。').filter(Boolean).pop()!;
      expect(chunks[i]!.text.startsWith(prevLast)).toBe(true);
    }
    // Nothing is lost: every sentence is in some chunk.
    for (const s of sentences) expect(chunks.some((c) => c.text.includes(s))).toBe(true);
  });

  it('gives each CSV row its own location', async () => {
    const chunks = splitDocument(await parseDocument('drugs.csv', Buffer.from('name,dose\n阿莫西林,500mg\n"布洛芬, 缓释",300mg\n')));
    expect(chunks.map((c) => c.row)).toEqual([1, 2]);
    expect(chunks[1]!.text).toContain('布洛芬, 缓释');
    expect(describeLocation(chunks[1]!)).toBe('row 2');
  });

  it('parses quoted CSV fields with doubled quotes and newlines', async () => {
    expect(parseCsv('a,b\n"x ""y""","line1\nline2"\n')).toEqual([
      ['a', 'b'],
      ['x "y"', 'line1\nline2'],
    ]);
  });

  it('refuses empty, unsupported and undecodable files by name and reason', async () => {
    await expect(parseDocument('empty.md', Buffer.alloc(0))).rejects.toThrow(/empty\.md: the file is empty/);
    await expect(parseDocument('scan.tiff', Buffer.from('x'))).rejects.toThrow(/scan\.tiff: unsupported file type/);
    const bad = Buffer.from([0xff, 0xff, 0xff, 0x00, 0x81]);
    await expect(parseDocument('bin.txt', bad)).rejects.toThrow(LoadError);
  });

  it('reads GB18030-encoded Chinese text', async () => {
    const gbk = Buffer.from([0xc7, 0xeb, 0xbc, 0xd9, 0xd6, 0xc6, 0xb6, 0xc8]); // 请假制度
    const chunks = splitDocument(await parseDocument('old.txt', gbk));
    expect(chunks[0]!.text).toBe('请假制度');
  });
});
