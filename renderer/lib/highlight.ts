// Marks the question's terms in a cited passage. Pure.
// Latin words and numbers count from two characters; Chinese (and other CJK) runs are split
// into overlapping pairs of characters, since Chinese has no spaces between words.

export interface Piece {
  text: string;
  hit: boolean;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+/gu;
const WORD = /[\p{L}\p{N}]+/gu;

/** The terms of a question worth highlighting, longest first, without duplicates. */
export function questionTerms(question: string): string[] {
  const terms = new Set<string>();
  for (const m of question.matchAll(CJK)) {
    const run = [...m[0]];
    for (let i = 0; i + 1 < run.length; i++) terms.add(run[i]! + run[i + 1]!);
  }
  const rest = question.replace(CJK, ' ');
  for (const m of rest.matchAll(WORD)) if (m[0].length >= 2) terms.add(m[0].toLowerCase());
  return [...terms].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** Splits `text` into plain and highlighted pieces (case-insensitive; overlapping hits merge). */
export function highlight(text: string, terms: readonly string[]): Piece[] {
  if (!text) return [];
  const lower = text.toLowerCase();
  // toLowerCase may change lengths for a few characters; then match case-sensitively.
  const hay = lower.length === text.length ? lower : text;
  const mark = new Uint8Array(text.length);
  for (const term of terms) {
    if (!term) continue;
    const needle = hay === lower ? term.toLowerCase() : term;
    for (let at = hay.indexOf(needle); at !== -1; at = hay.indexOf(needle, at + 1)) mark.fill(1, at, at + needle.length);
  }
  const pieces: Piece[] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || mark[i] !== mark[start]) {
      pieces.push({ text: text.slice(start, i), hit: mark[start] === 1 });
      start = i;
    }
  }
  return pieces;
}
