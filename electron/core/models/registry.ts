// The model registry: every `*.gguf` under the models folder, with its size, sha256 and what kind of
// model it is. Hashing a multi-GB model takes seconds, so hashes are cached in
// `<models>/.lifeline-models.json` keyed by (name, size, mtime) and written atomically: start-up
// re-hashes only files that changed. A broken file is listed with `error`, never thrown.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import { GgufError, readGgufMetadata, type ModelKind } from './gguf.js';

export const MODELS_CACHE_FILE = '.lifeline-models.json';

export interface ModelEntry {
  /** Path relative to the models folder, with forward slashes. */
  name: string;
  bytes: number;
  /** Null only when the file could not be read at all. */
  sha256: string | null;
  kind: ModelKind;
  architecture: string | null;
  contextLength: number | null;
  embeddingLength: number | null;
  /** `general.name` from the file. */
  modelName: string | null;
  /** Quantisation, e.g. "Q4_K_M". */
  fileType: string | null;
  /** Why the file cannot be used (truncated, not GGUF, unreadable…); absent for a good file. */
  error?: string;
}

export interface ScanOptions {
  /** Streaming sha256 of a file (injectable so tests can count calls). */
  hashFile?: (file: string) => Promise<string>;
  signal?: AbortSignal;
  /** Called before each file is examined. */
  onProgress?: (done: number, total: number, name: string) => void;
}

interface CacheEntry {
  bytes: number;
  mtimeMs: number;
  sha256: string;
}
interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** sha256 of a file, streamed in 1 MiB reads (never the whole file in memory). */
export function sha256FileStream(file: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(file, { highWaterMark: 1 << 20, signal });
    s.on('data', (chunk) => h.update(chunk));
    s.on('error', reject);
    s.on('end', () => resolve(h.digest('hex')));
  });
}

async function listGguf(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir !== root) return; // an unreadable sub-folder hides its files; the rest still scans
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`${root}: cannot list the models folder: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // the cache, temp files of atomic writes, hidden folders
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (/\.gguf$/i.test(e.name) && (e.isFile() || e.isSymbolicLink())) out.push(full);
    }
  }
  await walk(root);
  return out.sort();
}

/**
 * Why the models cache cannot be used, or null when it can (or is simply absent: the next scan
 * writes it). A damaged cache is not a problem — it is ignored and rewritten — but one that is a
 * folder (or another non-file) can never be rewritten, and then every start re-hashes every model.
 */
export function modelsCacheProblem(modelsDir: string): string | null {
  const file = path.join(modelsDir, MODELS_CACHE_FILE);
  let st: import('node:fs').Stats;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : `${MODELS_CACHE_FILE} cannot be read (${(err as Error).message}): the models' checksums cannot be cached, so every start re-hashes every model file`;
  }
  if (st.isFile()) return null;
  return `${MODELS_CACHE_FILE} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}: Lifeline cannot write the models' checksum cache there, so every start re-hashes every model file (seconds per GB); remove or rename it`;
}

function readCache(file: string): Promise<CacheFile> {
  return fs
    .readFile(file, 'utf8')
    .then((text) => {
      const parsed = JSON.parse(text) as CacheFile;
      if (parsed?.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) throw new Error('unknown cache format');
      return parsed;
    })
    .catch(() => ({ version: 1 as const, entries: {} }));
}

/**
 * Lists every `*.gguf` under `modelsDir` (sub-folders included), sorted by name. A missing
 * folder is an empty list. Hashes come from the cache when name, size and mtime are unchanged.
 */
export async function scanModels(modelsDir: string, opts: ScanOptions = {}): Promise<ModelEntry[]> {
  const hashFile = opts.hashFile ?? ((f: string) => sha256FileStream(f, opts.signal));
  const cachePath = path.join(modelsDir, MODELS_CACHE_FILE);
  const cache = await readCache(cachePath);
  const files = await listGguf(modelsDir);
  const nextCache: CacheFile = { version: 1, entries: {} };
  const out: ModelEntry[] = [];
  for (const [i, full] of files.entries()) {
    opts.signal?.throwIfAborted();
    const name = path.relative(modelsDir, full).split(path.sep).join('/');
    opts.onProgress?.(i, files.length, name);
    const entry: ModelEntry = { name, bytes: 0, sha256: null, kind: 'unknown', architecture: null, contextLength: null, embeddingLength: null, modelName: null, fileType: null };
    out.push(entry);
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(full);
    } catch (err) {
      entry.error = `${name}: cannot read the file: ${(err as Error).message}`;
      continue;
    }
    entry.bytes = st.size;
    const cached = cache.entries[name];
    if (cached && cached.bytes === st.size && cached.mtimeMs === st.mtimeMs && /^[0-9a-f]{64}$/.test(cached.sha256)) {
      entry.sha256 = cached.sha256;
    } else {
      try {
        entry.sha256 = await hashFile(full);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        entry.error = `${name}: cannot read the file to check its checksum: ${(err as Error).message}`;
      }
    }
    if (entry.sha256) nextCache.entries[name] = { bytes: st.size, mtimeMs: st.mtimeMs, sha256: entry.sha256 };
    try {
      const info = await readGgufMetadata(full);
      entry.kind = info.kind;
      entry.architecture = info.architecture;
      entry.contextLength = info.contextLength;
      entry.embeddingLength = info.embeddingLength;
      entry.modelName = info.name;
      entry.fileType = info.fileTypeName;
    } catch (err) {
      // The reader names the absolute path; the registry speaks in names relative to the folder.
      const msg = err instanceof GgufError ? err.message.replace(err.file, name) : `${name}: ${(err as Error).message}`;
      entry.error ??= msg;
    }
  }
  opts.onProgress?.(files.length, files.length, '');
  if (JSON.stringify(nextCache) !== JSON.stringify(cache) && (files.length > 0 || Object.keys(cache.entries).length > 0)) {
    try {
      writeFileAtomic(cachePath, JSON.stringify(nextCache, null, 2) + '\n');
    } catch {
      // A read-only models folder (a mounted share, a restored backup) still scans; it just re-hashes next time.
    }
  }
  return out;
}
