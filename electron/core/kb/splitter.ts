// Chinese-aware splitting (DESIGN.md "Retrieval and answers"): sentence ends 。！？； and
// Latin . ! ? ;, Markdown headings start a new section, chunks are packed to a size with an
// overlap of whole sentences. Every chunk keeps its offsets, lines, page and row.
import type { ParsedDocument } from './loaders.js';

export interface Chunk {
  text: string;
  heading: string;
  charStart: number;
  charEnd: number;
  lineStart: number | null;
  lineEnd: number | null;
  page: number | null;
  row: number | null;
}

export interface SplitOptions {
  maxChars: number;
  overlapChars: number;
}

export const DEFAULT_SPLIT: SplitOptions = { maxChars: 480, overlapChars: 80 };

interface Sentence {
  text: string;
  start: number;
  end: number;
  line: number;
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
// A sentence ends after CJK terminators, or after . ! ? ; followed by white space.
const SENTENCE_END = /[。！？；!?;]+[”’」』）)]*|\.(?=\s)/g;

export function splitDocument(doc: ParsedDocument, opts: SplitOptions = DEFAULT_SPLIT): Chunk[] {
  const chunks: Chunk[] = [];
  for (const unit of doc.units) {
    const headings: string[] = [];
    let section: Sentence[] = [];
    let sectionHeading = '';
    const flush = () => {
      pack(section, sectionHeading, unit, opts, chunks);
      section = [];
    };
    let offset = unit.start;
    let lineNo = unit.line ?? 1;
    for (const rawLine of unit.text.split('\n')) {
      const lineStart = offset;
      offset += rawLine.length + 1;
      const line = rawLine.replace(/\r$/, '');
      const h = doc.format === 'md' ? HEADING.exec(line) : null;
      if (h) {
        flush();
        const level = h[1]!.length;
        headings.length = level - 1;
        headings[level - 1] = h[2]!.trim();
        sectionHeading = headings.filter(Boolean).join(' › ');
      } else if (line.trim()) {
        for (const s of sentencesOf(line, lineStart, lineNo)) section.push(s);
      }
      lineNo++;
    }
    flush();
  }
  return chunks;
}

function sentencesOf(line: string, lineStart: number, lineNo: number): Sentence[] {
  const out: Sentence[] = [];
  let from = 0;
  const push = (end: number) => {
    const raw = line.slice(from, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text) out.push({ text, start: lineStart + from + lead, end: lineStart + from + lead + text.length, line: lineNo });
    from = end;
  };
  for (const m of line.matchAll(SENTENCE_END)) push(m.index! + m[0].length);
  push(line.length);
  return out;
}

/** Packs sentences into chunks of at most maxChars (a longer sentence is cut), with overlap. */
function pack(sentences: Sentence[], heading: string, unit: ParsedDocument['units'][number], opts: SplitOptions, out: Chunk[]): void {
  const pieces = sentences.flatMap((s) => cutLong(s, opts.maxChars));
  let i = 0;
  while (i < pieces.length) {
    let j = i;
    let len = 0;
    while (j < pieces.length && (j === i || len + pieces[j]!.text.length + 1 <= opts.maxChars)) {
      len += pieces[j]!.text.length + 1;
      j++;
    }
    const group = pieces.slice(i, j);
    out.push({
      text: joinSentences(group),
      heading,
      charStart: group[0]!.start,
      charEnd: group[group.length - 1]!.end,
      lineStart: unit.line === undefined ? null : group[0]!.line,
      lineEnd: unit.line === undefined ? null : group[group.length - 1]!.line,
      page: unit.page ?? null,
      row: unit.row ?? null,
    });
    if (j >= pieces.length) break;
    // Overlap: step back over whole sentences worth at most overlapChars, but always advance.
    let k = j;
    let back = 0;
    while (k - 1 > i && back + pieces[k - 1]!.text.length <= opts.overlapChars) {
      back += pieces[k - 1]!.text.length;
      k--;
    }
    i = k;
  }
}

function joinSentences(group: Sentence[]): string {
  let text = '';
  let prevLine = -1;
  for (const s of group) {
    if (text) text += s.line !== prevLine ? '\n' : /[\u3000-\u9fff\uff00-\uffef]$/.test(text) ? '' : ' ';
    text += s.text;
    prevLine = s.line;
  }
  return text;
}

function cutLong(s: Sentence, max: number): Sentence[] {
  if (s.text.length <= max) return [s];
  const out: Sentence[] = [];
  for (let p = 0; p < s.text.length; p += max) {
    const text = s.text.slice(p, p + max);
    out.push({ text, start: s.start + p, end: s.start + p + text.length, line: s.line });
  }
  return out;
}

/** A short human-readable location: heading, lines, page or row. */
export function describeLocation(c: Pick<Chunk, 'heading' | 'lineStart' | 'lineEnd' | 'page' | 'row'>): string {
  const parts: string[] = [];
  if (c.page !== null) parts.push(`p. ${c.page}`);
  if (c.row !== null) parts.push(`row ${c.row}`);
  if (c.heading) parts.push(`§ ${c.heading}`);
  if (c.lineStart !== null) parts.push(c.lineEnd !== null && c.lineEnd !== c.lineStart ? `L${c.lineStart}–${c.lineEnd}` : `L${c.lineStart}`);
  return parts.join(' · ');
}
