// JSON Lines loading: one unit per line, the line number as the row; one bad line fails all.
import { describe, expect, it } from 'vitest';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { describeLocation, splitDocument } from '../../electron/core/kb/splitter.js';
import { loadErrorOf, makeJsonl } from '../helpers/documents.js';

describe('JSON Lines files', () => {
  const bytes = makeJsonl([
    { id: 1, text: '医院信息系统每日凌晨两点自动备份。', title: '备份制度', metadata: { source: 'x' } },
    { content: 'Restart the PACS gateway after a power cut.' },
    '',
    { page_content: '检验科LIS接口故障时，改用手工登记。', question: 'LIS 故障怎么办？', answer: '手工登记' },
    { name: '张三', phone: '8001', on_call: true, shifts: 3, nested: { ignored: 'yes' } },
    '"a bare string line"',
  ]);

  it('reads one unit per line, with the line number as the row', async () => {
    const doc = await parseDocument('kb.jsonl', bytes);
    expect(doc.format).toBe('jsonl');
    expect(doc.units.map((u) => [u.row, u.text])).toEqual([
      [1, 'title: 备份制度\n医院信息系统每日凌晨两点自动备份。'],
      [2, 'Restart the PACS gateway after a power cut.'],
      [4, 'question: LIS 故障怎么办？\nanswer: 手工登记\n检验科LIS接口故障时，改用手工登记。'],
      [5, 'name: 张三\nphone: 8001\non_call: true\nshifts: 3'],
      [6, 'a bare string line'],
    ]);
    expect(doc.units[1]!.start).toBe(doc.units[0]!.text.length + 1);
  });

  it('gives every chunk the line it came from, also for .ndjson', async () => {
    const chunks = splitDocument(await parseDocument('kb.ndjson', bytes));
    expect(chunks.map((c) => c.row)).toEqual([1, 2, 4, 5, 6]);
    expect(describeLocation(chunks[2]!)).toBe('row 4');
  });

  it('refuses the whole file when one line is not valid JSON, naming the line', async () => {
    const lines: (object | string)[] = Array.from({ length: 20 }, (_, i) => ({ text: `第${i + 1}行` }));
    lines[16] = '{"text": "unterminated';
    const err = await loadErrorOf(parseDocument('bad.jsonl', makeJsonl(lines)));
    expect(err.file).toBe('bad.jsonl');
    expect(err.reason).toMatch(/^line 17: not valid JSON/);
  });

  it('refuses a line that is not an object', async () => {
    const err = await loadErrorOf(parseDocument('array.jsonl', makeJsonl([{ text: 'ok' }, '[1, 2]'])));
    expect(err.reason).toBe('line 2: expected a JSON object or string, found an array');
  });

  it('handles CRLF line ends and a byte-order mark', async () => {
    const doc = await parseDocument('win.jsonl', new TextEncoder().encode('\uFEFF{"text":"一"}\r\n\r\n{"text":"二"}\r\n'));
    expect(doc.units.map((u) => [u.row, u.text])).toEqual([
      [1, '一'],
      [3, '二'],
    ]);
  });
});
