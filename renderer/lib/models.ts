// Model lists as the knowledge-base screen needs them. Pure.
import type { EmbedderFingerprint, ModelSummary } from '../../electron/api/contract.js';

/** The embedder choice meaning "the built-in embedder, no model file". */
export const DEFAULT_EMBEDDER = 'default';

const GGUF_PREFIX = 'gguf:';

/** Usable GGUF embedding models (by file name), in the order the core lists them. */
export function embeddingModels(models: readonly ModelSummary[] | null): ModelSummary[] {
  return (models ?? []).filter((m) => m.kind === 'embedding' && !m.error);
}

/** Usable chat models. */
export function chatModels(models: readonly ModelSummary[] | null): ModelSummary[] {
  return (models ?? []).filter((m) => m.kind === 'chat' && !m.error);
}

/** The model file a knowledge base's embedder was loaded from, or null for the built-in one. */
export function embedderFileOf(fingerprint: Pick<EmbedderFingerprint, 'id'>): string | null {
  return fingerprint.id.startsWith(GGUF_PREFIX) ? fingerprint.id.slice(GGUF_PREFIX.length) : null;
}

function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}

/**
 * The embedder choice (DEFAULT_EMBEDDER or a model name from models.list) that a knowledge base
 * currently uses. The fingerprint records the file's base name, models.list its path inside models/.
 */
export function embedderChoiceOf(fingerprint: Pick<EmbedderFingerprint, 'id'>, models: readonly ModelSummary[] | null): string {
  const file = embedderFileOf(fingerprint);
  if (file === null) return DEFAULT_EMBEDDER;
  const match = (models ?? []).find((m) => m.name === file) ?? (models ?? []).find((m) => baseName(m.name) === baseName(file));
  return match?.name ?? file;
}
