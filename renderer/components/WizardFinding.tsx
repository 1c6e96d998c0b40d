import { useId, useState } from 'react';
import type { Finding, FindingAction } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { normalizeSeverity, severityIcon, severityLabelKey, severityTone } from '../lib/wizard.js';

export function SeverityBadge({ severity }: { severity: string }) {
  const t = useT();
  return (
    <span className={`health-badge tone-${severityTone(severity)}`}>
      <span className="health-icon" aria-hidden="true">
        {severityIcon(severity)}
      </span>
      {t(severityLabelKey(severity))}
    </span>
  );
}

export interface FindingActions {
  /** The action running now (its id), if it belongs to this finding. */
  running: string | null;
  /** All buttons are off while any call runs. */
  disabled: boolean;
  onAction(action: FindingAction): void;
}

/**
 * One finding: severity (colour, icon and word), the message, the advice as a callout, the
 * evidence one click away, and the finding's actions (none in the doctor's read-only view).
 */
export function FindingCard({ finding, actions }: { finding: Finding; actions?: FindingActions }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const evidenceId = useId();
  const severity = normalizeSeverity(finding.severity);
  const evidence = finding.evidence ?? [];
  const list = finding.actions ?? [];
  return (
    <li className={`wizard-finding tone-${severityTone(severity)}`} data-testid="wizard-finding" data-code={finding.code} data-severity={finding.severity}>
      <div className="wizard-finding-head">
        <SeverityBadge severity={severity} />
        <span className="wizard-finding-message">{finding.message}</span>
        <code className="wizard-finding-code muted small-text">{finding.code}</code>
      </div>
      {finding.advice && (
        <div className={`callout wizard-advice${severity === 'fail' ? ' callout-danger' : severity === 'warn' ? ' callout-warn' : ''}`} data-testid="wizard-advice">
          <p>
            <span className="strong">{t('wizard.finding.advice')}:</span> {finding.advice}
          </p>
        </div>
      )}
      {evidence.length > 0 && (
        <div className="wizard-evidence-block">
          <button
            type="button"
            className="small link-button"
            data-testid="wizard-evidence-toggle"
            aria-expanded={open}
            aria-controls={evidenceId}
            onClick={() => setOpen(!open)}
          >
            {open ? `▾ ${t('wizard.evidence.hide')}` : `▸ ${t('wizard.evidence.show', { count: evidence.length })}`}
          </button>
          {open && (
            <pre className="wizard-evidence" id={evidenceId} data-testid="wizard-evidence">
              {evidence.join('\n')}
            </pre>
          )}
        </div>
      )}
      {actions && list.length > 0 && (
        <div className="wizard-actions" role="group" aria-label={t('wizard.actions.label')}>
          {list.map((a) => (
            <button
              key={a.id}
              type="button"
              className={a.destructive ? 'danger-outline' : 'primary-outline'}
              data-testid="wizard-action"
              data-action={a.id}
              data-destructive={String(a.destructive)}
              title={a.destructive ? t('wizard.action.destructiveHint') : undefined}
              disabled={actions.disabled}
              aria-busy={actions.running === a.id || undefined}
              onClick={() => actions.onAction(a)}
            >
              {actions.running === a.id && <span className="spinner spinner-inline" aria-hidden="true" />}
              {a.destructive && (
                <span aria-hidden="true" className="wizard-action-warn">
                  ⚠{' '}
                </span>
              )}
              {a.label}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
