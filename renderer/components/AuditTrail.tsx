import type { AuditEntry } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import { isStepId, stepTitleKey } from '../lib/wizard.js';

/** The run's audit entries (who did what, when, and whether it worked), collapsed by default. */
export function AuditTrail({ entries, open = false }: { entries: readonly AuditEntry[]; open?: boolean }) {
  const t = useT();
  return (
    <details className="panel wizard-audit" data-testid="wizard-audit" data-count={entries.length} open={open}>
      <summary className="strong">{t('audit.title', { count: entries.length })}</summary>
      {entries.length === 0 ? (
        <p className="muted">{t('audit.none')}</p>
      ) : (
        <table className="table wizard-audit-table">
          <thead>
            <tr>
              <th>{t('audit.col.time')}</th>
              <th>{t('audit.col.operator')}</th>
              <th>{t('audit.col.step')}</th>
              <th>{t('audit.col.action')}</th>
              <th>{t('audit.col.detail')}</th>
              <th>{t('audit.col.ok')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.at}-${i}`} data-testid="wizard-audit-entry" data-ok={String(e.ok)} data-step={e.step ?? ''} data-action={e.action}>
                <td className="nowrap">{formatDateTime(e.at)}</td>
                <td>{e.operator}</td>
                <td>{e.step === null ? <span className="muted">{t('audit.noStep')}</span> : isStepId(e.step) ? t(stepTitleKey(e.step)) : e.step}</td>
                <td>
                  <code className="break">{e.action}</code>
                </td>
                <td className="break">{e.detail}</td>
                <td className="nowrap">
                  {e.ok ? (
                    <span className="ok-text strong">✓ {t('audit.ok')}</span>
                  ) : (
                    <span className="error-text strong">✕ {t('audit.failed')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
