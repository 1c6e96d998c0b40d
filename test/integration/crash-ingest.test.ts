// Power cut in the middle of an ingest: a child process ingesting a batch is killed with
// SIGKILL at random moments. After each kill the data root must open, pass the integrity
// check, have every referenced segment match its sha256, and hold each document wholly or
// not at all; the next run resumes without redoing finished documents.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from '../../electron/core/kb/loaders.js';
import { splitDocument } from '../../electron/core/kb/splitter.js';
import { LIFELINE_BIN, lifeline } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/env.js';
import { checkDataRoot } from '../helpers/invariants.js';

const RUNS = Number(process.env.LIFELINE_CRASH_RUNS ?? 20);
const DOCS = 600;

/** Version v of document i: same shape every version, different words, so each run has real work. */
function docText(i: number, v: number): string {
  const paras = Array.from({ length: 6 }, (_, p) => `第${i}号文件第${p}段（第${v}版）：夜间值班人员应在${(i * 7 + p + v) % 24}点检查${i}号机柜的电源与磁盘指示灯，并记录编号${i * 100 + p}。`);
  return `# 文件 ${i}\n\n${paras.join('\n\n')}\n`;
}

function writeVersion(dir: string, v: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < DOCS; i++) files[`doc-${String(i).padStart(3, '0')}.md`] = docText(i, v);
  writeFiles(dir, files);
  return files;
}

function killAfter(args: string[], ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LIFELINE_BIN, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('a power cut during ingestion', () => {
  it(`leaves a consistent data root after ${RUNS} SIGKILLs at random moments, and resumes to completion`, async () => {
    const t = tempDir();
    try {
      const docsDir = path.join(t.dir, 'docs');
      const data = path.join(t.dir, 'data');
      const files = writeVersion(docsDir, 0);
      const expected = new Map<string, number>();
      for (const [name, text] of Object.entries(files)) expected.set(name, splitDocument(await parseDocument(name, Buffer.from(text))).length);
      expect(lifeline(['kb', 'create', 'ops', '--data', data, '--no-demo']).status).toBe(0);

      let completed = 0;
      const seen: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        // Every run rewrites every document: a kill lands in staging, parsing or a group commit.
        writeVersion(docsDir, run);
        const delay = 150 + Math.floor(Math.random() * 900);
        const code = await killAfter(['ingest', docsDir, '--kb', 'ops', '--data', data], delay);
        if (code === 0) completed++;
        const report = checkDataRoot(data, expected);
        expect(report.violations, `run ${run} (killed after ${delay} ms)`).toEqual([]);
        seen.push(report.documents);
      }
      // Progress is never lost: the document count never goes down between kills.
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
      const final = lifeline(['ingest', docsDir, '--kb', 'ops', '--json', '--data', data]);
      expect(final.status).toBe(0);
      const after = checkDataRoot(data, expected);
      expect(after.violations).toEqual([]);
      expect(after.documents).toBe(DOCS);
      // Nothing was ingested twice: one document row per file, chunks exactly as expected.
      expect(after.chunks).toBe([...expected.values()].reduce((a, b) => a + b, 0));
      const ask = lifeline(['ask', '第42号文件第3段', '--kb', 'ops', '--json', '--data', data]).json();
      expect(ask.citations[0].document).toBe('doc-042.md');
      expect(ask.citations[0].location).toBeTruthy();
      expect(ask.answer).toContain(`第${RUNS - 1}版`);
      console.log(`crash test: ${RUNS} kills, ${completed} runs finished before the kill, documents after each kill: ${seen.join(' ')}`);
    } finally {
      t.cleanup();
    }
  }, 240_000);
});
