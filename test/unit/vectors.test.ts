import fs from 'node:fs';
import path from 'node:path';
import faissNode from 'faiss-node';
import { afterEach, describe, expect, it } from 'vitest';
import { HashEmbedder } from '../../electron/core/models/hashEmbedder.js';
import { decodeFlatHeader, encodeFlatIndex, flatVectors } from '../../electron/core/vectors/faissFormat.js';
import { loadSegment, readSegment, readSegmentRows, SegmentError, writeSegment } from '../../electron/core/vectors/segments.js';
import { CHATCHAT_FIXTURE, fixturePresent, tempDir } from '../helpers/env.js';

const chatchatIndex = path.join(CHATCHAT_FIXTURE, 'knowledge_base/samples/vector_store/bge-large-zh-v1.5/index.faiss');

describe('FAISS flat segments written from a Float32Array', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('produces the same bytes FAISS itself writes for the same vectors', () => {
    const v = new Float32Array(5 * 8).map((_, i) => Math.sin(i));
    const ours = Buffer.concat(encodeFlatIndex(v, 8, 'ip'));
    const ix = new faissNode.IndexFlatIP(8);
    ix.add(Array.from(v));
    expect(ours.equals(ix.toBuffer())).toBe(true);
    const l2 = new faissNode.IndexFlatL2(8);
    l2.add(Array.from(v));
    expect(Buffer.concat(encodeFlatIndex(v, 8, 'l2')).equals(l2.toBuffer())).toBe(true);
  });

  it('loads natively and every stored vector finds itself first', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const e = new HashEmbedder(64);
    const texts = ['请假需要提前申请', 'amoxicillin 500mg three times a day', 'wait 30 seconds before powering disks', '探视时间为下午三点到八点'];
    const seg = writeSegment(t.dir, e.embedSync(texts), 64);
    const { index, header } = loadSegment(t.dir, seg.file, seg.sha256);
    expect(header).toMatchObject({ dimension: 64, vectors: 4, metric: 'ip' });
    const vectors = flatVectors(fs.readFileSync(path.join(t.dir, seg.file)));
    for (let i = 0; i < 4; i++) expect(index.search(Array.from(vectors.subarray(i * 64, (i + 1) * 64)), 1).labels[0]).toBe(i);
  });

  it('refuses a segment whose bytes do not match the recorded sha256, naming the file', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const seg = writeSegment(t.dir, new Float32Array(16).fill(0.25), 4);
    const abs = path.join(t.dir, seg.file);
    const bytes = fs.readFileSync(abs);
    bytes[60]! ^= 0x01;
    fs.writeFileSync(abs, bytes);
    expect(() => loadSegment(t.dir, seg.file, seg.sha256)).toThrow(SegmentError);
    expect(() => loadSegment(t.dir, seg.file, seg.sha256)).toThrow(/segments\/.*\.faiss: sha256 is/);
    fs.rmSync(abs);
    expect(() => loadSegment(t.dir, seg.file, seg.sha256)).toThrow(/the segment file is missing/);
  });

  it('checks the header of a segment the caller has hashed itself before FAISS reads it, and reads sampled rows from the file', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const v = new Float32Array(40).map((_, i) => i / 7);
    const seg = writeSegment(t.dir, v, 8);
    const { index, header } = loadSegment(t.dir, seg.file, seg.sha256, { hashed: true });
    expect(index.ntotal()).toBe(5);
    expect(Array.from(readSegmentRows(t.dir, seg.file, header, 3, 2))).toEqual(Array.from(v.subarray(24, 40)));
    expect(() => readSegmentRows(t.dir, seg.file, header, 4, 2)).toThrow(/past the end of the file/);
    const abs = path.join(t.dir, seg.file);
    fs.truncateSync(abs, fs.statSync(abs).size - 4);
    expect(() => loadSegment(t.dir, seg.file, seg.sha256, { hashed: true })).toThrow(/segments\/.*\.faiss: size is \d+ bytes, the header implies \d+ \(truncated or padded\)/);
    expect(() => readSegment(t.dir, seg.file, seg.sha256)).toThrow(/sha256 is/);
  });

  it('detects a truncated flat index from its header alone', () => {
    const full = Buffer.concat(encodeFlatIndex(new Float32Array(40), 8));
    expect(() => decodeFlatHeader(full.subarray(0, 100), 100)).toThrow(/truncated/);
    expect(() => decodeFlatHeader(Buffer.from('not an index at all, just text......................'))).toThrow(/not a FAISS flat index/);
  });

  it.skipIf(!fixturePresent(chatchatIndex).present)("reads the header of a real Langchain-Chatchat index.faiss (IndexFlatL2, 1024 × 323)", () => {
    const buf = fs.readFileSync(chatchatIndex);
    expect(decodeFlatHeader(buf)).toEqual({ fourcc: 'IxF2', metric: 'l2', dimension: 1024, vectors: 323 });
  });
});

describe('the hashed n-gram embedder', () => {
  const e = new HashEmbedder();
  const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

  it('is deterministic and unit-length', () => {
    const a = e.embedSync(['职工请假应先申请']);
    const b = e.embedSync(['职工请假应先申请']);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(cos(a, a)).toBeCloseTo(1, 5);
  });

  it('puts a question closer to the passage that answers it than to an unrelated one', () => {
    const [q, leave, drug] = [e.embedSync(['如何申请年假？']), e.embedSync(['年假申请须在OA系统提交，经科主任审批。']), e.embedSync(['阿莫西林胶囊成人一次500mg。'])];
    expect(cos(q, leave)).toBeGreaterThan(cos(q, drug));
    const [qe, runbook, visit] = [e.embedSync(['what to do before powering disks']), e.embedSync(['Wait 30 seconds before powering the disks back on.']), e.embedSync(['Visiting hours are 15:00 to 20:00.'])];
    expect(cos(qe, runbook)).toBeGreaterThan(cos(qe, visit));
  });
});
