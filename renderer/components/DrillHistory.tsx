import { Fragment, useEffect, useRef } from 'react';
import type { DrillResult } from '../../electron/api/contract.js';
import { useDrills } from '../store/drills.js';
import { useT } from '../i18n/useT.js';
import { drillStatus, formatDrillMs, formatStartedAt, isDrillScenario, scenarioTitleKey, stepOffsetMs } from '../lib/drills.js';
import { DrillStatusBadge } from './DrillCard.js';
import { ErrorNote, Loading } from './Notice.js';

const COLUMNS = 8;

function YesNo({ value, good }: { value: boolean; good: boolean }) {
  const t = useT();
  const fine = value === good;
  return <span className={fine ? 'ok-text' : 'error-text strong'}>{value ? `${good ? '✓ ' : '✕ '}${t('drills.yes')}` : `${good ? '✕ ' : ''}${t('drills.no')}`}</span>;
}

/** The steps one drill recorded: what it did or saw, when (from its start), and whether it went well. */
export function DrillSteps({ result }: { result: DrillResult }) {
  const t = useT();
  const steps = result.steps ?? [];
  const title = isDrillScenario(result.scenario) ? t(scenarioTitleKey(result.scenario)) : result.scenario;
  return (
    <div className="drill-steps" data-testid="drill-steps" data-id={result.id} data-count={steps.length}>
      <h3>{t('drills.steps.title', { scenario: title, time: formatStartedAt(result.startedAt) })}</h3>
      {steps.length === 0 ? (
        <p className="muted">{t('drills.steps.none')}</p>
      ) : (
        <ol className="drill-step-list">
          {steps.map((s, i) => (
            <li key={i} data-testid="drill-step" data-ok={String(s.ok)} className={s.ok ? undefined : 'error-text'}>
              <span className="drill-step-time muted small-text nowrap">+{formatDrillMs(stepOffsetMs(result.startedAt, s.at))}</span>
              <span className={`health-icon ${s.ok ? 'ok-text' : 'error-text'}`} aria-hidden="true">
                {s.ok ? '✓' : '✕'}
              </span>
              <span className="visually-hidden">{t(s.ok ? 'drills.steps.ok' : 'drills.steps.failed')}: </span>
              <span className="break">{s.what}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** Every drill that ran, newest first; a click on a row shows its steps below it. */
export function DrillHistory() {
  const t = useT();
  const history = useDrills((s) => s.history);
  const loading = useDrills((s) => s.historyLoading);
  const error = useDrills((s) => s.historyError);
  const loadHistory = useDrills((s) => s.loadHistory);
  const selected = useDrills((s) => s.selected);
  const select = useDrills((s) => s.select);
  const selectedRef = useRef<HTMLTableRowElement>(null);

  // A card's "Show the steps" selects a row further down: bring it into view.
  useEffect(() => {
    if (selected) selectedRef.current?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  return (
    <section className="panel drill-history" data-testid="drill-history" aria-labelledby="drill-history-title">
      <div className="screen-head">
        <h2 id="drill-history-title">{t('drills.history.title')}</h2>
        <button type="button" className="small" data-testid="drill-history-refresh" onClick={() => void loadHistory()} disabled={loading}>
          {t('drills.history.refresh')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('drills.error.history', { message: error })} testId="drill-history-error" />
      )}
      {history === null ? (
        loading && (
          <Loading text={t('drills.history.loading')} />
        )
      ) : history.length === 0 ? (
        <p className="muted" data-testid="drill-history-none">
          {t('drills.history.none')}
        </p>
      ) : (
        <>
          <p className="muted small-text">{t('drills.history.hint')}</p>
          <div className="table-scroll">
            <table className="table drill-history-table">
              <thead>
                <tr>
                  <th>{t('drills.col.time')}</th>
                  <th>{t('drills.col.scenario')}</th>
                  <th>{t('drills.col.result')}</th>
                  <th>{t('drills.col.detected')}</th>
                  <th>{t('drills.col.recovered')}</th>
                  <th className="num">{t('drills.col.detectMs')}</th>
                  <th className="num">{t('drills.col.recoverMs')}</th>
                  <th>{t('drills.col.dataLost')}</th>
                </tr>
              </thead>
              <tbody>
                {history.map((r) => {
                  const open = selected === r.id;
                  const status = drillStatus(r);
                  return (
                    <Fragment key={r.id}>
                      <tr
                        ref={open ? selectedRef : undefined}
                        className={`drill-history-row${open ? ' selected' : ''}`}
                        data-testid="drill-history-row"
                        data-id={r.id}
                        data-scenario={r.scenario}
                        data-status={status}
                        onClick={() => select(r.id)}
                      >
                        <td className="nowrap">
                          <button
                            type="button"
                            className="small link-button drill-row-toggle"
                            aria-expanded={open}
                            title={t(open ? 'drills.steps.hide' : 'drills.steps.show')}
                            onClick={(e) => {
                              e.stopPropagation();
                              select(r.id);
                            }}
                          >
                            <span aria-hidden="true">{open ? '▾ ' : '▸ '}</span>
                            {formatStartedAt(r.startedAt)}
                          </button>
                        </td>
                        <td>
                          {isDrillScenario(r.scenario) ? t(scenarioTitleKey(r.scenario)) : r.scenario}
                          <div>
                            <code className="muted small-text nowrap">{r.scenario}</code>
                          </div>
                        </td>
                        <td className="nowrap">
                          <DrillStatusBadge status={status} />
                          {r.skipped && (
                            <div className="muted small-text break drill-skip-reason" title={r.skipped}>
                              {r.skipped}
                            </div>
                          )}
                        </td>
                        <td className="nowrap">{r.skipped ? <span className="muted">–</span> : <YesNo value={r.detected} good />}</td>
                        <td className="nowrap">{r.skipped ? <span className="muted">–</span> : <YesNo value={r.recovered} good />}</td>
                        <td className="num nowrap">{formatDrillMs(r.detectMs)}</td>
                        <td className="num nowrap">{formatDrillMs(r.recoverMs)}</td>
                        <td className="nowrap">{r.skipped ? <span className="muted">–</span> : <YesNo value={r.dataLost} good={false} />}</td>
                      </tr>
                      {open && (
                        <tr className="drill-steps-row">
                          <td colSpan={COLUMNS}>
                            <DrillSteps result={r} />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
