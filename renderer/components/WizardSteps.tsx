import type { WizardRun, WizardStepId } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { currentStep, isFinished, normalizeStepStatus, stepStatusIcon, stepStatusLabelKey, stepStatusTone, stepSummaryKey, stepTitleKey, stepsOf, WIZARD_STEPS } from '../lib/wizard.js';

/** The eight steps, top to bottom, each with its status; the current one highlighted. A click goes there. */
export function WizardSteps({ run, disabled, onGo }: { run: WizardRun; disabled: boolean; onGo(step: WizardStepId): void }) {
  const t = useT();
  const current = currentStep(run);
  const finished = isFinished(run);
  return (
    <nav className="wizard-steps" aria-label={t('wizard.steps.label')}>
      <ol>
        {stepsOf(run).map((step, i) => {
          const status = normalizeStepStatus(step.status);
          const isCurrent = step.id === current && !finished;
          return (
            <li key={step.id}>
              <button
                type="button"
                className={`wizard-step tone-${stepStatusTone(status)}${isCurrent ? ' current' : ''}`}
                data-testid="wizard-step"
                data-step={step.id}
                data-status={step.status}
                data-current={String(isCurrent)}
                aria-current={isCurrent ? 'step' : undefined}
                disabled={disabled || finished}
                onClick={() => {
                  if (!isCurrent) onGo(step.id);
                }}
              >
                <span className={`wizard-step-icon tone-${stepStatusTone(status)}`} aria-hidden="true">
                  {stepStatusIcon(status)}
                </span>
                <span className="wizard-step-text">
                  <span className="wizard-step-number muted small-text">{t('wizard.steps.number', { n: i + 1 })}</span>
                  <span className="wizard-step-title">{t(stepTitleKey(step.id))}</span>
                  <span className="wizard-step-status small-text">
                    {t(stepStatusLabelKey(status))}
                    {isCurrent && <span className="visually-hidden"> · {t('wizard.steps.current')}</span>}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

/** The steps as a plain list with one line each (the intro). */
export function WizardStepOverview() {
  const t = useT();
  return (
    <ol className="wizard-overview">
      {WIZARD_STEPS.map((id) => (
        <li key={id}>
          <span className="strong">{t(stepTitleKey(id))}</span> — <span className="muted">{t(stepSummaryKey(id))}</span>
        </li>
      ))}
    </ol>
  );
}
