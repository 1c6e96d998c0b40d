import { useEffect, useState, type FormEvent } from 'react';
import { useApp } from '../store/app.js';
import { useKb } from '../store/kb.js';
import { useT } from '../i18n/useT.js';
import { formatBytes, formatCount, formatDateTime } from '../lib/format.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { UploadPanel } from '../components/UploadPanel.js';
import { ModelsPanel } from '../components/ModelsPanel.js';
import { ReembedDialog } from '../components/ReembedDialog.js';
import { DEFAULT_EMBEDDER, embeddingModels } from '../lib/models.js';
import { ErrorNote, Loading } from '../components/Notice.js';

/** Which confirmation is open. */
type Dialog =
  | { kind: 'rename'; name: string }
  | { kind: 'delete'; name: string }
  | { kind: 'purge'; name: string }
  | { kind: 'deleteDocument'; kb: string; document: string }
  | { kind: 'reembed'; kb: string };

function CreateForm() {
  const t = useT();
  const creating = useKb((s) => s.creating);
  const error = useKb((s) => s.createError);
  const create = useKb((s) => s.create);
  const models = useKb((s) => s.models);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [embedder, setEmbedder] = useState(DEFAULT_EMBEDDER);
  const embedders = embeddingModels(models);
  // A chosen model that left the models/ folder falls back to the built-in embedder.
  const chosen = embedder === DEFAULT_EMBEDDER || embedders.some((m) => m.name === embedder) ? embedder : DEFAULT_EMBEDDER;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim() || creating) return;
    if (await create(name, description, chosen)) {
      setName('');
      setDescription('');
    }
  };

  return (
    <form className="panel kb-create" onSubmit={(e) => void submit(e)} aria-labelledby="kb-create-title">
      <h2 id="kb-create-title">{t('kb.create.title')}</h2>
      <div className="form-row">
        <label>
          <span>{t('kb.create.name')}</span>
          <input
            type="text"
            data-testid="kb-create-name"
            value={name}
            placeholder={t('kb.create.namePlaceholder')}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'kb-create-error' : undefined}
          />
        </label>
        <label className="grow">
          <span>{t('kb.create.description')}</span>
          <input type="text" data-testid="kb-create-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          <span>{t('kb.create.embedder')}</span>
          <select data-testid="kb-create-embedder" value={chosen} onChange={(e) => setEmbedder(e.target.value)} aria-describedby="kb-create-embedder-hint">
            <option value={DEFAULT_EMBEDDER}>{t('kb.create.embedderDefault')}</option>
            {embedders.map((m) => (
              <option key={m.name} value={m.name}>
                {m.architecture ? `${m.name} (${m.architecture})` : m.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" data-testid="kb-create-submit" disabled={creating || !name.trim()}>
          {creating ? t('kb.create.creating') : t('kb.create.submit')}
        </button>
      </div>
      <p className="muted small-text" id="kb-create-embedder-hint">
        {t('kb.create.embedderHint')}
      </p>
      {error && (
        <p className="error" role="alert" id="kb-create-error" data-testid="kb-create-error">
          {t('kb.create.error', { message: error })}
        </p>
      )}
    </form>
  );
}

function Documents({ kb, onDialog }: { kb: string; onDialog: (d: Dialog) => void }) {
  const t = useT();
  const documents = useKb((s) => s.documents);
  const loading = useKb((s) => s.docsLoading);
  const error = useKb((s) => s.docsError);
  const select = useKb((s) => s.select);
  const compacting = useKb((s) => s.compacting);
  const compactResult = useKb((s) => s.compactResult);
  const compactError = useKb((s) => s.compactError);
  const compact = useKb((s) => s.compact);

  return (
    <section className="panel kb-documents" data-testid="kb-documents" data-kb={kb} aria-labelledby="docs-title">
      <div className="screen-head">
        <h2 id="docs-title">{t('docs.title', { kb })}</h2>
        <button type="button" data-testid="kb-documents-close" onClick={() => select(null)}>
          {t('docs.close')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('docs.error', { message: error })} testId="docs-error" />
      )}
      {documents === null ? (
        loading && (
          <Loading text={t('docs.loading')} />
        )
      ) : documents.length === 0 ? (
        <p className="muted" data-testid="doc-empty">
          {t('docs.empty')}
        </p>
      ) : (
        <table className="table" data-testid="doc-table">
          <thead>
            <tr>
              <th>{t('docs.col.name')}</th>
              <th>{t('docs.col.format')}</th>
              <th className="num">{t('docs.col.size')}</th>
              <th className="num">{t('docs.col.chunks')}</th>
              <th>{t('docs.col.ingested')}</th>
              <th>{t('kb.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {documents.map((d) => (
              <tr key={d.name} data-testid="doc-row" data-doc={d.name}>
                <td className="strong break">{d.name}</td>
                <td>
                  <code>{d.format}</code>
                </td>
                <td className="num nowrap">{formatBytes(d.bytes)}</td>
                <td className="num">{formatCount(d.chunks)}</td>
                <td className="nowrap">{formatDateTime(d.ingestedAt)}</td>
                <td>
                  <button type="button" className="small" data-testid="doc-delete" onClick={() => onDialog({ kind: 'deleteDocument', kb, document: d.name })}>
                    {t('docs.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <div className="compact">
        <button type="button" data-testid="kb-compact" onClick={() => void compact()} disabled={compacting}>
          {t('compact.button')}
        </button>
        <span className="muted">{t('compact.explain')}</span>
        {compacting && (
          <Loading text={t('compact.running')} testId="kb-compact-running" />
        )}
        {compactResult && (
          <p className="ok-text" role="status" data-testid="kb-compact-result">
            {t('compact.result', {
              before: formatCount(compactResult.segmentsBefore),
              after: formatCount(compactResult.segmentsAfter),
              vectors: formatCount(compactResult.vectors),
            })}
          </p>
        )}
        {compactError && (
          <ErrorNote text={t('compact.error', { message: compactError })} testId="kb-compact-error" />
        )}
      </div>

      <UploadPanel kb={kb} />
    </section>
  );
}

function RecentlyDeleted({ onDialog }: { onDialog: (d: Dialog) => void }) {
  const t = useT();
  const deleted = useKb((s) => s.deleted);
  const error = useKb((s) => s.deletedError);
  const undelete = useKb((s) => s.undelete);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const restore = async (name: string) => {
    setBusy(name);
    setActionError(null);
    try {
      await undelete(name);
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="kb-deleted" aria-labelledby="kb-deleted-title" data-testid="kb-deleted">
      <h2 id="kb-deleted-title">{t('kb.deleted.title')}</h2>
      <p className="muted">{t('kb.deleted.explain')}</p>
      {error && (
        <ErrorNote text={t('kb.deleted.error', { message: error })} testId="kb-deleted-error" />
      )}
      {actionError && (
        <ErrorNote text={t('kb.actionError', { message: actionError })} testId="kb-action-error" />
      )}
      {deleted !== null &&
        (deleted.length === 0 ? (
          <p className="muted" data-testid="kb-deleted-empty">
            {t('kb.deleted.empty')}
          </p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>{t('kb.col.name')}</th>
                <th className="num">{t('kb.col.documents')}</th>
                <th>{t('kb.deleted.col.deletedAt')}</th>
                <th>{t('kb.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {deleted.map((d) => (
                <tr key={`${d.name}-${d.deletedAt}`} data-testid="kb-deleted-row" data-kb={d.name}>
                  <td className="strong">{d.name}</td>
                  <td className="num">{formatCount(d.documents)}</td>
                  <td className="nowrap">{formatDateTime(d.deletedAt)}</td>
                  <td className="actions">
                    <button type="button" className="small" data-testid="kb-undelete" onClick={() => void restore(d.name)} disabled={busy !== null}>
                      {busy === d.name ? t('kb.undeleting') : t('kb.undelete')}
                    </button>
                    <button type="button" className="small danger-outline" data-testid="kb-purge" onClick={() => onDialog({ kind: 'purge', name: d.name })} disabled={busy !== null}>
                      {t('kb.purge')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

function DialogFor({ dialog, onClose }: { dialog: Dialog; onClose: () => void }) {
  const t = useT();
  const { rename, remove, purge, deleteDocument } = useKb.getState();
  switch (dialog.kind) {
    case 'rename':
      return (
        <ConfirmDialog
          title={t('kb.rename.title', { name: dialog.name })}
          input={{ label: t('kb.rename.label'), initial: dialog.name }}
          okLabel={t('kb.rename.ok')}
          onConfirm={(value) => rename(dialog.name, value)}
          onClose={onClose}
        />
      );
    case 'delete':
      return (
        <ConfirmDialog
          title={t('kb.delete.title', { name: dialog.name })}
          requireText={dialog.name}
          okLabel={t('kb.delete.ok')}
          danger
          onConfirm={(value) => remove(dialog.name, value)}
          onClose={onClose}
        >
          <p>{t('kb.delete.body')}</p>
        </ConfirmDialog>
      );
    case 'purge':
      return (
        <ConfirmDialog
          title={t('kb.purge.title', { name: dialog.name })}
          requireText={dialog.name}
          okLabel={t('kb.purge.ok')}
          danger
          onConfirm={(value) => purge(dialog.name, value)}
          onClose={onClose}
        >
          <p className="strong warn-text">{t('kb.purge.body')}</p>
        </ConfirmDialog>
      );
    case 'reembed':
      return <ReembedDialog kb={dialog.kb} onClose={onClose} />;
    case 'deleteDocument':
      return (
        <ConfirmDialog
          title={t('docs.delete.title', { name: dialog.document, kb: dialog.kb })}
          okLabel={t('docs.delete.ok')}
          danger
          onConfirm={() => deleteDocument(dialog.document)}
          onClose={onClose}
        >
          <p>{t('docs.delete.body')}</p>
        </ConfirmDialog>
      );
  }
}

export function KbScreen() {
  const t = useT();
  const kbs = useApp((s) => s.kbs);
  const loading = useApp((s) => s.kbLoading);
  const error = useApp((s) => s.kbError);
  const loadKbs = useApp((s) => s.loadKbs);
  const selected = useKb((s) => s.selected);
  const select = useKb((s) => s.select);
  const loadDeleted = useKb((s) => s.loadDeleted);
  const loadDocuments = useKb((s) => s.loadDocuments);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const reembed = useKb((s) => s.reembed);

  useEffect(() => {
    void loadKbs();
    void loadDeleted();
    void loadDocuments();
  }, [loadKbs, loadDeleted, loadDocuments]);

  const refresh = () => {
    void loadKbs();
    void loadDeleted();
    void loadDocuments();
  };

  return (
    <section className="screen kb" data-testid="screen-kb">
      <div className="screen-head">
        <h1>{t('kb.title')}</h1>
        <button type="button" data-testid="kb-refresh" onClick={refresh} disabled={loading}>
          {t('kb.refresh')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('kb.error', { message: error })} testId="kb-error" />
      )}

      <CreateForm />

      {kbs === null ? (
        loading && (
          <Loading text={t('kb.loading')} />
        )
      ) : kbs.length === 0 ? (
        <p className="muted" data-testid="kb-empty">
          {t('kb.empty')}
        </p>
      ) : (
        <table className="table kb-table" data-testid="kb-table">
          <thead>
            <tr>
              <th>{t('kb.col.name')}</th>
              <th>{t('kb.col.description')}</th>
              <th className="num">{t('kb.col.documents')}</th>
              <th className="num">{t('kb.col.chunks')}</th>
              <th>{t('kb.col.embedder')}</th>
              <th>{t('kb.col.created')}</th>
              <th>{t('kb.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {kbs.map((kb) => (
              <tr
                key={kb.name}
                data-testid="kb-row"
                data-kb={kb.name}
                className={kb.name === selected ? 'selected' : undefined}
                aria-selected={kb.name === selected}
              >
                <td className="strong">{kb.name}</td>
                <td>{kb.description}</td>
                <td className="num">{formatCount(kb.documents)}</td>
                <td className="num">{formatCount(kb.chunks)}</td>
                <td>
                  <code>{kb.embedder.id}</code>{' '}
                  <span className="muted">{t('kb.dimension', { dimension: kb.embedder.dimension })}</span>
                </td>
                <td className="nowrap">{formatDateTime(kb.createdAt)}</td>
                <td className="actions">
                  <button
                    type="button"
                    className={kb.name === selected ? 'small primary' : 'small'}
                    data-testid="kb-select"
                    aria-pressed={kb.name === selected}
                    onClick={() => select(kb.name)}
                  >
                    {t('kb.select')}
                  </button>
                  <button
                    type="button"
                    className="small"
                    data-testid="kb-reembed"
                    onClick={() => setDialog({ kind: 'reembed', kb: kb.name })}
                    disabled={reembed?.state === 'running' && reembed.kb !== kb.name}
                  >
                    {reembed?.state === 'running' && reembed.kb === kb.name ? t('kb.reembedding') : t('kb.reembed')}
                  </button>
                  <button type="button" className="small" data-testid="kb-rename" onClick={() => setDialog({ kind: 'rename', name: kb.name })}>
                    {t('kb.rename')}
                  </button>
                  <button type="button" className="small danger-outline" data-testid="kb-delete" onClick={() => setDialog({ kind: 'delete', name: kb.name })}>
                    {t('kb.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {selected && <Documents key={selected} kb={selected} onDialog={setDialog} />}

      <RecentlyDeleted onDialog={setDialog} />

      <ModelsPanel />

      {dialog && <DialogFor dialog={dialog} onClose={() => setDialog(null)} />}
    </section>
  );
}
