import { useEffect } from 'react';
import { useApp } from '../store/app.js';
import { useKb } from '../store/kb.js';
import { useT } from '../i18n/useT.js';
import { formatBytes } from '../lib/format.js';

function modelsFolder(dataRoot: string | undefined): string {
  if (!dataRoot) return 'models/';
  const sep = dataRoot.includes('\\') && !dataRoot.includes('/') ? '\\' : '/';
  return `${dataRoot.replace(/[\\/]+$/, '')}${sep}models${sep}`;
}

/** The GGUF models in the data root's models/ folder, and how to add one. */
export function ModelsPanel() {
  const t = useT();
  const models = useKb((s) => s.models);
  const loading = useKb((s) => s.modelsLoading);
  const error = useKb((s) => s.modelsError);
  const loadModels = useKb((s) => s.loadModels);
  const dataRoot = useApp((s) => s.info?.dataRoot);

  useEffect(() => {
    void loadModels();
  }, [loadModels]);

  return (
    <section className="models" aria-labelledby="models-title" data-testid="models">
      <div className="screen-head">
        <h2 id="models-title">{t('models.title')}</h2>
        <button type="button" data-testid="models-refresh" onClick={() => void loadModels()} disabled={loading}>
          {t('models.refresh')}
        </button>
      </div>
      <p className="muted">
        {t('models.explain', { folder: modelsFolder(dataRoot) })}
      </p>
      {error && (
        <p className="error" role="alert" data-testid="models-error">
          {t('models.error', { message: error })}
        </p>
      )}
      {loading && (
        <p className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> {t('models.loading')}
        </p>
      )}
      {models !== null &&
        (models.length === 0 ? (
          <p className="muted" data-testid="models-empty">
            {t('models.empty')}
          </p>
        ) : (
          <table className="table" data-testid="models-table">
            <thead>
              <tr>
                <th>{t('models.col.name')}</th>
                <th>{t('models.col.kind')}</th>
                <th>{t('models.col.architecture')}</th>
                <th className="num">{t('models.col.size')}</th>
                <th>{t('models.col.sha256')}</th>
                <th>{t('models.col.status')}</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.name} data-testid="model-row" data-model={m.name} data-kind={m.kind}>
                  <td className="strong break">{m.name}</td>
                  <td>{t(`models.kind.${m.kind}`)}</td>
                  <td>{m.architecture ?? '–'}</td>
                  <td className="num nowrap">{formatBytes(m.bytes)}</td>
                  <td>
                    <code title={m.sha256}>{m.sha256 ? m.sha256.slice(0, 12) : '–'}</code>
                  </td>
                  <td>{m.error ? <span className="error-text">{m.error}</span> : <span className="ok-text">{t('models.ok')}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}
