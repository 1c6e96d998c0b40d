import { useEffect, useMemo, useRef, useState } from 'react';
import { bridge } from '../bridge.js';
import { useApp } from '../store/app.js';
import { useKb } from '../store/kb.js';
import { useT } from '../i18n/useT.js';
import { formatClock, formatCount } from '../lib/format.js';
import { isActive } from '../lib/jobs.js';
import { DEFAULT_EMBEDDER, embedderChoiceOf, embeddingModels } from '../lib/models.js';
import { ProgressBar } from './ProgressBar.js';
import { ErrorNote } from './Notice.js';

/**
 * Re-embed one knowledge base: choose the embedder, confirm, then follow the job's progress
 * (`job` events of kind 'reembed'). The dialog may be closed while it runs: it goes on.
 */
export function ReembedDialog({ kb, onClose }: { kb: string; onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const summary = useApp((s) => s.kbs?.find((k) => k.name === kb) ?? null);
  const jobs = useApp((s) => s.jobs);
  const models = useKb((s) => s.models);
  const run = useKb((s) => s.reembed);
  const startReembed = useKb((s) => s.startReembed);
  const clearReembed = useKb((s) => s.clearReembed);
  const loadModels = useKb((s) => s.loadModels);
  const current = summary ? embedderChoiceOf(summary.embedder, models) : DEFAULT_EMBEDDER;
  const [choice, setChoice] = useState<string>(current);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const embedders = embeddingModels(models);
  const mine = run && run.kb === kb ? run : null;
  const otherRunning = run !== null && run.kb !== kb && run.state === 'running';
  const job = useMemo(
    () => (mine?.state === 'running' ? (Object.values(jobs).find((j) => j.kind === 'reembed' && isActive(j) && j.title.includes(kb)) ?? null) : null),
    [jobs, mine?.state, kb],
  );

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    if (models === null) void loadModels();
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []); // opened once

  const close = () => {
    if (mine && mine.state !== 'running') clearReembed();
    onClose();
  };

  const cancelJob = async () => {
    if (!job) return;
    setCancelError(null);
    try {
      await bridge.invoke('jobs.cancel', { id: job.id });
    } catch (err) {
      setCancelError(err instanceof Error ? err.message : String(err));
    }
  };

  const embedderName = (choiceName: string) => (choiceName === DEFAULT_EMBEDDER ? t('reembed.builtin') : choiceName);

  return (
    <dialog
      ref={ref}
      className="dialog reembed-dialog"
      data-testid="kb-reembed-dialog"
      data-kb={kb}
      data-state={mine?.state ?? 'choosing'}
      aria-labelledby="reembed-title"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!mine && !otherRunning) void startReembed(kb, choice);
        }}
      >
        <h2 id="reembed-title">{t('reembed.title', { kb })}</h2>
        <p>{t('reembed.current', { embedder: embedderName(current) })}</p>
        {!mine && (
          <>
            <label className="dialog-field">
              <span>{t('reembed.embedder')}</span>
              <select data-testid="kb-reembed-embedder" value={choice} onChange={(e) => setChoice(e.target.value)}>
                <option value={DEFAULT_EMBEDDER}>{t('kb.create.embedderDefault')}</option>
                {embedders.map((m) => (
                  <option key={m.name} value={m.name}>
                    {m.architecture ? `${m.name} (${m.architecture})` : m.name}
                  </option>
                ))}
              </select>
            </label>
            {choice === current && <p className="notice">{t('reembed.same')}</p>}
            <p className="muted">{t('reembed.explain')}</p>
            {otherRunning && run && <p className="notice">{t('reembed.busy', { kb: run.kb })}</p>}
          </>
        )}

        {mine?.state === 'running' && (
          <div className="reembed-progress" data-testid="kb-reembed-progress" role="status" data-done={job?.done ?? 0} data-total={job?.total ?? 0}>
            <p className="loading-inline">
              <span className="spinner" aria-hidden="true" /> {t('reembed.with', { embedder: embedderName(mine.embedder) })}
            </p>
            {job ? (
              <p>
                <ProgressBar done={job.done} total={job.total} label={job.title} />{' '}
                {t('reembed.running', { done: formatCount(job.done), total: formatCount(job.total) })}
                {job.etaMs !== null && ` · ${t('status.eta', { eta: formatClock(job.etaMs) })}`}
              </p>
            ) : (
              <p className="muted">{t('reembed.starting')}</p>
            )}
            <p className="muted small-text">{t('reembed.oldStay')}</p>
            {cancelError && <p className="error">{t('confirm.error', { message: cancelError })}</p>}
          </div>
        )}
        {mine?.state === 'done' && mine.result && (
          <p className="ok-text" role="status" data-testid="kb-reembed-result">
            {t('reembed.done', { chunks: formatCount(mine.result.chunks), embedder: mine.result.embedder.id, dimension: mine.result.embedder.dimension })}
          </p>
        )}
        {mine?.state === 'failed' && (
          <ErrorNote text={t('reembed.error', { message: mine.error ?? '' })} testId="kb-reembed-error" />
        )}

        <div className="dialog-buttons">
          {mine?.state === 'running' && job && (
            <button type="button" className="danger-outline" data-testid="kb-reembed-cancel-job" onClick={() => void cancelJob()}>
              {t('reembed.cancelJob')}
            </button>
          )}
          <button type="button" data-testid="kb-reembed-cancel" onClick={close}>
            {mine?.state === 'running' ? t('reembed.background') : mine ? t('reembed.close') : t('confirm.cancel')}
          </button>
          {!mine && (
            <button type="submit" className="primary" data-testid="kb-reembed-confirm" disabled={otherRunning}>
              {t('reembed.ok')}
            </button>
          )}
        </div>
      </form>
    </dialog>
  );
}
