// Immutable vector segments per knowledge base (DESIGN.md "Vectors"): a FAISS flat index file
// named by its sha256 under segments/, listed in the catalog with its hash, loaded natively by
// faiss-node. The catalog's segment_row table maps each row to its chunk.
import fs from 'node:fs';
import path from 'node:path';
import './nativeThreads.js'; // before faiss-node
import faissNode from 'faiss-node';
import { writeContentAddressed } from '../store/atomic.js';
import { sha256, sha256File } from '../util/hash.js';
import { FLAT_HEADER_BYTES, decodeFlatHeader, encodeFlatIndex, type FlatHeader, type Metric } from './faissFormat.js';

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

/** FAISS reading an index file itself (an object, so a test can count the loads). */
export const indexFiles = {
  read: (abs: string): FaissIndex => faissNode.Index.read(abs),
};

export interface LoadedSegment {
  header: FlatHeader;
  index: FaissIndex;
}

/**
 * Checks a segment's sha256 and header, and loads it into FAISS. `hashed`: the caller has itself
 * just hashed this file's bytes (a restore, decrypting them) and the sha256 is not computed again.
 *
 * FAISS reads the file itself (Index.read): faiss-node's fromBuffer copies the bytes twice more
 * and keeps one copy for good (measured: 0.6–2.2 s and +300 MB of resident memory per 150 MB
 * segment, against 0.14 s). The file is hashed first, streamed, and FAISS then reads the same
 * file: segment files are named by their sha256, written once by atomic rename and never
 * modified, and the data root is locked by this process. `index`: the caller already read this
 * file into FAISS (with `hashed`: a restore, as the file landed); it is checked like a fresh load.
 */
export function loadSegment(dataRoot: string, file: string, expectedSha256: string, opts: { hashed?: boolean; index?: FaissIndex } = {}): LoadedSegment {
  const abs = path.join(dataRoot, file);
  const header = checkSegmentFile(dataRoot, file, expectedSha256, opts);
  try {
    return { header, index: opts.index ?? indexFiles.read(abs) };
  } catch (err) {
    throw new SegmentError(file, 'load', `FAISS could not load it: ${(err as Error).message}`);
  }
}

/** A segment's bytes, after checking its sha256 and header (compaction reads the vectors themselves). */
export function readSegment(dataRoot: string, file: string, expectedSha256: string): { header: FlatHeader; bytes: Buffer } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(dataRoot, file));
  } catch (err) {
    throw missing(file, err);
  }
  const actual = sha256(bytes);
  if (actual !== expectedSha256) throw checksumError(file, actual, expectedSha256);
  try {
    return { header: decodeFlatHeader(bytes), bytes };
  } catch (err) {
    throw new SegmentError(file, 'header', (err as Error).message);
  }
}

/** Reads `count` stored vectors from row `first` of a segment file (no whole-file read). */
export function readSegmentRows(dataRoot: string, file: string, header: FlatHeader, first: number, count: number): Float32Array {
  const out = new Float32Array(count * header.dimension);
  const bytes = out.byteLength;
  const fd = fs.openSync(path.join(dataRoot, file), 'r');
  try {
    const got = fs.readSync(fd, new Uint8Array(out.buffer), 0, bytes, FLAT_HEADER_BYTES + first * header.dimension * 4);
    if (got !== bytes) throw new SegmentError(file, 'header', `rows ${first}–${first + count - 1} are past the end of the file`);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** A segment file's header, checked against the file's size (no other read); SegmentError when it cannot be read or is wrong. */
export function readSegmentHeader(dataRoot: string, file: string): FlatHeader {
  let size: number;
  const head = Buffer.alloc(FLAT_HEADER_BYTES);
  let got = 0;
  try {
    const fd = fs.openSync(path.join(dataRoot, file), 'r');
    try {
      size = fs.fstatSync(fd).size;
      got = fs.readSync(fd, head, 0, FLAT_HEADER_BYTES, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw missing(file, err);
  }
  try {
    return decodeFlatHeader(head.subarray(0, got), size);
  } catch (err) {
    throw new SegmentError(file, 'header', (err as Error).message);
  }
}

/** The sha256 (streamed, unless `hashed`) and the header of a segment file; SegmentError when either is wrong. */
function checkSegmentFile(dataRoot: string, file: string, expectedSha256: string, opts: { hashed?: boolean }): FlatHeader {
  if (!opts.hashed) {
    let actual: string;
    try {
      actual = sha256File(path.join(dataRoot, file));
    } catch (err) {
      throw missing(file, err);
    }
    if (actual !== expectedSha256) throw checksumError(file, actual, expectedSha256);
  }
  return readSegmentHeader(dataRoot, file);
}

function missing(file: string, err: unknown): SegmentError {
  const e = err as NodeJS.ErrnoException;
  return new SegmentError(file, 'missing', e.code === 'ENOENT' ? 'the segment file is missing' : e.message);
}

function checksumError(file: string, actual: string, expected: string): SegmentError {
  return new SegmentError(file, 'checksum', `sha256 is ${actual.slice(0, 12)}…, the catalog records ${expected.slice(0, 12)}…`);
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
export function loadAnn(dataRoot: string, file: string, expectedSha256: string, vectors: number, opts: { hashed?: boolean; index?: FaissIndex } = {}): FaissIndex | null {
  const abs = path.join(dataRoot, file);
  try {
    // Hashed first, then read by FAISS itself (see loadSegment).
    if (!opts.hashed && sha256File(abs) !== expectedSha256) return null;
    const index = opts.index ?? indexFiles.read(abs);
    return index.ntotal() === vectors ? index : null;
  } catch {
    return null;
  }
}
