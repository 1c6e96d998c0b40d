import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lifeline } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/env.js';

describe('the lifeline command', () => {
  let t: ReturnType<typeof tempDir>;
  afterEach(() => t?.cleanup());

  it('answers "如何请假？" with citations as JSON in an empty data folder, creating the demo knowledge base there', () => {
    t = tempDir();
    const r = lifeline(['ask', '如何请假？', '--json', '--data', t.dir]);
    expect(r.status).toBe(0);
    const out = r.json();
    expect(typeof out.answer).toBe('string');
    expect(out.answer.length).toBeGreaterThan(10);
    expect(out.citations.length).toBeGreaterThan(0);
    for (const c of out.citations) expect(Object.keys(c)).toEqual(expect.arrayContaining(['kb', 'document', 'location', 'score']));
    expect(out.citations[0]).toMatchObject({ kb: 'demo', document: '请假制度.md' });
    expect(fs.existsSync(path.join(t.dir, 'catalog.sqlite'))).toBe(true);
  });

  it('creates a knowledge base, ingests a folder with per-file status, and exits 1 when a file failed', () => {
    t = tempDir();
    const data = path.join(t.dir, 'data');
    writeFiles(t.dir, { 'docs/ward.md': '# 病房\n探视时间为每天15:00至20:00。', 'docs/broken.md': '' });
    expect(lifeline(['kb', 'create', 'wards', '--data', data, '--no-demo']).status).toBe(0);
    const r = lifeline(['ingest', path.join(t.dir, 'docs'), '--kb', 'wards', '--json', '--data', data]);
    expect(r.status).toBe(1);
    const report = r.json();
    expect(report.files.map((f: { document: string; status: string }) => [f.document, f.status])).toEqual([
      ['broken.md', 'failed'],
      ['ward.md', 'added'],
    ]);
    const ask = lifeline(['ask', '探视时间是几点？', '--kb', 'wards', '--json', '--data', data]).json();
    expect(ask.answer).toContain('15:00');
    const list = lifeline(['kb', 'list', '--json', '--data', data]).json();
    expect(list.map((k: { name: string }) => k.name)).toEqual(['wards']);
  });

  it('shows control characters of a document name escaped in its human output, never raw to the terminal', () => {
    t = tempDir();
    const data = path.join(t.dir, 'data');
    const hostile = 'clear\u001b[2J\u001b[31mred.md';
    writeFiles(t.dir, { 'docs/ok.md': '# 值班\n值班电话为8001。', [`docs/${hostile}`]: '' });
    expect(lifeline(['kb', 'create', 'wards', '--data', data, '--no-demo']).status).toBe(0);
    const r = lifeline(['ingest', path.join(t.dir, 'docs'), '--kb', 'wards', '--data', data]);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('\u001b');
    expect(r.stdout).toContain('clear\\x1b[2J\\x1b[31mred.md');
    // JSON keeps the name exactly (escaped by JSON itself).
    const json = lifeline(['ingest', path.join(t.dir, 'docs'), '--kb', 'wards', '--json', '--data', data]).json();
    expect(json.files.map((f: { document: string }) => f.document)).toContain(hostile);
  });

  it('exits 2 with a message on stderr for a usage error, and changes nothing', () => {
    t = tempDir();
    const r = lifeline(['ask', '--data', t.dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ask needs a question/);
    expect(fs.readdirSync(t.dir)).toEqual([]);
    const unknown = lifeline(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const badKb = lifeline(['ask', 'x', '--kb', 'nope', '--json', '--data', t.dir]);
    expect(badKb.status).toBe(2);
    expect(badKb.json().error.message).toMatch(/no knowledge base named "nope"/);
  });
});
