// The knowledge-base screen's state: the selected knowledge base and its documents, the
// recently deleted ones, the models, compaction, and the upload queue. The list of knowledge
// bases itself lives in the app store (the Ask screen needs it too).
import { create } from 'zustand';
import type { DeletedKbSummary, DocumentSummary, EmbedderFingerprint, IngestFileResult, ModelSummary } from '../../electron/api/contract.js';
import { bridge, isAborted } from '../bridge.js';
import { translate } from '../i18n/index.js';
import { abortError, bytesToBase64Async } from '../lib/base64.js';
import { formatBytes } from '../lib/format.js';
import { DEFAULT_EMBEDDER } from '../lib/models.js';
import { MAX_UPLOAD_BYTES, startUploads, type UploadItem, type UploadRun } from '../lib/uploads.js';
import { noteFailure, useApp } from './app.js';

export interface CompactResult {
  segmentsBefore: number;
  segmentsAfter: number;
  vectors: number;
}

/** A re-embed run from this console: which knowledge base, with what, and how it ended. */
export interface ReembedRun {
  kb: string;
  /** DEFAULT_EMBEDDER or a model file name. */
  embedder: string;
  /** ISO time the console asked for it (to find its job). */
  startedAt: string;
  state: 'running' | 'done' | 'failed';
  result: { chunks: number; embedder: EmbedderFingerprint } | null;
  error: string | null;
}

export interface KbScreenState {
  selected: string | null;
  documents: DocumentSummary[] | null;
  docsLoading: boolean;
  docsError: string | null;
  deleted: DeletedKbSummary[] | null;
  deletedError: string | null;
  models: ModelSummary[] | null;
  modelsLoading: boolean;
  modelsError: string | null;
  creating: boolean;
  createError: string | null;
  compacting: boolean;
  compactResult: CompactResult | null;
  compactError: string | null;
  /** The knowledge base the upload list belongs to. */
  uploadKb: string | null;
  uploads: readonly UploadItem[];
  uploading: boolean;
  uploadCancelling: boolean;
  /** The last re-embed started from this console (one at a time). */
  reembed: ReembedRun | null;
  /**
   * The chat model that answers: a file name, null for extractive answers, undefined while the
   * console does not know (it learns it from a choice made here, or from a model's answer).
   */
  chatModel: string | null | undefined;
  chatSwitching: boolean;
  chatError: string | null;

  select(name: string | null): void;
  loadDocuments(): Promise<void>;
  loadDeleted(): Promise<void>;
  loadModels(): Promise<void>;
  /** Resolves true when created; the server's message is in createError otherwise. */
  create(name: string, description: string, embedder?: string): Promise<boolean>;
  /** Re-embeds a knowledge base; resolves when it is done or failed (the state says which). */
  startReembed(kb: string, embedder: string): Promise<void>;
  clearReembed(): void;
  chooseChat(name: string | null): Promise<void>;
  noteChatModel(name: string | null): void;
  /** The actions below reject with the server's message (the confirmation dialog shows it). */
  rename(name: string, newName: string): Promise<void>;
  remove(name: string, confirm: string): Promise<void>;
  undelete(name: string): Promise<void>;
  purge(name: string, confirm: string): Promise<void>;
  deleteDocument(document: string): Promise<void>;
  compact(): Promise<void>;
  upload(files: readonly File[]): Promise<void>;
  cancelUpload(): void;
  clearUploads(): void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads a file into memory with progress; aborting stops the read. */
function readFile(file: File, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const reader = new FileReader();
    const onAbort = () => reader.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    reader.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    reader.onload = () => {
      signal.removeEventListener('abort', onAbort);
      resolve(reader.result as ArrayBuffer);
    };
    reader.onerror = () => {
      signal.removeEventListener('abort', onAbort);
      reject(reader.error ?? new Error(`cannot read ${file.name}`));
    };
    reader.onabort = () => {
      signal.removeEventListener('abort', onAbort);
      reject(abortError());
    };
    reader.readAsArrayBuffer(file);
  });
}

let run: UploadRun | null = null;
let docsSequence = 0;

export const useKb = create<KbScreenState>()((set, get) => ({
  selected: null,
  documents: null,
  docsLoading: false,
  docsError: null,
  deleted: null,
  deletedError: null,
  models: null,
  modelsLoading: false,
  modelsError: null,
  creating: false,
  createError: null,
  compacting: false,
  compactResult: null,
  compactError: null,
  uploadKb: null,
  uploads: [],
  uploading: false,
  uploadCancelling: false,
  reembed: null,
  chatModel: undefined,
  chatSwitching: false,
  chatError: null,

  select(name) {
    if (name === get().selected) return;
    set({ selected: name, documents: null, docsError: null, compactResult: null, compactError: null });
    if (name) void get().loadDocuments();
  },

  async loadDocuments() {
    const kb = get().selected;
    if (!kb) return;
    const mine = ++docsSequence;
    set({ docsLoading: true });
    try {
      const documents = await bridge.invoke('kb.documents', { kb });
      if (mine === docsSequence && get().selected === kb) set({ documents, docsError: null });
    } catch (err) {
      noteFailure(err);
      if (mine === docsSequence && get().selected === kb) set({ docsError: message(err) });
    } finally {
      if (mine === docsSequence) set({ docsLoading: false });
    }
  },

  async loadDeleted() {
    try {
      set({ deleted: await bridge.invoke('kb.deleted', {}), deletedError: null });
    } catch (err) {
      noteFailure(err);
      set({ deletedError: message(err) });
    }
  },

  async loadModels() {
    set({ modelsLoading: true });
    try {
      set({ models: await bridge.invoke('models.list', {}), modelsError: null });
    } catch (err) {
      noteFailure(err);
      set({ modelsError: message(err) });
    } finally {
      set({ modelsLoading: false });
    }
  },

  async create(name, description, embedder) {
    const trimmed = name.trim();
    set({ creating: true, createError: null });
    try {
      const desc = description.trim();
      const request: { name: string; description?: string; embedder?: string } = { name: trimmed };
      if (desc) request.description = desc;
      // Absent means the built-in embedder.
      if (embedder && embedder !== DEFAULT_EMBEDDER) request.embedder = embedder;
      const kb = await bridge.invoke('kb.create', request);
      await useApp.getState().loadKbs();
      get().select(kb.name);
      return true;
    } catch (err) {
      noteFailure(err);
      set({ createError: message(err) });
      return false;
    } finally {
      set({ creating: false });
    }
  },

  async rename(name, newName) {
    const kb = await bridge.invoke('kb.rename', { name, newName: newName.trim() });
    if (get().selected === name) {
      set({ selected: kb.name });
      void get().loadDocuments();
    }
    if (get().uploadKb === name) set({ uploadKb: kb.name });
    await useApp.getState().loadKbs();
  },

  async remove(name, confirm) {
    await bridge.invoke('kb.delete', { name, confirm });
    if (get().selected === name) get().select(null);
    await Promise.all([useApp.getState().loadKbs(), get().loadDeleted()]);
  },

  async undelete(name) {
    await bridge.invoke('kb.undelete', { name });
    await Promise.all([useApp.getState().loadKbs(), get().loadDeleted()]);
  },

  async purge(name, confirm) {
    await bridge.invoke('kb.purge', { name, confirm });
    await get().loadDeleted();
  },

  async deleteDocument(document) {
    const kb = get().selected;
    if (!kb) return;
    await bridge.invoke('kb.deleteDocument', { kb, document });
    await Promise.all([get().loadDocuments(), useApp.getState().loadKbs()]);
  },

  async compact() {
    const kb = get().selected;
    if (!kb || get().compacting) return;
    set({ compacting: true, compactResult: null, compactError: null });
    try {
      const result = await bridge.invoke('kb.compact', { kb });
      if (get().selected === kb) set({ compactResult: result });
    } catch (err) {
      noteFailure(err);
      if (get().selected === kb) set({ compactError: message(err) });
    } finally {
      set({ compacting: false });
    }
  },

  async upload(files) {
    const kb = get().selected;
    if (!kb || files.length === 0 || run) return;
    const locale = useApp.getState().locale;
    set({ uploadKb: kb, uploads: [], uploading: true, uploadCancelling: false });
    const current = startUploads(
      files,
      {
        check: (file) =>
          file.size > MAX_UPLOAD_BYTES
            ? translate(locale, 'upload.tooLarge', { size: formatBytes(file.size), max: formatBytes(MAX_UPLOAD_BYTES) })
            : null,
        async read(file, signal, onProgress) {
          // Reading is the first half of this step, encoding the second.
          const buffer = await readFile(file, signal, (f) => onProgress(f / 2));
          return bytesToBase64Async(new Uint8Array(buffer), { signal, onProgress: (done, total) => onProgress(0.5 + (total ? done / total : 1) / 2) });
        },
        async send(file, dataBase64, signal, onSent): Promise<IngestFileResult> {
          try {
            return await bridge.call('kb.upload', { kb: get().uploadKb ?? kb, name: file.name, dataBase64 }, { signal, onSent });
          } catch (err) {
            if (isAborted(err)) throw abortError();
            noteFailure(err);
            throw err;
          }
        },
      },
      (uploads) => {
        const before = get().uploads;
        set({ uploads });
        // Show each new document as soon as the core has it.
        const changed = uploads.some((u, i) => (u.state === 'added' || u.state === 'updated') && before[i]?.state !== u.state);
        if (changed && get().selected === get().uploadKb) void get().loadDocuments();
      },
    );
    run = current;
    set({ uploads: current.items() });
    try {
      await current.finished;
    } finally {
      run = null;
      set({ uploading: false, uploadCancelling: false });
      await Promise.all([useApp.getState().loadKbs(), get().selected === get().uploadKb ? get().loadDocuments() : Promise.resolve()]);
    }
  },

  async startReembed(kb, embedder) {
    if (get().reembed?.state === 'running') return;
    set({ reembed: { kb, embedder, startedAt: new Date().toISOString(), state: 'running', result: null, error: null } });
    const update = (patch: Partial<ReembedRun>) => {
      const current = get().reembed;
      if (current && current.kb === kb && current.state === 'running') set({ reembed: { ...current, ...patch } });
    };
    try {
      const result = await bridge.invoke('kb.reembed', { kb, embedder });
      update({ state: 'done', result });
    } catch (err) {
      noteFailure(err);
      update({ state: 'failed', error: message(err) });
    } finally {
      await useApp.getState().loadKbs();
    }
  },

  clearReembed() {
    if (get().reembed?.state === 'running') return;
    set({ reembed: null });
  },

  async chooseChat(name) {
    set({ chatSwitching: true, chatError: null });
    try {
      const r = await bridge.invoke('models.useChat', { name });
      set({ chatModel: r.chatModel });
    } catch (err) {
      noteFailure(err);
      set({ chatError: message(err) });
    } finally {
      set({ chatSwitching: false });
    }
  },

  noteChatModel: (name) => set({ chatModel: name }),

  cancelUpload() {
    if (!run) return;
    set({ uploadCancelling: true });
    run.cancel();
  },

  clearUploads() {
    if (run) return;
    set({ uploads: [], uploadKb: null });
  },
}));
