// The embedded default embedder: hashed character/word n-grams (DESIGN.md "Embedders"). It
// needs no model file, so a fresh install answers at once, and it is deterministic, so the
// same text always gives the same vector on every machine (verify and restore rely on that).
import type { EmbedderFingerprint } from '../../api/contract.js';
import { features } from '../util/text.js';

export interface Embedder {
  readonly fingerprint: EmbedderFingerprint;
  /** Embeds each text into one row of the returned matrix (row-major, dimension columns). */
  embed(texts: readonly string[]): Promise<Float32Array>;
}

export const HASH_EMBEDDER_ID = 'lifeline-hash-ngram';

/** FNV-1a, 32-bit. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class HashEmbedder implements Embedder {
  readonly fingerprint: EmbedderFingerprint;

  constructor(readonly dimension = 384) {
    this.fingerprint = { id: HASH_EMBEDDER_ID, version: '1', dimension, normalization: 'l2' };
  }

  embedOne(text: string, out: Float32Array, offset = 0): void {
    const counts = new Map<string, number>();
    for (const f of features(text)) counts.set(f.key, (counts.get(f.key) ?? 0) + f.weight);
    const dim = this.dimension;
    for (const [key, c] of counts) {
      const h = fnv1a(key);
      const sign = (fnv1a(key + '#') & 1) === 0 ? 1 : -1;
      // Sub-linear term frequency: repeated terms count, but not linearly.
      out[offset + (h % dim)]! += sign * (c <= 1 ? c : 1 + Math.log(c));
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += out[offset + i]! * out[offset + i]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < dim; i++) out[offset + i]! *= inv;
    }
  }

  async embed(texts: readonly string[]): Promise<Float32Array> {
    return this.embedSync(texts);
  }

  embedSync(texts: readonly string[]): Float32Array {
    const out = new Float32Array(texts.length * this.dimension);
    texts.forEach((t, i) => this.embedOne(t, out, i * this.dimension));
    return out;
  }
}
