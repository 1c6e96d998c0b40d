// The Chatchat rescue screen's pure logic: vector-store status → tone/label/explanation, the
// default import target, and a one-line summary of a report. No React, no DOM.
import type { ChatchatImportResult, ChatchatReport, ChatchatVectorStore } from '../../electron/api/contract.js';
import type { MessageKey } from '../i18n/index.js';
import type { Tone } from './health.js';

export type StoreStatus = ChatchatVectorStore['status'];
export type ChatchatKb = ChatchatReport['knowledgeBases'][number];

export const STORE_STATUSES: readonly StoreStatus[] = ['ok', 'missing-index', 'missing-docstore', 'mismatch', 'corrupt'];

function isStoreStatus(status: string): status is StoreStatus {
  return (STORE_STATUSES as readonly string[]).includes(status);
}

const STORE_TONE: Record<StoreStatus, Tone> = {
  ok: 'ok',
  // The documents can still be rescued from the docstore: serious, but not lost.
  'missing-index': 'warn',
  'missing-docstore': 'fail',
  mismatch: 'warn',
  corrupt: 'fail',
};

export function storeTone(status: string): Tone {
  return isStoreStatus(status) ? STORE_TONE[status] : 'unknown';
}

export function storeIcon(status: string): string {
  const tone = storeTone(status);
  return tone === 'ok' ? '✓' : tone === 'warn' ? '!' : tone === 'fail' ? '✕' : '?';
}

/** The badge text of a status. */
export function storeStatusKey(status: string): MessageKey {
  return isStoreStatus(status) ? `chatchat.status.${status}` : 'chatchat.status.unknown';
}

/** What the status means, in plain words. */
export function storeExplainKey(status: string): MessageKey {
  return isStoreStatus(status) ? `chatchat.explain.${status}` : 'chatchat.explain.unknown';
}

export function importSourceKey(source: string): MessageKey {
  return source === 'original' || source === 'docstore' || source === 'mixed' ? `chatchat.source.${source}` : 'chatchat.source.unknown';
}

/** The Lifeline knowledge base a Chatchat knowledge base is imported into, unless the operator types another. */
export function defaultImportTarget(chatchatKb: string): string {
  return chatchatKb.trim();
}

export interface ReportSummary {
  knowledgeBases: number;
  stores: number;
  ok: number;
  /** Stores that are not ok. */
  damaged: number;
  vectors: number;
}

export function summarizeReport(report: ChatchatReport): ReportSummary {
  let stores = 0;
  let ok = 0;
  let vectors = 0;
  for (const kb of report.knowledgeBases) {
    for (const s of kb.vectorStores) {
      stores++;
      if (s.status === 'ok') ok++;
      if (typeof s.vectors === 'number' && Number.isFinite(s.vectors)) vectors += s.vectors;
    }
  }
  return { knowledgeBases: report.knowledgeBases.length, stores, ok, damaged: stores - ok, vectors };
}

/** The last folder name of a path (either separator), for a hint. */
export function lastSegment(dir: string): string {
  const parts = dir.trim().split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

/** True when the import brought everything over (nothing failed, nothing left behind). */
export function importComplete(result: ChatchatImportResult): boolean {
  return result.failed.length === 0 && result.notBroughtOver.length === 0;
}
