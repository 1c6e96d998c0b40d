// The on-disk format of a FAISS flat index (faiss/impl/index_write.cpp, IndexFlat branch), so a
// segment can be written straight from a Float32Array — faiss-node's add() of a JS number[] is
// slow (DESIGN.md measured 17 s for 100k×384) — and its header checked without loading it.
//
//   fourcc    4 bytes  "IxFI" (inner product) | "IxF2" (L2)
//   d         int32    dimension
//   ntotal    int64    number of vectors
//   dummy     int64    1 << 20
//   dummy     int64    1 << 20
//   trained   uint8    1
//   metric    int32    0 = inner product, 1 = L2
//   count     uint64   number of float32 values that follow (d × ntotal)
//   data      float32 × d × ntotal, little-endian
export const FLAT_HEADER_BYTES = 45;

export type Metric = 'ip' | 'l2';

export interface FlatHeader {
  fourcc: string;
  metric: Metric;
  dimension: number;
  vectors: number;
}

export function encodeFlatIndex(vectors: Float32Array, dimension: number, metric: Metric = 'ip'): Buffer[] {
  if (!Number.isInteger(dimension) || dimension <= 0) throw new Error(`bad dimension ${dimension}`);
  if (vectors.length % dimension !== 0) throw new Error(`vector data (${vectors.length} floats) is not a multiple of the dimension ${dimension}`);
  const n = vectors.length / dimension;
  const h = Buffer.alloc(FLAT_HEADER_BYTES);
  h.write(metric === 'ip' ? 'IxFI' : 'IxF2', 0, 'latin1');
  h.writeInt32LE(dimension, 4);
  h.writeBigInt64LE(BigInt(n), 8);
  h.writeBigInt64LE(1n << 20n, 16);
  h.writeBigInt64LE(1n << 20n, 24);
  h.writeUInt8(1, 32);
  h.writeInt32LE(metric === 'ip' ? 0 : 1, 33);
  h.writeBigUInt64LE(BigInt(vectors.length), 37);
  const data = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  return [h, data];
}

/** Parses and checks a flat index header; throws a plain reason when it is not one. */
export function decodeFlatHeader(buf: Uint8Array, totalBytes = buf.byteLength): FlatHeader {
  if (buf.byteLength < FLAT_HEADER_BYTES) throw new Error(`too short for a FAISS flat index (${buf.byteLength} bytes)`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fourcc = b.toString('latin1', 0, 4);
  if (fourcc !== 'IxFI' && fourcc !== 'IxF2') throw new Error(`not a FAISS flat index (type "${fourcc.replace(/[^\x20-\x7e]/g, '?')}")`);
  const dimension = b.readInt32LE(4);
  const vectors = Number(b.readBigInt64LE(8));
  const metricCode = b.readInt32LE(33);
  const count = Number(b.readBigUInt64LE(37));
  if (dimension <= 0 || dimension > 65536) throw new Error(`implausible dimension ${dimension}`);
  if (vectors < 0 || count !== vectors * dimension) throw new Error(`header says ${vectors} vectors of ${dimension} but ${count} values`);
  const expected = FLAT_HEADER_BYTES + count * 4;
  if (totalBytes !== expected) throw new Error(`size is ${totalBytes} bytes, the header implies ${expected} (truncated or padded)`);
  return { fourcc, metric: metricCode === 0 ? 'ip' : 'l2', dimension, vectors };
}

/** The vectors of a flat index file's bytes, without copying. */
export function flatVectors(buf: Buffer): Float32Array {
  const header = decodeFlatHeader(buf);
  const start = buf.byteOffset + FLAT_HEADER_BYTES;
  if (start % 4 === 0) return new Float32Array(buf.buffer, start, header.vectors * header.dimension);
  return new Float32Array(buf.buffer.slice(start, start + header.vectors * header.dimension * 4));
}
