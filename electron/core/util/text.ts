// Text features shared by the hashed embedder, the extractive answerer and the relevance check:
// CJK text becomes character unigrams and bigrams, Latin script becomes lower-cased words.

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;
const CJK_CLASS = '\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uac00-\\ud7af';
// A CJK run, or a Latin/number word that stops where CJK begins ("20年" is "20" then "年").
const TOKEN = new RegExp(`[${CJK_CLASS}]+|(?:(?![${CJK_CLASS}])[\\p{L}\\p{N}])(?:(?![${CJK_CLASS}])[\\p{L}\\p{N}_\\-./])*`, 'gu');

// Words that carry no topic. Kept short on purpose: the embedder's weighting does the rest.
const STOP_EN = new Set(
  'a an and are as at be been but by can could do does did for from had has have how i if in into is it its me my no not of on or our should so such than that the their them then there these they this to was we were what when where which who why will with would you your'.split(
    ' ',
  ),
);
// Chinese question words and particles that appear in questions but not in answers.
const STOP_ZH = new Set(['如何', '怎么', '怎样', '什么', '哪些', '哪个', '多少', '是否', '可以', '需要', '应该', '吗', '呢', '的', '了', '是', '有', '在', '和', '与', '请问', '一下']);

export function isStopWord(word: string): boolean {
  return STOP_EN.has(word) || STOP_ZH.has(word);
}

export function isCjkChar(ch: string): boolean {
  return CJK.test(ch);
}

export interface Feature {
  key: string;
  weight: number;
}

/** Features for embedding: CJK unigrams (0.5) and bigrams (1), Latin words (1). */
export function features(text: string): Feature[] {
  const out: Feature[] = [];
  const norm = text.normalize('NFKC').toLowerCase();
  for (const m of norm.matchAll(TOKEN)) {
    const tok = m[0];
    if (CJK.test(tok[0]!)) {
      const chars = [...tok];
      for (let i = 0; i < chars.length; i++) {
        const c = chars[i]!;
        if (!STOP_ZH.has(c)) out.push({ key: 'u:' + c, weight: 0.5 });
        if (i + 1 < chars.length) {
          const bi = c + chars[i + 1]!;
          if (!STOP_ZH.has(bi)) out.push({ key: 'b:' + bi, weight: 1 });
        }
      }
    } else {
      const w = tok.replace(/[.\-_/]+$/, '');
      if (w.length === 0 || STOP_EN.has(w)) continue;
      out.push({ key: 'w:' + w, weight: 1 });
      // Numbers with units ("500mg") also match the bare number.
      const num = /^(\d+(?:\.\d+)?)[a-z%]+$/.exec(w);
      if (num) out.push({ key: 'w:' + num[1]!, weight: 0.5 });
    }
  }
  return out;
}

/**
 * The query's content terms, used to judge whether a passage covers the question:
 * CJK bigrams (and single CJK characters when a run has only one) and Latin words.
 */
export function queryTerms(text: string): string[] {
  const terms = new Set<string>();
  const norm = text.normalize('NFKC').toLowerCase();
  for (const m of norm.matchAll(TOKEN)) {
    const tok = m[0];
    if (CJK.test(tok[0]!)) {
      const chars = [...tok];
      if (chars.length === 1) {
        if (!STOP_ZH.has(tok)) terms.add(tok);
        continue;
      }
      for (let i = 0; i + 1 < chars.length; i++) {
        const bi = chars[i]! + chars[i + 1]!;
        if (!STOP_ZH.has(bi) && !STOP_ZH.has(chars[i]!) && !STOP_ZH.has(chars[i + 1]!)) terms.add(bi);
        else if (!STOP_ZH.has(bi) && ![...bi].every((c) => STOP_ZH.has(c))) terms.add(bi);
      }
    } else {
      const w = tok.replace(/[.\-_/]+$/, '');
      if (w.length > 0 && !STOP_EN.has(w)) terms.add(w);
    }
  }
  return [...terms];
}

/** Share of `terms` found in `text` (case-insensitive, NFKC). */
export function termCoverage(terms: readonly string[], text: string): number {
  if (terms.length === 0) return 0;
  const hay = text.normalize('NFKC').toLowerCase();
  let hit = 0;
  for (const t of terms) if (containsTerm(hay, t)) hit++;
  return hit / terms.length;
}

function containsTerm(hay: string, term: string): boolean {
  if (CJK.test(term[0]!)) return hay.includes(term);
  // Latin: whole word or word prefix (plural, -ing).
  let from = 0;
  for (;;) {
    const i = hay.indexOf(term, from);
    if (i < 0) return false;
    const before = i === 0 ? '' : hay[i - 1]!;
    if (!/[\p{L}\p{N}]/u.test(before)) return true;
    from = i + 1;
  }
}

export function mostlyCjk(text: string): boolean {
  let cjk = 0;
  let latin = 0;
  for (const ch of text) {
    if (CJK.test(ch)) cjk++;
    else if (/[A-Za-z]/.test(ch)) latin++;
  }
  return cjk >= latin / 4;
}
