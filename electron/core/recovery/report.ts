// The recovery report: a self-contained HTML page (no scripts, no external resources) with every
// step, finding, action, operator and timing, and the total recovery time — for the hospital's
// records. Stored under <data>/reports/, written atomically.
import path from 'node:path';
import type { ReportSummary, WizardRun } from '../../api/contract.js';
import { writeFileAtomic } from '../store/atomic.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function recoveryMs(run: WizardRun): number {
  return (run.finishedAt ? Date.parse(run.finishedAt) : Date.now()) - Date.parse(run.startedAt);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

export function renderReport(run: WizardRun, site: { version: string; dataRoot: string; host: string }): string {
  const ok = run.steps.every((s) => s.status !== 'fail');
  const steps = run.steps
    .map(
      (s) => `<section class="step ${s.status}">
  <h2>${esc(s.id)} — ${esc(s.status)}</h2>
  <p class="meta">${s.checkedAt ? `checked ${esc(s.checkedAt)}` : 'not checked'}${s.durationMs !== null ? `, ${s.durationMs} ms` : ''}</p>
  ${
    s.findings.length
      ? `<table><tr><th>severity</th><th>finding</th><th>message</th><th>evidence</th></tr>${s.findings
          .map((f) => `<tr class="${f.severity}"><td>${esc(f.severity)}</td><td>${esc(f.code)}</td><td>${esc(f.message)}${f.advice ? `<br><em>${esc(f.advice)}</em>` : ''}</td><td><pre>${esc(f.evidence.join('\n'))}</pre></td></tr>`)
          .join('')}</table>`
      : '<p>No findings.</p>'
  }
</section>`,
    )
    .join('\n');
  const audit = run.audit.map((a) => `<tr class="${a.ok ? 'ok' : 'fail'}"><td>${esc(a.at)}</td><td>${esc(a.operator)}</td><td>${esc(a.step ?? '')}</td><td>${esc(a.action)}</td><td>${esc(a.detail)}</td><td>${a.ok ? 'ok' : 'FAILED'}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lifeline recovery report ${esc(run.startedAt)}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;color:#111}
h1{margin-bottom:.2rem} .meta{color:#555} table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left;font-size:.9rem}
pre{margin:0;white-space:pre-wrap;font-size:.8rem} .fail td:first-child{color:#b00020;font-weight:bold}
.warn td:first-child{color:#a15c00;font-weight:bold} section.step{border-left:4px solid #999;padding-left:1rem;margin:1rem 0}
section.fail{border-color:#b00020} section.warn{border-color:#d98c00} section.ok{border-color:#1b7f3b}
.total{font-size:1.3rem}
</style></head><body>
<h1>Lifeline recovery report</h1>
<p class="meta">Operator: <strong>${esc(run.operator)}</strong> · host ${esc(site.host)} · Lifeline ${esc(site.version)} · data root ${esc(site.dataRoot)}</p>
<p class="total">Started ${esc(run.startedAt)} · finished ${esc(run.finishedAt ?? '(in progress)')} · <strong>recovery time ${esc(formatDuration(recoveryMs(run)))}</strong> · outcome: <strong>${ok ? 'verified' : 'problems remain'}</strong>${run.uncleanShutdown ? ' · after an unclean shutdown' : ''}</p>
${steps}
<h2>Audit log</h2>
<table><tr><th>time</th><th>operator</th><th>step</th><th>action</th><th>detail</th><th>result</th></tr>${audit}</table>
</body></html>
`;
}

export function writeReport(reportsDir: string, run: WizardRun, site: { version: string; dataRoot: string; host: string }): string {
  const id = `${run.startedAt.replace(/[:.]/g, '-')}-${run.id.slice(0, 8)}`;
  writeFileAtomic(path.join(reportsDir, `${id}.html`), renderReport(run, site));
  return id;
}

export function summarize(run: WizardRun): ReportSummary {
  return { id: run.reportId ?? '', runId: run.id, operator: run.operator, startedAt: run.startedAt, finishedAt: run.finishedAt ?? '', recoveryMs: recoveryMs(run), ok: run.steps.every((s) => s.status !== 'fail') };
}
