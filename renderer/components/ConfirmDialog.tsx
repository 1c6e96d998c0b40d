import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useT } from '../i18n/useT.js';
import { ErrorNote } from './Notice.js';

export interface ConfirmDialogProps {
  title: string;
  children?: ReactNode;
  /** The operator must type exactly this (a knowledge base's name) before OK is enabled. */
  requireText?: string;
  /** A free text field instead (rename): its label and initial value; OK needs a non-empty, changed value. */
  input?: { label: string; initial: string };
  okLabel: string;
  danger?: boolean;
  /** The OK button's test id (default `confirm-ok`). */
  okTestId?: string;
  /** Does the work; a rejection keeps the dialog open and shows the message. */
  onConfirm(value: string): Promise<void>;
  onClose(): void;
}

/** A modal confirmation (native <dialog>): type-to-confirm for destructive actions, or one text field. */
export function ConfirmDialog({ title, children, requireText, input, okLabel, danger, okTestId = 'confirm-ok', onConfirm, onClose }: ConfirmDialogProps) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState(input?.initial ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const withInput = requireText !== undefined || input !== undefined;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);

  const ok =
    requireText !== undefined
      ? value === requireText
      : input !== undefined
        ? value.trim() !== '' && value.trim() !== input.initial
        : true;

  const confirm = async () => {
    if (!ok || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm(value);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={ref}
      className={danger ? 'dialog dialog-danger' : 'dialog'}
      data-testid="confirm-dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void confirm();
        }}
      >
        <h2 id="confirm-title">{title}</h2>
        {children}
        {withInput && (
          <label className="dialog-field">
            <span>{requireText !== undefined ? t('confirm.typeName', { name: requireText }) : input?.label}</span>
            <input
              type="text"
              data-testid="confirm-input"
              value={value}
              autoFocus
              autoComplete="off"
              spellCheck={false}
              disabled={busy}
              onChange={(e) => setValue(e.target.value)}
            />
          </label>
        )}
        {error && (
          <ErrorNote text={t('confirm.error', { message: error })} testId="confirm-error" />
        )}
        <div className="dialog-buttons">
          {busy && (
            <span className="loading-inline" role="status">
              <span className="spinner" aria-hidden="true" /> {t('confirm.working')}
            </span>
          )}
          <button type="button" data-testid="confirm-cancel" onClick={onClose} disabled={busy}>
            {t('confirm.cancel')}
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} data-testid={okTestId} disabled={!ok || busy} autoFocus={!withInput}>
            {okLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
