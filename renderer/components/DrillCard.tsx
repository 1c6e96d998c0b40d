import type { DrillResult, DrillScenario, JobRecord } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import {
  actsOnRealServices,
  drillStatus,
  failReasons,
  formatDrillMs,
  scenarioFaultKey,
  scenarioRecoveryKey,
  scenarioTitleKey,
  statusIcon,
  statusLabelKey,
  statusTone,
  type DrillStatus,
} from '../lib/drills.js';
import { useElapsed } from './Elapsed.js';
import { ProgressBar } from './ProgressBar.js';

function RunningFor({ since }: { since: number }) {
  const t = useT();
  return <span className="nowrap muted">{t('drills.elapsed', { elapsed: useElapsed(since) })}</span>;
}

export function DrillStatusBadge({ status }: { status: DrillStatus }) {
  const t = useT();
  return (
    <span className={`health-badge tone-${statusTone(status)}`} data-testid="drill-status">
      <span className="health-icon" aria-hidden="true">
        {statusIcon(status)}
      </span>
      {t(statusLabelKey(status))}
    </span>
  );
}

/** The latest result of a scenario: the verdict, why it failed or was skipped, the two times and data lost. */
export function DrillResultView({ result, onSteps }: { result: DrillResult; onSteps?: () => void }) {
  const t = useT();
  const status = drillStatus(result);
  const reasons = failReasons(result);
  return (
    <div
      className={`drill-result tone-${statusTone(status)}`}
      data-testid="drill-result"
      data-id={result.id}
      data-scenario={result.scenario}
      data-status={status}
      data-detected={String(result.detected)}
      data-recovered={String(result.recovered)}
      data-detect-ms={result.detectMs ?? ''}
      data-recover-ms={result.recoverMs ?? ''}
      data-data-lost={String(result.dataLost)}
      data-skipped={result.skipped ?? ''}
    >
      <p className="drill-result-head">
        <DrillStatusBadge status={status} /> <span className="muted small-text">{t('drills.result.at', { time: formatDateTime(result.startedAt) })}</span>
      </p>
      {result.skipped ? (
        <p className="muted small-text break" data-testid="drill-skipped-reason">
          {t('drills.result.skipped', { reason: result.skipped })}
        </p>
      ) : (
        <>
          {reasons.length > 0 && (
            <p className="error-text small-text">
              {t('drills.result.why')} {reasons.map((k) => t(k)).join('; ')}
            </p>
          )}
          <dl className="health-facts drill-facts">
            <div>
              <dt>{t('drills.result.detect')}</dt>
              <dd className={result.detected ? undefined : 'error-text strong'} data-testid="drill-detect-ms">
                {result.detected ? formatDrillMs(result.detectMs) : `✕ ${t('drills.no')}`}
              </dd>
            </div>
            <div>
              <dt>{t('drills.result.recover')}</dt>
              <dd className={result.recovered ? undefined : 'error-text strong'} data-testid="drill-recover-ms">
                {result.recovered ? formatDrillMs(result.recoverMs) : `✕ ${t('drills.no')}`}
              </dd>
            </div>
            <div>
              <dt>{t('drills.result.dataLost')}</dt>
              <dd className={result.dataLost ? 'error-text strong' : 'ok-text'}>{result.dataLost ? `✕ ${t('drills.yes')}` : t('drills.no')}</dd>
            </div>
          </dl>
        </>
      )}
      {onSteps && (
        <button type="button" className="small link-button" data-testid="drill-show-steps" onClick={onSteps}>
          {t('drills.result.steps')}
        </button>
      )}
    </div>
  );
}

export interface DrillCardProps {
  scenario: DrillScenario;
  latest: DrillResult | null;
  /** This console runs it now (since, ms since the epoch). */
  runningSince: number | null;
  /** A drill job of this scenario is queued or running (whoever started it). */
  job: JobRecord | null;
  /** Run buttons are off while any drill runs. */
  disabled: boolean;
  error: string | null;
  onRun(): void;
  onSteps(result: DrillResult): void;
}

/** One scenario: what the fault is, what counts as recovered, its Run button and its latest result. */
export function DrillCard({ scenario, latest, runningSince, job, disabled, error, onRun, onSteps }: DrillCardProps) {
  const t = useT();
  const real = actsOnRealServices(scenario);
  const running = runningSince !== null || job !== null;
  const status: DrillStatus = running ? 'running' : drillStatus(latest);
  const titleId = `drill-${scenario}-title`;
  return (
    <li className={`drill-card tone-${statusTone(status)}${real ? ' drill-real' : ''}`} data-testid="drill-card" data-scenario={scenario} data-status={status} data-real={String(real)} aria-labelledby={titleId} aria-busy={running || undefined}>
      <div className="drill-card-head">
        <h3 id={titleId}>{t(scenarioTitleKey(scenario))}</h3>
        <DrillStatusBadge status={status} />
      </div>
      <p className="drill-card-tags">
        <code className="muted small-text">{scenario}</code> <span className={real ? 'badge badge-warn' : 'badge'}>{t(real ? 'drills.badge.real' : 'drills.badge.sandbox')}</span>
      </p>
      <p className="drill-fault">{t(scenarioFaultKey(scenario))}</p>
      <p className="muted small-text">{t(scenarioRecoveryKey(scenario))}</p>

      {running && (
        <div className="loading drill-running" role="status" data-testid="drill-running" data-scenario={scenario}>
          <span className="spinner" aria-hidden="true" />
          <span>{runningSince !== null ? t('drills.running') : t('drills.runningElsewhere')}</span>
          {runningSince !== null && (
<RunningFor since={runningSince} />
          )}
          {job && job.total > 0 && <ProgressBar done={job.done} total={job.total} label={job.title} />}
        </div>
      )}
      {error && !running && (
        <p className="error" role="alert" data-testid="drill-error" data-scenario={scenario}>
          {t('drills.error.run', { message: error })}
        </p>
      )}

      {latest ? <DrillResultView result={latest} onSteps={() => onSteps(latest)} /> : !running && <p className="muted small-text">{t('drills.result.none')}</p>}

      <div className="drill-card-actions">
        <button type="button" className={latest ? undefined : 'primary'} data-testid="drill-run" data-scenario={scenario} disabled={disabled} onClick={onRun}>
          {runningSince !== null && <span className="spinner spinner-inline" aria-hidden="true" />}
          {real && <span aria-hidden="true">⚠ </span>}
          {latest ? t('drills.runAgain') : t('drills.run')}
        </button>
      </div>
    </li>
  );
}
