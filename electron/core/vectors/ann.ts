// An approximate (IVF) index beside a large flat segment. The flat segment stays the durable
// source of the vectors (compaction, verify and self-search read it); the IVF file is derived
// data that only speeds up search, and is rebuilt from the flat segment whenever it is missing
// or damaged.
//
// Why and when (measured with `npm run bench` on this 2-core machine, Debian's FAISS 1.7.3):
// an exhaustive flat inner-product search costs about 0.39 µs per 384-dimension vector (6.3 ms
// at 20k, 39 ms at 100k), so above ANN_MIN_VECTORS a flat search alone would take more than
// about 10 ms of the 30 ms end-to-end budget. IVF with nprobe = nlist/10 scans ~10% of the lists.
import './nativeThreads.js'; // before faiss-node
import faissNode from 'faiss-node';
import { writeContentAddressed } from '../store/atomic.js';
import { sha256 } from '../util/hash.js';
import path from 'node:path';
import fs from 'node:fs';

/** LIFELINE_ANN_MIN_VECTORS overrides it (tests use a small value to exercise the IVF path quickly). */
export const ANN_MIN_VECTORS = Number(process.env.LIFELINE_ANN_MIN_VECTORS) > 0 ? Number(process.env.LIFELINE_ANN_MIN_VECTORS) : 25_000;

export interface AnnParams {
  type: 'ivf-flat';
  nlist: number;
  nprobe: number;
}

/** nlist ≈ 4·√n (FAISS's rule of thumb); nprobe = nlist/10 (at least 8): hashed n-gram vectors cluster loosely, and nlist/32 gave recall@10 of 0.68 at 100k. */
export function annParamsFor(n: number): AnnParams {
  // FAISS's k-means needs at least one training point per list (and warns below 39): never
  // more lists than n/39, or train() aborts the whole process from C++.
  const nlist = Math.max(1, Math.min(4096, Math.round(4 * Math.sqrt(n)), Math.floor(n / 39)));
  return { type: 'ivf-flat', nlist, nprobe: Math.min(nlist, Math.max(8, Math.round(nlist / 10))) };
}

// Offsets in FAISS's IVF file (index_write.cpp, write_ivf_header): fourcc "IwFl", the common
// index header (33 bytes), then nlist and nprobe as 64-bit integers.
const NLIST_OFFSET = 37;
const NPROBE_OFFSET = 45;

/** Builds an IVF index of the vectors (inner product) and returns the bytes FAISS writes. */
export function buildIvf(vectors: Float32Array, dimension: number, params: AnnParams): Buffer {
  const n = vectors.length / dimension;
  if (params.nlist < 1 || params.nlist > n) throw new Error(`cannot build ${params.nlist} lists from ${n} vectors`);
  const index = faissNode.Index.fromFactory(dimension, `IVF${params.nlist},Flat`, faissNode.MetricType.METRIC_INNER_PRODUCT);
  // Train on an even sample of at most 40 vectors per list (k-means needs no more).
  const sampleN = Math.min(n, params.nlist * 40);
  const step = n / sampleN;
  const sample = new Array<number>(sampleN * dimension);
  for (let s = 0; s < sampleN; s++) {
    const row = Math.floor(s * step) * dimension;
    for (let j = 0; j < dimension; j++) sample[s * dimension + j] = vectors[row + j]!;
  }
  index.train(sample);
  // add() in slices keeps the temporary JS array small.
  const slice = 8192;
  for (let start = 0; start < n; start += slice) {
    const end = Math.min(n, start + slice);
    index.add(Array.from(vectors.subarray(start * dimension, end * dimension)));
  }
  const buf = index.toBuffer();
  return setNprobe(buf, params.nprobe);
}

/** FAISS-node cannot set nprobe, but the IVF file stores it: patch it before loading. */
export function setNprobe(buf: Buffer, nprobe: number): Buffer {
  if (buf.toString('latin1', 0, 4) !== 'IwFl') throw new Error('not a FAISS IVF-Flat index');
  const nlist = Number(buf.readBigUInt64LE(NLIST_OFFSET));
  buf.writeBigUInt64LE(BigInt(Math.min(nprobe, nlist)), NPROBE_OFFSET);
  return buf;
}

export function readIvfParams(buf: Buffer): { nlist: number; nprobe: number; dimension: number; vectors: number } {
  if (buf.toString('latin1', 0, 4) !== 'IwFl') throw new Error('not a FAISS IVF-Flat index');
  return { dimension: buf.readInt32LE(4), vectors: Number(buf.readBigInt64LE(8)), nlist: Number(buf.readBigUInt64LE(NLIST_OFFSET)), nprobe: Number(buf.readBigUInt64LE(NPROBE_OFFSET)) };
}

export interface WrittenAnn {
  file: string;
  sha256: string;
  params: AnnParams;
}

export function writeAnn(dataRoot: string, vectors: Float32Array, dimension: number): WrittenAnn {
  const params = annParamsFor(vectors.length / dimension);
  const bytes = buildIvf(vectors, dimension, params);
  const hash = sha256(bytes);
  const file = path.posix.join('segments', `${hash}.ivf`);
  writeContentAddressed(path.join(dataRoot, file), bytes, hash);
  return { file, sha256: hash, params };
}
