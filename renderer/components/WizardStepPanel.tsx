import { useEffect, useMemo, useRef, useState } from 'react';
import type { Finding, FindingAction, WizardRun, WizardStepId } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useWizard } from '../store/wizard.js';
import { useT } from '../i18n/useT.js';
import type { MessageKey } from '../i18n/index.js';
import { formatDateTime, formatTook } from '../lib/format.js';
import {
  countFindings,
  newActiveJobs,
  nextStep,
  normalizeStepStatus,
  openIssues,
  previousStep,
  sortFindings,
  STEP_HANDS,
  stepChecksKey,
  stepNumber,
  stepOf,
  stepTitleKey,
  WIZARD_STEPS,
} from '../lib/wizard.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { useElapsed } from './Elapsed.js';
import { FindingCard } from './WizardFinding.js';
import { GoldenPanel } from './GoldenPanel.js';
import { ProgressBar } from './ProgressBar.js';
import { ReportList, ShownReportView } from './ReportPanel.js';

const ERROR_KEYS: Record<string, MessageKey> = {
  load: 'wizard.error.load',
  start: 'wizard.error.start',
  check: 'wizard.error.check',
  action: 'wizard.error.action',
  goto: 'wizard.error.goto',
  finish: 'wizard.error.finish',
};

function BusyElapsed({ since }: { since: number }) {
  const t = useT();
  return <span className="nowrap muted">{t('wizard.elapsed', { elapsed: useElapsed(since) })}</span>;
}

/** The call in progress: what it is, for how long, and the progress of any job it started. */
export function WizardBusyLine() {
  const t = useT();
  const busy = useWizard((s) => s.busy);
  const run = useWizard((s) => s.run);
  const jobs = useApp((s) => s.jobs);
  const job = useMemo(() => (busy ? (newActiveJobs(jobs, busy.jobsBefore)[0] ?? null) : null), [jobs, busy]);
  if (!busy || busy.op === 'load') return null;
  const actionLabel = () => {
    const finding = stepOf(run, busy.step ?? 'hardware').findings.find((f) => f.code === busy.finding && f.actions.some((a) => a.id === busy.action));
    const any = finding ?? stepOf(run, busy.step ?? 'hardware').findings.find((f) => f.actions.some((a) => a.id === busy.action));
    return any?.actions.find((a) => a.id === busy.action)?.label ?? busy.action ?? '';
  };
  const text =
    busy.op === 'check'
      ? t('wizard.checking', { step: t(stepTitleKey(busy.step ?? 'hardware')) })
      : busy.op === 'action'
        ? t('wizard.working.action', { action: actionLabel() })
        : busy.op === 'finish'
          ? t('wizard.working.finish')
          : busy.op === 'goto'
            ? t('wizard.working.goto')
            : t('wizard.starting');
  return (
    <div className="loading wizard-busy" role="status" data-testid="wizard-busy" data-op={busy.op}>
      <span className="spinner" aria-hidden="true" />
      <span>{text}</span>
      <BusyElapsed since={busy.startedAt} />
      {job && (
        <span className="wizard-job">
          <ProgressBar done={job.done} total={job.total} label={job.title} />
          <span className="small-text">
            {job.title}
            {job.total > 0 && ` · ${job.done}/${job.total}`}
          </span>
        </span>
      )}
    </div>
  );
}

export function WizardError() {
  const t = useT();
  const error = useWizard((s) => s.error);
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid="wizard-error" data-op={error.op}>
      {t(ERROR_KEYS[error.op] ?? 'wizard.error.check', { message: error.message })}
    </p>
  );
}

function Outcome({ step }: { step: WizardStepId }) {
  const t = useT();
  const outcome = useWizard((s) => s.outcome);
  const dismiss = useWizard((s) => s.dismissOutcome);
  if (!outcome || outcome.step !== step) return null;
  const failed = outcome.entries.filter((e) => !e.ok);
  return (
    <div className={`callout ${outcome.ok ? 'callout-ok' : 'callout-danger'}`} role="status" data-testid="wizard-action-result" data-ok={String(outcome.ok)} data-action={outcome.action}>
      <p className="strong">{outcome.ok ? `✓ ${t('wizard.outcome.ok', { action: outcome.label })}` : `✕ ${t('wizard.outcome.failed', { action: outcome.label })}`}</p>
      {failed.map((e, i) => (
        <p key={i} className="break small-text">
          {e.detail}
        </p>
      ))}
      <button type="button" className="small" onClick={dismiss}>
        {t('wizard.outcome.dismiss')}
      </button>
    </div>
  );
}

/** Before the report is written: what is still open (the report records it as it is). */
function FinishPanel({ run }: { run: WizardRun }) {
  const t = useT();
  const busy = useWizard((s) => s.busy);
  const finish = useWizard((s) => s.finish);
  const issues = openIssues(run);
  const clean = issues.failing.length + issues.warning.length + issues.unchecked.length === 0;
  return (
    <div className="wizard-finish-panel">
      <p className={clean ? 'ok-text strong' : 'warn-only strong'} data-testid="wizard-open-issues">
        {clean
          ? `✓ ${t('wizard.finish.allGood')}`
          : `! ${t('wizard.finish.issues', { failing: issues.failing.length, warning: issues.warning.length, unchecked: issues.unchecked.length })}`}
      </p>
      <button type="button" className="primary" data-testid="wizard-finish" disabled={busy !== null} onClick={() => void finish()}>
        {t('wizard.finish')}
      </button>
    </div>
  );
}

/** One step in the main panel: what it checks, what to do by hand, the checks, findings and actions. */
export function WizardStepPanel({ run, step }: { run: WizardRun; step: WizardStepId }) {
  const t = useT();
  const busy = useWizard((s) => s.busy);
  const check = useWizard((s) => s.check);
  const act = useWizard((s) => s.action);
  const confirmAction = useWizard((s) => s.confirmAction);
  const goto = useWizard((s) => s.goto);
  const setScreen = useApp((s) => s.setScreen);
  const [confirming, setConfirming] = useState<{ finding: Finding; action: FindingAction } | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const shownStep = useRef(step);

  // A new step: bring its heading into view and give it focus (screen readers announce it).
  useEffect(() => {
    if (shownStep.current !== step) headingRef.current?.focus();
    shownStep.current = step;
  }, [step]);

  const data = stepOf(run, step);
  const status = normalizeStepStatus(data.status);
  const findings = useMemo(() => sortFindings(data.findings ?? []), [data.findings]);
  const counts = countFindings(findings);
  const checked = data.checkedAt !== null || status !== 'pending';
  const next = nextStep(step);
  const previous = previousStep(step);
  const isBusy = busy !== null;

  const onAction = (finding: Finding, action: FindingAction) => {
    if (action.destructive) setConfirming({ finding, action });
    else void act(step, action, finding.code);
  };

  return (
    <article className="panel wizard-step-panel" data-testid="wizard-step-panel" data-step={step} data-status={data.status}>
      <h2 ref={headingRef} tabIndex={-1} className="wizard-step-heading">
        {t('wizard.step.heading', { n: stepNumber(step), total: WIZARD_STEPS.length, title: t(stepTitleKey(step)) })}
      </h2>

      <section className="wizard-guide">
        <h3>{t('wizard.step.checksTitle')}</h3>
        <p>{t(stepChecksKey(step))}</p>
        <h3>{t('wizard.step.handsTitle')}</h3>
        <ol className="wizard-hands">
          {STEP_HANDS[step].map((key) => (
            <li key={key}>{t(key)}</li>
          ))}
        </ol>
        {step === 'restore' && (
          <p>
            <button type="button" data-testid="wizard-open-backups" onClick={() => setScreen('backups')}>
              {t('wizard.restore.open')} →
            </button>
          </p>
        )}
      </section>

      {step !== 'report' && (
        <div className="wizard-check-row">
          <button type="button" className={checked ? undefined : 'primary'} data-testid="wizard-check" disabled={isBusy} onClick={() => void check(step)}>
            {busy?.op === 'check' && busy.step === step && <span className="spinner spinner-inline" aria-hidden="true" />}
            {checked ? t('wizard.checkAgain') : t('wizard.check')}
          </button>
          {data.checkedAt && (
            <span className="muted small-text" data-testid="wizard-checked-at">
              {t('wizard.checkedAt', { time: formatDateTime(data.checkedAt), took: formatTook(data.durationMs ?? Number.NaN) })}
            </span>
          )}
        </div>
      )}

      <WizardBusyLine />
      <WizardError />
      <Outcome step={step} />

      {step !== 'report' && (
        <section className="wizard-findings-block" aria-labelledby="wizard-findings-title">
          <h3 id="wizard-findings-title">{t('wizard.findings.title')}</h3>
          {!checked && findings.length === 0 ? (
            <p className="muted" data-testid="wizard-not-checked">
              {t('wizard.notChecked')}
            </p>
          ) : findings.length === 0 ? (
            <p className="muted">{t('wizard.findings.none')}</p>
          ) : (
            <>
              <p className="muted small-text" data-testid="wizard-finding-counts">
                {t('wizard.findings.count', counts)}
              </p>
              {counts.fail === 0 && counts.warn === 0 && <p className="ok-text strong">✓ {t('wizard.findings.allOk')}</p>}
              <ul className="wizard-findings">
                {findings.map((f, i) => (
                  <FindingCard
                    key={`${f.code}-${i}`}
                    finding={f}
                    actions={{
                      running: busy?.op === 'action' && busy.finding === f.code ? (busy.action ?? null) : null,
                      disabled: isBusy,
                      onAction: (a) => onAction(f, a),
                    }}
                  />
                ))}
              </ul>
            </>
          )}
        </section>
      )}

      {step === 'golden' && <GoldenPanel />}

      {step === 'report' && (
        <>
          <FinishPanel run={run} />
          <ShownReportView run={run} closable />
          <ReportList />
        </>
      )}

      <div className="wizard-nav">
        {previous && (
          <button type="button" data-testid="wizard-prev" disabled={isBusy} onClick={() => void goto(previous)}>
            ← {t('wizard.previous')}
          </button>
        )}
        {next && (
          <span className="wizard-next-block">
            {status === 'pending' && <span className="muted small-text">{t('wizard.next.unchecked')}</span>}
            {status === 'fail' && <span className="warn-only small-text">{t('wizard.next.failing')}</span>}
            <button type="button" className={status === 'pending' ? undefined : 'primary'} data-testid="wizard-next" data-next={next} disabled={isBusy} onClick={() => void goto(next)}>
              {t('wizard.next', { step: t(stepTitleKey(next)) })} →
            </button>
          </span>
        )}
      </div>

      {confirming && (
        <ConfirmDialog
          title={t('wizard.confirm.title', { action: confirming.action.label })}
          okLabel={t('wizard.confirm.ok')}
          okTestId="wizard-confirm"
          danger
          onConfirm={() => confirmAction(step, confirming.action, confirming.finding.code)}
          onClose={() => setConfirming(null)}
        >
          <p>{t('wizard.confirm.changes', { finding: confirming.finding.message })}</p>
          <p className="callout callout-warn">
            <span aria-hidden="true">↺ </span>
            {t('wizard.confirm.rollback')}
          </p>
          <p className="muted small-text">{t('wizard.confirm.recheck')}</p>
        </ConfirmDialog>
      )}
    </article>
  );
}
