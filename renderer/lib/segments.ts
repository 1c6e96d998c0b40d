// Splits an answer text into plain text and citation markers such as [1], [2][3] or [1, 2],
// so the console can render each marker as a clickable chip. Pure.

export type Segment = { kind: 'text'; text: string } | { kind: 'cite'; n: number };

const MARKER = /\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]/g;

/**
 * `known`: the citation numbers that exist; a bracketed number that is not one of them
 * (for example "[2023]" in a guideline title) stays plain text. Omit it to accept any number.
 */
export function parseAnswer(answer: string, known?: ReadonlySet<number>): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let last = 0;
  for (const match of answer.matchAll(MARKER)) {
    const numbers = (match[1] ?? '').split(/[,，、]/).map((s) => Number(s.trim()));
    if (known && !numbers.every((n) => known.has(n))) continue;
    text += answer.slice(last, match.index);
    if (text) segments.push({ kind: 'text', text });
    text = '';
    for (const n of numbers) segments.push({ kind: 'cite', n });
    last = match.index + match[0].length;
  }
  text += answer.slice(last);
  if (text) segments.push({ kind: 'text', text });
  return segments;
}
