// Shared test helpers: temporary data roots, the repo root, and the shared fixtures folder
// (read in place from ../shared; never copied into the project).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_FIXTURES = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures');
export const CHATCHAT_FIXTURE = path.join(SHARED_FIXTURES, 'chatchat-samples');
export const TEST_OUTPUT = path.join(REPO_ROOT, 'test-output');

/** A fresh folder for one test; removed by the returned cleanup. */
export function tempDir(prefix = 'lifeline-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (name → content) under dir and returns their absolute paths. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): string[] {
  return Object.entries(files).map(([name, content]) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  });
}

export function fixturePresent(dir: string): { present: boolean; reason: string } {
  return fs.existsSync(dir)
    ? { present: true, reason: '' }
    : { present: false, reason: `shared fixture not found at ${dir} (CI and sessions have ../shared beside the checkout)` };
}
