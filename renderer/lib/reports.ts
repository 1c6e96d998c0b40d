// Exporting a recovery report: the report's HTML as a `data:` URL for an `<a download>` link
// (the console's Content-Security-Policy allows no other kind of download it could build),
// and the file name it gets. Pure.
import type { ReportSummary } from '../../electron/api/contract.js';

const DATA_URL_PREFIX = 'data:text/html;charset=utf-8,';

/**
 * Chromium refuses URLs longer than 2 MiB; above this many characters the console uses a
 * `blob:` URL instead (see ReportPanel). A report is normally far below it.
 */
export const MAX_DATA_URL_CHARS = 2 * 1024 * 1024 - 1024;

/** Replaces unpaired UTF-16 surrogates (which encodeURIComponent refuses) by U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** The report as a `data:text/html;charset=utf-8,…` URL, percent-encoded as UTF-8. */
export function reportDataUrl(html: string): string {
  return DATA_URL_PREFIX + encodeURIComponent(wellFormed(html));
}

/** The HTML back from such a URL (null when it is not one). */
export function htmlOfDataUrl(url: string): string | null {
  if (!url.startsWith(DATA_URL_PREFIX)) return null;
  try {
    return decodeURIComponent(url.slice(DATA_URL_PREFIX.length));
  } catch {
    return null;
  }
}

export function fitsDataUrl(url: string): boolean {
  return url.length <= MAX_DATA_URL_CHARS;
}

/** `lifeline-recovery-report-2025-03-04-0312.html` (from the report's end time), or by id. */
export function reportFileName(report: Pick<ReportSummary, 'id'> & Partial<Pick<ReportSummary, 'finishedAt'>>): string {
  const t = report.finishedAt ? new Date(report.finishedAt) : null;
  if (t && !Number.isNaN(t.getTime())) {
    const p = (n: number) => String(n).padStart(2, '0');
    return `lifeline-recovery-report-${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}-${p(t.getHours())}${p(t.getMinutes())}.html`;
  }
  const safe = report.id.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80) || 'report';
  return `lifeline-recovery-report-${safe}.html`;
}

/** Newest first. */
export function sortReports<R extends Pick<ReportSummary, 'finishedAt' | 'id'>>(reports: readonly R[]): R[] {
  return [...reports].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt) || b.id.localeCompare(a.id));
}
