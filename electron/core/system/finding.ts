/**
 * Shared result type of the recovery wizard's checks (hardware, storage, Docker, …).
 * Messages are English; the console translates `code` and shows `message`.
 */
export type Severity = 'ok' | 'warn' | 'fail' | 'info';

export interface FindingAction {
  id: string;
  label: string;
  /** safe actions run on one click; destructive ones need confirmation and a rollback point */
  destructive: boolean;
}

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  /** what was seen: command output excerpts, numbers */
  evidence: string[];
  /** plain-language advice for the operator's hands, e.g. "wait 30 seconds before powering a disk back on" */
  advice?: string;
  actions: FindingAction[];
}

export interface CheckResult {
  status: 'ok' | 'warn' | 'fail' | 'skipped';
  findings: Finding[];
  durationMs: number;
}

/** Status of a step from its findings: fail > warn > ok; 'skipped' when there were no checks to run. */
export function statusOf(findings: Finding[]): CheckResult['status'] {
  if (findings.length === 0) return 'skipped';
  if (findings.some((f) => f.severity === 'fail')) return 'fail';
  if (findings.some((f) => f.severity === 'warn')) return 'warn';
  return 'ok';
}
