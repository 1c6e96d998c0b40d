// GGUF models through node-llama-cpp: one shared llama.cpp runtime per process (CPU, the prebuilt
// binary only — an air-gapped site can neither build nor download one), an embedder for the
// knowledge bases (DESIGN.md invariant 4: its fingerprint is the model file's sha256) and a chat
// model for answers (streamed, cancellable, greedy by default so answers are reproducible).
//
// node-llama-cpp is imported lazily: importing this module costs nothing until a model is loaded.
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaModel, ChatWrapper, Token } from 'node-llama-cpp';
import type { EmbedderFingerprint } from '../../api/contract.js';
import type { Embedder } from './hashEmbedder.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');

let lib: Promise<NodeLlamaCpp> | null = null;
let runtime: Promise<Llama> | null = null;
const open = new Set<{ dispose(): Promise<void> }>();
const logLines: string[] = [];
let logSeq = 0;

function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  lib ??= import('node-llama-cpp');
  return lib;
}

/** Threads for llama.cpp: `LIFELINE_LLAMA_THREADS`, else the cores useful for math. */
export function llamaThreads(llama?: Llama): number {
  const env = Number(process.env.LIFELINE_LLAMA_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, llama?.cpuMathCores ?? 1);
}

/** Below this size a model computes so little per token that extra threads only add synchronisation. */
const SMALL_MODEL_BYTES = 256 * 1024 * 1024;

/**
 * Threads for one model: `LIFELINE_LLAMA_THREADS` when set, else 1 for a small model (measured on
 * 2 cores: 1 thread ≈ 2000 tokens/s, 2 threads ≈ 60–90 on the tiny test model when another process
 * competes for the CPU), else the cores useful for math.
 */
function threadsFor(file: string, llama: Llama): number {
  if (process.env.LIFELINE_LLAMA_THREADS) return llamaThreads(llama);
  let bytes = Infinity;
  try {
    bytes = statSync(file).size;
  } catch {
    // loadModel reports the missing file
  }
  return bytes < SMALL_MODEL_BYTES ? 1 : llamaThreads(llama);
}

/** The last llama.cpp warnings and errors (for the models step's evidence). */
export function llamaLog(): readonly string[] {
  return [...logLines];
}

/**
 * The shared runtime, created on first use: CPU only, prebuilt binary only (`build: 'never'`,
 * no download). `LIFELINE_LLAMA_GPU=auto` lets llama.cpp use a GPU when the site has one.
 */
export function getLlamaRuntime(): Promise<Llama> {
  runtime ??= (async () => {
    const { getLlama, LlamaLogLevel } = await nodeLlamaCpp();
    const gpu = process.env.LIFELINE_LLAMA_GPU === 'auto' ? 'auto' : false;
    const llama = await getLlama({
      gpu,
      build: 'never',
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const line = `${level}: ${message.trimEnd()}`;
        logSeq++;
        logLines.push(line);
        if (logLines.length > 200) logLines.splice(0, logLines.length - 200);
        // Errors reach the operator inside the thrown error (see loadModelFile); stderr only on request.
        if (process.env.LIFELINE_LLAMA_LOG === 'stderr' || (process.env.LIFELINE_LLAMA_LOG !== 'quiet' && level === LlamaLogLevel.fatal)) process.stderr.write(`llama.cpp ${line}\n`);
      },
    });
    llama.maxThreads = llamaThreads(llama);
    return llama;
  })();
  runtime.catch(() => {
    runtime = null; // let a later call retry (e.g. after the operator fixed the install)
  });
  return runtime;
}

/**
 * Disposes every model loaded through this module. The runtime itself stays for the life of the
 * process: a second runtime created after disposing the first loses the log redirection and
 * llama.cpp prints to stdout (seen with node-llama-cpp 3.21.1), which would corrupt `--json`.
 */
export async function disposeLlamaRuntime(): Promise<void> {
  for (const m of [...open]) await m.dispose().catch(() => undefined);
  open.clear();
}

async function loadModelFile(file: string): Promise<LlamaModel> {
  const llama = await getLlamaRuntime();
  const seqBefore = logSeq;
  try {
    return await llama.loadModel({ modelPath: path.resolve(file), gpuLayers: llama.gpu === false ? 0 : 'auto' });
  } catch (err) {
    // llama.cpp says why in its log ("failed to read key-value pairs", "missing tensor …"): keep that.
    // Its log lines arrive through a queue: let the ones written during the load land first.
    await new Promise<void>((r) => setImmediate(r));
    const fresh = logLines.slice(Math.max(0, logLines.length - (logSeq - seqBefore)));
    const why = fresh.filter((l) => l.startsWith('error') || l.startsWith('fatal')).map((l) => l.replace(/^\w+: /, ''));
    const detail = why.length > 0 ? `${(err as Error).message} (${why.join('; ')})` : (err as Error).message;
    throw new Error(`${file}: llama.cpp could not load this model: ${detail}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Embeddings

export interface LoadEmbeddingOptions {
  /** Tokens per input (longer texts are truncated); the model's training context, at most 2048, by default. */
  contextSize?: number;
  /** llama.cpp threads; see `threadsFor` (1 for a small model, else the math cores). */
  threads?: number;
  /** Texts embedded between two checks of the abort signal / event-loop yields (16). */
  batchSize?: number;
}

export class GgufEmbedder implements Embedder {
  readonly fingerprint: EmbedderFingerprint;
  /** Longest input, in tokens, before truncation. */
  readonly maxInputTokens: number;
  private disposed = false;

  constructor(
    readonly file: string,
    private readonly model: LlamaModel,
    private readonly context: LlamaEmbeddingContext,
    readonly contextSize: number,
    sha256: string,
    dimension: number,
    private readonly batchSize: number,
  ) {
    this.fingerprint = { id: `gguf:${path.basename(file)}`, version: sha256, dimension, normalization: 'l2' };
    // Room for the BOS/EOS (or CLS/SEP) tokens the context adds, and its strict "shorter than" check.
    this.maxInputTokens = Math.max(1, contextSize - 3);
  }

  /** Token ids of `text` as the embedder will see it (truncated to the context). */
  tokens(text: string): Token[] {
    const t = this.model.tokenize(text, false);
    return t.length > this.maxInputTokens ? t.slice(0, this.maxInputTokens) : t;
  }

  /** Embeds one text, L2-normalised, into `out` at `offset` (zeros for a text with no tokens). */
  private async embedInto(text: string, out: Float32Array, offset: number): Promise<void> {
    const dim = this.fingerprint.dimension;
    const tokens = this.tokens(text);
    if (tokens.length === 0) return;
    const { vector } = await this.context.getEmbeddingFor(tokens);
    if (vector.length !== dim) throw new Error(`${this.file}: the model returned a ${vector.length}-dimensional embedding, expected ${dim}`);
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += vector[i]! * vector[i]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < dim; i++) out[offset + i] = vector[i]! * inv;
  }

  async embed(texts: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<Float32Array> {
    if (this.disposed) throw new Error(`${this.file}: the embedding model was unloaded`);
    const dim = this.fingerprint.dimension;
    const out = new Float32Array(texts.length * dim);
    for (let start = 0; start < texts.length; start += this.batchSize) {
      opts.signal?.throwIfAborted();
      const end = Math.min(texts.length, start + this.batchSize);
      for (let i = start; i < end; i++) await this.embedInto(texts[i]!, out, i * dim);
      await new Promise<void>((r) => setImmediate(r));
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    open.delete(this);
    await this.context.dispose();
    await this.model.dispose();
  }
}

/**
 * Loads a GGUF embedding model. `sha256` is the model file's hash (from the registry): it becomes
 * the fingerprint's version, so vectors of another file are never mixed with these.
 */
export async function loadEmbeddingModel(file: string, sha256: string, opts: LoadEmbeddingOptions = {}): Promise<GgufEmbedder> {
  const model = await loadModelFile(file);
  try {
    const llama = await getLlamaRuntime();
    const contextSize = Math.max(8, Math.min(opts.contextSize ?? 2048, model.trainContextSize));
    // batchSize = contextSize: encoder models (BERT) must see the whole input in one batch.
    const context = await model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads: opts.threads ?? threadsFor(file, llama) });
    // The dimension as the model really produces it (pooled output), not as the header claims.
    const probe = await context.getEmbeddingFor(model.tokenize('dimension probe', false));
    const dimension = probe.vector.length || model.embeddingVectorSize;
    const embedder = new GgufEmbedder(file, model, context, contextSize, sha256, dimension, Math.max(1, opts.batchSize ?? 16));
    open.add(embedder);
    return embedder;
  } catch (err) {
    await model.dispose().catch(() => undefined);
    throw err instanceof Error && err.message.includes(file) ? err : new Error(`${file}: cannot compute embeddings with this model: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Chat

export interface GenerateRequest {
  system: string;
  user: string;
  /** Upper bound on generated tokens (clamped to what the context has left). */
  maxTokens: number;
  signal?: AbortSignal;
  /** Each piece of text as it is generated. */
  onToken?: (text: string) => void;
  /** 0 (greedy, reproducible) by default. */
  temperature?: number;
  seed?: number;
}

export interface GenerateResult {
  /** Everything generated, also when cancelled. */
  text: string;
  stopReason: 'done' | 'cancelled' | 'max-tokens';
  /** Generated tokens. */
  tokens: number;
  /** Tokens of the rendered prompt (chat template included). */
  promptTokens: number;
  tookMs: number;
}

export interface ChatModel {
  readonly file: string;
  readonly contextSize: number;
  /** Which prompt format is used (from the file's chat template), e.g. "ChatML". */
  readonly chatWrapperName: string;
  countTokens(text: string): number;
  /** Exact tokens of the prompt as the model will see it: chat template, system and user message. */
  countPromptTokens(system: string, user: string): number;
  generate(req: GenerateRequest): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export interface LoadChatOptions {
  /** Context size in tokens; the model's training context, at most 4096, by default. */
  contextSize?: number;
  /** llama.cpp threads; see `threadsFor` (1 for a small model, else the math cores). */
  threads?: number;
  /** Tokens a "thinking" model may spend thinking before it answers (0 by default: answer directly). */
  thoughtTokens?: number;
}

class LlamaChatModel implements ChatModel {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly running = new Set<AbortController>();

  constructor(
    readonly file: string,
    private readonly lib: NodeLlamaCpp,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly wrapper: ChatWrapper,
    private readonly thoughtTokens: number,
  ) {}

  get contextSize(): number {
    return this.context.contextSize;
  }

  get chatWrapperName(): string {
    return this.wrapper.wrapperName;
  }

  countTokens(text: string): number {
    return this.model.tokenize(text, false).length;
  }

  countPromptTokens(system: string, user: string): number {
    const { contextText } = this.wrapper.generateContextState({
      chatHistory: [
        { type: 'system', text: system },
        { type: 'user', text: user },
        { type: 'model', response: [] },
      ],
    });
    return contextText.tokenize(this.model.tokenizer).length;
  }

  generate(req: GenerateRequest): Promise<GenerateResult> {
    // One generation at a time on the one context sequence; callers queue.
    const run = this.queue.then(() => this.generateNow(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generateNow(req: GenerateRequest): Promise<GenerateResult> {
    if (this.disposed) throw new Error(`${this.file}: the chat model was unloaded`);
    const started = Date.now();
    const promptTokens = this.countPromptTokens(req.system, req.user);
    const room = this.contextSize - promptTokens - 1;
    if (room < 1) throw new Error(`${this.file}: the prompt has ${promptTokens} tokens, more than the model's context of ${this.contextSize}`);
    const maxTokens = Math.max(1, Math.min(req.maxTokens, room));
    const local = new AbortController();
    const forward = (): void => local.abort(req.signal?.reason);
    if (req.signal?.aborted) return { text: '', stopReason: 'cancelled', tokens: 0, promptTokens, tookMs: 0 };
    req.signal?.addEventListener('abort', forward, { once: true });
    this.running.add(local);
    const session = new this.lib.LlamaChatSession({
      contextSequence: this.sequence,
      chatWrapper: this.wrapper,
      systemPrompt: req.system,
      forceAddSystemPrompt: true,
      autoDisposeSequence: false,
    });
    let text = '';
    let tokens = 0;
    try {
      const res = await session.promptWithMeta(req.user, {
        maxTokens,
        temperature: req.temperature ?? 0,
        seed: req.seed ?? 0,
        signal: local.signal,
        stopOnAbortSignal: true,
        budgets: { thoughtTokens: this.thoughtTokens },
        onToken: (t) => {
          tokens += t.length;
        },
        onTextChunk: (chunk) => {
          text += chunk;
          req.onToken?.(chunk);
        },
      });
      const stopReason = res.stopReason === 'abort' || local.signal.aborted ? 'cancelled' : res.stopReason === 'maxTokens' ? 'max-tokens' : 'done';
      return { text: res.responseText.length >= text.length ? res.responseText : text, stopReason, tokens, promptTokens, tookMs: Date.now() - started };
    } catch (err) {
      // An abort that surfaced as an error still returns what was produced.
      if (local.signal.aborted) return { text, stopReason: 'cancelled', tokens, promptTokens, tookMs: Date.now() - started };
      throw err;
    } finally {
      req.signal?.removeEventListener('abort', forward);
      this.running.delete(local);
      session.dispose({ disposeSequence: false });
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    open.delete(this);
    for (const c of this.running) c.abort(new Error('model unloaded'));
    await this.queue;
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** Loads a GGUF chat model with its own prompt format (from the file's chat template when it has one). */
export async function loadChatModel(file: string, opts: LoadChatOptions = {}): Promise<ChatModel> {
  const model = await loadModelFile(file);
  try {
    const lib = await nodeLlamaCpp();
    const llama = await getLlamaRuntime();
    const contextSize = Math.max(64, Math.min(opts.contextSize ?? 4096, model.trainContextSize));
    const context = await model.createContext({ contextSize, threads: opts.threads ?? threadsFor(file, llama) });
    const wrapper = lib.resolveChatWrapper(model, { fallbackToOtherWrappersOnJinjaError: true, warningLogs: false });
    const chat = new LlamaChatModel(file, lib, model, context, context.getSequence(), wrapper, opts.thoughtTokens ?? 0);
    open.add(chat);
    return chat;
  } catch (err) {
    await model.dispose().catch(() => undefined);
    throw new Error(`${file}: cannot start a chat with this model: ${(err as Error).message}`, { cause: err });
  }
}
