import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MODELS_CACHE_FILE, scanModels, sha256FileStream } from '../../electron/core/models/registry.js';
import { sha256File } from '../../electron/core/util/hash.js';
import { tinyLlamaGguf, writeTinyLlamaGguf } from '../helpers/gguf.js';
import { tempDir } from '../helpers/env.js';

describe('the model registry', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  function modelsFolder(): string {
    const t = tempDir('lifeline-models-');
    cleanup = t.cleanup;
    const dir = path.join(t.dir, 'models');
    writeTinyLlamaGguf(path.join(dir, 'chat', 'tiny-chat.gguf'), { seed: 1 });
    writeTinyLlamaGguf(path.join(dir, 'bge-tiny.gguf'), { seed: 2, pooling: 'mean', chatTemplate: null });
    fs.writeFileSync(path.join(dir, 'broken.gguf'), tinyLlamaGguf({ seed: 3 }).subarray(0, 4096));
    fs.writeFileSync(path.join(dir, 'README.txt'), 'not a model');
    return dir;
  }

  function countingHash(): { hashFile: (f: string) => Promise<string>; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      hashFile: (f) => {
        calls.push(path.basename(f));
        return sha256FileStream(f);
      },
    };
  }

  it('lists good and broken files, with kinds, checksums and a named error for the broken one', async () => {
    const dir = modelsFolder();
    const list = await scanModels(dir);
    expect(list.map((m) => m.name)).toEqual(['bge-tiny.gguf', 'broken.gguf', 'chat/tiny-chat.gguf']);
    const [embed, broken, chat] = list;
    expect(embed).toMatchObject({ kind: 'embedding', architecture: 'llama', embeddingLength: 64, contextLength: 512, sha256: sha256File(path.join(dir, 'bge-tiny.gguf')) });
    expect(embed!.error).toBeUndefined();
    expect(chat).toMatchObject({ kind: 'chat', architecture: 'llama', modelName: 'tiny-llama', fileType: 'F32', bytes: fs.statSync(path.join(dir, 'chat/tiny-chat.gguf')).size });
    expect(broken).toMatchObject({ kind: 'unknown', bytes: 4096, sha256: sha256File(path.join(dir, 'broken.gguf')) });
    expect(broken!.error).toMatch(/^broken\.gguf: .*truncated/);
  });

  it('reuses cached hashes on the next scan and re-hashes only a file that changed', async () => {
    const dir = modelsFolder();
    const first = countingHash();
    const a = await scanModels(dir, { hashFile: first.hashFile });
    expect(first.calls.sort()).toEqual(['bge-tiny.gguf', 'broken.gguf', 'tiny-chat.gguf']);

    const cache = JSON.parse(fs.readFileSync(path.join(dir, MODELS_CACHE_FILE), 'utf8'));
    expect(cache.version).toBe(1);
    expect(Object.keys(cache.entries).sort()).toEqual(['bge-tiny.gguf', 'broken.gguf', 'chat/tiny-chat.gguf']);
    expect(cache.entries['bge-tiny.gguf']).toEqual({ bytes: a[0]!.bytes, mtimeMs: fs.statSync(path.join(dir, 'bge-tiny.gguf')).mtimeMs, sha256: a[0]!.sha256 });

    const second = countingHash();
    const b = await scanModels(dir, { hashFile: second.hashFile });
    expect(second.calls).toEqual([]);
    expect(b).toEqual(a);

    // Replace one model (new content, new mtime): only that file is hashed again.
    const changed = path.join(dir, 'chat', 'tiny-chat.gguf');
    writeTinyLlamaGguf(changed, { seed: 99 });
    fs.utimesSync(changed, new Date(), new Date(Date.now() + 5000));
    const third = countingHash();
    const c = await scanModels(dir, { hashFile: third.hashFile });
    expect(third.calls).toEqual(['tiny-chat.gguf']);
    expect(c[2]!.sha256).toBe(sha256File(changed));
    expect(c[2]!.sha256).not.toBe(a[2]!.sha256);

    // A removed model leaves the cache too; no temp files are left behind.
    fs.rmSync(path.join(dir, 'broken.gguf'));
    await scanModels(dir, { hashFile: countingHash().hashFile });
    const after = JSON.parse(fs.readFileSync(path.join(dir, MODELS_CACHE_FILE), 'utf8'));
    expect(Object.keys(after.entries).sort()).toEqual(['bge-tiny.gguf', 'chat/tiny-chat.gguf']);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('ignores a damaged cache file and rebuilds it', async () => {
    const dir = modelsFolder();
    fs.writeFileSync(path.join(dir, MODELS_CACHE_FILE), '{ not json');
    const h = countingHash();
    const list = await scanModels(dir, { hashFile: h.hashFile });
    expect(h.calls).toHaveLength(3);
    expect(list.every((m) => m.sha256 && /^[0-9a-f]{64}$/.test(m.sha256))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, MODELS_CACHE_FILE), 'utf8')).version).toBe(1);
  });

  it('returns an empty list for a models folder that does not exist, and writes nothing there', async () => {
    const t = tempDir('lifeline-models-');
    cleanup = t.cleanup;
    const dir = path.join(t.dir, 'models');
    expect(await scanModels(dir)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('lists a file it cannot hash with an error instead of throwing', async () => {
    const dir = modelsFolder();
    const list = await scanModels(dir, {
      hashFile: async (f) => {
        if (f.endsWith('bge-tiny.gguf')) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        return sha256FileStream(f);
      },
    });
    expect(list[0]).toMatchObject({ name: 'bge-tiny.gguf', sha256: null, kind: 'embedding' });
    expect(list[0]!.error).toMatch(/^bge-tiny\.gguf: .*EIO/);
    const cache = JSON.parse(fs.readFileSync(path.join(dir, MODELS_CACHE_FILE), 'utf8'));
    expect(cache.entries['bge-tiny.gguf']).toBeUndefined();
  });
});
