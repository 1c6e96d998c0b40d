import { useEffect, useState, type FormEvent } from 'react';
import type { WizardRun } from '../../electron/api/contract.js';
import { useWizard } from '../store/wizard.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import { currentStep, durationText, isFinished, progressOf, recoveryMs } from '../lib/wizard.js';
import { AuditTrail } from '../components/AuditTrail.js';
import { DoctorPanel } from '../components/DoctorPanel.js';
import { useElapsed } from '../components/Elapsed.js';
import { ReportList, ShownReportView } from '../components/ReportPanel.js';
import { WizardStepOverview, WizardSteps } from '../components/WizardSteps.js';
import { WizardBusyLine, WizardError, WizardStepPanel } from '../components/WizardStepPanel.js';
import { Loading } from '../components/Notice.js';

const OPERATOR_KEY = 'lifeline.operator';

function savedOperator(): string {
  try {
    return localStorage.getItem(OPERATOR_KEY) ?? '';
  } catch {
    return '';
  }
}

function rememberOperator(name: string): void {
  try {
    localStorage.setItem(OPERATOR_KEY, name);
  } catch {
    // storage disabled: the name is typed again next time
  }
}

/** No run yet: what the wizard does, the operator's name, the doctor and the past reports. */
function Intro() {
  const t = useT();
  const busy = useWizard((s) => s.busy);
  const start = useWizard((s) => s.start);
  const [operator, setOperator] = useState(savedOperator);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const name = operator.trim();
    if (!name || busy) return;
    rememberOperator(name);
    await start(name);
  };

  return (
    <>
      <form className="panel wizard-start" onSubmit={(e) => void submit(e)} aria-labelledby="wizard-start-title">
        <p className="wizard-lead">{t('wizard.intro.lead')}</p>
        <h2 id="wizard-start-title">{t('wizard.intro.startTitle')}</h2>
        <label className="backup-field">
          <span className="strong">{t('wizard.operator.label')}</span>
          <input
            type="text"
            data-testid="wizard-operator"
            value={operator}
            placeholder={t('wizard.operator.placeholder')}
            autoComplete="name"
            maxLength={120}
            autoFocus
            onChange={(e) => setOperator(e.target.value)}
          />
        </label>
        <div className="wizard-start-row">
          <button type="submit" className="primary" data-testid="wizard-start" disabled={!operator.trim() || busy !== null}>
            {t('wizard.start')}
          </button>
          <WizardBusyLine />
        </div>
        <WizardError />
      </form>
      <div className="panel wizard-intro">
        <p>{t('wizard.intro.how')}</p>
        <h2>{t('wizard.intro.steps')}</h2>
        <WizardStepOverview />
      </div>
      <DoctorPanel />
      <ShownReportView run={null} closable />
      <ReportList />
    </>
  );
}

function RunHeader({ run }: { run: WizardRun }) {
  const t = useT();
  const elapsed = useElapsed(Date.parse(run.startedAt));
  const { checked, total } = progressOf(run);
  return (
    <div className="wizard-run-head" data-testid="wizard-run" data-run-id={run.id} data-current={currentStep(run)}>
      <span>{t('wizard.run.by', { operator: run.operator, time: formatDateTime(run.startedAt) })}</span>
      <span className="muted">{t('wizard.run.elapsed', { elapsed })}</span>
      <span className="muted">{t('wizard.run.progress', { checked, total })}</span>
      {run.uncleanShutdown && <span className="warn-only small-text">⚡ {t('wizard.run.unclean')}</span>}
    </div>
  );
}

/** A run in progress: the steps on the left, the current step in the main panel, the audit trail below. */
function RunView({ run }: { run: WizardRun }) {
  const busy = useWizard((s) => s.busy);
  const goto = useWizard((s) => s.goto);
  const step = currentStep(run);
  return (
    <>
      <RunHeader run={run} />
      <div className="wizard-layout">
        <WizardSteps run={run} disabled={busy !== null} onGo={(s) => void goto(s)} />
        <WizardStepPanel key={run.id} run={run} step={step} />
      </div>
      <AuditTrail entries={run.audit ?? []} />
    </>
  );
}

/** A finished run: its report (with the recovery time and the export), the steps as they ended, the audit. */
function FinishedView({ run }: { run: WizardRun }) {
  const t = useT();
  const report = useWizard((s) => s.report);
  const reports = useWizard((s) => s.reports);
  const clearFinished = useWizard((s) => s.clearFinished);
  const summary = reports?.find((r) => r.id === run.reportId) ?? null;
  const ms = recoveryMs(run, summary);
  return (
    <>
      <div className="panel wizard-finished" data-testid="wizard-finished" data-run-id={run.id} data-report-id={run.reportId ?? ''}>
        <h2>✓ {t('wizard.finished.title')}</h2>
        <p>{t('wizard.finished.by', { operator: run.operator, start: formatDateTime(run.startedAt), end: formatDateTime(run.finishedAt ?? '') })}</p>
        {ms !== null && report === null && (
          <p className="wizard-recovery-time strong" data-testid="wizard-recovery-time" data-ms={ms}>
            {t('wizard.recoveryTime', { time: durationText(t, ms) })}
          </p>
        )}
        <button type="button" data-testid="wizard-new" onClick={clearFinished}>
          {t('wizard.newRun')}
        </button>
      </div>
      <ShownReportView run={run} closable={false} />
      <div className="wizard-layout">
        <WizardSteps run={run} disabled onGo={() => {}} />
        <AuditTrail entries={run.audit ?? []} open />
      </div>
      <ReportList />
    </>
  );
}

export function RecoveryScreen() {
  const t = useT();
  const run = useWizard((s) => s.run);
  const loaded = useWizard((s) => s.loaded);
  const loadError = useWizard((s) => s.loadError);
  const loadCurrent = useWizard((s) => s.loadCurrent);

  // Re-read the run on opening: another console (or the CLI) may have moved it on.
  useEffect(() => {
    void loadCurrent();
  }, [loadCurrent]);

  return (
    <section className="screen recovery" data-testid="screen-recovery">
      <h1>{t('wizard.title')}</h1>
      {loadError && (
        <p className="error" role="alert" data-testid="wizard-load-error">
          {t('wizard.error.load', { message: loadError })}{' '}
          <button type="button" className="small" onClick={() => void loadCurrent()}>
            {t('wizard.retry')}
          </button>
        </p>
      )}
      {!loaded ? (
        <Loading text={t('wizard.loading')} />
      ) : run === null ? (
        <Intro />
      ) : isFinished(run) ? (
        <FinishedView run={run} />
      ) : (
        <RunView run={run} />
      )}
    </section>
  );
}
