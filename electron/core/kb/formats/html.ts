// HTML: the visible text of a page, one line per block element, table rows as "a | b | c".
// Scripts, styles, <noscript>, <template>, the <head> (except its <title>) and hidden elements
// are dropped; entities are decoded. Also used for DOCX, which mammoth turns into HTML.
import { Parser } from 'htmlparser2';
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParsedUnit, TextBudget, decodeText } from './types.js';

export const html: FormatHandler = {
  format: 'html',
  extensions: FORMAT_EXTENSIONS.html,
  parse: (file, bytes): ParsedUnit[] => [{ text: htmlToText(decodeHtml(file, bytes), new TextBudget(file)), start: 0 }],
};

/**
 * Deepest element nesting read. htmlparser2 keeps its stack of open elements with
 * Array.unshift, so its time grows with the square of the depth: 25,000 levels take ~0.5 s,
 * 100,000 levels ~11 s, a few MB of them hours. Real pages stay within a few hundred levels
 * (browsers stop nesting at 512) and generated ones within a few thousand.
 */
export const MAX_HTML_DEPTH = 25_000;

/** Elements whose content is never shown (or is not page text). */
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'iframe', 'object', 'embed', 'svg', 'math', 'canvas', 'select', 'datalist']);

/** Elements that may appear in <head>; anything else ends it. */
const IN_HEAD = new Set(['base', 'link', 'meta', 'title', 'basefont', 'bgsound']);

/** Elements that start and end a line of text. */
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'html',
  'legend', 'li', 'main', 'menu', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot', 'thead', 'tr', 'ul',
]);

function isHidden(attribs: Record<string, string>): boolean {
  if ('hidden' in attribs) return true;
  const style = attribs.style;
  return style !== undefined && /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b/i.test(style);
}

/**
 * The visible text of an HTML document: blocks on their own lines, no blank lines. Refuses (a
 * LoadError naming `budget.file`) a page nested deeper than MAX_HTML_DEPTH or whose text passes
 * the budget.
 */
export function htmlToText(source: string, budget = new TextBudget('(HTML)')): string {
  const lines: string[] = [];
  let depth = 0;
  let cur = '';
  let title = '';
  let skipDepth = 0; // > 0 inside a skipped element (counts nested elements)
  let headDepth = 0;
  let titleDepth = 0;
  let preDepth = 0;
  let cellDepth = 0;

  const flush = () => {
    const t = (preDepth ? cur.replace(/\s+$/, '') : cur.replace(/ {2,}/g, ' ').trim());
    if (t.trim()) {
      budget.take(t.length + 1);
      lines.push(t);
    }
    cur = '';
  };
  const blockBoundary = () => {
    if (cellDepth) {
      if (cur && !cur.endsWith(' ')) cur += ' ';
    } else flush();
  };

  const parser = new Parser(
    {
      onopentag(name, attribs) {
        // The parser reports every element it closes, implied ones included: this is its depth.
        if (++depth > MAX_HTML_DEPTH) {
          throw new LoadError(budget.file, `elements are nested more than ${MAX_HTML_DEPTH.toLocaleString('en-US')} levels deep (real pages use a few hundred): the page is damaged or built to stall readers`);
        }
        if (skipDepth) {
          skipDepth++;
          return;
        }
        if (SKIP.has(name) || isHidden(attribs)) {
          skipDepth = 1;
          return;
        }
        if (name === 'head') headDepth++;
        else if (name === 'title') titleDepth++;
        // Content that cannot be in <head> means the page forgot to close it (as browsers assume).
        else if (headDepth && !titleDepth && !IN_HEAD.has(name)) headDepth = 0;
        if (headDepth && !titleDepth) return;
        if (name === 'td' || name === 'th') {
          if (!cellDepth && cur.trim()) cur = `${cur.trimEnd()} | `;
          cellDepth++;
        } else if (BLOCK.has(name)) blockBoundary();
        if (name === 'pre') preDepth++;
      },
      onclosetag(name) {
        depth = Math.max(0, depth - 1);
        if (skipDepth) {
          skipDepth--;
          return;
        }
        if (name === 'head') headDepth = Math.max(0, headDepth - 1);
        else if (name === 'title') titleDepth = Math.max(0, titleDepth - 1);
        if (headDepth) return;
        if (name === 'td' || name === 'th') cellDepth = Math.max(0, cellDepth - 1);
        else if (BLOCK.has(name)) blockBoundary();
        if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
      },
      ontext(text) {
        if (skipDepth) return;
        if (titleDepth) {
          title += text;
          return;
        }
        if (headDepth) return;
        if (preDepth && !cellDepth) {
          const parts = text.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').split('\n');
          parts.forEach((part, i) => {
            if (i) flush();
            cur += part;
          });
          return;
        }
        cur += text.replace(/[ \t\n\r\f]+/g, ' ').replace(/\u00a0/g, ' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(source);
  parser.end();
  flush();

  const t = title.replace(/\s+/g, ' ').trim();
  if (t && lines[0] !== t) {
    budget.take(t.length + 1);
    lines.unshift(t);
  }
  return lines.join('\n');
}

/**
 * Bytes → text: a BOM wins; then valid UTF-8 (pages re-saved as UTF-8 often keep an old
 * <meta charset>); then the charset the page declares; then decodeText's GB18030 fallback.
 */
export function decodeHtml(file: string, bytes: Uint8Array): string {
  const bom = (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) || (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (bom) return decodeText(file, bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // not UTF-8: fall through to the declared charset
  }
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
  const declared = /<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i.exec(head)?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    try {
      return new TextDecoder(declared.toLowerCase()).decode(bytes);
    } catch {
      // unknown label: fall back below
    }
  }
  return decodeText(file, bytes);
}
