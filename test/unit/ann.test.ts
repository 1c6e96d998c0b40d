import fs from 'node:fs';
import path from 'node:path';
import faissNode from 'faiss-node';
import { afterEach, describe, expect, it } from 'vitest';
import { annParamsFor, buildIvf, readIvfParams, writeAnn } from '../../electron/core/vectors/ann.js';
import { loadAnn } from '../../electron/core/vectors/segments.js';
import { tempDir } from '../helpers/env.js';

function randomUnitVectors(n: number, dim: number, seed = 7): Float32Array {
  const v = new Float32Array(n * dim);
  let s = seed;
  for (let i = 0; i < v.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    v[i] = s / 0x7fffffff - 0.5;
  }
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += v[i * dim + j]! ** 2;
    for (let j = 0; j < dim; j++) v[i * dim + j]! /= Math.sqrt(norm);
  }
  return v;
}

describe('the approximate (IVF) index beside a large segment', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('chooses more lists for more vectors and probes a few percent of them', () => {
    expect(annParamsFor(100_000)).toEqual({ type: 'ivf-flat', nlist: 1265, nprobe: 127 });
    expect(annParamsFor(60)).toEqual({ type: 'ivf-flat', nlist: 1, nprobe: 1 });
    expect(annParamsFor(25_000).nlist).toBeLessThan(annParamsFor(100_000).nlist);
  });

  it('stores the chosen nprobe in the file FAISS loads, and finds stored vectors', () => {
    const dim = 32;
    const v = randomUnitVectors(3000, dim);
    const bytes = buildIvf(v, dim, { type: 'ivf-flat', nlist: 64, nprobe: 12 });
    expect(readIvfParams(bytes)).toEqual({ nlist: 64, nprobe: 12, dimension: dim, vectors: 3000 });
    const index = faissNode.Index.fromBuffer(bytes);
    let found = 0;
    for (let i = 0; i < 3000; i += 97) if (index.search(Array.from(v.subarray(i * dim, (i + 1) * dim)), 1).labels[0] === i) found++;
    expect(found).toBe(Math.ceil(3000 / 97));
  });

  it('is ignored (search falls back to the flat segment) when its file is damaged or missing', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const dim = 16;
    const ann = writeAnn(t.dir, randomUnitVectors(2000, dim), dim);
    expect(loadAnn(t.dir, ann.file, ann.sha256, 2000)).not.toBeNull();
    expect(loadAnn(t.dir, ann.file, ann.sha256, 1999)).toBeNull();
    const p = path.join(t.dir, ann.file);
    const b = fs.readFileSync(p);
    b[b.length - 5]! ^= 0xff;
    fs.writeFileSync(p, b);
    expect(loadAnn(t.dir, ann.file, ann.sha256, 2000)).toBeNull();
    fs.rmSync(p);
    expect(loadAnn(t.dir, ann.file, ann.sha256, 2000)).toBeNull();
  });
});
