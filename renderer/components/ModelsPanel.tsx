import { useEffect } from 'react';
import { useApp } from '../store/app.js';
import { useKb } from '../store/kb.js';
import { useT } from '../i18n/useT.js';
import { formatBytes } from '../lib/format.js';
import { chatModels } from '../lib/models.js';
import { ErrorNote, Loading } from './Notice.js';

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
  const chatModel = useKb((s) => s.chatModel);
  const switching = useKb((s) => s.chatSwitching);
  const chatError = useKb((s) => s.chatError);
  const chooseChat = useKb((s) => s.chooseChat);
  const chats = chatModels(models);
  // Without any usable chat model, answers are extractive whatever was chosen.
  const answering = models !== null && chats.length === 0 ? null : chatModel;

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
        <ErrorNote text={t('models.error', { message: error })} testId="models-error" />
      )}
      {loading && (
        <Loading text={t('models.loading')} />
      )}
      <div className="models-chat" data-testid="model-chat">
        <p>
          <span className="strong">{t('models.chat.title')}:</span>{' '}
          <span data-testid="model-chat-current" data-model={answering === undefined ? '' : (answering ?? 'none')} data-known={String(answering !== undefined)}>
            {answering === undefined ? t('models.chat.unknown') : answering === null ? t('models.chat.extractive') : answering}
          </span>
        </p>
        <p className="muted small-text">{chats.length === 0 && models !== null ? t('models.chat.none') : t('models.chat.explain')}</p>
        <button
          type="button"
          className={answering === null ? 'small primary' : 'small'}
          data-testid="model-use-chat-none"
          aria-pressed={answering === null}
          disabled={switching}
          onClick={() => void chooseChat(null)}
        >
          {t('models.chat.useNone')}
        </button>
        {switching && (
          <span className="loading-inline" role="status">
            <span className="spinner" aria-hidden="true" /> {t('models.chat.switching')}
          </span>
        )}
        {chatError && (
          <ErrorNote text={t('models.chat.error', { message: chatError })} testId="model-chat-error" />
        )}
      </div>
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
                <th>{t('models.col.answers')}</th>
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
                  <td>
                    {m.kind === 'chat' && !m.error && (
                      <button
                        type="button"
                        className={answering === m.name ? 'small primary' : 'small'}
                        data-testid="model-use-chat"
                        data-model={m.name}
                        aria-pressed={answering === m.name}
                        disabled={switching}
                        onClick={() => void chooseChat(m.name)}
                      >
                        {answering === m.name ? t('models.chat.inUse') : t('models.chat.use')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}
