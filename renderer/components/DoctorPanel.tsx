import { useState } from 'react';
import type { DoctorReport } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { useWizard } from '../store/wizard.js';
import { formatTook } from '../lib/format.js';
import { countFindings, isStepId, normalizeStepStatus, sortFindings, stepStatusIcon, stepStatusLabelKey, stepStatusTone, stepTitleKey } from '../lib/wizard.js';
import { Elapsed } from './Elapsed.js';
import { FindingCard } from './WizardFinding.js';
import { ErrorNote } from './Notice.js';

function DoctorStep({ step }: { step: DoctorReport['steps'][number] }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const status = normalizeStepStatus(step.status);
  const findings = sortFindings(step.findings ?? []);
  const counts = countFindings(findings);
  return (
    <li className={`doctor-step tone-${stepStatusTone(status)}`} data-testid="doctor-step" data-step={step.id} data-status={step.status}>
      <div className="doctor-step-head">
        <span className={`health-badge tone-${stepStatusTone(status)}`}>
          <span className="health-icon" aria-hidden="true">
            {stepStatusIcon(status)}
          </span>
          {t(stepStatusLabelKey(status))}
        </span>
        <span className="strong">{isStepId(step.id) ? t(stepTitleKey(step.id)) : step.id}</span>
        <span className="muted small-text">{t('wizard.findings.count', counts)}</span>
        {findings.length > 0 && (
          <button type="button" className="small link-button" data-testid="doctor-step-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? t('doctor.hideFindings') : t('doctor.showFindings', { count: findings.length })}
          </button>
        )}
      </div>
      {open && (
        <ul className="wizard-findings">
          {findings.map((f, i) => (
            <FindingCard key={`${f.code}-${i}`} finding={f} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** "Run all checks (doctor)": every step's checks once, read-only, as a summary. */
export function DoctorPanel() {
  const t = useT();
  const doctor = useWizard((s) => s.doctor);
  const startedAt = useWizard((s) => s.doctorStartedAt);
  const error = useWizard((s) => s.doctorError);
  const runDoctor = useWizard((s) => s.runDoctor);
  return (
    <section className="panel doctor" data-testid="doctor" aria-labelledby="doctor-title">
      <h2 id="doctor-title">{t('doctor.title')}</h2>
      <p className="muted small-text">{t('doctor.explain')}</p>
      <button type="button" data-testid="doctor-run" onClick={() => void runDoctor()} disabled={startedAt !== null}>
        {t('doctor.run')}
      </button>
      {startedAt !== null && (
        <p className="loading" role="status" data-testid="doctor-running">
          <span className="spinner" aria-hidden="true" /> {t('doctor.running')} <Elapsed since={startedAt} />
        </p>
      )}
      {error && (
        <ErrorNote text={t('doctor.error', { message: error })} testId="doctor-error" />
      )}
      {doctor && (
        <div className="doctor-result" data-testid="doctor-result" data-ok={String(doctor.ok)}>
          <p className={doctor.ok ? 'ok-text strong' : 'warn-only strong'}>
            {doctor.ok ? `✓ ${t('doctor.ok', { took: formatTook(doctor.durationMs) })}` : `! ${t('doctor.problems', { took: formatTook(doctor.durationMs) })}`}
          </p>
          <ul className="doctor-steps">
            {doctor.steps.map((s) => (
              <DoctorStep key={s.id} step={s} />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
