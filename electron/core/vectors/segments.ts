// Immutable vector segments per knowledge base (DESIGN.md "Vectors"): a FAISS flat index file
// named by its sha256 under segments/, listed in the catalog with its hash, loaded natively by
// faiss-node. The catalog's segment_row table maps each row to its chunk.
import fs from 'node:fs';
import path from 'node:path';
import faissNode from 'faiss-node';
import { writeContentAddressed } from '../store/atomic.js';
import { sha256 } from '../util/hash.js';
import { decodeFlatHeader, encodeFlatIndex, type FlatHeader, type Metric } from './faissFormat.js';

export type FaissIndex = InstanceType<typeof faissNode.Index>;

export interface WrittenSegment {
  /** Relative to the data root, e.g. segments/<sha256>.faiss */
  file: string;
  sha256: string;
  bytes: number;
  dimension: number;
  vectors: number;
  metric: Metric;
}

export function writeSegment(dataRoot: string, vectors: Float32Array, dimension: number, metric: Metric = 'ip'): WrittenSegment {
  const parts = encodeFlatIndex(vectors, dimension, metric);
  const bytes = Buffer.concat(parts);
  const hash = sha256(bytes);
  const file = path.posix.join('segments', `${hash}.faiss`);
  const abs = path.join(dataRoot, file);
  writeContentAddressed(abs, bytes, hash);
  return { file, sha256: hash, bytes: bytes.byteLength, dimension, vectors: vectors.length / dimension, metric };
}

export class SegmentError extends Error {
  constructor(
    readonly file: string,
    readonly code: 'missing' | 'checksum' | 'header' | 'load',
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SegmentError';
  }
}

export interface LoadedSegment {
  header: FlatHeader;
  index: FaissIndex;
  bytes: Buffer;
}

/**
 * Reads a segment once, checks its sha256 and header, and loads it into FAISS. `hashed`: the
 * caller has itself just hashed these bytes (a restore, decrypting them) and the sha256 is not
 * computed again.
 */
export function loadSegment(dataRoot: string, file: string, expectedSha256: string, opts: { hashed?: boolean } = {}): LoadedSegment {
  const abs = path.join(dataRoot, file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SegmentError(file, 'missing', e.code === 'ENOENT' ? 'the segment file is missing' : e.message);
  }
  const actual = opts.hashed ? expectedSha256 : sha256(bytes);
  if (actual !== expectedSha256) throw new SegmentError(file, 'checksum', `sha256 is ${actual.slice(0, 12)}…, the catalog records ${expectedSha256.slice(0, 12)}…`);
  let header: FlatHeader;
  try {
    header = decodeFlatHeader(bytes);
  } catch (err) {
    throw new SegmentError(file, 'header', (err as Error).message);
  }
  try {
    return { header, index: faissNode.Index.fromBuffer(bytes), bytes };
  } catch (err) {
    throw new SegmentError(file, 'load', `FAISS could not load it: ${(err as Error).message}`);
  }
}

/** The key of an already loaded approximate index (VerifyOptions.loadedAnn, KnowledgeService.warmUp). */
export function annKey(file: string, sha256: string): string {
  return `${file}\u0000${sha256}`;
}

/**
 * Loads an approximate index after checking its sha256 and that it covers the segment's
 * vectors (`hashed`: as for loadSegment); null when it is missing or unsound (search then falls back to the flat segment,
 * and `repair` rebuilds it).
 */
export function loadAnn(dataRoot: string, file: string, expectedSha256: string, vectors: number, opts: { hashed?: boolean } = {}): FaissIndex | null {
  try {
    const bytes = fs.readFileSync(path.join(dataRoot, file));
    if (!opts.hashed && sha256(bytes) !== expectedSha256) return null;
    const index = faissNode.Index.fromBuffer(bytes);
    return index.ntotal() === vectors ? index : null;
  } catch {
    return null;
  }
}
