import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTempName, writeFileAtomic } from '../../electron/core/store/atomic.js';
import { tempDir } from '../helpers/env.js';

describe('atomic file writes', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('writes the whole content under the final name and leaves no temp file', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const target = path.join(t.dir, 'a', 'b', 'file.bin');
    writeFileAtomic(target, [Buffer.from('hello '), Buffer.from('world')]);
    expect(fs.readFileSync(target, 'utf8')).toBe('hello world');
    expect(fs.readdirSync(path.dirname(target)).filter(isTempName)).toEqual([]);
  });

  it('replaces an existing file as a whole', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const target = path.join(t.dir, 'f.txt');
    writeFileAtomic(target, 'old content that is longer');
    writeFileAtomic(target, 'new');
    expect(fs.readFileSync(target, 'utf8')).toBe('new');
  });

  it.skipIf(process.getuid?.() === 0)('names the file and leaves nothing behind when the folder is not writable', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    fs.chmodSync(t.dir, 0o555);
    const target = path.join(t.dir, 'f.txt');
    expect(() => writeFileAtomic(target, 'x')).toThrow(/f\.txt.*permission denied/);
    expect(fs.readdirSync(t.dir)).toEqual([]);
  });
});
