import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { KnowledgeService } from '../../electron/core/kb/knowledge.js';
import { tempDir, writeFiles } from '../helpers/env.js';

const LEAVE = `# 请假制度\n\n## 如何请假\n职工请假须登录OA系统填写《请假审批表》，经科室主任审批后方可离岗。\n\n## 年假\n工作满10年的职工每年享有年假10天。\n`;
const RUNBOOK = `# Outage runbook\n\n## Disks\nAfter a power cut, wait 30 seconds before powering the disks back on.\n\n## Ports\nIf port 7860 is busy, find the process with ss -ltnp.\n`;

describe('knowledge bases: ingest, retrieve, answer', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let docs: string;

  beforeEach(async () => {
    t = tempDir();
    docs = path.join(t.dir, 'docs');
    writeFiles(docs, { '请假制度.md': LEAVE, 'runbook.md': RUNBOOK });
    app = await openLifeline({ dataDir: path.join(t.dir, 'data'), shell: 'cli', seedDemo: false });
    app.knowledge.createKb('hr');
  });
  afterEach(async () => {
    await app.close();
    t.cleanup();
  });

  it('answers a Chinese question about an ingested Markdown document and cites it with its location', async () => {
    const report = await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    expect(report).toMatchObject({ added: 2, failed: 0 });
    const r = await app.knowledge.ask({ question: '如何请假？' });
    expect(r.covered).toBe(true);
    expect(r.answer).toContain('请假审批表');
    expect(r.answer).toMatch(/\[1\]/);
    expect(r.citations[0]).toMatchObject({ kb: 'hr', document: '请假制度.md' });
    expect(r.citations[0]!.location).toContain('如何请假');
  });

  it('answers an English question from the English document', async () => {
    await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    const r = await app.knowledge.ask({ question: 'What should I do before powering the disks after a power cut?' });
    expect(r.answer).toContain('30 seconds');
    expect(r.citations[0]!.document).toBe('runbook.md');
  });

  it('says plainly when the knowledge base does not cover the question, with no citations', async () => {
    await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    const zh = await app.knowledge.ask({ question: '医院食堂的菜单是什么？' });
    expect(zh.covered).toBe(false);
    expect(zh.citations).toEqual([]);
    expect(zh.answer).toContain('没有找到');
    const en = await app.knowledge.ask({ question: 'Who won the football world cup?' });
    expect(en.covered).toBe(false);
    expect(en.answer).toMatch(/does not cover/);
  });

  it('does nothing when an unchanged file is ingested again', async () => {
    await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    const segments = app.db.prepare('SELECT count(*) AS n FROM segment').get() as { n: number };
    const again = await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    expect(again).toMatchObject({ added: 0, unchanged: 2 });
    expect(app.db.prepare('SELECT count(*) AS n FROM segment').get()).toEqual(segments);
  });

  it('replaces a changed document so the old text can no longer be found', async () => {
    await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    fs.writeFileSync(path.join(docs, '请假制度.md'), LEAVE.replace('年假10天', '年假12天'));
    const report = await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    expect(report).toMatchObject({ updated: 1, unchanged: 1 });
    const r = await app.knowledge.ask({ question: '工作满10年的职工年假有多少天？' });
    expect(r.answer).toContain('年假12天');
    expect(r.answer).not.toContain('年假10天');
    expect(app.knowledge.listKbs()[0]!.documents).toBe(2);
  });

  it('reports a bad file by name and reason and still ingests the rest of the batch', async () => {
    writeFiles(docs, { 'empty.md': '', 'photo.jpg': 'JFIF' });
    const report = await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    expect(report).toMatchObject({ added: 2, failed: 2 });
    const failed = Object.fromEntries(report.files.filter((f) => f.status === 'failed').map((f) => [f.document, f.error]));
    expect(failed['empty.md']).toMatch(/empty/);
    expect(failed['photo.jpg']).toMatch(/unsupported file type/);
  });

  it('keeps knowledge bases apart: a question restricted to one never cites another', async () => {
    app.knowledge.createKb('it');
    await app.knowledge.ingest('hr', [{ path: path.join(docs, '请假制度.md'), name: '请假制度.md' }]);
    await app.knowledge.ingest('it', [{ path: path.join(docs, 'runbook.md'), name: 'runbook.md' }]);
    const r = await app.knowledge.ask({ question: 'port 7860 busy', kb: 'hr' });
    expect(r.citations.every((c) => c.kb === 'hr')).toBe(true);
    const it2 = await app.knowledge.ask({ question: 'port 7860 busy', kb: 'it' });
    expect(it2.citations[0]).toMatchObject({ kb: 'it', document: 'runbook.md' });
  });

  it('stores only relative paths in the catalog, so a data root can be moved', async () => {
    await app.knowledge.ingest('hr', KnowledgeService.collectInputs([docs]));
    const dump = JSON.stringify(app.db.prepare('SELECT * FROM document').all()) + JSON.stringify(app.db.prepare('SELECT file FROM segment').all());
    expect(dump).not.toContain(t.dir);
  });

  it('refuses an unknown knowledge base and an invalid name with a clear message', async () => {
    await expect(app.knowledge.ingest('nope', [])).rejects.toThrow(/no knowledge base named "nope"/);
    expect(() => app.knowledge.createKb('a/b')).toThrow(/not a valid knowledge base name/);
    expect(() => app.knowledge.createKb('hr')).toThrow(/already exists/);
  });
});

describe('a fresh data root', () => {
  it('gets the demo knowledge base, which answers the demo question with a citation', async () => {
    const t = tempDir();
    try {
      const app = await openLifeline({ dataDir: t.dir, shell: 'cli' });
      expect(app.ready().status).toBe('ready');
      expect(app.knowledge.listKbs().map((k) => k.name)).toEqual(['demo']);
      const r = await app.knowledge.ask({ question: '如何请假？' });
      expect(r.citations[0]!.document).toBe('请假制度.md');
      await app.close();
      // Opening again does not seed a second time.
      const again = await openLifeline({ dataDir: t.dir, shell: 'cli' });
      expect(again.knowledge.listKbs()[0]!.documents).toBe(5);
      await again.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('extractive answers from table rows', () => {
  it('picks the line of a CSV row that answers, not the last line of the row', async () => {
    const t = tempDir();
    try {
      writeFiles(t.dir, { 'faq.csv': 'title,detail,id\n备份多久做一次,向量索引每天增量备份到加密U盘，保留7天,1\n停电后先做什么,先等待30秒再给磁盘上电,2\n' });
      const app = await openLifeline({ dataDir: path.join(t.dir, 'data'), shell: 'cli', seedDemo: false });
      app.knowledge.createKb('faq');
      await app.knowledge.ingest('faq', [{ path: path.join(t.dir, 'faq.csv'), name: 'faq.csv' }]);
      const r = await app.knowledge.ask({ question: '停电后先做什么？' });
      expect(r.answer).toContain('先等待30秒再给磁盘上电');
      expect(r.answer).not.toMatch(/^id: /);
      expect(r.citations[0]!.location).toBe('row 2');
      await app.close();
    } finally {
      t.cleanup();
    }
  });
});
