// The recovery wizard's state: the run (persisted by the core, so a second outage resumes it),
// the one call in progress (check, action, step change, finish) with the jobs it started, the
// last error and action outcome, the report shown, the past reports and the doctor's summary.
// Kept in a store so leaving the screen during a long check and coming back still shows it.
import { create } from 'zustand';
import type { AuditEntry, DoctorReport, ReportSummary, WizardRun, WizardStepId } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { isFinished, jobIds, newAuditEntries } from '../lib/wizard.js';
import { sortReports } from '../lib/reports.js';
import { noteFailure, useApp } from './app.js';

export type WizardOp = 'load' | 'start' | 'check' | 'action' | 'goto' | 'finish';

export interface WizardBusy {
  op: WizardOp;
  step: WizardStepId | null;
  /** The action's id and the finding it belongs to (op `action`). */
  action?: string;
  finding?: string;
  /** ms since the epoch, this machine's clock (for the elapsed time only). */
  startedAt: number;
  /** Jobs that existed before the call: any new one is this call's. */
  jobsBefore: ReadonlySet<string>;
}

/** What the last action did, from the audit entries it added. */
export interface ActionOutcome {
  step: WizardStepId;
  action: string;
  label: string;
  ok: boolean;
  entries: AuditEntry[];
}

export interface ShownReport {
  id: string;
  html: string;
  summary: ReportSummary | null;
}

export interface WizardState {
  run: WizardRun | null;
  /** wizard.current has answered at least once. */
  loaded: boolean;
  loadError: string | null;
  busy: WizardBusy | null;
  error: { op: WizardOp; message: string } | null;
  outcome: ActionOutcome | null;
  /** A run was started or finished in this session: the unclean-shutdown banner has done its job. */
  uncleanHandled: boolean;

  report: ShownReport | null;
  reportLoading: string | null;
  reportError: string | null;
  reports: ReportSummary[] | null;
  reportsLoading: boolean;
  reportsError: string | null;

  doctor: DoctorReport | null;
  doctorStartedAt: number | null;
  doctorError: string | null;

  loadCurrent(): Promise<void>;
  start(operator: string): Promise<boolean>;
  check(step: WizardStepId): Promise<boolean>;
  action(step: WizardStepId, action: { id: string; label: string }, finding?: string, confirm?: boolean): Promise<boolean>;
  /** Like action, but rejects with the core's message (the confirmation dialog shows it). */
  confirmAction(step: WizardStepId, action: { id: string; label: string }, finding?: string): Promise<void>;
  goto(step: WizardStepId): Promise<boolean>;
  finish(): Promise<boolean>;
  /** Leaves a finished run's summary for the intro (a new run can start). */
  clearFinished(): void;
  dismissOutcome(): void;

  loadReports(): Promise<void>;
  openReport(id: string): Promise<ShownReport | null>;
  closeReport(): void;
  /** The HTML of a report (the shown one without a call). */
  reportHtml(id: string): Promise<string>;

  runDoctor(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bumped by every call that changes the run, so an older wizard.current answer never overwrites it. */
let runSeq = 0;

export const useWizard = create<WizardState>()((set, get) => {
  /** Runs one call that returns the run: refuses a second one, keeps the core's message when it fails. */
  async function operate(op: WizardOp, step: WizardStepId | null, call: () => Promise<WizardRun>, extra: Partial<WizardBusy> = {}, rethrow = false): Promise<boolean> {
    if (get().busy) {
      if (rethrow) throw new Error('busy');
      return false;
    }
    const busy: WizardBusy = { op, step, startedAt: Date.now(), jobsBefore: jobIds(useApp.getState().jobs), ...extra };
    runSeq++;
    set({ busy, error: null, outcome: null });
    try {
      const run = await call();
      runSeq++;
      set({ run, loaded: true, loadError: null });
      return true;
    } catch (err) {
      noteFailure(err);
      set({ error: { op, message: message(err) } });
      if (rethrow) throw err;
      return false;
    } finally {
      if (get().busy === busy) set({ busy: null });
    }
  }

  async function doAction(step: WizardStepId, action: { id: string; label: string }, finding: string | undefined, confirm: boolean, rethrow: boolean): Promise<boolean> {
    const before = get().run?.audit ?? [];
    const ok = await operate(
      'action',
      step,
      () => bridge.invoke('wizard.action', { step, action: action.id, ...(finding !== undefined ? { finding } : {}), ...(confirm ? { confirm: true } : {}) }),
      { action: action.id, ...(finding !== undefined ? { finding } : {}) },
      rethrow,
    );
    const run = get().run;
    if (ok && run) {
      const entries = newAuditEntries(before, run.audit ?? []);
      set({ outcome: { step, action: action.id, label: action.label, ok: entries.every((e) => e.ok), entries } });
    }
    return ok;
  }

  return {
    run: null,
    loaded: false,
    loadError: null,
    busy: null,
    error: null,
    outcome: null,
    uncleanHandled: false,
    report: null,
    reportLoading: null,
    reportError: null,
    reports: null,
    reportsLoading: false,
    reportsError: null,
    doctor: null,
    doctorStartedAt: null,
    doctorError: null,

    async loadCurrent() {
      const mine = runSeq;
      try {
        const answer = await bridge.invoke('wizard.current', {});
        if (mine !== runSeq || get().busy) return; // a newer call answered meanwhile
        const local = get().run;
        // A run finished earlier (not in this session) is history: its report is in the list,
        // and the screen offers a new run.
        const run = answer && isFinished(answer) && local?.id !== answer.id ? null : answer;
        // After finish the core may answer null: the run finished here stays shown with its report.
        if (run === null && local && isFinished(local)) set({ loaded: true, loadError: null });
        else set({ run, loaded: true, loadError: null });
      } catch (err) {
        noteFailure(err);
        if (mine === runSeq) set({ loadError: message(err), loaded: true });
      }
    },

    async start(operator) {
      const name = operator.trim();
      if (!name) return false;
      const ok = await operate('start', null, () => bridge.invoke('wizard.start', { operator: name }));
      if (ok) set({ uncleanHandled: true, report: null, reportError: null });
      return ok;
    },

    check: (step) => operate('check', step, () => bridge.invoke('wizard.check', { step })),

    action: (step, action, finding, confirm = false) => doAction(step, action, finding, confirm, false),

    async confirmAction(step, action, finding) {
      await doAction(step, action, finding, true, true);
    },

    goto(step) {
      set({ outcome: null });
      return operate('goto', step, () => bridge.invoke('wizard.goto', { step }));
    },

    async finish() {
      const ok = await operate('finish', 'report', () => bridge.invoke('wizard.finish', {}));
      if (!ok) return false;
      set({ uncleanHandled: true });
      await get().loadReports();
      const id = get().run?.reportId;
      if (id) await get().openReport(id);
      return true;
    },

    clearFinished() {
      const run = get().run;
      if (run && isFinished(run)) set({ run: null, outcome: null, error: null, report: null, reportError: null });
    },

    dismissOutcome: () => set({ outcome: null }),

    async loadReports() {
      set({ reportsLoading: true });
      try {
        const reports = sortReports(await bridge.invoke('reports.list', {}));
        const shown = get().report;
        set({ reports, reportsError: null });
        if (shown && !shown.summary) {
          const summary = reports.find((r) => r.id === shown.id) ?? null;
          if (summary) set({ report: { ...shown, summary } });
        }
      } catch (err) {
        noteFailure(err);
        set({ reportsError: message(err) });
      } finally {
        set({ reportsLoading: false });
      }
    },

    async openReport(id) {
      set({ reportLoading: id, reportError: null });
      try {
        const { html } = await bridge.invoke('reports.get', { id });
        const summary = get().reports?.find((r) => r.id === id) ?? null;
        const report: ShownReport = { id, html, summary };
        set({ report });
        return report;
      } catch (err) {
        noteFailure(err);
        set({ reportError: message(err) });
        return null;
      } finally {
        if (get().reportLoading === id) set({ reportLoading: null });
      }
    },

    closeReport: () => set({ report: null, reportError: null }),

    async reportHtml(id) {
      const shown = get().report;
      if (shown?.id === id) return shown.html;
      const { html } = await bridge.invoke('reports.get', { id });
      return html;
    },

    async runDoctor() {
      if (get().doctorStartedAt !== null) return;
      set({ doctorStartedAt: Date.now(), doctorError: null });
      try {
        set({ doctor: await bridge.invoke('doctor.run', {}) });
      } catch (err) {
        noteFailure(err);
        set({ doctorError: message(err) });
      } finally {
        set({ doctorStartedAt: null });
      }
    },
  };
});
