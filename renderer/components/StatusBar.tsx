import { useMemo } from 'react';
import type { JobRecord, ReadyState } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';
import { activeJobs } from '../lib/jobs.js';
import { formatClock } from '../lib/format.js';
import { ProgressBar } from './ProgressBar.js';

function ReadyIndicator({ ready }: { ready: ReadyState | null }) {
  const t = useT();
  const status = ready?.status ?? 'unknown';
  const label = t(`ready.${status}`);
  return (
    <div className="status-ready-block">
      <span className={`status-ready state-${status}`} data-testid="status-ready" data-status={status}>
        <span className="dot" aria-hidden="true" />
        {t('status.core')}: {label}
        {label !== status && status !== 'unknown' && <span className="state-code"> ({status})</span>}
      </span>
      {ready?.status === 'initializing' && (
        <span className="status-phase" data-testid="status-phase">
          <ProgressBar done={ready.percent} total={100} label={ready.phase} />
          {t('status.phase', { phase: ready.phase, percent: Math.round(ready.percent) })}
        </span>
      )}
      {ready?.status === 'failed' && ready.error && (
        <span className="status-error" data-testid="status-error">
          {ready.error}
        </span>
      )}
    </div>
  );
}

function JobItem({ job }: { job: JobRecord }) {
  const t = useT();
  return (
    <li className="job" data-testid="job" data-job-id={job.id} data-state={job.state}>
      <span className="job-title" title={job.message || job.title}>
        {job.title}
      </span>
      <ProgressBar done={job.done} total={job.total} label={job.title} />
      <span className="job-numbers">
        {job.state === 'queued' ? t('job.queued') : job.total > 0 ? `${job.done}/${job.total}` : t('job.running')}
        {job.etaMs !== null && job.state === 'running' && ` · ${t('status.eta', { eta: formatClock(job.etaMs) })}`}
      </span>
    </li>
  );
}

export function StatusBar() {
  const t = useT();
  const ready = useApp((s) => s.ready);
  const info = useApp((s) => s.info);
  const jobMap = useApp((s) => s.jobs);
  const connection = useApp((s) => s.connection);
  const jobs = useMemo(() => activeJobs(jobMap), [jobMap]);
  return (
    <footer className="statusbar">
      <ReadyIndicator ready={ready} />
      {info && (
        <div className="status-data-root">
          <span className="label">{t('status.dataRoot')}</span>{' '}
          <code data-testid="status-data-root">{info.dataRoot}</code>
          {info.dataRootWarning && (
            <span className="warn" data-testid="status-data-root-warning" role="alert">
              ⚠ {info.dataRootWarning}
            </span>
          )}
        </div>
      )}
      <div className="status-jobs" data-testid="status-jobs">
        {connection === 'reconnecting' && <span className="warn">{t('status.reconnecting')}</span>}
        {jobs.length === 0 ? (
          <span className="muted">{t('status.noJobs')}</span>
        ) : (
          <ul aria-label={t('status.jobs')}>
            {jobs.map((job) => (
              <JobItem key={job.id} job={job} />
            ))}
          </ul>
        )}
      </div>
    </footer>
  );
}
