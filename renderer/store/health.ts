// The Health screen's state: the summary (refreshed while the screen is open), the last
// integrity check made from this console and its problems, and the last repair.
import { create } from 'zustand';
import type { HealthSummary, RepairResult, VerifyResult, VerifyRun } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { runOf } from '../lib/health.js';
import { noteFailure } from './app.js';

export type VerifyMode = 'fast' | 'deep';

export interface HealthState {
  summary: HealthSummary | null;
  summaryLoading: boolean;
  summaryError: string | null;
  /** When the summary was last read (ms since the epoch). */
  summaryAt: number | null;
  /** The check running now, and since when (ms since the epoch). */
  verifying: VerifyMode | null;
  verifyStartedAt: number | null;
  verifyError: string | null;
  /** The problems shown: the last check's, or the re-check after a repair. */
  result: VerifyResult | null;
  /** The same result as a history entry, timed by this console. */
  resultRun: VerifyRun | null;
  /** True when `result` is the check a repair ran afterwards. */
  resultAfterRepair: boolean;
  repairing: boolean;
  repair: RepairResult | null;
  repairError: string | null;

  loadSummary(): Promise<void>;
  verify(deep: boolean): Promise<void>;
  runRepair(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let summarySequence = 0;

export const useHealth = create<HealthState>()((set, get) => ({
  summary: null,
  summaryLoading: false,
  summaryError: null,
  summaryAt: null,
  verifying: null,
  verifyStartedAt: null,
  verifyError: null,
  result: null,
  resultRun: null,
  resultAfterRepair: false,
  repairing: false,
  repair: null,
  repairError: null,

  async loadSummary() {
    const mine = ++summarySequence;
    set({ summaryLoading: true });
    try {
      const summary = await bridge.invoke('health.summary', {});
      if (mine === summarySequence) set({ summary, summaryError: null, summaryAt: Date.now() });
    } catch (err) {
      noteFailure(err);
      if (mine === summarySequence) set({ summaryError: message(err) });
    } finally {
      if (mine === summarySequence) set({ summaryLoading: false });
    }
  },

  async verify(deep) {
    if (get().verifying || get().repairing) return;
    set({ verifying: deep ? 'deep' : 'fast', verifyStartedAt: Date.now(), verifyError: null });
    try {
      const result = await bridge.invoke('integrity.verify', { deep });
      set({ result, resultRun: runOf(result, new Date().toISOString()), resultAfterRepair: false, repair: null, repairError: null });
    } catch (err) {
      noteFailure(err);
      set({ verifyError: message(err) });
    } finally {
      set({ verifying: null, verifyStartedAt: null });
      await get().loadSummary();
    }
  },

  async runRepair() {
    if (get().verifying || get().repairing) return;
    set({ repairing: true, repairError: null, repair: null });
    try {
      const repair = await bridge.invoke('integrity.repair', {});
      set({ repair, result: repair.after, resultRun: runOf(repair.after, new Date().toISOString()), resultAfterRepair: true });
    } catch (err) {
      noteFailure(err);
      set({ repairError: message(err) });
    } finally {
      set({ repairing: false });
      await get().loadSummary();
    }
  },
}));
