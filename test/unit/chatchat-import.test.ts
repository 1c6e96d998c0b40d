import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../electron/api/handlers.js';
import { importChatchat, readChatchatDocuments } from '../../electron/core/chatchat/index.js';
import type { ChatchatIngest } from '../../electron/core/chatchat/index.js';
import { FIXTURE_COUNT, FIXTURE_KB, FIXTURE_MODEL, FIXTURE_SOURCE, type FixtureCopy, copyFixture, writeSyntheticStore } from '../helpers/chatchat.js';
import { CHATCHAT_FIXTURE, fixturePresent, tempDir } from '../helpers/env.js';

const fixture = fixturePresent(CHATCHAT_FIXTURE);
const title = (t: string) => (fixture.present ? t : `${t} (skipped: ${fixture.reason})`);
const KB_ROOT = path.join(CHATCHAT_FIXTURE, 'knowledge_base');

/** An ingest callback that records what it is given and accepts everything. */
function recorder(status = 'added') {
  const received: { name: string; bytes: Uint8Array }[] = [];
  const calls: number[] = [];
  const ingest: ChatchatIngest = async (sources) => {
    calls.push(sources.length);
    received.push(...sources);
    return { files: sources.map((s) => ({ document: s.name, status })) };
  };
  return { ingest, received, calls };
}

describe.skipIf(!fixture.present)(title('reading and importing a real Chatchat knowledge base'), () => {
  let fx: FixtureCopy | null = null;
  afterEach(() => {
    fx?.cleanup();
    fx = null;
  });

  it('reads the 323 chunks of the docstore, each from test_files/langchain-ChatGLM_open.csv, in row order', () => {
    const r = readChatchatDocuments(KB_ROOT);
    expect(r.kb).toBe(FIXTURE_KB);
    expect(r.vectorStore).toBe(`${FIXTURE_KB}/vector_store/${FIXTURE_MODEL}`);
    expect(r.problems).toEqual([]);
    expect(r.documents).toHaveLength(FIXTURE_COUNT);
    expect(new Set(r.documents.map((d) => d.source))).toEqual(new Set([FIXTURE_SOURCE]));
    expect(r.documents.map((d) => d.metadata.row)).toEqual(Array.from({ length: FIXTURE_COUNT }, (_, i) => i));
    expect(r.documents[0]).toMatchObject({ docId: '54d60c33-49a4-4aee-917c-e83b3b2644ea', metadata: { source: FIXTURE_SOURCE, row: 0 } });
    expect(r.documents[0]!.text).toContain('title: 效果如何优化');
    expect(new Set(r.documents.map((d) => d.docId)).size).toBe(FIXTURE_COUNT);
  });

  it('reads the chunks even when index.faiss is lost, and names the knowledge base when asked for one that does not exist', () => {
    fx = copyFixture();
    fs.rmSync(fx.index);
    expect(readChatchatDocuments(fx.root, FIXTURE_KB).documents).toHaveLength(FIXTURE_COUNT);
    expect(() => readChatchatDocuments(fx!.root, 'pharmacy')).toThrow(UserError);
    expect(() => readChatchatDocuments(fx!.root, 'pharmacy')).toThrow(/no knowledge base "pharmacy" .*there is: samples/);
  });

  it('imports the original file when it is under content/, named by its path relative to content/', async () => {
    const rec = recorder();
    const report = await importChatchat(KB_ROOT, { ingest: rec.ingest });
    expect(rec.received.map((s) => s.name)).toEqual([FIXTURE_SOURCE]);
    expect(Buffer.from(rec.received[0]!.bytes).equals(fs.readFileSync(path.join(KB_ROOT, FIXTURE_KB, 'content', FIXTURE_SOURCE)))).toBe(true);
    expect(report).toMatchObject({ kb: FIXTURE_KB, source: 'original', imported: 1, failed: [], problems: [] });
    expect(report.documents).toEqual([{ name: FIXTURE_SOURCE, from: 'original', source: FIXTURE_SOURCE, status: 'added' }]);
    const vectors = report.notBroughtOver.find((n) => n.what.startsWith('vectors'));
    expect(vectors?.reason).toMatch(/bge-large-zh-v1\.5.*re-embeds .*configured embedder/);
  });

  it('rebuilds one document per source from the docstore chunks when content/ (and index.faiss) are gone', async () => {
    fx = copyFixture();
    fs.rmSync(fx.content, { recursive: true });
    fs.rmSync(fx.index);
    const rec = recorder();
    const report = await importChatchat(fx.root, { kbName: FIXTURE_KB, ingest: rec.ingest });
    expect(report).toMatchObject({ source: 'docstore', imported: 1, failed: [] });
    expect(rec.received.map((s) => s.name)).toEqual([`${FIXTURE_SOURCE}.txt`]);
    const text = new TextDecoder().decode(rec.received[0]!.bytes);
    const chunks = readChatchatDocuments(fx.root).documents.map((d) => d.text);
    expect(text).toBe(chunks.join('\n\n') + '\n');
    expect(report.documents).toEqual([{ name: `${FIXTURE_SOURCE}.txt`, from: 'docstore', source: FIXTURE_SOURCE, chunks: FIXTURE_COUNT, status: 'added' }]);
    expect(report.notBroughtOver.map((n) => n.what)).toEqual(
      expect.arrayContaining(['vectors (index.faiss)', `the original files of 1 document (${FIXTURE_SOURCE})`]),
    );
  });

  it('reports what ingest failed, with its reason, and what it was never told about', async () => {
    fx = copyFixture();
    const failing: ChatchatIngest = async (sources) => ({ files: sources.map((s) => ({ document: s.name, status: 'failed', error: 'unsupported file type' })) });
    const r1 = await importChatchat(fx.root, { ingest: failing });
    expect(r1.imported).toBe(0);
    expect(r1.failed).toEqual([{ document: FIXTURE_SOURCE, reason: 'unsupported file type' }]);
    const throwing: ChatchatIngest = async () => {
      throw new Error('the disk is full');
    };
    const r2 = await importChatchat(fx.root, { ingest: throwing });
    expect(r2.failed).toEqual([{ document: FIXTURE_SOURCE, reason: 'ingest failed: the disk is full' }]);
    const silent: ChatchatIngest = async () => ({ files: [] });
    expect((await importChatchat(fx.root, { ingest: silent })).failed).toEqual([{ document: FIXTURE_SOURCE, reason: 'ingest did not report on it' }]);
  });
});

describe('importing LangChain stores built elsewhere', () => {
  it('rebuilds documents per source, in docstore order, from a bare folder with no content/', async () => {
    const t = tempDir();
    try {
      const dir = path.join(t.dir, 'ward-guides');
      writeSyntheticStore(
        dir,
        [
          { id: 'a', text: 'Visiting hours are 15:00 to 20:00.', metadata: { source: 'rules/visiting.md' } },
          { id: 'b', text: 'Amoxicillin 500 mg three times a day.', metadata: { source: 'C:\\chatchat\\knowledge_base\\ward-guides\\content\\leaflets\\amoxicillin.pdf' } },
          { id: 'c', text: 'Children under 12 visit with an adult.', metadata: { source: 'rules/visiting.md' } },
          { id: 'd', text: 'A chunk nobody named.', metadata: {} },
        ],
        'pydantic-v2',
      );
      const rec = recorder('added');
      const report = await importChatchat(dir, { ingest: rec.ingest });
      expect(report.source).toBe('docstore');
      expect(rec.received.map((s) => s.name)).toEqual(['rules/visiting.md', 'leaflets/amoxicillin.pdf.txt', 'chatchat-ward-guides-unsourced.txt']);
      expect(new TextDecoder().decode(rec.received[0]!.bytes)).toBe('Visiting hours are 15:00 to 20:00.\n\nChildren under 12 visit with an adult.\n');
      expect(report.imported).toBe(3);
    } finally {
      t.cleanup();
    }
  });
});
