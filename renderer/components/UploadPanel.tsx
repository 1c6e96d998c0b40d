import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useKb } from '../store/kb.js';
import { useT } from '../i18n/useT.js';
import { formatBytes } from '../lib/format.js';
import { MAX_UPLOAD_BYTES, SUPPORTED_EXTENSIONS, isFinal, summarizeUploads, type UploadItem } from '../lib/uploads.js';
import { ProgressBar } from './ProgressBar.js';

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

function UploadRow({ item }: { item: UploadItem }) {
  const t = useT();
  const working = item.state === 'reading' || item.state === 'uploading';
  return (
    <li className={`upload-item state-${item.state}`} data-testid="upload-item" data-name={item.name} data-state={item.state}>
      <span className="upload-name" title={item.name}>
        {item.name}
      </span>
      <span className="upload-size muted">{formatBytes(item.bytes)}</span>
      <span className="upload-state" data-testid="upload-state">
        {(item.state === 'ingesting' || working) && <span className="spinner" aria-hidden="true" />}
        {t(`upload.state.${item.state}`)}
      </span>
      {working && <ProgressBar done={item.progress} total={1} label={item.name} />}
      {item.chunks !== null && (item.state === 'added' || item.state === 'updated' || item.state === 'unchanged') && (
        <span className="muted">{t('upload.chunks', { chunks: item.chunks })}</span>
      )}
      {item.error && (
        <span className="upload-error" data-testid="upload-error">
          {item.error}
        </span>
      )}
    </li>
  );
}

/** Drag-and-drop (or pick) files into the selected knowledge base, uploaded one at a time. */
export function UploadPanel({ kb }: { kb: string }) {
  const t = useT();
  const uploads = useKb((s) => s.uploads);
  const uploadKb = useKb((s) => s.uploadKb);
  const uploading = useKb((s) => s.uploading);
  const cancelling = useKb((s) => s.uploadCancelling);
  const upload = useKb((s) => s.upload);
  const cancelUpload = useKb((s) => s.cancelUpload);
  const clearUploads = useKb((s) => s.clearUploads);
  const inputRef = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const summary = useMemo(() => summarizeUploads(uploads), [uploads]);

  // A file dropped beside the zone must not make the window open it (and leave the console).
  useEffect(() => {
    const block = (e: globalThis.DragEvent) => {
      if (Array.from(e.dataTransfer?.types ?? []).includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', block);
    window.addEventListener('drop', block);
    return () => {
      window.removeEventListener('dragover', block);
      window.removeEventListener('drop', block);
    };
  }, []);

  const take = (files: FileList | null) => {
    if (!files || files.length === 0 || uploading) return;
    void upload(Array.from(files));
  };

  const ok = uploads.filter((u) => u.state === 'added' || u.state === 'updated' || u.state === 'unchanged').length;

  return (
    <section className="upload" aria-labelledby="upload-title">
      <h3 id="upload-title">{t('upload.title')}</h3>
      <div
        className={['upload-zone', over ? 'over' : '', uploading ? 'busy' : ''].filter(Boolean).join(' ')}
        data-testid="upload-zone"
        onDragEnter={(e) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          setOver(true);
        }}
        onDragOver={(e) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = uploading ? 'none' : 'copy';
          setOver(true);
        }}
        onDragLeave={(e) => {
          if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
          setOver(false);
        }}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          take(e.dataTransfer.files);
        }}
      >
        <p>
          {t('upload.drop')}{' '}
          <button type="button" data-testid="upload-choose" onClick={() => inputRef.current?.click()} disabled={uploading}>
            {t('upload.choose')}
          </button>
        </p>
        <p className="muted hint">
          {t('upload.hint', { extensions: SUPPORTED_EXTENSIONS.join(' '), max: formatBytes(MAX_UPLOAD_BYTES), kb })}
        </p>
        {uploading && <p className="notice">{t('upload.busy')}</p>}
        <input
          ref={inputRef}
          type="file"
          multiple
          hidden
          accept={SUPPORTED_EXTENSIONS.join(',')}
          data-testid="upload-input"
          onChange={(e) => {
            take(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
      </div>

      {uploads.length > 0 && (
        <div className="upload-run">
          <div className="upload-head">
            <span className="strong">{t('upload.into', { kb: uploadKb ?? kb })}</span>
            <div
              className="upload-progress"
              data-testid="upload-progress"
              data-done={summary.done}
              data-total={summary.total}
              data-active={String(summary.active)}
              role="status"
            >
              <ProgressBar done={summary.done} total={summary.total} label={t('upload.title')} />
              <span>
                {t('upload.progress', {
                  done: summary.done,
                  total: summary.total,
                  bytesDone: formatBytes(summary.bytesDone),
                  bytesTotal: formatBytes(summary.bytesTotal),
                })}
              </span>
            </div>
            {uploading ? (
              <button type="button" data-testid="upload-cancel" onClick={cancelUpload} disabled={cancelling}>
                {cancelling ? t('upload.cancelling') : t('upload.cancel')}
              </button>
            ) : (
              <button type="button" data-testid="upload-clear" onClick={clearUploads}>
                {t('upload.clear')}
              </button>
            )}
          </div>
          {!summary.active && uploads.every((u) => isFinal(u.state)) && (
            <p className="muted" data-testid="upload-summary">
              {t('upload.summary', { ok, failed: summary.failed, cancelled: summary.cancelled })}
            </p>
          )}
          <ul className="upload-list">
            {uploads.map((item) => (
              <UploadRow key={item.id} item={item} />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
