// Deleting or corrupting any file of a Lifeline data root is found by `verify`, and `repair`
// brings the same answers back (or says plainly that only a restore can).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lifeline } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

const QUESTIONS = ['如何请假？', 'What should I do before powering the disks after a power cut?', '阿莫西林成人一次服用多少？'];

function answers(data: string): string[] {
  return QUESTIONS.map((q) => {
    const r = lifeline(['ask', q, '--json', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    const { tookMs: _t, ...rest } = r.json();
    return JSON.stringify(rest);
  });
}

const files = (data: string, sub: string) =>
  (fs.readdirSync(path.join(data, sub), { recursive: true }) as string[]).map((f) => path.join(data, sub, f)).filter((f) => fs.statSync(f).isFile());

function flipByte(file: string, offsetFromEnd = 10): void {
  const b = fs.readFileSync(file);
  b[b.length - offsetFromEnd]! ^= 0x20;
  fs.writeFileSync(file, b);
}

describe('verify and repair', () => {
  let t: ReturnType<typeof tempDir>;
  let data: string;
  let good: string[];

  beforeEach(() => {
    t = tempDir();
    data = path.join(t.dir, 'data');
    good = answers(data); // creates the demo knowledge base
  });
  afterEach(() => t.cleanup());

  const verify = (deep = false) => {
    const r = lifeline(['verify', ...(deep ? ['--deep'] : []), '--json', '--data', data]);
    return { status: r.status, report: r.json() as { ok: boolean; problems: { code: string; repair: string; path: string }[] } };
  };

  it('finds nothing wrong with a fresh data root, and its SHA256SUMS checks by hand with sha256sum', () => {
    expect(verify(true)).toMatchObject({ status: 0, report: { ok: true, problems: [] } });
    const r = spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: data, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(data, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean).length).toBe(files(data, 'blobs').length + files(data, 'segments').length);
  });

  it('finds a deleted vector segment, and repair brings the same answers back', () => {
    fs.rmSync(files(data, 'segments')[0]!);
    const v = verify();
    expect(v.status).toBe(1);
    expect(v.report.problems.map((p) => [p.code, p.repair])).toContainEqual(['segment-missing', 'rebuild']);
    const r = lifeline(['repair', '--json', '--data', data]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.json().actions[0]).toMatchObject({ code: 'segment', ok: true });
    expect(verify(true).status).toBe(0);
    expect(answers(data)).toEqual(good);
  });

  it('finds a bit flip in a segment with the deep check, and repair brings the same answers back', () => {
    flipByte(files(data, 'segments')[0]!, 100);
    expect(verify(true).report.problems.map((p) => p.code)).toContain('segment-corrupt');
    expect(lifeline(['repair', '--data', data]).status).toBe(0);
    expect(answers(data)).toEqual(good);
  });

  it('finds a truncated segment even with the fast check', () => {
    const seg = files(data, 'segments')[0]!;
    fs.truncateSync(seg, fs.statSync(seg).size - 4);
    expect(verify(false).report.problems.map((p) => p.code)).toContain('segment-corrupt');
  });

  it('finds a damaged full-text index, and repair rebuilds it', () => {
    // Remove one chunk's entries from the FTS index only (as a crash inside SQLite's FTS could).
    const py = `import sqlite3,sys
db=sqlite3.connect(sys.argv[1]); r=db.execute('select id,text from chunk limit 1').fetchone()
db.execute("insert into chunk_fts(chunk_fts,rowid,text) values('delete',?,?)",r); db.commit()`;
    const r = spawnSync('python3', ['-c', py, path.join(data, 'catalog.sqlite')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(verify(false).report.problems.map((p) => p.code)).toContain('fulltext-mismatch'); // the fast check counts its rows
    expect(verify(true).report.problems.map((p) => p.code)).toContain('fulltext-mismatch');
    expect(lifeline(['repair', '--data', data]).status).toBe(0);
    expect(verify(true).status).toBe(0);
    expect(answers(data)).toEqual(good);
  });

  it('says a missing or damaged original document needs a restore, and still answers from the catalog', () => {
    const blob = files(data, 'blobs')[0]!;
    flipByte(blob);
    expect(verify(false).status).toBe(0); // same size: only the deep check can tell
    expect(verify(true).report.problems).toContainEqual(expect.objectContaining({ code: 'document-corrupt', repair: 'restore' }));
    fs.rmSync(blob);
    const v = verify(false);
    expect(v.report.problems).toContainEqual(expect.objectContaining({ code: 'document-missing', repair: 'restore' }));
    const r = lifeline(['repair', '--json', '--data', data]);
    expect(r.status).toBe(1);
    expect(r.json().needsRestore[0].code).toBe('document-missing');
    expect(answers(data)).toEqual(good);
  });

  it('reports a damaged catalog as a problem that needs a restore (exit 1), not a crash', () => {
    const cat = path.join(data, 'catalog.sqlite');
    const b = fs.readFileSync(cat);
    b.fill(0x41, 0, 100); // destroy the header
    fs.writeFileSync(cat, b);
    const v = verify(false);
    expect(v.status).toBe(1);
    expect(v.report.problems[0]).toMatchObject({ code: 'catalog-corrupt', repair: 'restore' });
    const ask = lifeline(['ask', '如何请假？', '--data', data]);
    expect(ask.status).toBe(2);
    expect(ask.stderr).toMatch(/catalog is damaged.*restore/);
  });

  it('lists leftovers of an interrupted write, and repair sweeps them', () => {
    fs.writeFileSync(path.join(data, 'segments', '.abc.faiss.tmp-1-ffff'), 'half');
    expect(verify().report.problems.map((p) => p.code)).toContain('leftover-files');
    expect(lifeline(['repair', '--data', data]).status).toBe(0);
    expect(fs.readdirSync(path.join(data, 'segments')).some((f) => f.includes('.tmp-'))).toBe(false);
  });

  it('heals itself at start-up: a missing segment is rebuilt before the first answer', () => {
    fs.rmSync(files(data, 'segments')[0]!);
    expect(answers(data)).toEqual(good);
    expect(verify(true).status).toBe(0);
  });
});

describe('the approximate index of a large segment', () => {
  it('is rebuilt by repair when deleted, and searches fall back to the exact segment meanwhile', () => {
    const t = tempDir();
    try {
      const data = path.join(t.dir, 'data');
      const env = { LIFELINE_ANN_MIN_VECTORS: '40' };
      const good = lifeline(['ask', '如何请假？', '--json', '--data', data], { env }).json();
      const ivf = files(data, 'segments').filter((f) => f.endsWith('.ivf'));
      expect(ivf).toHaveLength(1);
      fs.rmSync(ivf[0]!);
      const v = lifeline(['verify', '--json', '--data', data], { env }).json();
      expect(v.problems.map((p: { code: string }) => p.code)).toEqual(['ann-missing']);
      const again = lifeline(['ask', '如何请假？', '--json', '--data', data, '--no-demo'], { env });
      expect(again.json().citations.length).toBeGreaterThan(0);
      expect(good.citations.length).toBeGreaterThan(0);
      expect(lifeline(['repair', '--data', data], { env }).status).toBe(0);
      expect(files(data, 'segments').filter((f) => f.endsWith('.ivf'))).toHaveLength(1);
    } finally {
      t.cleanup();
    }
  });
});
