// Golden questions in the console: the sets (one per knowledge base), the knowledge base
// chosen, the last run or recorded baseline and the one call in progress, and saving an
// edited set. Kept in a store so a long run survives leaving the screen.
import { create } from 'zustand';
import type { GoldenRunResult, GoldenSet } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { jobIds } from '../lib/wizard.js';
import { noteFailure, useApp } from './app.js';

export type GoldenOp = 'run' | 'baseline' | 'save';

export interface GoldenState {
  sets: GoldenSet[] | null;
  setsLoading: boolean;
  setsError: string | null;
  kb: string;
  running: { op: GoldenOp; kb: string; startedAt: number; jobsBefore: ReadonlySet<string> } | null;
  /** The last run (or baseline recorded) and whether it was a baseline. */
  result: { kind: 'run' | 'baseline'; run: GoldenRunResult } | null;
  error: { op: GoldenOp; message: string } | null;
  savedAt: number | null;

  loadSets(): Promise<void>;
  chooseKb(kb: string): void;
  run(): Promise<void>;
  baseline(): Promise<void>;
  /** Resolves true when saved (the saved set replaces the loaded one). */
  save(set: GoldenSet): Promise<boolean>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const useGolden = create<GoldenState>()((set, get) => {
  async function runOnce(op: 'run' | 'baseline'): Promise<void> {
    const kb = get().kb;
    if (!kb || get().running) return;
    const running = { op, kb, startedAt: Date.now(), jobsBefore: jobIds(useApp.getState().jobs) };
    set({ running, error: null });
    try {
      const run = await bridge.invoke(op === 'run' ? 'golden.run' : 'golden.baseline', { kb });
      if (get().kb === kb) set({ result: { kind: op, run } });
    } catch (err) {
      noteFailure(err);
      set({ error: { op, message: message(err) } });
    } finally {
      if (get().running === running) set({ running: null });
    }
  }

  return {
    sets: null,
    setsLoading: false,
    setsError: null,
    kb: '',
    running: null,
    result: null,
    error: null,
    savedAt: null,

    async loadSets() {
      set({ setsLoading: true });
      try {
        set({ sets: await bridge.invoke('golden.sets', {}), setsError: null });
      } catch (err) {
        noteFailure(err);
        set({ setsError: message(err) });
      } finally {
        set({ setsLoading: false });
      }
    },

    chooseKb(kb) {
      if (kb === get().kb || get().running) return;
      set({ kb, result: get().result?.run.kb === kb ? get().result : null, error: null, savedAt: null });
    },

    run: () => runOnce('run'),
    baseline: () => runOnce('baseline'),

    async save(goldenSet) {
      if (get().running) return false;
      const running = { op: 'save' as const, kb: goldenSet.kb, startedAt: Date.now(), jobsBefore: new Set<string>() };
      set({ running, error: null, savedAt: null });
      try {
        const saved = await bridge.invoke('golden.save', { set: goldenSet });
        const others = (get().sets ?? []).filter((s) => s.kb !== saved.kb);
        set({ sets: [...others, saved], savedAt: Date.now() });
        return true;
      } catch (err) {
        noteFailure(err);
        set({ error: { op: 'save', message: message(err) } });
        return false;
      } finally {
        if (get().running === running) set({ running: null });
      }
    },
  };
});
