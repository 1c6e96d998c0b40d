// The recovery wizard (DESIGN.md "The recovery wizard"): steps in order, each checks →
// findings → actions (safe ones at once; destructive ones only when confirmed, after a rollback
// point) → re-check. The run is persisted after every change, so a second outage in the middle
// of a recovery resumes at the same step; every action goes to the audit log with the
// operator's name and the time.
import { randomUUID } from 'node:crypto';
import type { AuditEntry, DoctorReport, Finding, WizardRun, WizardStepId } from '../../api/contract.js';
import { UserError } from '../../api/handlers.js';
import type { Db } from '../store/catalog.js';
import type { CheckResult } from '../system/finding.js';

export const STEP_ORDER: readonly WizardStepId[] = ['hardware', 'storage', 'services', 'models', 'integrity', 'golden', 'restore', 'report'];

export interface ActionOutcome {
  ok: boolean;
  detail: string;
}

export interface StepRunner {
  check(): Promise<CheckResult>;
  /** Runs an action offered by one of this step's findings. */
  act?(action: string, finding: Finding | undefined, params: Record<string, string>): Promise<ActionOutcome>;
  /** For destructive actions: makes a rollback point first and says what it is. */
  rollbackPoint?(action: string, finding: Finding | undefined): Promise<string>;
}

export type StepRunners = Record<Exclude<WizardStepId, 'report'>, StepRunner>;

export class RecoveryWizard {
  private get db(): Db {
    return this.catalog();
  }

  constructor(
    /** A getter: a restore swaps the catalog under a running app. */
    private readonly catalog: () => Db,
    private readonly runners: StepRunners,
    private readonly options: { uncleanShutdown: boolean; writeReport(run: WizardRun): string },
  ) {}

  /** The unfinished run, if any (it survives restarts). */
  current(): WizardRun | null {
    const row = this.db.prepare('SELECT state FROM wizard_run WHERE finished_at IS NULL ORDER BY started_at DESC LIMIT 1').get() as { state: string } | undefined;
    return row ? (JSON.parse(row.state) as WizardRun) : null;
  }

  start(operator: string): WizardRun {
    const name = typeof operator === 'string' ? operator.trim() : '';
    if (!name) throw new UserError('operator-needed', 'enter the name of the person doing the recovery (it goes into the report)');
    const existing = this.current();
    if (existing) return existing;
    const run: WizardRun = {
      id: randomUUID(),
      operator: name.slice(0, 100),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      current: 'hardware',
      steps: STEP_ORDER.map((id) => ({ id, status: 'pending', findings: [], checkedAt: null, durationMs: null })),
      audit: [],
      uncleanShutdown: this.options.uncleanShutdown,
      reportId: null,
    };
    this.db.prepare('INSERT INTO wizard_run(id, operator, started_at, state) VALUES (?, ?, ?, ?)').run(run.id, run.operator, run.startedAt, JSON.stringify(run));
    this.audit(run, null, 'start', `recovery started${run.uncleanShutdown ? ' after an unclean shutdown' : ''}`, true);
    return run;
  }

  async check(step: WizardStepId): Promise<WizardRun> {
    const run = this.requireRun();
    if (step === 'report') return run;
    await this.runCheck(run, step);
    run.current = step;
    this.save(run);
    return run;
  }

  async action(step: WizardStepId, action: string, findingCode: string | undefined, confirm: boolean, params: Record<string, string> = {}): Promise<WizardRun> {
    const run = this.requireRun();
    if (step === 'report') throw new UserError('bad-request', 'the report step has no actions; use wizard.finish');
    const runner = this.runners[step];
    const st = run.steps.find((s) => s.id === step)!;
    const finding = st.findings.find((f) => f.code === findingCode) ?? st.findings.find((f) => f.actions.some((a) => a.id === action));
    const offered = finding?.actions.find((a) => a.id === action);
    if (!offered || !runner.act) throw new UserError('no-such-action', `step ${step} offers no action "${action}"${findingCode ? ` for ${findingCode}` : ''}; run the checks again`);
    if (offered.destructive) {
      if (!confirm) throw new UserError('confirmation-needed', `"${offered.label}" changes things that cannot simply be undone: confirm it`);
      const point = runner.rollbackPoint ? await runner.rollbackPoint(action, finding) : 'no rollback point needed';
      this.audit(run, step, `rollback point for ${action}`, point, true);
    }
    let outcome: ActionOutcome;
    try {
      outcome = await runner.act(action, finding, params);
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    this.audit(run, step, action, `${offered.label}: ${outcome.detail}`, outcome.ok);
    await this.runCheck(run, step); // re-check after every action
    this.save(run);
    return run;
  }

  goto(step: WizardStepId): WizardRun {
    const run = this.requireRun();
    if (!STEP_ORDER.includes(step)) throw new UserError('bad-request', `no step ${step}`);
    run.current = step;
    this.audit(run, step, 'goto', `moved to step ${step}`, true);
    return run;
  }

  finish(): WizardRun {
    const run = this.requireRun();
    run.finishedAt = new Date().toISOString();
    run.current = 'report';
    const report = run.steps.find((s) => s.id === 'report')!;
    report.status = 'ok';
    report.checkedAt = run.finishedAt;
    this.audit(run, 'report', 'finish', `recovery finished in ${Math.round((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000)} s`, true);
    run.reportId = this.options.writeReport(run);
    this.db.prepare('UPDATE wizard_run SET finished_at = ?, state = ? WHERE id = ?').run(run.finishedAt, JSON.stringify(run), run.id);
    return run;
  }

  finishedRuns(): WizardRun[] {
    return (this.db.prepare('SELECT state FROM wizard_run WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 100').all() as { state: string }[]).map((r) => JSON.parse(r.state) as WizardRun);
  }

  /** Every check, without questions or state: for scripts, cron and monitoring. */
  async doctor(): Promise<DoctorReport> {
    const started = Date.now();
    const steps: DoctorReport['steps'] = [];
    for (const id of STEP_ORDER) {
      if (id === 'report') continue;
      try {
        const r = await this.runners[id].check();
        steps.push({ id, status: r.status, findings: r.findings });
      } catch (err) {
        steps.push({ id, status: 'fail', findings: [{ code: 'check-crashed', severity: 'fail', message: `the ${id} check could not run: ${(err as Error).message}`, evidence: [], actions: [] }] });
      }
    }
    return { ok: steps.every((s) => s.status === 'ok' || s.status === 'skipped'), steps, durationMs: Date.now() - started };
  }

  private async runCheck(run: WizardRun, step: Exclude<WizardStepId, 'report'>): Promise<void> {
    const st = run.steps.find((s) => s.id === step)!;
    const t = Date.now();
    let r: CheckResult;
    try {
      r = await this.runners[step].check();
    } catch (err) {
      r = { status: 'fail', durationMs: Date.now() - t, findings: [{ code: 'check-crashed', severity: 'fail', message: `the check could not run: ${(err as Error).message}`, evidence: [], actions: [] }] };
    }
    st.status = r.status;
    st.findings = r.findings;
    st.checkedAt = new Date().toISOString();
    st.durationMs = Date.now() - t;
    this.audit(run, step, 'check', `${r.status}: ${r.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => f.code).join(', ') || 'no problems'}`, true);
  }

  private requireRun(): WizardRun {
    const run = this.current();
    if (!run) throw new UserError('no-recovery-run', 'no recovery is in progress: start one first');
    return run;
  }

  private audit(run: WizardRun, step: WizardStepId | null, action: string, detail: string, ok: boolean): void {
    const e: AuditEntry = { at: new Date().toISOString(), operator: run.operator, step, action, detail, ok };
    run.audit.push(e);
    this.db.prepare('INSERT INTO audit_log(at, operator, run_id, step, action, detail, ok) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.at, e.operator, run.id, step, action, detail, ok ? 1 : 0);
    this.save(run);
  }

  private save(run: WizardRun): void {
    this.db.prepare('UPDATE wizard_run SET state = ? WHERE id = ?').run(JSON.stringify(run), run.id);
  }
}
