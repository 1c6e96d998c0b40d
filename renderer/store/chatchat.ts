// The Chatchat rescue screen's state: the folder, the inspection report, and the import.
// Kept in a store so leaving the screen and coming back keeps the report.
import { create } from 'zustand';
import type { ChatchatImportResult, ChatchatReport } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { defaultImportTarget } from '../lib/chatchat.js';
import { noteFailure, useApp } from './app.js';

export interface ChatchatState {
  dir: string;
  deep: boolean;
  inspecting: boolean;
  inspectError: string | null;
  report: ChatchatReport | null;
  /** The folder the report was read from (the import reads the same one). */
  reportDir: string | null;
  /** The Chatchat knowledge base to import. */
  sourceKb: string;
  /** The Lifeline knowledge base to import into. */
  targetKb: string;
  /** True once the operator typed a target: choosing another source then leaves it alone. */
  targetEdited: boolean;
  importing: boolean;
  importError: string | null;
  importResult: ChatchatImportResult | null;
  importStartedAt: string | null;

  setDir(dir: string): void;
  setDeep(deep: boolean): void;
  setSourceKb(kb: string): void;
  setTargetKb(kb: string): void;
  inspect(): Promise<void>;
  runImport(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let inspectSequence = 0;

export const useChatchat = create<ChatchatState>()((set, get) => ({
  dir: '',
  deep: false,
  inspecting: false,
  inspectError: null,
  report: null,
  reportDir: null,
  sourceKb: '',
  targetKb: '',
  targetEdited: false,
  importing: false,
  importError: null,
  importResult: null,
  importStartedAt: null,

  setDir: (dir) => set({ dir }),
  setDeep: (deep) => set({ deep }),
  setSourceKb(kb) {
    set(({ targetEdited, targetKb }) => ({ sourceKb: kb, targetKb: targetEdited ? targetKb : defaultImportTarget(kb), importResult: null, importError: null }));
  },
  setTargetKb: (kb) => set({ targetKb: kb, targetEdited: true }),

  async inspect() {
    const dir = get().dir.trim();
    if (!dir || get().inspecting) return;
    const mine = ++inspectSequence;
    set({ inspecting: true, inspectError: null, report: null, reportDir: null, importResult: null, importError: null });
    try {
      const report = await bridge.invoke('chatchat.inspect', { dir, deep: get().deep });
      if (mine !== inspectSequence) return;
      const first = report.knowledgeBases[0]?.name ?? '';
      // A new report starts a new import: the target defaults to the Chatchat name again.
      set({ report, reportDir: dir, sourceKb: first, targetKb: defaultImportTarget(first), targetEdited: false });
    } catch (err) {
      noteFailure(err);
      if (mine === inspectSequence) set({ inspectError: message(err) });
    } finally {
      if (mine === inspectSequence) set({ inspecting: false });
    }
  },

  async runImport() {
    const { reportDir, report, sourceKb, importing } = get();
    const kb = get().targetKb.trim();
    if (!reportDir || !report || !kb || importing) return;
    set({ importing: true, importError: null, importResult: null, importStartedAt: new Date().toISOString() });
    try {
      const request: { dir: string; kb: string; sourceKb?: string } = { dir: reportDir, kb };
      // The source is named only when the folder holds several knowledge bases.
      if (sourceKb && report.knowledgeBases.length > 1) request.sourceKb = sourceKb;
      const importResult = await bridge.invoke('chatchat.import', request);
      set({ importResult });
    } catch (err) {
      noteFailure(err);
      set({ importError: message(err) });
    } finally {
      set({ importing: false });
      await useApp.getState().loadKbs();
    }
  },
}));
