import { useEffect, useMemo, useState } from 'react';
import type { ReportSummary, WizardRun } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { bridge } from '../bridge.js';
import { useWizard, type ShownReport } from '../store/wizard.js';
import { formatDateTime } from '../lib/format.js';
import { fitsDataUrl, reportDataUrl, reportFileName } from '../lib/reports.js';
import { durationText, recoveryMs } from '../lib/wizard.js';
import { ErrorNote, Loading } from './Notice.js';

/**
 * A link that downloads `html`: a `data:` URL (what the console's Content-Security-Policy
 * leaves for a download it builds itself), or a `blob:` URL for a report too long for one.
 */
function useDownloadHref(html: string): string {
  const dataUrl = useMemo(() => reportDataUrl(html), [html]);
  const big = !fitsDataUrl(dataUrl);
  const [blobUrl, setBlobUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!big) return;
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
    setBlobUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [big, html]);
  return big ? (blobUrl ?? '') : dataUrl;
}

/** Starts the download of a report's HTML (the list's Export button). */
function download(html: string, fileName: string): void {
  let href = reportDataUrl(html);
  let revoke = false;
  if (!fitsDataUrl(href)) {
    href = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
    revoke = true;
  }
  const a = document.createElement('a');
  a.href = href;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  if (revoke) setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/** The report as the core wrote it, in a sandboxed frame (no scripts, no same origin), with its export link. */
export function ReportView({ report, run, onClose }: { report: ShownReport; run: WizardRun | null; onClose?: () => void }) {
  const t = useT();
  const href = useDownloadHref(report.html);
  const sameRun = run && run.reportId === report.id ? run : null;
  const ms = recoveryMs(sameRun, report.summary);
  const fileName = reportFileName({ id: report.id, finishedAt: report.summary?.finishedAt ?? sameRun?.finishedAt ?? undefined });
  return (
    <section className="panel wizard-report" data-testid="wizard-report" data-report-id={report.id} aria-labelledby="wizard-report-title">
      <div className="screen-head">
        <h2 id="wizard-report-title">{t('report.title')}</h2>
        {onClose && (
          <button type="button" className="small" data-testid="wizard-report-close" onClick={onClose}>
            {t('report.close')}
          </button>
        )}
      </div>
      {ms !== null && (
        <p className="wizard-recovery-time strong" data-testid="wizard-recovery-time" data-ms={ms}>
          {t('wizard.recoveryTime', { time: durationText(t, ms) })}
        </p>
      )}
      <p className="wizard-report-export-row">
        <a className="button-link primary" data-testid="wizard-report-export" href={href} download={fileName}>
          <span aria-hidden="true">↓</span> {t('report.export')}
        </a>{' '}
        <span className="muted small-text">{t('report.exportHint')}</span>
        {inDesktopApp() && <PdfExport id={report.id} fileName={fileName.replace(/\.html$/, '.pdf')} />}
      </p>
      <iframe className="wizard-report-frame" title={t('report.frameTitle')} sandbox="" srcDoc={report.html} />
    </section>
  );
}

/** Electron can print: the desktop app offers the report as PDF too. */
function inDesktopApp(): boolean {
  return typeof window !== 'undefined' && 'lifeline' in window && Boolean((window as unknown as { lifeline?: unknown }).lifeline);
}

function PdfExport({ id, fileName }: { id: string; fileName: string }) {
  const t = useT();
  const [href, setHref] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (href) {
    return (
      <a className="button-link" data-testid="wizard-report-pdf" href={href} download={fileName}>
        {t('report.pdfReady')}
      </a>
    );
  }
  return (
    <>
      <button
        type="button"
        className="small"
        data-testid="wizard-report-pdf-make"
        onClick={() =>
          void bridge
            .invoke('reports.pdf', { id })
            .then((r) => setHref(`data:application/pdf;base64,${r.pdfBase64}`))
            .catch((err: Error) => setError(err.message))
        }
      >
        {t('report.pdf')}
      </button>
      {error && <span className="error small-text">{error}</span>}
    </>
  );
}

/** Past recovery reports, newest first, each to open or export. */
export function ReportList() {
  const t = useT();
  const reports = useWizard((s) => s.reports);
  const loading = useWizard((s) => s.reportsLoading);
  const error = useWizard((s) => s.reportsError);
  const loadReports = useWizard((s) => s.loadReports);
  const openReport = useWizard((s) => s.openReport);
  const reportHtml = useWizard((s) => s.reportHtml);
  const opening = useWizard((s) => s.reportLoading);
  const shown = useWizard((s) => s.report?.id ?? null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);

  useEffect(() => {
    void loadReports();
  }, [loadReports]);

  const exportReport = async (r: ReportSummary) => {
    setExporting(r.id);
    setExportError(null);
    try {
      download(await reportHtml(r.id), reportFileName(r));
    } catch (err) {
      setExportError(err instanceof Error ? err.message : String(err));
    } finally {
      setExporting(null);
    }
  };

  return (
    <section className="panel wizard-reports" data-testid="wizard-reports" aria-labelledby="wizard-reports-title">
      <div className="screen-head">
        <h2 id="wizard-reports-title">{t('reports.title')}</h2>
        <button type="button" className="small" data-testid="reports-refresh" onClick={() => void loadReports()} disabled={loading}>
          {t('reports.refresh')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('reports.error', { message: error })} testId="reports-error" />
      )}
      {exportError && (
        <ErrorNote text={t('reports.exportError', { message: exportError })} />
      )}
      {reports === null ? (
        loading && (
          <Loading text={t('reports.loading')} />
        )
      ) : reports.length === 0 ? (
        <p className="muted" data-testid="reports-none">
          {t('reports.none')}
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>{t('reports.col.finished')}</th>
              <th>{t('reports.col.operator')}</th>
              <th>{t('reports.col.time')}</th>
              <th>{t('reports.col.result')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr key={r.id} data-testid="report-row" data-id={r.id} data-ok={String(r.ok)} className={shown === r.id ? 'selected' : undefined}>
                <td className="nowrap">{formatDateTime(r.finishedAt)}</td>
                <td>{r.operator}</td>
                <td className="nowrap">{durationText(t, r.recoveryMs)}</td>
                <td className="nowrap">
                  {r.ok ? <span className="ok-text strong">✓ {t('reports.ok')}</span> : <span className="warn-only strong">! {t('reports.notOk')}</span>}
                </td>
                <td className="actions nowrap">
                  <button type="button" className="small" data-testid="report-open" disabled={opening !== null} onClick={() => void openReport(r.id)}>
                    {opening === r.id && <span className="spinner spinner-inline" aria-hidden="true" />}
                    {t('reports.open')}
                  </button>{' '}
                  <button type="button" className="small" data-testid="report-export" disabled={exporting !== null} onClick={() => void exportReport(r)}>
                    {exporting === r.id && <span className="spinner spinner-inline" aria-hidden="true" />}
                    {t('reports.export')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The report shown (if any), its loading state and error. */
export function ShownReportView({ run, closable }: { run: WizardRun | null; closable: boolean }) {
  const t = useT();
  const report = useWizard((s) => s.report);
  const loading = useWizard((s) => s.reportLoading);
  const error = useWizard((s) => s.reportError);
  const closeReport = useWizard((s) => s.closeReport);
  return (
    <>
      {loading && (
        <Loading text={t('report.loading')} testId="report-loading" />
      )}
      {error && (
        <ErrorNote text={t('report.error', { message: error })} testId="report-error" />
      )}
      {report && <ReportView report={report} run={run} onClose={closable ? closeReport : undefined} />}
    </>
  );
}
