// The Drills screen's state: the history (newest first), the monthly schedule, the drill this
// console is running (one at a time: each copies the data root into a sandbox) and a "Run all"
// batch going through the scenarios one after another. Kept in a store so a long run survives
// leaving the screen.
import { create } from 'zustand';
import type { DrillResult, DrillScenario, DrillSchedule } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { mergeResult, sortNewestFirst } from '../lib/drills.js';
import { mergeJobs } from '../lib/jobs.js';
import { noteFailure, useApp } from './app.js';

export interface DrillRunning {
  scenario: DrillScenario;
  /** ms since the epoch (this machine's clock, for the elapsed time only). */
  startedAt: number;
  /** ISO time just before the call: the drill job started after it. */
  since: string;
}

export interface DrillBatch {
  scenarios: DrillScenario[];
  /** Index of the scenario running now (or next). */
  index: number;
  /** The operator asked to stop after the drill running now. */
  stopping: boolean;
  /** Results of this batch so far, by scenario. */
  done: DrillScenario[];
}

export interface DrillsState {
  history: DrillResult[] | null;
  historyLoading: boolean;
  historyError: string | null;
  schedule: DrillSchedule | null;
  scheduleLoading: boolean;
  scheduleError: string | null;
  scheduleSaving: boolean;
  scheduleSaveError: string | null;
  scheduleSavedAt: number | null;
  running: DrillRunning | null;
  batch: DrillBatch | null;
  /** The last failed call of each scenario (the core refused it or could not be reached). */
  errors: Partial<Record<DrillScenario, string>>;
  /** The history row whose steps are shown (a result id). */
  selected: string | null;

  load(): Promise<void>;
  loadHistory(): Promise<void>;
  loadSchedule(): Promise<void>;
  /** Runs one drill; resolves with its result (null when refused or already running). */
  run(scenario: DrillScenario): Promise<DrillResult | null>;
  /** Runs the scenarios one after another (stops early on stopAll). */
  runAll(scenarios: readonly DrillScenario[]): Promise<void>;
  stopAll(): void;
  /** Resolves true when saved. */
  saveSchedule(request: { monthlyDay: number | null; scenarios: DrillScenario[] }): Promise<boolean>;
  select(id: string | null): void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let historySeq = 0;
let scheduleSeq = 0;

export const useDrills = create<DrillsState>()((set, get) => ({
  history: null,
  historyLoading: false,
  historyError: null,
  schedule: null,
  scheduleLoading: false,
  scheduleError: null,
  scheduleSaving: false,
  scheduleSaveError: null,
  scheduleSavedAt: null,
  running: null,
  batch: null,
  errors: {},
  selected: null,

  async load() {
    await Promise.all([get().loadHistory(), get().loadSchedule()]);
  },

  async loadHistory() {
    const mine = ++historySeq;
    set({ historyLoading: true });
    try {
      const history = sortNewestFirst(await bridge.invoke('drills.history', {}));
      if (mine === historySeq) set({ history, historyError: null });
    } catch (err) {
      noteFailure(err);
      if (mine === historySeq) set({ historyError: message(err) });
    } finally {
      if (mine === historySeq) set({ historyLoading: false });
    }
  },

  async loadSchedule() {
    const mine = ++scheduleSeq;
    set({ scheduleLoading: true });
    try {
      const schedule = await bridge.invoke('drills.schedule', {});
      if (mine === scheduleSeq) set({ schedule, scheduleError: null });
    } catch (err) {
      noteFailure(err);
      if (mine === scheduleSeq) set({ scheduleError: message(err) });
    } finally {
      if (mine === scheduleSeq) set({ scheduleLoading: false });
    }
  },

  async run(scenario) {
    if (get().running) return null;
    const running: DrillRunning = { scenario, startedAt: Date.now(), since: new Date(Date.now() - 2000).toISOString() };
    const errors = { ...get().errors };
    delete errors[scenario];
    set({ running, errors });
    try {
      const result = await bridge.invoke('drills.run', { scenario });
      // An answer that arrived after a newer history read is still the newest result.
      historySeq++;
      set({ history: mergeResult(get().history, result), historyLoading: false });
      return result;
    } catch (err) {
      noteFailure(err);
      set({ errors: { ...get().errors, [scenario]: message(err) } });
      return null;
    } finally {
      if (get().running === running) set({ running: null });
      // The last run moves the next scheduled one.
      void get().loadSchedule();
      // The drill's job is over: make sure the job list says so even if its last event was missed.
      void bridge.invoke('jobs.list', {}).then(
        (list) => useApp.setState({ jobs: mergeJobs(useApp.getState().jobs, list) }),
        () => undefined,
      );
    }
  },

  async runAll(scenarios) {
    if (get().running || get().batch || scenarios.length === 0) return;
    const batch: DrillBatch = { scenarios: [...scenarios], index: 0, stopping: false, done: [] };
    set({ batch });
    try {
      for (let i = 0; i < batch.scenarios.length; i++) {
        const current = get().batch;
        if (!current || current.stopping) break;
        set({ batch: { ...current, index: i } });
        const scenario = batch.scenarios[i]!;
        await get().run(scenario);
        const after = get().batch;
        if (after) set({ batch: { ...after, done: [...after.done, scenario] } });
      }
    } finally {
      set({ batch: null });
      void get().loadHistory();
    }
  },

  stopAll() {
    const batch = get().batch;
    if (batch) set({ batch: { ...batch, stopping: true } });
  },

  async saveSchedule(request) {
    if (get().scheduleSaving) return false;
    set({ scheduleSaving: true, scheduleSaveError: null, scheduleSavedAt: null });
    try {
      const schedule = await bridge.invoke('drills.setSchedule', request);
      scheduleSeq++;
      set({ schedule, scheduleSavedAt: Date.now(), scheduleError: null, scheduleLoading: false });
      return true;
    } catch (err) {
      noteFailure(err);
      set({ scheduleSaveError: message(err) });
      return false;
    } finally {
      set({ scheduleSaving: false });
    }
  },

  select: (id) => set({ selected: id === get().selected ? null : id }),
}));
