import { useEffect } from 'react';
import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';
import { formatCount, formatDateTime } from '../lib/format.js';

export function KbScreen() {
  const t = useT();
  const kbs = useApp((s) => s.kbs);
  const loading = useApp((s) => s.kbLoading);
  const error = useApp((s) => s.kbError);
  const loadKbs = useApp((s) => s.loadKbs);

  useEffect(() => {
    void loadKbs();
  }, [loadKbs]);

  return (
    <section className="screen kb" data-testid="screen-kb">
      <div className="screen-head">
        <h1>{t('kb.title')}</h1>
        <button type="button" data-testid="kb-refresh" onClick={() => void loadKbs()} disabled={loading}>
          {t('kb.refresh')}
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="kb-error">
          {t('kb.error', { message: error })}
        </p>
      )}
      {kbs === null ? (
        loading && <p className="muted">{t('kb.loading')}</p>
      ) : kbs.length === 0 ? (
        <p className="muted" data-testid="kb-empty">
          {t('kb.empty')}
        </p>
      ) : (
        <table className="table" data-testid="kb-table">
          <thead>
            <tr>
              <th>{t('kb.col.name')}</th>
              <th>{t('kb.col.description')}</th>
              <th className="num">{t('kb.col.documents')}</th>
              <th className="num">{t('kb.col.chunks')}</th>
              <th>{t('kb.col.embedder')}</th>
              <th>{t('kb.col.created')}</th>
            </tr>
          </thead>
          <tbody>
            {kbs.map((kb) => (
              <tr key={kb.name} data-testid="kb-row" data-kb={kb.name}>
                <td className="strong">{kb.name}</td>
                <td>{kb.description}</td>
                <td className="num">{formatCount(kb.documents)}</td>
                <td className="num">{formatCount(kb.chunks)}</td>
                <td>
                  <code>{kb.embedder.id}</code>{' '}
                  <span className="muted">{t('kb.dimension', { dimension: kb.embedder.dimension })}</span>
                </td>
                <td className="nowrap">{formatDateTime(kb.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
