// Where the app's own files (resources/, dist/renderer/) are: the folder holding Lifeline's
// package.json, found upward from this module, so the same code works from electron/ sources
// (tests), from dist/ (CLI, server) and inside a packaged Electron app.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function appRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lifeline') return (cached = dir);
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the Lifeline installation folder (package.json named "lifeline")');
    dir = up;
  }
}

export function resourcesDir(): string {
  return path.join(appRoot(), 'resources');
}

export function appVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
