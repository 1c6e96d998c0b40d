// The Ask screen's state: the question, the chosen knowledge base, the last answer.
import { create } from 'zustand';
import type { AskResponse } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';

export interface AskState {
  question: string;
  /** '' means every knowledge base. */
  kb: string;
  loading: boolean;
  response: AskResponse | null;
  error: string | null;
  /** Citation numbers whose passage is shown. */
  expanded: readonly number[];
  setQuestion(question: string): void;
  setKb(kb: string): void;
  toggle(n: number): void;
  expand(n: number): void;
  ask(): Promise<void>;
}

let sequence = 0;

export const useAsk = create<AskState>()((set, get) => ({
  question: '',
  kb: '',
  loading: false,
  response: null,
  error: null,
  expanded: [],
  setQuestion: (question) => set({ question }),
  setKb: (kb) => set({ kb }),
  toggle: (n) => set(({ expanded }) => ({ expanded: expanded.includes(n) ? expanded.filter((x) => x !== n) : [...expanded, n] })),
  expand: (n) => set(({ expanded }) => (expanded.includes(n) ? {} : { expanded: [...expanded, n] })),

  async ask() {
    const question = get().question.trim();
    if (!question || get().loading) return;
    const kb = get().kb;
    const mine = ++sequence;
    set({ loading: true, error: null, response: null, expanded: [] });
    try {
      const response = await bridge.invoke('ask', kb ? { question, kb } : { question });
      if (mine === sequence) set({ response });
    } catch (err) {
      if (mine === sequence) set({ error: err instanceof Error ? err.message : String(err) });
    } finally {
      if (mine === sequence) set({ loading: false });
    }
  },
}));
