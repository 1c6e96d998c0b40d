import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LifelineApp, openLifeline } from '../../electron/core/app.js';
import { KnowledgeService } from '../../electron/core/kb/knowledge.js';
import { segmentStats } from '../../electron/core/vectors/compaction.js';
import { tempDir, writeFiles } from '../helpers/env.js';

const docs = {
  'ward.md': '# 病房\n探视时间为每天15:00至20:00，每位患者同时最多两名探视者。',
  'pharmacy.md': '# 药房\n夜间发药窗口位于门诊楼一层，电话分机6120。',
  'it.md': '# IT\nIf port 7860 is busy, find the process holding it with ss -ltnp.',
};

describe('knowledge-base lifecycle', () => {
  let t: ReturnType<typeof tempDir>;
  let app: LifelineApp;
  let dir: string;

  beforeEach(async () => {
    t = tempDir();
    dir = path.join(t.dir, 'docs');
    writeFiles(dir, docs);
    app = await openLifeline({ dataDir: path.join(t.dir, 'data'), shell: 'cli', seedDemo: false });
    app.knowledge.createKb('hospital');
    await app.knowledge.ingest('hospital', KnowledgeService.collectInputs([dir]));
  });
  afterEach(async () => {
    await app.close();
    t.cleanup();
  });

  const files = (sub: string) => fs.readdirSync(path.join(t.dir, 'data', sub), { recursive: true }).filter((f) => !fs.statSync(path.join(t.dir, 'data', sub, String(f))).isDirectory());

  it('deletes a document from the full-text index and the vectors at once', async () => {
    app.knowledge.deleteDocument('hospital', 'pharmacy.md');
    const r = await app.knowledge.ask({ question: '夜间发药窗口在哪里？' });
    expect(r.citations.map((c) => c.document)).not.toContain('pharmacy.md');
    expect(r.answer).not.toContain('6120');
    const fts = app.db.prepare("SELECT count(*) AS n FROM chunk_fts WHERE chunk_fts MATCH '\"发药窗\"'").get() as { n: number };
    expect(fts.n).toBe(0);
    // Its original is no longer kept either.
    expect(app.knowledge.documents('hospital').map((d) => d.name)).toEqual(['it.md', 'ward.md']);
    expect(files('blobs').length).toBe(2);
  });

  it('compacts segments so deleted rows are gone from the FAISS files, and answers stay the same', async () => {
    // Enough documents that one deletion stays below the automatic-compaction threshold.
    writeFiles(dir, Object.fromEntries([1, 2, 3, 4].map((i) => [`extra${i}.md`, `# 附录${i}\n第${i}号附录的内容。`])));
    await app.knowledge.ingest('hospital', KnowledgeService.collectInputs([dir]));
    const before = await app.knowledge.ask({ question: '探视时间是几点？' });
    app.knowledge.deleteDocument('hospital', 'it.md');
    const kbId = (app.db.prepare("SELECT id FROM kb WHERE name = 'hospital'").get() as { id: number }).id;
    expect(segmentStats(app.db, kbId).tombstones).toBeGreaterThan(0);
    const r = app.knowledge.compact('hospital');
    expect(r.tombstonesDropped).toBeGreaterThan(0);
    expect(segmentStats(app.db, kbId)).toMatchObject({ segments: 1, tombstones: 0 });
    expect(files('segments')).toHaveLength(1);
    const live = (app.db.prepare('SELECT count(*) AS n FROM chunk').get() as { n: number }).n;
    expect(fs.statSync(path.join(t.dir, 'data', 'segments', String(files('segments')[0]))).size).toBe(45 + live * 384 * 4);
    const after = await app.knowledge.ask({ question: '探视时间是几点？' });
    expect(after.answer).toBe(before.answer);
  });

  it('keeps a deleted knowledge base recoverable until it is purged', async () => {
    expect(() => app.knowledge.deleteKb('hospital', 'wrong')).toThrow(/confirm/);
    app.knowledge.deleteKb('hospital', 'hospital');
    expect(app.knowledge.listKbs()).toEqual([]);
    expect((await app.knowledge.ask({ question: '探视时间是几点？' })).covered).toBe(false);
    expect(app.knowledge.deletedKbs().map((d) => d.name)).toEqual(['hospital']);
    app.knowledge.undeleteKb('hospital');
    expect((await app.knowledge.ask({ question: '探视时间是几点？' })).answer).toContain('15:00');
    app.knowledge.deleteKb('hospital', 'hospital');
    app.knowledge.purgeKb('hospital', 'hospital');
    expect(app.knowledge.deletedKbs()).toEqual([]);
    expect(files('segments')).toEqual([]);
    expect(files('blobs')).toEqual([]);
  });

  it('renames a knowledge base and keeps its documents; a deleted name can be reused', async () => {
    app.knowledge.renameKb('hospital', '住院部');
    expect(app.knowledge.listKbs()[0]).toMatchObject({ name: '住院部', documents: 3 });
    app.knowledge.deleteKb('住院部', '住院部');
    app.knowledge.createKb('住院部');
    expect(() => app.knowledge.undeleteKb('住院部')).toThrow(/rename it first/);
  });

  it('filters retrieval to chosen documents of a knowledge base', async () => {
    const r = await app.knowledge.ask({ question: '探视时间 port 7860', kb: 'hospital', documents: ['it.md'] });
    expect(r.citations.every((c) => c.document === 'it.md')).toBe(true);
  });
});

describe('start-up after a crash', () => {
  it('sweeps files the catalog does not reference and keeps everything it does', async () => {
    const t = tempDir();
    try {
      const data = path.join(t.dir, 'data');
      writeFiles(t.dir, { 'd/a.md': '# A\n探视时间为每天15:00至20:00。' });
      let app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
      app.knowledge.createKb('k');
      await app.knowledge.ingest('k', KnowledgeService.collectInputs([path.join(t.dir, 'd')]));
      await app.close();
      // Leftovers of a crash: a segment written before its transaction, a temp file, an orphan blob.
      writeFiles(data, {
        'segments/0000000000000000000000000000000000000000000000000000000000000000.faiss': 'orphan',
        'segments/.x.faiss.tmp-1-abcd': 'half',
        'blobs/sha256/ff/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff': 'orphan',
      });
      app = await openLifeline({ dataDir: data, shell: 'cli', seedDemo: false });
      expect(app.startup.swept!.segments).toHaveLength(1);
      expect(app.startup.swept!.tempFiles).toHaveLength(1);
      expect(app.startup.swept!.blobs).toHaveLength(1);
      expect((await app.knowledge.ask({ question: '探视时间是几点？' })).answer).toContain('15:00');
      await app.close();
    } finally {
      t.cleanup();
    }
  });

  it('lets one process write a data root at a time, and another read it', async () => {
    const t = tempDir();
    try {
      const writer = await openLifeline({ dataDir: t.dir, shell: 'server', command: 'lifeline serve' });
      await expect(openLifeline({ dataDir: t.dir, shell: 'cli' })).rejects.toThrow(/in use by process \d+ \(lifeline serve/);
      const reader = await openLifeline({ dataDir: t.dir, shell: 'cli', access: 'read' });
      expect((await reader.knowledge.ask({ question: '如何请假？' })).covered).toBe(true);
      await expect(reader.handlers['kb.create']({ name: 'x' })).rejects.toThrow(/can only read/);
      await reader.close();
      await writer.close();
      // Released: a writer can open it now.
      const again = await openLifeline({ dataDir: t.dir, shell: 'cli' });
      await again.close();
    } finally {
      t.cleanup();
    }
  });
});
