// A damaged PDF that makes pdf.js leave a stray rejection behind (found by the fuzz suite) is
// reported by name, and `lifeline ingest` goes on with the rest of the batch.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeline } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/env.js';
import { twoPagePdf } from '../fuzz/support/corpus.js';

describe('a batch with a damaged PDF', () => {
  it('reports the PDF and ingests the other documents: the process survives', async () => {
    const t = tempDir();
    try {
      const docs = path.join(t.dir, 'docs');
      const zeroed = new Uint8Array(await twoPagePdf());
      zeroed.fill(0, 550, 1080); // the fuzz suite's input: the second page object zeroed
      writeFiles(docs, { 'a-zeroed-page.pdf': zeroed, ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`b-note-${i}.md`, `# Note ${i}\n\nShift handover note number ${i}.\n`])) });
      const data = path.join(t.dir, 'data');
      expect(lifeline(['kb', 'create', 'k', '--data', data, '--no-demo']).status).toBe(0);
      const r = lifeline(['ingest', docs, '--kb', 'k', '--json', '--data', data]);
      expect(r.stdout, r.stderr).not.toBe('');
      expect(r.json()).toMatchObject({ added: 40, failed: 1 });
      expect(r.status).toBe(1);
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
