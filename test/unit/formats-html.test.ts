// HTML loading: the visible text of real pages (UTF-8, GBK, UTF-16), nothing from scripts.
import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../electron/core/kb/formats/html.js';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { splitDocument } from '../../electron/core/kb/splitter.js';
import { loadErrorOf, makeHtml } from '../helpers/documents.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('HTML pages', () => {
  const page = makeHtml(
    '停电应急 &amp; 恢复',
    [
      '<nav><a href="/">首页</a> | <a href="/kb">知识库</a></nav>',
      '<h1>UPS 切换流程</h1>',
      '<p>市电中断后，UPS 可支撑 <b>30 分钟</b>。&nbsp;请立即通知&lt;动力科&gt;。</p>',
      '<script>document.write("SECRET-SCRIPT")</script>',
      '<style>.x { content: "SECRET-STYLE" }</style>',
      '<noscript>SECRET-NOSCRIPT</noscript><template><p>SECRET-TEMPLATE</p></template>',
      '<div hidden>SECRET-HIDDEN</div><span style="display: none">SECRET-NONE</span>',
      '<ul><li>检查电池<li>记录时间</ul>',
      '<table><tr><th>设备</th><th>位置</th></tr><tr><td>UPS-1</td><td><p>机房A</p><p>二层</p></td></tr></table>',
      '<pre>  ping 10.0.0.1\n  ping 10.0.0.2</pre>',
    ].join('\n'),
    '<script>var leak = "SECRET-HEAD-SCRIPT";</script><meta name="description" content="SECRET-META">',
  );

  it('keeps only the visible text, one line per block, with entities decoded', async () => {
    const doc = await parseDocument('ups.html', page);
    expect(doc.format).toBe('html');
    expect(doc.units).toHaveLength(1);
    const text = doc.units[0]!.text;
    expect(text).not.toMatch(/SECRET/);
    expect(text.split('\n')).toEqual([
      '停电应急 & 恢复',
      '首页 | 知识库',
      'UPS 切换流程',
      '市电中断后，UPS 可支撑 30 分钟。 请立即通知<动力科>。',
      '检查电池',
      '记录时间',
      '设备 | 位置',
      'UPS-1 | 机房A 二层',
      '  ping 10.0.0.1',
      '  ping 10.0.0.2',
    ]);
  });

  it('splits a page into chunks whose text is the page text', async () => {
    const chunks = splitDocument(await parseDocument('ups.htm', page));
    expect(chunks.map((c) => c.text).join('\n')).toContain('市电中断后，UPS 可支撑 30 分钟。');
    expect(chunks.every((c) => !c.text.includes('SECRET'))).toBe(true);
  });

  it('decodes the charset a page declares (GBK), and UTF-16 with a BOM', async () => {
    // "<meta charset=gbk><p>中文</p>" with 中文 in GBK.
    const gbk = new Uint8Array([...enc('<html><head><meta charset="gbk"></head><body><p>'), 0xd6, 0xd0, 0xce, 0xc4, ...enc('</p></body></html>')]);
    expect((await parseDocument('gbk.html', gbk)).units[0]!.text).toBe('中文');
    const gb2312 = new Uint8Array([...enc('<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>'), 0xd6, 0xd0, 0xce, 0xc4, ...enc('</p>')]);
    expect((await parseDocument('gb2312.htm', gb2312)).units[0]!.text).toBe('中文');
    const s = '<p>护理记录</p>';
    const utf16 = new Uint8Array(2 + s.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) new DataView(utf16.buffer).setUint16(2 + i * 2, s.charCodeAt(i), true);
    expect((await parseDocument('utf16.html', utf16)).units[0]!.text).toBe('护理记录');
    // A page re-saved as UTF-8 that still declares GBK is read as UTF-8.
    expect((await parseDocument('resaved.html', enc('<meta charset="gbk"><p>病区</p>'))).units[0]!.text).toBe('病区');
  });

  it('copes with unclosed tags and a forgotten </head>', () => {
    expect(htmlToText('<html><head><title>T</title><p>body text<ul><li>one<li>two</ul>after')).toBe('T\nbody text\none\ntwo\nafter');
    expect(htmlToText('<p>a<script>never closed')).toBe('a');
  });

  it('reports a page without visible text as empty', async () => {
    const err = await loadErrorOf(parseDocument('blank.html', enc('<html><head><title></title><script>x()</script></head><body> </body></html>')));
    expect(err.file).toBe('blank.html');
    expect(err.reason).toMatch(/no text could be extracted/);
  });
});
