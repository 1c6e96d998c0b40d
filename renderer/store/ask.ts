// The Ask screen's state: the question, the chosen knowledge base and documents, the answer
// being streamed, and the last answer.
import { create } from 'zustand';
import type { AskRequest, AskResponse, DocumentSummary } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { applyDelta, newStreamId, type StreamText } from '../lib/stream.js';
import { noteFailure } from './app.js';
import { useKb } from './kb.js';

export interface AskState {
  question: string;
  /** '' means every knowledge base. */
  kb: string;
  /** The documents of the chosen knowledge base (null: not loaded, or all knowledge bases). */
  kbDocuments: DocumentSummary[] | null;
  kbDocumentsError: string | null;
  /** Restrict the answer to these documents; empty means all of them. */
  documents: readonly string[];
  loading: boolean;
  /** The text streamed so far for the pending question. */
  stream: StreamText | null;
  stopping: boolean;
  stopError: string | null;
  response: AskResponse | null;
  /** The question the response answers (for highlighting its terms in passages). */
  asked: string;
  error: string | null;
  /** Citation numbers whose passage is shown. */
  expanded: readonly number[];
  setQuestion(question: string): void;
  setKb(kb: string): void;
  setDocuments(documents: readonly string[]): void;
  loadKbDocuments(): Promise<void>;
  toggle(n: number): void;
  expand(n: number): void;
  ask(): Promise<void>;
  stop(): Promise<void>;
}

let sequence = 0;
let docsSequence = 0;

export const useAsk = create<AskState>()((set, get) => ({
  question: '',
  kb: '',
  kbDocuments: null,
  kbDocumentsError: null,
  documents: [],
  loading: false,
  stream: null,
  stopping: false,
  stopError: null,
  response: null,
  asked: '',
  error: null,
  expanded: [],
  setQuestion: (question) => set({ question }),
  setKb(kb) {
    if (kb === get().kb) return;
    set({ kb, documents: [], kbDocuments: null, kbDocumentsError: null });
    void get().loadKbDocuments();
  },
  setDocuments: (documents) => set({ documents }),
  toggle: (n) => set(({ expanded }) => ({ expanded: expanded.includes(n) ? expanded.filter((x) => x !== n) : [...expanded, n] })),
  expand: (n) => set(({ expanded }) => (expanded.includes(n) ? {} : { expanded: [...expanded, n] })),

  async loadKbDocuments() {
    const kb = get().kb;
    const mine = ++docsSequence;
    if (!kb) return;
    try {
      const docs = await bridge.invoke('kb.documents', { kb });
      if (mine !== docsSequence || get().kb !== kb) return;
      // Keep only chosen documents that still exist.
      const names = new Set(docs.map((d) => d.name));
      set({ kbDocuments: docs, kbDocumentsError: null, documents: get().documents.filter((d) => names.has(d)) });
    } catch (err) {
      noteFailure(err);
      if (mine === docsSequence && get().kb === kb) set({ kbDocuments: null, kbDocumentsError: err instanceof Error ? err.message : String(err) });
    }
  },

  async ask() {
    const question = get().question.trim();
    if (!question || get().loading) return;
    const { kb, documents } = get();
    const mine = ++sequence;
    const streamId = newStreamId();
    const request: AskRequest = { question, streamId };
    if (kb) {
      request.kb = kb;
      if (documents.length > 0) request.documents = [...documents];
    }
    set({ loading: true, error: null, response: null, expanded: [], stream: { streamId, text: '' }, stopping: false, stopError: null, asked: question });
    // Listen before asking, so no delta is missed.
    const off = bridge.onEvent((event) => {
      if (mine !== sequence) return;
      const next = applyDelta(get().stream, event);
      if (next !== get().stream) set({ stream: next });
    });
    try {
      const response = await bridge.invoke('ask', request);
      if (mine === sequence) set({ response });
      // A model's answer tells which chat model answers now.
      if (response.mode === 'model' && response.model) useKb.getState().noteChatModel(response.model);
    } catch (err) {
      noteFailure(err);
      if (mine === sequence) set({ error: err instanceof Error ? err.message : String(err) });
    } finally {
      off();
      if (mine === sequence) set({ loading: false, stream: null, stopping: false });
    }
  },

  async stop() {
    const { loading, stream, stopping } = get();
    if (!loading || !stream || stopping) return;
    set({ stopping: true, stopError: null });
    try {
      await bridge.invoke('ask.cancel', { streamId: stream.streamId });
    } catch (err) {
      noteFailure(err);
      if (get().stream?.streamId === stream.streamId) set({ stopping: false, stopError: err instanceof Error ? err.message : String(err) });
    }
  },
}));
