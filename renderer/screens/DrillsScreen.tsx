import { useEffect, useMemo, useRef, useState } from 'react';
import type { DrillScenario } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useDrills } from '../store/drills.js';
import { useT } from '../i18n/useT.js';
import { DRILL_SCENARIOS, REAL_SERVICE_SCENARIOS, SANDBOX_SCENARIOS, activeDrillJobs, actsOnRealServices, countStatuses, latestByScenario, scenarioFaultKey, scenarioTitleKey } from '../lib/drills.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { DrillCard } from '../components/DrillCard.js';
import { DrillHistory } from '../components/DrillHistory.js';
import { DrillSchedulePanel } from '../components/DrillSchedulePanel.js';
import { DrillTrend } from '../components/DrillTrend.js';

function Intro() {
  const t = useT();
  return (
    <div className="panel drills-intro" data-testid="drills-intro">
      <p className="strong">{t('drills.intro.lead')}</p>
      <p>{t('drills.intro.sandbox')}</p>
      <p>{t('drills.intro.measure')}</p>
      <p className="callout callout-warn" data-testid="drills-real-warning">
        <span aria-hidden="true">⚠ </span>
        {t('drills.intro.real')}
      </p>
      <p className="muted small-text">
        {t('drills.intro.pass')} {t('drills.intro.duration')}
      </p>
    </div>
  );
}

/** Run all: the summary of the latest results, the button, and the batch's progress with its stop. */
function RunAllBar({ busy, onRunAll }: { busy: boolean; onRunAll(): void }) {
  const t = useT();
  const history = useDrills((s) => s.history);
  const batch = useDrills((s) => s.batch);
  const stopAll = useDrills((s) => s.stopAll);
  const counts = useMemo(() => countStatuses(latestByScenario(history)), [history]);
  const current = batch ? batch.scenarios[batch.index] : undefined;
  return (
    <div className="panel drills-bar">
      <p className="drills-summary" data-testid="drills-summary" data-pass={counts.pass} data-fail={counts.fail} data-skipped={counts.skipped} data-never={counts.never}>
        {t('drills.summary', counts)}
      </p>
      <div className="drills-bar-actions">
        {batch && current && (
          <span className="loading-inline" role="status" data-testid="drill-run-all-progress" data-index={batch.index} data-total={batch.scenarios.length}>
            <span className="spinner" aria-hidden="true" /> {t('drills.runAll.progress', { n: batch.index + 1, total: batch.scenarios.length, scenario: t(scenarioTitleKey(current)) })}
          </span>
        )}
        {batch ? (
          <button type="button" data-testid="drill-run-all-stop" disabled={batch.stopping} onClick={stopAll}>
            {batch.stopping ? t('drills.runAll.stopping') : t('drills.runAll.stop')}
          </button>
        ) : (
          <button type="button" className="primary" data-testid="drill-run-all" disabled={busy} onClick={onRunAll}>
            {t('drills.runAll')}
          </button>
        )}
      </div>
    </div>
  );
}

export function DrillsScreen() {
  const t = useT();
  const jobs = useApp((s) => s.jobs);
  const history = useDrills((s) => s.history);
  const running = useDrills((s) => s.running);
  const batch = useDrills((s) => s.batch);
  const errors = useDrills((s) => s.errors);
  const load = useDrills((s) => s.load);
  const run = useDrills((s) => s.run);
  const runAll = useDrills((s) => s.runAll);
  const select = useDrills((s) => s.select);
  const selected = useDrills((s) => s.selected);
  const [confirmReal, setConfirmReal] = useState<DrillScenario | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [includeReal, setIncludeReal] = useState(false);

  useEffect(() => {
    void load();
  }, [load]);

  const latest = useMemo(() => latestByScenario(history), [history]);
  const active = useMemo(() => activeDrillJobs(jobs), [jobs]);
  const activeKey = Object.values(active)
    .map((j) => j?.id)
    .sort()
    .join(',');
  // A drill started elsewhere (the monthly schedule, another console, the CLI) finished: read the history again.
  const previousKey = useRef(activeKey);
  useEffect(() => {
    if (previousKey.current && previousKey.current !== activeKey) void load();
    previousKey.current = activeKey;
  }, [activeKey, load]);

  const busy = running !== null || batch !== null || activeKey !== '';
  const allScenarios = includeReal ? [...DRILL_SCENARIOS] : [...SANDBOX_SCENARIOS];

  const startRun = (scenario: DrillScenario) => {
    if (actsOnRealServices(scenario)) setConfirmReal(scenario);
    else void run(scenario);
  };

  return (
    <section className="screen drills" data-testid="screen-drills">
      <h1>{t('nav.drills')}</h1>
      <Intro />
      <RunAllBar
        busy={busy}
        onRunAll={() => {
          setIncludeReal(false);
          setConfirmAll(true);
        }}
      />
      <ul className="drill-cards" aria-label={t('nav.drills')}>
        {DRILL_SCENARIOS.map((s) => (
          <DrillCard
            key={s}
            scenario={s}
            latest={latest[s] ?? null}
            runningSince={running?.scenario === s ? running.startedAt : null}
            job={active[s] ?? null}
            disabled={busy}
            error={errors[s] ?? null}
            onRun={() => startRun(s)}
            onSteps={(r) => {
              if (selected !== r.id) select(r.id);
            }}
          />
        ))}
      </ul>
      <div className="drills-row">
        <DrillTrend history={history} />
        <DrillSchedulePanel />
      </div>
      <DrillHistory />

      {confirmReal && (
        <ConfirmDialog
          title={t('drills.confirm.title', { title: t(scenarioTitleKey(confirmReal)) })}
          okLabel={t('drills.confirm.ok')}
          okTestId="drill-confirm"
          danger
          onConfirm={async () => {
            // The dialog closes at once; the card shows the drill running.
            void run(confirmReal);
          }}
          onClose={() => setConfirmReal(null)}
        >
          <p>{t(scenarioFaultKey(confirmReal))}</p>
          <p className="callout callout-danger">
            <span aria-hidden="true">⚠ </span>
            {t(confirmReal === 'container-down' ? 'drills.confirm.container-down' : 'drills.confirm.port-conflict')}
          </p>
          <p className="muted small-text">{t('drills.confirm.when')}</p>
        </ConfirmDialog>
      )}

      {confirmAll && (
        <ConfirmDialog
          title={t('drills.runAll.confirmTitle')}
          okLabel={t('drills.runAll.ok', { count: allScenarios.length })}
          okTestId="drill-run-all-confirm"
          danger={includeReal}
          onConfirm={async () => {
            void runAll(allScenarios);
          }}
          onClose={() => setConfirmAll(false)}
        >
          <p>{t('drills.runAll.confirmBody', { count: allScenarios.length })}</p>
          <ol className="drill-run-all-list small-text">
            {allScenarios.map((s) => (
              <li key={s}>
                {t(scenarioTitleKey(s))}
                {actsOnRealServices(s) && <span className="warn-only"> ⚠ {t('drills.schedule.realWarn')}</span>}
              </li>
            ))}
          </ol>
          <label className="checkbox">
            <input type="checkbox" data-testid="drill-run-all-include-real" checked={includeReal} onChange={(e) => setIncludeReal(e.target.checked)} />
            <span>{t('drills.runAll.includeReal')}</span>
          </label>
          {includeReal && (
            <p className="callout callout-danger">
              <span aria-hidden="true">⚠ </span>
              {t('drills.runAll.realWarn')} ({REAL_SERVICE_SCENARIOS.map((s) => t(scenarioTitleKey(s))).join(', ')})
            </p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}
