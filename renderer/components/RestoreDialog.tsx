import { useEffect, useMemo, useRef, useState } from 'react';
import type { SnapshotSummary } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';
import { formatCount, formatDateTime } from '../lib/format.js';
import { isRestoreWord, restoreRows, restoreTotals, shortId, type KbCounts, type RestoreRow } from '../lib/backups.js';

const CHANGE_ICON: Record<RestoreRow['change'], string> = { same: '=', changed: '≠', added: '＋', removed: '－' };

function counts(k: KbCounts | null, t: ReturnType<typeof useT>): string {
  return k ? t('backups.compare.counts', { documents: formatCount(k.documents), chunks: formatCount(k.chunks) }) : '—';
}

/** Knowledge bases before and after a restore, side by side, with what changes. */
export function KbCompareTable({ before, after, beforeLabel, afterLabel }: { before: readonly KbCounts[]; after: readonly KbCounts[]; beforeLabel: string; afterLabel: string }) {
  const t = useT();
  const rows = useMemo(() => restoreRows(before, after), [before, after]);
  const totals = restoreTotals(rows);
  if (rows.length === 0) return <p className="muted">{t('backups.compare.none')}</p>;
  return (
    <>
      <table className="table backup-compare" data-testid="backup-compare">
        <thead>
          <tr>
            <th>{t('backups.compare.kb')}</th>
            <th>{beforeLabel}</th>
            <th>{afterLabel}</th>
            <th>{t('backups.compare.change')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} className={`change-${r.change}`} data-testid="backup-compare-row" data-kb={r.name} data-change={r.change}>
              <td className="strong break">{r.name}</td>
              <td>{counts(r.now, t)}</td>
              <td>{counts(r.after, t)}</td>
              <td>
                <span aria-hidden="true">{CHANGE_ICON[r.change]} </span>
                {t(`backups.compare.${r.change}`)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small-text muted">{t('backups.compare.totals', totals)}</p>
    </>
  );
}

/**
 * Confirms a restore: what the knowledge bases are now and what they will be, how the restore
 * protects the current data, and the word RESTORE (or 恢复) typed by hand.
 */
export function RestoreDialog({ snapshot, onConfirm, onClose }: { snapshot: SnapshotSummary; onConfirm: () => void; onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const kbs = useApp((s) => s.kbs);
  const kbError = useApp((s) => s.kbError);
  const [word, setWord] = useState('');
  const ok = isRestoreWord(word);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // The "now" side must be current.
    void useApp.getState().loadKbs();
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog dialog-danger dialog-wide"
      data-testid="backup-restore-dialog"
      data-snapshot={snapshot.id}
      aria-labelledby="restore-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (ok) onConfirm();
        }}
      >
        <h2 id="restore-title">{t('backups.restore.title', { id: shortId(snapshot.id), time: formatDateTime(snapshot.time) })}</h2>
        <p>{t('backups.restore.what', { time: formatDateTime(snapshot.time), host: snapshot.host })}</p>
        <ol className="backup-steps">
          <li>{t('backups.restore.step1')}</li>
          <li>{t('backups.restore.step2')}</li>
          <li>{t('backups.restore.step3')}</li>
        </ol>
        <p className="warn-only">{t('backups.restore.lost', { time: formatDateTime(snapshot.time) })}</p>

        <h3>{t('backups.restore.summary')}</h3>
        {kbs === null ? (
          kbError ? (
            <p className="error">{t('kb.error', { message: kbError })}</p>
          ) : (
            <p className="loading-inline" role="status">
              <span className="spinner" aria-hidden="true" /> {t('kb.loading')}
            </p>
          )
        ) : (
          <KbCompareTable before={kbs} after={snapshot.knowledgeBases} beforeLabel={t('backups.compare.now')} afterLabel={t('backups.compare.afterRestore')} />
        )}

        <label className="dialog-field">
          <span>{t('backups.restore.typeWord')}</span>
          <input
            type="text"
            data-testid="backup-restore-confirm-input"
            value={word}
            autoFocus
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setWord(e.target.value)}
          />
        </label>
        <div className="dialog-buttons">
          <button type="button" data-testid="backup-restore-cancel" onClick={onClose}>
            {t('confirm.cancel')}
          </button>
          <button type="submit" className="danger" data-testid="backup-restore-confirm" disabled={!ok}>
            {t('backups.restore.ok')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
