import { useEffect, useMemo, useState } from 'react';
import type { GoldenResult, GoldenRunResult } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useGolden } from '../store/golden.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime, formatTook } from '../lib/format.js';
import { defaultGoldenKb, goldenKbChoices, passPercent } from '../lib/golden.js';
import { newActiveJobs } from '../lib/wizard.js';
import { Elapsed } from './Elapsed.js';
import { ProgressBar } from './ProgressBar.js';
import { GoldenEditor } from './GoldenEditor.js';
import { ErrorNote } from './Notice.js';

function ResultRow({ result }: { result: GoldenResult }) {
  const t = useT();
  const reasons = result.reasons ?? [];
  const changes = result.changes ?? [];
  return (
    <tr data-testid="golden-result" data-id={result.id} data-passed={String(result.passed)} className={result.passed ? undefined : 'golden-failed'}>
      <td className="nowrap">
        <span className={`health-badge tone-${result.passed ? 'ok' : 'fail'}`}>
          <span className="health-icon" aria-hidden="true">
            {result.passed ? '✓' : '✕'}
          </span>
          {t(result.passed ? 'golden.passed' : 'golden.failed')}
        </span>
      </td>
      <td className="break">
        <div>{result.question}</div>
        <code className="muted small-text">{result.id}</code>
        {(result.answer || (result.citations ?? []).length > 0) && (
          <details className="golden-answer">
            <summary className="small-text">{t('golden.answer')}</summary>
            {result.answer && <p className="golden-answer-text small-text">{result.answer}</p>}
            {(result.citations ?? []).length > 0 && (
              <ul className="small-text">
                {result.citations.map((c, i) => (
                  <li key={`${c.document}-${i}`}>
                    <span className="strong">{c.document}</span> <span className="muted">{c.location}</span>
                  </li>
                ))}
              </ul>
            )}
          </details>
        )}
      </td>
      <td className="break">
        {reasons.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="golden-reasons">
            {reasons.map((r, i) => (
              <li key={i} className="error-text">
                {r}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className="nowrap num">{formatTook(result.latencyMs)}</td>
      <td className="break" data-testid="golden-changes">
        {changes.length === 0 ? (
          <span className="muted">{t('golden.noChanges')}</span>
        ) : (
          <ul className="golden-reasons">
            {changes.map((c, i) => (
              <li key={i} className="warn-only">
                {c}
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

function RunResult({ kind, run }: { kind: 'run' | 'baseline'; run: GoldenRunResult }) {
  const t = useT();
  const tone = run.total > 0 && run.failed === 0 ? 'ok' : run.passed === 0 && run.total > 0 ? 'fail' : run.total === 0 ? 'info' : 'warn';
  return (
    <div className="golden-run-result" data-testid="golden-summary" data-kind={kind} data-passed={run.passed} data-failed={run.failed} data-total={run.total}>
      <p className={`strong tone-text-${tone === 'info' ? 'unknown' : tone}`}>
        {t('golden.summary', { passed: run.passed, total: run.total, percent: passPercent(run), took: formatTook(run.durationMs) })}
      </p>
      <p className="muted small-text">
        {kind === 'baseline' ? t('golden.summary.baseline', { time: formatDateTime(run.at) }) : run.hasBaseline ? t('golden.summary.compared') : t('golden.summary.noBaseline')}
      </p>
      {run.results.length > 0 && (
        <div className="table-scroll">
          <table className="table golden-results">
            <thead>
              <tr>
                <th>{t('golden.col.result')}</th>
                <th>{t('golden.col.question')}</th>
                <th>{t('golden.col.reasons')}</th>
                <th>{t('golden.col.latency')}</th>
                <th>{t('golden.col.changes')}</th>
              </tr>
            </thead>
            <tbody>
              {/* Failed questions first: they are what the operator has to act on. */}
              {[...run.results]
                .map((r, i) => ({ r, i }))
                .sort((a, b) => Number(a.r.passed) - Number(b.r.passed) || a.i - b.i)
                .map(({ r }) => (
                  <ResultRow key={r.id} result={r} />
                ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The golden step's own tools: run the questions of a chosen knowledge base, record a baseline, edit the set. */
export function GoldenPanel() {
  const t = useT();
  const kbs = useApp((s) => s.kbs);
  const jobs = useApp((s) => s.jobs);
  const sets = useGolden((s) => s.sets);
  const setsLoading = useGolden((s) => s.setsLoading);
  const setsError = useGolden((s) => s.setsError);
  const kb = useGolden((s) => s.kb);
  const running = useGolden((s) => s.running);
  const result = useGolden((s) => s.result);
  const error = useGolden((s) => s.error);
  const loadSets = useGolden((s) => s.loadSets);
  const chooseKb = useGolden((s) => s.chooseKb);
  const runGolden = useGolden((s) => s.run);
  const recordBaseline = useGolden((s) => s.baseline);
  const [editing, setEditing] = useState(false);

  useEffect(() => {
    void loadSets();
  }, [loadSets]);

  const choices = useMemo(() => goldenKbChoices(sets, kbs), [sets, kbs]);
  // Choose once the sets are known (or failed to load): a knowledge base with questions comes first.
  const setsKnown = sets !== null || setsError !== null;
  useEffect(() => {
    if (!setsKnown || (kb && choices.includes(kb))) return;
    const first = defaultGoldenKb(sets, choices);
    if (first && first !== kb) chooseKb(first);
  }, [setsKnown, choices, kb, sets, chooseKb]);

  const set = sets?.find((s) => s.kb === kb) ?? null;
  const count = set?.questions.length ?? 0;
  const job = useMemo(() => (running && running.op !== 'save' ? (newActiveJobs(jobs, running.jobsBefore)[0] ?? null) : null), [jobs, running]);
  const busy = running !== null;

  return (
    <section className="panel golden" data-testid="golden" aria-labelledby="golden-title">
      <h3 id="golden-title">{t('golden.title')}</h3>
      <p className="muted small-text">{t('golden.explain')}</p>
      {setsError && (
        <ErrorNote text={t('golden.setsError', { message: setsError })} />
      )}
      <div className="golden-controls">
        <label className="kb-select">
          <span className="strong">{t('golden.kb')}</span>{' '}
          <select data-testid="golden-kb" value={kb} disabled={busy || choices.length === 0} onChange={(e) => chooseKb(e.target.value)}>
            {choices.length === 0 && <option value="">{t('golden.kb.none')}</option>}
            {choices.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="primary" data-testid="golden-run" disabled={busy || !kb} onClick={() => void runGolden()}>
          {t('golden.run')}
        </button>
        <button type="button" data-testid="golden-baseline" disabled={busy || !kb} onClick={() => void recordBaseline()} title={t('golden.baselineHint')}>
          {t('golden.baseline')}
        </button>
        <button type="button" className="small link-button" data-testid="golden-edit" aria-expanded={editing} disabled={!kb || (sets === null && setsLoading)} onClick={() => setEditing(!editing)}>
          {editing ? t('golden.editClose') : t('golden.edit', { count })}
        </button>
      </div>
      <p className="muted small-text">{t('golden.baselineHint')}</p>
      {sets !== null && kb && count === 0 && !editing && <p className="muted">{t('golden.noQuestions')}</p>}
      {running && running.op !== 'save' && (
        <div className="loading" role="status" data-testid="golden-running">
          <span className="spinner" aria-hidden="true" />
          {t(running.op === 'run' ? 'golden.running' : 'golden.recording', { kb: running.kb })} <Elapsed since={running.startedAt} />
          {job && (
            <>
              <ProgressBar done={job.done} total={job.total} label={job.title} />
              {job.total > 0 && <span className="nowrap">{`${job.done}/${job.total}`}</span>}
            </>
          )}
        </div>
      )}
      {error && error.op !== 'save' && (
        <ErrorNote text={t(error.op === 'run' ? 'golden.error.run' : 'golden.error.baseline', { message: error.message })} testId="golden-error" />
      )}
      {editing && kb && <GoldenEditor key={kb} kb={kb} loaded={set} />}
      {result && result.run.kb === kb && <RunResult kind={result.kind} run={result.run} />}
    </section>
  );
}
