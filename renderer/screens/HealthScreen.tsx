import { useEffect, useMemo } from 'react';
import type { HealthComponent, IntegrityProblem, ReadyState, VerifyRun } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useHealth } from '../store/health.js';
import { useT } from '../i18n/useT.js';
import type { Translate } from '../i18n/index.js';
import { formatCount, formatDateTime, formatTook } from '../lib/format.js';
import {
  canRepair,
  componentLabelKey,
  countSeverities,
  latestRun,
  repairKindKey,
  runTone,
  sortProblems,
  statusIcon,
  statusLabelKey,
  statusTone,
  trendLayout,
} from '../lib/health.js';
import { isActive } from '../lib/jobs.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { DoctorPanel } from '../components/DoctorPanel.js';
import { Elapsed } from '../components/Elapsed.js';
import { ErrorNote, Loading } from '../components/Notice.js';

/** How often the summary is re-read while this screen is open. */
export const HEALTH_REFRESH_MS = 10_000;

const CHART_WIDTH = 640;
const CHART_HEIGHT = 90;

function modeLabel(t: Translate, deep: boolean): string {
  return t(deep ? 'health.mode.deep' : 'health.mode.fast');
}

function StatusBadge({ status }: { status: string }) {
  const t = useT();
  return (
    <span className={`health-badge tone-${statusTone(status)}`}>
      <span className="health-icon" aria-hidden="true">
        {statusIcon(status)}
      </span>
      {t(statusLabelKey(status))}
    </span>
  );
}

function ComponentCard({ component }: { component: HealthComponent }) {
  const t = useT();
  const key = componentLabelKey(component.id);
  return (
    <li className={`health-card tone-${statusTone(component.status)}`} data-testid="health-component" data-component={component.id} data-status={component.status}>
      <div className="health-card-head">
        <span className="health-card-name">{key ? t(key) : t('health.component.other', { id: component.id })}</span>
        <StatusBadge status={component.status} />
      </div>
      {component.detail && <p className="health-card-detail">{component.detail}</p>}
    </li>
  );
}

function Readiness({ ready }: { ready: ReadyState }) {
  const t = useT();
  return (
    <p className={`health-ready state-${ready.status}`} data-testid="health-ready" data-status={ready.status}>
      <span className="dot" aria-hidden="true" />
      <span className="strong">{t('health.ready')}:</span> {t(`ready.${ready.status}`)}
      {ready.status === 'initializing' && (
        <>
          {' '}
          <ProgressBar done={ready.percent} total={100} label={ready.phase} /> {t('health.readyPhase', { phase: ready.phase, percent: Math.round(ready.percent) })}
        </>
      )}
      {ready.status === 'failed' && ready.error && <span className="error-text"> {ready.error}</span>}
    </p>
  );
}

function LastVerify({ run }: { run: VerifyRun | null }) {
  const t = useT();
  if (!run) {
    return (
      <div className="panel health-last" data-testid="health-last-verify" data-state="none">
        <h2>{t('health.lastVerify')}</h2>
        <p className="muted">{t('health.lastVerify.none')}</p>
      </div>
    );
  }
  const tone = runTone(run);
  return (
    <div
      className={`panel health-last tone-${tone}`}
      data-testid="health-last-verify"
      data-state={run.ok ? 'ok' : 'problems'}
      data-ok={String(run.ok)}
      data-deep={String(run.deep)}
      data-errors={run.errors}
      data-warnings={run.warnings}
    >
      <h2>{t('health.lastVerify')}</h2>
      <p className="health-last-result">
        <span className={`health-badge tone-${tone}`}>
          <span className="health-icon" aria-hidden="true">
            {tone === 'ok' ? '✓' : tone === 'warn' ? '!' : '✕'}
          </span>
          {run.ok ? t('health.lastVerify.ok') : t('health.lastVerify.problems')}
        </span>
      </p>
      <dl className="health-facts">
        <div>
          <dt>{t('health.col.time')}</dt>
          <dd>{formatDateTime(run.at)}</dd>
        </div>
        <div>
          <dt>{t('health.col.kind')}</dt>
          <dd>{modeLabel(t, run.deep)}</dd>
        </div>
        <div>
          <dt>{t('health.col.errors')}</dt>
          <dd className={run.errors > 0 ? 'error-text strong' : undefined}>{formatCount(run.errors)}</dd>
        </div>
        <div>
          <dt>{t('health.col.warnings')}</dt>
          <dd className={run.warnings > 0 ? 'warn-only strong' : undefined}>{formatCount(run.warnings)}</dd>
        </div>
        <div>
          <dt>{t('health.col.duration')}</dt>
          <dd>{formatTook(run.durationMs)}</dd>
        </div>
      </dl>
    </div>
  );
}

function Trend({ history }: { history: readonly VerifyRun[] }) {
  const t = useT();
  const layout = useMemo(() => trendLayout(history, { width: CHART_WIDTH, height: CHART_HEIGHT, maxBars: 30 }), [history]);
  const count = layout.bars.length;
  return (
    <figure className="panel health-trend" data-testid="health-trend" data-runs={count}>
      <figcaption className="strong">{t('health.trend.title', { count })}</figcaption>
      {count === 0 ? (
        <p className="muted">{t('health.trend.empty')}</p>
      ) : (
        <>
          <svg
            className="trend-chart"
            viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
            preserveAspectRatio="none"
            role="img"
            aria-labelledby="health-trend-title health-trend-desc"
          >
            <title id="health-trend-title">{t('health.trend.title', { count })}</title>
            <desc id="health-trend-desc">{t('health.trend.desc', { max: formatTook(layout.maxDurationMs) })}</desc>
            <line className="trend-axis" x1={0} y1={CHART_HEIGHT - 0.5} x2={CHART_WIDTH} y2={CHART_HEIGHT - 0.5} />
            {layout.bars.map((b, i) => (
              <rect
                key={`${b.run.at}-${i}`}
                className={`trend-bar tone-${b.tone}${b.run.deep ? ' deep' : ''}`}
                data-tone={b.tone}
                x={b.x}
                y={b.y}
                width={b.width}
                height={b.height}
              >
                <title>
                  {t('health.trend.bar', {
                    time: formatDateTime(b.run.at),
                    kind: modeLabel(t, b.run.deep),
                    result: b.run.ok ? t('health.lastVerify.ok') : t('health.lastVerify.problems'),
                    errors: b.run.errors,
                    warnings: b.run.warnings,
                    took: formatTook(b.run.durationMs),
                  })}
                </title>
              </rect>
            ))}
          </svg>
          <p className="trend-legend muted small-text">
            <span className="legend-item">
              <span className="legend-swatch tone-ok" aria-hidden="true" /> {t('health.trend.legend.ok')}
            </span>
            <span className="legend-item">
              <span className="legend-swatch tone-warn" aria-hidden="true" /> {t('health.trend.legend.warn')}
            </span>
            <span className="legend-item">
              <span className="legend-swatch tone-fail" aria-hidden="true" /> {t('health.trend.legend.fail')}
            </span>
            <span className="legend-item">
              <span className="legend-swatch deep" aria-hidden="true" /> {t('health.trend.legend.deep')}
            </span>
            <span>{t('health.trend.scale', { max: formatTook(layout.maxDurationMs) })}</span>
          </p>
        </>
      )}
    </figure>
  );
}

function ProblemRow({ problem }: { problem: IntegrityProblem }) {
  const t = useT();
  return (
    <tr data-testid="health-problem" data-code={problem.code} data-severity={problem.severity} data-repair={problem.repair} className={`sev-${problem.severity}`}>
      <td className="nowrap">
        <span className={`health-badge tone-${problem.severity === 'error' ? 'fail' : 'warn'}`}>
          <span className="health-icon" aria-hidden="true">
            {problem.severity === 'error' ? '✕' : '!'}
          </span>
          {t(problem.severity === 'error' ? 'health.severity.error' : 'health.severity.warning')}
        </span>
      </td>
      <td>
        <code className="nowrap">{problem.code}</code>
        {problem.kb && <div className="muted small-text">{t('health.problem.kb', { kb: problem.kb })}</div>}
      </td>
      <td className="break">
        <code>{problem.path}</code>
      </td>
      <td className="break">{problem.message}</td>
      <td className={`health-fix fix-${problem.repair}`} data-testid="health-problem-fix">
        {t(repairKindKey(problem.repair), { kind: problem.repair })}
      </td>
    </tr>
  );
}

function Checks() {
  const t = useT();
  const verifying = useHealth((s) => s.verifying);
  const startedAt = useHealth((s) => s.verifyStartedAt);
  const verifyError = useHealth((s) => s.verifyError);
  const result = useHealth((s) => s.result);
  const afterRepair = useHealth((s) => s.resultAfterRepair);
  const repairing = useHealth((s) => s.repairing);
  const repair = useHealth((s) => s.repair);
  const repairError = useHealth((s) => s.repairError);
  const verify = useHealth((s) => s.verify);
  const runRepair = useHealth((s) => s.runRepair);
  const jobs = useApp((s) => s.jobs);
  const busy = verifying !== null || repairing;
  const problems = useMemo(() => (result ? sortProblems(result.problems) : []), [result]);
  const counts = useMemo(() => countSeverities(problems), [problems]);
  const repairable = canRepair(problems);
  // A check or repair the core reports as a job shows its progress.
  const job = useMemo(() => Object.values(jobs).find((j) => isActive(j) && /verify|integrity|repair|rebuild/i.test(j.kind)) ?? null, [jobs]);

  return (
    <section className="panel health-checks" aria-labelledby="health-checks-title">
      <h2 id="health-checks-title">{t('health.check.title')}</h2>
      <p className="muted">{t('health.check.explain')}</p>
      <div className="health-buttons">
        <button type="button" className="primary" data-testid="health-verify-quick" onClick={() => void verify(false)} disabled={busy}>
          {t('health.verifyQuick')}
        </button>
        <button type="button" data-testid="health-verify-deep" onClick={() => void verify(true)} disabled={busy}>
          {t('health.verifyDeep')}
        </button>
        <button
          type="button"
          className="repair-button"
          data-testid="health-repair"
          onClick={() => void runRepair()}
          disabled={busy || !repairable}
          title={repairable ? undefined : t('health.repair.nothing')}
        >
          {t('health.repair')}
        </button>
      </div>
      {(verifying || repairing) && (
        <p className="loading" role="status" data-testid="health-running" data-mode={verifying ?? 'repair'}>
          <span className="spinner" aria-hidden="true" />
          {verifying ? t(verifying === 'deep' ? 'health.verifying.deep' : 'health.verifying.fast') : t('health.repairing')}
          {startedAt !== null && (
            <span className="nowrap">
              {' '}
              {t('health.elapsed')} <Elapsed since={startedAt} />
            </span>
          )}
          {job && <ProgressBar done={job.done} total={job.total} label={job.title} />}
        </p>
      )}
      {verifyError && (
        <ErrorNote text={t('health.verifyError', { message: verifyError })} testId="health-verify-error" />
      )}
      {repairError && (
        <ErrorNote text={t('health.repair.error', { message: repairError })} testId="health-repair-error" />
      )}

      {repair && (
        <div className="health-repair-result" data-testid="health-repair-result" data-ok={String(repair.ok)}>
          <h3>{t('health.repair.actions')}</h3>
          {repair.actions.length === 0 ? (
            <p className="muted">{t('health.repair.noActions')}</p>
          ) : (
            <ul className="health-actions">
              {repair.actions.map((a, i) => (
                <li key={`${a.code}-${a.action}-${i}`} data-testid="health-repair-action" data-ok={String(a.ok)} data-code={a.code} className={a.ok ? 'ok-text' : 'error-text'}>
                  <span className="health-icon" aria-hidden="true">
                    {a.ok ? '✓' : '✕'}
                  </span>{' '}
                  <span className="strong">{a.ok ? t('health.repair.actionOk') : t('health.repair.actionFailed')}</span> · {a.action} <code>{a.code}</code>
                  {a.kb && <span className="muted"> · {t('health.problem.kb', { kb: a.kb })}</span>}
                  {a.error && <span className="error-text"> — {a.error}</span>}
                </li>
              ))}
            </ul>
          )}
          <p className={repair.after.ok ? 'ok-text' : 'warn-only'} role="status">
            {repair.after.ok ? t('health.repair.doneOk') : t('health.repair.doneProblems', countSeverities(repair.after.problems))}
          </p>
          {repair.needsRestore.length > 0 && (
            <div className="health-needs-restore" data-testid="health-needs-restore">
              <p className="strong error-text">{t('health.repair.needsRestore')}</p>
              <ul>
                {repair.needsRestore.map((p, i) => (
                  <li key={`${p.code}-${p.path}-${i}`}>
                    <code>{p.code}</code> <code className="break">{p.path}</code> — {p.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}

      <h3>{t('health.problems.title')}</h3>
      {result === null ? (
        <p className="muted" data-testid="health-problems-none">
          {t('health.problems.notChecked')}
        </p>
      ) : (
        <>
          <p className={counts.errors > 0 ? 'error-text' : counts.warnings > 0 ? 'warn-only' : 'ok-text'} data-testid="health-result" data-ok={String(result.ok)} data-deep={String(result.deep)} data-after-repair={String(afterRepair)}>
            {afterRepair && `${t('health.result.afterRepair')} `}
            {problems.length === 0
              ? t('health.result.ok', { mode: modeLabel(t, result.deep), took: formatTook(result.durationMs) })
              : t('health.result.problems', { errors: counts.errors, warnings: counts.warnings, mode: modeLabel(t, result.deep), took: formatTook(result.durationMs) })}
          </p>
          {problems.length > 0 && (
            <>
              <table className="table health-problems" data-testid="health-problems">
                <thead>
                  <tr>
                    <th>{t('health.col.severity')}</th>
                    <th>{t('health.col.code')}</th>
                    <th>{t('health.col.path')}</th>
                    <th>{t('health.col.message')}</th>
                    <th>{t('health.col.fix')}</th>
                  </tr>
                </thead>
                <tbody>
                  {problems.map((p, i) => (
                    <ProblemRow key={`${p.code}-${p.path}-${i}`} problem={p} />
                  ))}
                </tbody>
              </table>
              <p className="muted small-text">{repairable ? t('health.repair.explain') : t('health.repair.nothing')}</p>
            </>
          )}
        </>
      )}
    </section>
  );
}

export function HealthScreen() {
  const t = useT();
  const summary = useHealth((s) => s.summary);
  const loading = useHealth((s) => s.summaryLoading);
  const error = useHealth((s) => s.summaryError);
  const summaryAt = useHealth((s) => s.summaryAt);
  const resultRun = useHealth((s) => s.resultRun);
  const loadSummary = useHealth((s) => s.loadSummary);

  // Read the summary now and every 10 s while the screen is open.
  useEffect(() => {
    void loadSummary();
    const timer = setInterval(() => void loadSummary(), HEALTH_REFRESH_MS);
    return () => clearInterval(timer);
  }, [loadSummary]);

  const last = latestRun(summary?.lastVerify ?? null, resultRun);

  return (
    <section className="screen health" data-testid="screen-health">
      <div className="screen-head">
        <h1>{t('health.title')}</h1>
        <span className="health-refresh">
          <span className="muted small-text" data-testid="health-updated">
            {summaryAt !== null ? t('health.updated', { time: new Date(summaryAt).toLocaleTimeString() }) : ''} {t('health.autoRefresh')}
          </span>{' '}
          <button type="button" data-testid="health-refresh" onClick={() => void loadSummary()} disabled={loading}>
            {t('health.refresh')}
          </button>
        </span>
      </div>
      <p className="muted">{t('health.desc')}</p>
      {error && (
        <ErrorNote text={t('health.error', { message: error })} testId="health-error" />
      )}
      {summary === null ? (
        loading && (
          <Loading text={t('health.loading')} />
        )
      ) : (
        <>
          <Readiness ready={summary.ready} />
          <ul className="health-cards" aria-label={t('health.components')}>
            {summary.components.map((c) => (
              <ComponentCard key={c.id} component={c} />
            ))}
          </ul>
        </>
      )}
      <div className="health-row">
        <LastVerify run={last} />
        <Trend history={summary?.history ?? []} />
      </div>
      <Checks />
      <DoctorPanel />
    </section>
  );
}
