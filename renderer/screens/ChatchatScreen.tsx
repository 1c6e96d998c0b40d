import { useMemo, type FormEvent } from 'react';
import type { ChatchatVectorStore } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useChatchat } from '../store/chatchat.js';
import { useT } from '../i18n/useT.js';
import { formatCount } from '../lib/format.js';
import { isActive } from '../lib/jobs.js';
import { importComplete, importSourceKey, storeExplainKey, storeIcon, storeStatusKey, storeTone, summarizeReport, type ChatchatKb } from '../lib/chatchat.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { ErrorNote, Loading } from '../components/Notice.js';

const EXAMPLE_ROOT = '/srv/chatchat/knowledge_base';
const EXAMPLE_STORE = '/srv/chatchat/knowledge_base/samples/vector_store/bge-large-zh-v1.5';

function value(n: number | null): string {
  return n === null ? '–' : formatCount(n);
}

function StoreRow({ store }: { store: ChatchatVectorStore }) {
  const t = useT();
  const tone = storeTone(store.status);
  return (
    <>
      <tr data-testid="chatchat-store" data-status={store.status} data-vectors={store.vectors ?? ''} data-path={store.path}>
        <td className="break">
          <code>{store.path}</code>
        </td>
        <td>{store.indexType ?? '–'}</td>
        <td>{store.metric ?? '–'}</td>
        <td className="num">{value(store.dimension)}</td>
        <td className="num" data-testid="chatchat-store-vectors">
          {value(store.vectors)}
        </td>
        <td className="num">{value(store.documents)}</td>
        <td className="num">{value(store.idMap)}</td>
        <td className="nowrap">
          <span className={`health-badge tone-${tone}`}>
            <span className="health-icon" aria-hidden="true">
              {storeIcon(store.status)}
            </span>
            {t(storeStatusKey(store.status))}
          </span>
        </td>
      </tr>
      <tr className="chatchat-store-more">
        <td colSpan={8}>
          <p className={`chatchat-explain tone-text-${tone}`}>{t(storeExplainKey(store.status))}</p>
          {store.problems.length > 0 && (
            <ul className="chatchat-problems" aria-label={t('chatchat.problems')}>
              {store.problems.map((p, i) => (
                <li key={`${p.code}-${i}`} data-testid="chatchat-problem" data-code={p.code}>
                  <code>{p.code}</code> — {p.message}
                </li>
              ))}
            </ul>
          )}
        </td>
      </tr>
    </>
  );
}

function KbReport({ kb }: { kb: ChatchatKb }) {
  const t = useT();
  return (
    <article className="panel chatchat-kb" data-testid="chatchat-kb" data-kb={kb.name}>
      <h3>{kb.name}</h3>
      <dl className="health-facts">
        <div>
          <dt>{t('chatchat.kb.embedModel')}</dt>
          <dd>{kb.embedModel ? <code>{kb.embedModel}</code> : <span className="muted">{t('chatchat.kb.unknownModel')}</span>}</dd>
        </div>
        <div>
          <dt>{t('chatchat.kb.infoDb')}</dt>
          <dd>{kb.infoDb ? t('chatchat.kb.infoDbValue', { files: formatCount(kb.infoDb.files), docs: kb.infoDb.docs === null ? "—" : formatCount(kb.infoDb.docs) }) : <span className="muted">{t('chatchat.kb.noInfoDb')}</span>}</dd>
        </div>
        <div>
          <dt>{t('chatchat.kb.content')}</dt>
          <dd className={kb.content.missing > 0 ? 'warn-only' : undefined}>
            {t('chatchat.kb.contentValue', { present: formatCount(kb.content.present), missing: formatCount(kb.content.missing) })}
          </dd>
        </div>
      </dl>
      {kb.vectorStores.length === 0 ? (
        <p className="muted">{t('chatchat.kb.noStores')}</p>
      ) : (
        <table className="table chatchat-stores">
          <thead>
            <tr>
              <th>{t('chatchat.col.path')}</th>
              <th>{t('chatchat.col.indexType')}</th>
              <th>{t('chatchat.col.metric')}</th>
              <th className="num">{t('chatchat.col.dimension')}</th>
              <th className="num">{t('chatchat.col.vectors')}</th>
              <th className="num">{t('chatchat.col.documents')}</th>
              <th className="num">{t('chatchat.col.idMap')}</th>
              <th>{t('chatchat.col.status')}</th>
            </tr>
          </thead>
          <tbody>
            {kb.vectorStores.map((s, i) => (
              <StoreRow key={`${s.path}-${i}`} store={s} />
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

function ImportPanel() {
  const t = useT();
  const report = useChatchat((s) => s.report);
  const sourceKb = useChatchat((s) => s.sourceKb);
  const targetKb = useChatchat((s) => s.targetKb);
  const importing = useChatchat((s) => s.importing);
  const error = useChatchat((s) => s.importError);
  const result = useChatchat((s) => s.importResult);
  const setSourceKb = useChatchat((s) => s.setSourceKb);
  const setTargetKb = useChatchat((s) => s.setTargetKb);
  const runImport = useChatchat((s) => s.runImport);
  const kbs = useApp((s) => s.kbs);
  const jobs = useApp((s) => s.jobs);
  const setScreen = useApp((s) => s.setScreen);
  const job = useMemo(() => (importing ? (Object.values(jobs).find((j) => isActive(j) && /import|chatchat|ingest/i.test(j.kind)) ?? null) : null), [jobs, importing]);
  if (!report || report.knowledgeBases.length === 0) return null;
  const several = report.knowledgeBases.length > 1;
  const exists = kbs?.some((k) => k.name === targetKb.trim()) ?? false;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void runImport();
  };

  return (
    <form className="panel chatchat-import" onSubmit={submit} aria-labelledby="chatchat-import-title">
      <h2 id="chatchat-import-title">{t('chatchat.import.title')}</h2>
      <p className="muted">{t('chatchat.import.explain')}</p>
      <div className="form-row">
        {several && (
          <label>
            <span>{t('chatchat.import.source')}</span>
            <select data-testid="chatchat-import-source" value={sourceKb} onChange={(e) => setSourceKb(e.target.value)} disabled={importing}>
              {report.knowledgeBases.map((kb) => (
                <option key={kb.name} value={kb.name}>
                  {kb.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="grow">
          <span>{t('chatchat.import.kb')}</span>
          <input type="text" data-testid="chatchat-import-kb" value={targetKb} onChange={(e) => setTargetKb(e.target.value)} disabled={importing} spellCheck={false} />
        </label>
        <button type="submit" className="primary" data-testid="chatchat-import" disabled={importing || !targetKb.trim()}>
          {importing ? t('chatchat.importing.short') : t('chatchat.import.submit')}
        </button>
      </div>
      {exists && !importing && !result && <p className="notice">{t('chatchat.import.exists', { kb: targetKb.trim() })}</p>}
      {importing && (
        <p className="loading" role="status" data-testid="chatchat-importing">
          <span className="spinner" aria-hidden="true" /> {t('chatchat.importing')}
          {job && <ProgressBar done={job.done} total={job.total} label={job.title} />}
        </p>
      )}
      {error && (
        <ErrorNote text={t('chatchat.import.error', { message: error })} testId="chatchat-import-error" />
      )}
      {result && (
        <div className="chatchat-import-result" data-testid="chatchat-import-result" data-imported={result.imported} data-source={result.source} data-kb={result.kb}>
          <p className={result.imported > 0 ? 'ok-text strong' : 'warn-only strong'} role="status">
            {t('chatchat.import.done', { imported: formatCount(result.imported), kb: result.kb })}
          </p>
          <p>
            <span className="muted">{t('chatchat.import.sourceLabel')}:</span> {t(importSourceKey(result.source))}
          </p>
          {result.failed.length > 0 && (
            <>
              <h3>{t('chatchat.import.failed', { count: result.failed.length })}</h3>
              <ul className="chatchat-problems" data-testid="chatchat-import-failed">
                {result.failed.map((f, i) => (
                  <li key={`${f.document}-${i}`} className="error-text">
                    <span className="strong break">{f.document}</span> — {f.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
          {result.notBroughtOver.length > 0 && (
            <>
              <h3>{t('chatchat.import.notBroughtOver')}</h3>
              <ul className="chatchat-problems" data-testid="chatchat-import-not-brought">
                {result.notBroughtOver.map((n, i) => (
                  <li key={`${n.what}-${i}`}>
                    <span className="strong">{n.what}</span> — {n.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
          {importComplete(result) && <p className="muted">{t('chatchat.import.complete')}</p>}
          <button type="button" data-testid="chatchat-open-kb" onClick={() => setScreen('kb')}>
            {t('chatchat.import.openKb')}
          </button>
        </div>
      )}
    </form>
  );
}

export function ChatchatScreen() {
  const t = useT();
  const dir = useChatchat((s) => s.dir);
  const deep = useChatchat((s) => s.deep);
  const inspecting = useChatchat((s) => s.inspecting);
  const error = useChatchat((s) => s.inspectError);
  const report = useChatchat((s) => s.report);
  const setDir = useChatchat((s) => s.setDir);
  const setDeep = useChatchat((s) => s.setDeep);
  const inspect = useChatchat((s) => s.inspect);
  const summary = useMemo(() => (report ? summarizeReport(report) : null), [report]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void inspect();
  };

  return (
    <section className="screen chatchat" data-testid="screen-chatchat">
      <h1>{t('chatchat.title')}</h1>
      <p className="muted">{t('chatchat.intro')}</p>

      <form className="panel chatchat-form" onSubmit={submit} aria-labelledby="chatchat-dir-label">
        <label className="chatchat-dir">
          <span id="chatchat-dir-label" className="strong">
            {t('chatchat.dir')}
          </span>
          <input
            type="text"
            data-testid="chatchat-dir"
            value={dir}
            placeholder={EXAMPLE_ROOT}
            spellCheck={false}
            autoComplete="off"
            aria-describedby="chatchat-dir-hint"
            onChange={(e) => setDir(e.target.value)}
          />
        </label>
        <p className="muted small-text" id="chatchat-dir-hint">
          {t('chatchat.dirHint', { example: EXAMPLE_ROOT, example2: EXAMPLE_STORE })}
        </p>
        <div className="chatchat-controls">
          <label className="checkbox">
            <input type="checkbox" data-testid="chatchat-deep" checked={deep} onChange={(e) => setDeep(e.target.checked)} />
            <span>{t('chatchat.deep')}</span>
          </label>
          <button type="submit" className="primary" data-testid="chatchat-inspect" disabled={inspecting || !dir.trim()}>
            {inspecting ? t('chatchat.inspecting') : t('chatchat.inspect')}
          </button>
        </div>
        {inspecting && (
          <Loading text={t(deep ? 'chatchat.inspecting.deep' : 'chatchat.inspecting')} />
        )}
        {error && (
          <ErrorNote text={t('chatchat.inspectError', { message: error })} testId="chatchat-inspect-error" />
        )}
      </form>

      {report && summary && (
        <section className="chatchat-report" data-testid="chatchat-report" data-ok={String(report.ok)} aria-labelledby="chatchat-report-title">
          <h2 id="chatchat-report-title">{t('chatchat.report.title')}</h2>
          <p className="muted break">{t('chatchat.report.root', { root: report.root })}</p>
          {report.knowledgeBases.length === 0 ? (
            <p className="warn-only" data-testid="chatchat-empty">
              {t('chatchat.report.empty')}
            </p>
          ) : (
            <>
              <p className={summary.damaged > 0 ? 'warn-only' : 'ok-text'}>
                {t('chatchat.report.summary', {
                  kbs: summary.knowledgeBases,
                  stores: summary.stores,
                  ok: summary.ok,
                  damaged: summary.damaged,
                  vectors: formatCount(summary.vectors),
                })}
              </p>
              {report.knowledgeBases.map((kb) => (
                <KbReport key={kb.name} kb={kb} />
              ))}
            </>
          )}
        </section>
      )}

      <ImportPanel />
    </section>
  );
}
