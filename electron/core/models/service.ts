// The models folder as a service: which GGUF files are there, which chat model answers, and
// the GGUF embedders that knowledge bases were built with. node-llama-cpp loads lazily, so a
// site without model files never pays for it.
import path from 'node:path';
import type { ModelSummary } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import { type Db, getMeta, setMeta } from '../store/catalog.js';
import type { Embedder } from './hashEmbedder.js';
import { type ChatModel, type GgufEmbedder, disposeLlamaRuntime, loadChatModel, loadEmbeddingModel } from './llama.js';
import { type ModelEntry, type ScanOptions, scanModels } from './registry.js';

export const GGUF_EMBEDDER_PREFIX = 'gguf:';

export class ModelService {
  private chat: { name: string; model: ChatModel } | null = null;
  private readonly embedders = new Map<string, GgufEmbedder>();
  private entries: ModelEntry[] | null = null;

  constructor(
    private readonly db: Db,
    readonly dir: string,
  ) {}

  /** `hashFile`: how a changed model file is hashed (a backup hashes on its worker thread). */
  async scan(force = false, opts: Pick<ScanOptions, 'hashFile'> = {}): Promise<ModelEntry[]> {
    if (!this.entries || force) this.entries = await scanModels(this.dir, opts);
    return this.entries;
  }

  async list(): Promise<ModelSummary[]> {
    return (await this.scan(true)).map((m) => ({ name: m.name, bytes: m.bytes, sha256: m.sha256 ?? '', kind: m.kind, architecture: m.architecture, ...(m.error ? { error: m.error } : {}) }));
  }

  /** The configured chat model: meta `chat_model` (a file name, or `none`), else the first chat model found. */
  async chatModelName(): Promise<string | null> {
    const chosen = getMeta(this.db, 'chat_model');
    if (chosen === 'none') return null;
    const models = (await this.scan()).filter((m) => m.kind === 'chat' && !m.error);
    if (chosen) return models.some((m) => m.name === chosen) ? chosen : null;
    return models[0]?.name ?? null;
  }

  /** The chat model chosen with `models use-chat` (meta `chat_model`), whether or not it is usable; null when none was chosen. */
  chosenChatModel(): string | null {
    const chosen = getMeta(this.db, 'chat_model');
    return chosen && chosen !== 'none' ? chosen : null;
  }

  loadedChatModel(): string | null {
    return this.chat?.name ?? null;
  }

  async useChatModel(name: string | null): Promise<void> {
    if (name !== null && !(await this.scan(true)).some((m) => m.name === name && m.kind === 'chat' && !m.error)) {
      throw new UserError('no-such-model', `no usable chat model named "${name}" in ${this.dir}`);
    }
    setMeta(this.db, 'chat_model', name ?? 'none');
    await this.chat?.model.dispose();
    this.chat = null;
  }

  /** The loaded chat model, loading it on first use; null when there is none (answers are extractive). */
  async chatModel(): Promise<ChatModel | null> {
    const name = await this.chatModelName();
    if (!name) return null;
    if (this.chat?.name === name) return this.chat.model;
    await this.chat?.model.dispose();
    this.chat = { name, model: await loadChatModel(path.join(this.dir, name)) };
    return this.chat.model;
  }

  /** Loads the GGUF embedding model `name` (checked against the sha256 the registry computed). */
  async embedder(name: string): Promise<Embedder> {
    const cached = this.embedders.get(name);
    if (cached) return cached;
    const entry = (await this.scan(true)).find((m) => m.name === name);
    if (!entry) throw new UserError('no-such-model', `no model file named "${name}" in ${this.dir}`);
    if (entry.error || !entry.sha256) throw new UserError('model-unusable', `${name}: ${entry.error ?? 'could not be checksummed'}`);
    if (entry.kind !== 'embedding') throw new UserError('not-an-embedder', `${name} looks like a ${entry.kind} model, not an embedding model`);
    const e = await loadEmbeddingModel(path.join(this.dir, name), entry.sha256);
    this.embedders.set(name, e);
    return e;
  }

  async dispose(): Promise<void> {
    await this.chat?.model.dispose();
    for (const e of this.embedders.values()) await e.dispose();
    this.chat = null;
    this.embedders.clear();
    await disposeLlamaRuntime();
  }
}

/** The model file name an embedder fingerprint id refers to, or null for built-in embedders. */
export function ggufNameOf(embedderId: string): string | null {
  return embedderId.startsWith(GGUF_EMBEDDER_PREFIX) ? embedderId.slice(GGUF_EMBEDDER_PREFIX.length) : null;
}
