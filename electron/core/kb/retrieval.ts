// Hybrid retrieval: FAISS vector search and SQLite FTS5 (trigram) full-text search, fused by
// reciprocal rank. Retrieval never crosses knowledge bases unless asked (invariant 6).
import type { Db } from '../store/catalog.js';
import type { FaissIndex } from '../vectors/segments.js';
import { isCjkChar, isStopWord } from '../util/text.js';

export interface Passage {
  chunkId: number;
  kb: string;
  kbId: number;
  document: string;
  documentId: number;
  text: string;
  heading: string;
  lineStart: number | null;
  lineEnd: number | null;
  page: number | null;
  row: number | null;
  /** Fused score in (0, 1]: 1 means ranked first by both the vector and the full-text search. */
  score: number;
  vectorScore: number | null;
}

export interface LiveSegment {
  segmentId: number;
  index: FaissIndex;
  /** chunk id of each row; rows whose chunk was deleted are tombstones. */
  chunkIds: Int32Array;
  /** True when searched through its IVF index rather than exhaustively. */
  approximate?: boolean;
}

const RRF_K = 60;

export interface Ranked {
  chunkId: number;
  similarity?: number;
}

/** Vector search across the given segments; best first, tombstoned rows skipped by the caller. */
export function vectorSearch(segments: readonly LiveSegment[], query: Float32Array, k: number): Ranked[] {
  const q = Array.from(query);
  const hits: Ranked[] = [];
  for (const s of segments) {
    const n = s.index.ntotal();
    if (n === 0) continue;
    const r = s.index.search(q, Math.min(k, n));
    for (let i = 0; i < r.labels.length; i++) {
      const row = r.labels[i]!;
      if (row < 0) continue;
      hits.push({ chunkId: s.chunkIds[row]!, similarity: r.distances[i]! });
    }
  }
  hits.sort((a, b) => b.similarity! - a.similarity!);
  return hits;
}

/** The query's trigrams (the trigram tokenizer needs ≥ 3 characters); Latin stop words dropped. */
export function queryTrigrams(question: string): string[] {
  const grams = new Set<string>();
  const norm = question.normalize('NFKC').toLowerCase();
  for (const m of norm.matchAll(/[\p{L}\p{N}]+/gu)) {
    const tok = m[0];
    const chars = [...tok];
    if (chars.some(isCjkChar)) {
      for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars.slice(i, i + 3).join(''));
    } else if (chars.length >= 3 && !isStopWord(tok)) grams.add(tok);
  }
  return [...grams];
}

/** An FTS5 MATCH expression that ORs the given terms. */
export function ftsQuery(terms: readonly string[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((g) => `"${g.replace(/"/g, '""')}"`).join(' OR ');
}

/**
 * Keeps the informative trigrams: those in at most 5% of chunks (at least the three rarest),
 * at most 16. A trigram in nearly every chunk ranks nothing and makes bm25 score them all.
 */
export function selectTerms(db: Db, grams: readonly string[], totalRows: number): string[] {
  if (grams.length === 0) return [];
  const df = db.prepare(`SELECT term, doc FROM chunk_fts_vocab WHERE term IN (${grams.map(() => '?').join(',')})`).all(...grams) as { term: string; doc: number }[];
  const present = df.filter((r) => r.doc > 0).sort((a, b) => a.doc - b.doc);
  const limit = Math.max(50, totalRows * 0.05);
  const rare = present.filter((r) => r.doc <= limit);
  return (rare.length >= 3 ? rare : present.slice(0, 3)).slice(0, 16).map((r) => r.term);
}

export function lexicalSearch(db: Db, question: string, kbIds: readonly number[], k: number, totalRows: number): Ranked[] {
  if (kbIds.length === 0) return [];
  const match = ftsQuery(selectTerms(db, queryTrigrams(question), totalRows));
  if (!match) return [];
  const rows = db
    .prepare(
      `SELECT c.id AS chunkId FROM chunk_fts JOIN chunk c ON c.id = chunk_fts.rowid
       WHERE chunk_fts MATCH ? AND c.kb_id IN (${kbIds.map(() => '?').join(',')})
       ORDER BY bm25(chunk_fts) LIMIT ?`,
    )
    .all(match, ...kbIds, k) as { chunkId: number }[];
  return rows;
}

/** Reciprocal rank fusion; the score is scaled so that first place in both lists is 1. */
export function fuse(lists: readonly Ranked[][]): Map<number, { score: number; similarity: number | null }> {
  const out = new Map<number, { score: number; similarity: number | null }>();
  for (const list of lists) {
    list.forEach((r, rank) => {
      const prev = out.get(r.chunkId) ?? { score: 0, similarity: null };
      prev.score += ((RRF_K + 1) / (RRF_K + rank + 1)) / lists.length;
      if (r.similarity !== undefined && prev.similarity === null) prev.similarity = r.similarity;
      out.set(r.chunkId, prev);
    });
  }
  return out;
}
