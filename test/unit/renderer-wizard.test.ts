import { describe, expect, it } from 'vitest';
import type { Finding, JobRecord, WizardRun, WizardStep } from '../../electron/api/contract.js';
import { dictionaries, translate } from '../../renderer/i18n/index.js';
import {
  SEVERITIES,
  STEP_HANDS,
  STEP_STATUSES,
  WIZARD_STEPS,
  countFindings,
  currentStep,
  isStepId,
  newActiveJobs,
  newAuditEntries,
  nextStep,
  normalizeSeverity,
  normalizeStepStatus,
  openIssues,
  previousStep,
  progressOf,
  recoveryMs,
  severityIcon,
  severityLabelKey,
  severityTone,
  sortFindings,
  statusOfFindings,
  stepChecksKey,
  stepIndex,
  stepNumber,
  stepStatusIcon,
  stepStatusLabelKey,
  stepStatusTone,
  stepSummaryKey,
  stepTitleKey,
  stepsOf,
} from '../../renderer/lib/wizard.js';
import { MAX_DATA_URL_CHARS, fitsDataUrl, htmlOfDataUrl, reportDataUrl, reportFileName, sortReports, wellFormed } from '../../renderer/lib/reports.js';
import {
  DEFAULT_MAX_LATENCY_MS,
  checkQuestionForm,
  defaultGoldenKb,
  duplicateIds,
  emptyForm,
  formOfQuestion,
  goldenKbChoices,
  parseLatency,
  passPercent,
  removeQuestion,
  setToSave,
  splitFacts,
  splitNames,
  uniqueId,
  upsertQuestion,
  type QuestionForm,
} from '../../renderer/lib/golden.js';

function finding(code: string, severity: Finding['severity']): Finding {
  return { code, severity, message: code, evidence: [], actions: [] };
}

function step(id: WizardStep['id'], status: WizardStep['status'], findings: Finding[] = []): WizardStep {
  return { id, status, findings, checkedAt: status === 'pending' ? null : '2025-01-01T03:00:00Z', durationMs: 10 };
}

function run(patch: Partial<WizardRun> = {}): WizardRun {
  return {
    id: 'r1',
    operator: 'Zhang Wei',
    startedAt: '2025-01-01T03:00:00.000Z',
    finishedAt: null,
    current: 'hardware',
    steps: [],
    audit: [],
    uncleanShutdown: true,
    reportId: null,
    ...patch,
  };
}

function job(id: string, state: JobRecord['state'], startedAt = '2025-01-01T03:00:00Z'): JobRecord {
  return { id, kind: 'k', title: id, state, done: 0, total: 0, bytesDone: 0, bytesTotal: 0, etaMs: null, message: '', startedAt, finishedAt: null, error: null };
}

describe('the order of the recovery steps', () => {
  it('walks hardware first and the report last, eight steps in all', () => {
    expect(WIZARD_STEPS).toEqual(['hardware', 'storage', 'services', 'models', 'integrity', 'golden', 'restore', 'report']);
    expect(stepIndex('hardware')).toBe(0);
    expect(stepNumber('services')).toBe(3);
    expect(stepNumber('report')).toBe(8);
  });

  it('computes the next and the previous step; none after the report or before hardware', () => {
    expect(nextStep('hardware')).toBe('storage');
    expect(nextStep('integrity')).toBe('golden');
    expect(nextStep('restore')).toBe('report');
    expect(nextStep('report')).toBeNull();
    expect(previousStep('storage')).toBe('hardware');
    expect(previousStep('hardware')).toBeNull();
    // Every step but the last has a next one, and walking next from the first visits all of them in order.
    const walked = [];
    for (let s: string | null = 'hardware'; s; s = nextStep(s)) walked.push(s);
    expect(walked).toEqual(WIZARD_STEPS);
  });

  it('treats a step it does not know (a newer core) as the start', () => {
    expect(isStepId('network')).toBe(false);
    expect(stepIndex('network')).toBe(-1);
    expect(nextStep('network')).toBe('hardware');
    expect(currentStep(run({ current: 'network' as WizardRun['current'] }))).toBe('hardware');
    expect(currentStep(run({ current: 'golden' }))).toBe('golden');
  });

  it('lists the run’s steps in wizard order, filling the ones not sent yet as not checked', () => {
    const steps = stepsOf(run({ steps: [step('golden', 'fail'), step('hardware', 'ok')] }));
    expect(steps.map((s) => s.id)).toEqual(WIZARD_STEPS);
    expect(steps.map((s) => s.status)).toEqual(['ok', 'pending', 'pending', 'pending', 'pending', 'fail', 'pending', 'pending']);
    expect(stepsOf(null)).toHaveLength(8);
  });

  it('counts the steps checked and what is still open before the report', () => {
    const r = run({ steps: [step('hardware', 'ok'), step('storage', 'warn'), step('services', 'fail'), step('restore', 'skipped'), step('report', 'ok')] });
    expect(progressOf(r)).toEqual({ checked: 4, total: 7 });
    expect(openIssues(r)).toEqual({ failing: ['services'], warning: ['storage'], unchecked: ['models', 'integrity', 'golden'] });
  });
});

describe('severity and status in colour, icon and words', () => {
  it('gives every severity its own tone, icon and label in both languages', () => {
    const icons = new Set<string>();
    for (const s of SEVERITIES) {
      expect(severityTone(s)).toBe(s);
      icons.add(severityIcon(s));
      for (const locale of ['zh-CN', 'en'] as const) expect(translate(locale, severityLabelKey(s))).not.toMatch(/^wizard\./);
    }
    expect(icons.size).toBe(SEVERITIES.length);
    expect(severityIcon('fail')).toBe('✕');
    expect(translate('en', severityLabelKey('warn'))).toBe('Warning');
    expect(translate('zh-CN', severityLabelKey('fail'))).toBe('故障');
  });

  it('shows a severity it does not know as information, never hides it', () => {
    expect(normalizeSeverity('critical')).toBe('info');
    expect(severityTone('critical')).toBe('info');
    expect(severityLabelKey('critical')).toBe('wizard.severity.info');
  });

  it('gives every step status its own tone, icon and label; an unknown status is not checked', () => {
    const icons = new Set(STEP_STATUSES.map(stepStatusIcon));
    expect(icons.size).toBe(STEP_STATUSES.length);
    for (const s of STEP_STATUSES) {
      expect(stepStatusTone(s)).toBe(s);
      expect(translate('en', stepStatusLabelKey(s))).not.toMatch(/^wizard\./);
    }
    expect(normalizeStepStatus('running')).toBe('pending');
    expect(translate('en', stepStatusLabelKey('skipped'))).toBe('Skipped');
  });

  it('adds findings up to a status like the core: fail over warn over ok, nothing is skipped', () => {
    expect(statusOfFindings([])).toBe('skipped');
    expect(statusOfFindings([finding('a', 'ok'), finding('b', 'info')])).toBe('ok');
    expect(statusOfFindings([finding('a', 'ok'), finding('b', 'warn')])).toBe('warn');
    expect(statusOfFindings([finding('a', 'warn'), finding('b', 'fail')])).toBe('fail');
  });

  it('lists problems first and keeps the core’s order within a severity', () => {
    const sorted = sortFindings([finding('ok1', 'ok'), finding('w1', 'warn'), finding('i1', 'info'), finding('f1', 'fail'), finding('w2', 'warn'), finding('f2', 'fail')]);
    expect(sorted.map((f) => f.code)).toEqual(['f1', 'f2', 'w1', 'w2', 'i1', 'ok1']);
    expect(countFindings(sorted)).toEqual({ fail: 2, warn: 2, info: 1, ok: 1 });
  });
});

describe('operator text for every step', () => {
  it('has a title, a summary, what it checks and what to do by hand, in both languages, each different', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const titles = new Set<string>();
      for (const id of WIZARD_STEPS) {
        titles.add(translate(locale, stepTitleKey(id)));
        for (const key of [stepSummaryKey(id), stepChecksKey(id), ...STEP_HANDS[id]]) {
          expect(Object.keys(dictionaries[locale]), key).toContain(key);
          expect(translate(locale, key).length, key).toBeGreaterThan(5);
        }
        expect(STEP_HANDS[id].length).toBeGreaterThanOrEqual(3);
      }
      expect(titles.size).toBe(WIZARD_STEPS.length);
    }
  });

  it('tells the operator the hard-won lessons: 30 seconds before disks, port 7860, the Backups screen', () => {
    const en = (keys: readonly Parameters<typeof translate>[1][]) => keys.map((k) => translate('en', k)).join(' ');
    const zh = (keys: readonly Parameters<typeof translate>[1][]) => keys.map((k) => translate('zh-CN', k)).join(' ');
    expect(en(STEP_HANDS.hardware)).toMatch(/30 seconds/);
    expect(en(STEP_HANDS.hardware)).toMatch(/RAID lights/);
    expect(zh(STEP_HANDS.hardware)).toMatch(/30 秒/);
    expect(en([stepChecksKey('services'), ...STEP_HANDS.services])).toMatch(/7860/);
    expect(en(STEP_HANDS.restore)).toMatch(/Backups screen/);
    expect(translate('en', 'unclean.title')).toMatch(/not shut down cleanly/);
    expect(translate('zh-CN', 'unclean.title')).toMatch(/停电/);
  });
});

describe('recovery time', () => {
  it('prefers the report’s own measure', () => {
    expect(recoveryMs(run({ finishedAt: '2025-01-01T05:00:00Z' }), { recoveryMs: 1234 })).toBe(1234);
  });

  it('measures from the run’s start to its end, or to now while it runs', () => {
    expect(recoveryMs(run({ finishedAt: '2025-01-01T04:30:05.000Z' }))).toBe(90 * 60_000 + 5000);
    expect(recoveryMs(run(), null, Date.parse('2025-01-01T03:00:10.000Z'))).toBe(10_000);
    expect(recoveryMs(run())).toBeNull();
    expect(recoveryMs(run({ startedAt: 'garbage', finishedAt: '2025-01-01T04:00:00Z' }))).toBeNull();
    expect(recoveryMs(null)).toBeNull();
  });
});

describe('the jobs and audit entries of one call', () => {
  it('finds the active jobs that appeared since the call started', () => {
    const jobs = { a: job('a', 'running'), b: job('b', 'running', '2025-01-01T03:00:02Z'), c: job('c', 'done'), d: job('d', 'queued', '2025-01-01T03:00:01Z') };
    expect(newActiveJobs(jobs, new Set(['a'])).map((j) => j.id)).toEqual(['d', 'b']);
  });

  it('takes the audit entries a call added', () => {
    expect(newAuditEntries([1, 2], [1, 2, 3, 4])).toEqual([3, 4]);
    expect(newAuditEntries(null, [1])).toEqual([1]);
    expect(newAuditEntries([1, 2, 3], [9])).toEqual([9]); // a different run: all of it
  });
});

describe('exporting a report', () => {
  it('encodes the HTML as a UTF-8 data URL that decodes back to the same text', () => {
    const html = '<!doctype html><meta charset="utf-8"><title>恢复报告 #1</title><p>100% ok & done? a=b;c,d \'q\' "x"</p>\n';
    const url = reportDataUrl(html);
    expect(url.startsWith('data:text/html;charset=utf-8,')).toBe(true);
    expect(url.slice('data:text/html;charset=utf-8,'.length)).not.toMatch(/[ #"<>\n]/);
    expect(url).toContain('%E6%81%A2'); // 恢 in UTF-8
    expect(url).toContain('%23'); // '#' would end the URL: it is encoded
    expect(htmlOfDataUrl(url)).toBe(html);
    expect(fitsDataUrl(url)).toBe(true);
  });

  it('survives text encodeURIComponent refuses (lone surrogates)', () => {
    expect(wellFormed('a\uD800b\uDC00c😀')).toBe('a\uFFFDb\uFFFDc😀');
    expect(() => reportDataUrl('x\uD800')).not.toThrow();
    expect(htmlOfDataUrl(reportDataUrl('x\uD800'))).toBe('x\uFFFD');
    expect(htmlOfDataUrl('data:text/plain,hello')).toBeNull();
  });

  it('knows when a report is too long for a data URL', () => {
    expect(fitsDataUrl('x'.repeat(MAX_DATA_URL_CHARS))).toBe(true);
    expect(fitsDataUrl('x'.repeat(MAX_DATA_URL_CHARS + 1))).toBe(false);
  });

  it('names the file after the report’s end time, or a cleaned id', () => {
    const local = new Date(2025, 2, 4, 3, 12);
    expect(reportFileName({ id: 'x', finishedAt: local.toISOString() })).toBe('lifeline-recovery-report-2025-03-04-0312.html');
    expect(reportFileName({ id: '../a b/c' })).toBe('lifeline-recovery-report-a-b-c.html');
    expect(reportFileName({ id: '///' })).toBe('lifeline-recovery-report-report.html');
  });

  it('lists reports newest first', () => {
    const list = sortReports([
      { id: 'a', finishedAt: '2025-01-01T00:00:00Z' },
      { id: 'b', finishedAt: '2025-03-01T00:00:00Z' },
      { id: 'c', finishedAt: '2025-02-01T00:00:00Z' },
    ]);
    expect(list.map((r) => r.id)).toEqual(['b', 'c', 'a']);
  });
});

describe('the golden question form', () => {
  const form = (patch: Partial<QuestionForm> = {}): QuestionForm => ({ ...emptyForm(), question: '女职工产假有多少天？', sources: '请假制度.md', ...patch });

  it('splits comma lists: ASCII and full-width commas, 、 and new lines; trims, drops empties and repeats', () => {
    expect(splitNames(' a.md, b.md ,,c.md，d.md、e.md\nf.md, a.md ')).toEqual(['a.md', 'b.md', 'c.md', 'd.md', 'e.md', 'f.md']);
    expect(splitNames('  ,  ')).toEqual([]);
    // A fact may hold a full-width comma: only ASCII commas and new lines separate facts.
    expect(splitFacts('每日三次，饭后服用, 500mg\n158天')).toEqual(['每日三次，饭后服用', '500mg', '158天']);
  });

  it('accepts only a positive whole number of milliseconds as the latency limit', () => {
    expect(parseLatency('2000')).toBe(2000);
    expect(parseLatency(' 2 000 ')).toBe(2000);
    expect(parseLatency('0')).toBeNull();
    expect(parseLatency('-5')).toBeNull();
    expect(parseLatency('1.5')).toBeNull();
    expect(parseLatency('2s')).toBeNull();
    expect(parseLatency('')).toBeNull();
    expect(parseLatency('99999999999999999999')).toBeNull();
  });

  it('builds a question from a valid form', () => {
    const check = checkQuestionForm(form({ id: 'leave-maternity', facts: '158天', tags: 'policy, number', latency: '2000' }), []);
    expect(check.errors).toEqual({});
    expect(check.question).toEqual({
      id: 'leave-maternity',
      question: '女职工产假有多少天？',
      expectedSources: ['请假制度.md'],
      mustContain: ['158天'],
      tags: ['policy', 'number'],
      maxLatencyMs: 2000,
    });
    expect(emptyForm().latency).toBe(String(DEFAULT_MAX_LATENCY_MS));
  });

  it('refuses a taken id, a malformed id, an empty question, a bad latency, and a question that checks nothing', () => {
    expect(checkQuestionForm(form({ id: 'q-1' }), ['q-1']).errors.id).toBe('golden.err.idTaken');
    expect(checkQuestionForm(form({ id: 'has space' }), []).errors.id).toBe('golden.err.idFormat');
    expect(checkQuestionForm(form({ question: '   ' }), []).errors.question).toBe('golden.err.question');
    expect(checkQuestionForm(form({ latency: '0' }), []).errors.latency).toBe('golden.err.latency');
    expect(checkQuestionForm(form({ latency: 'fast' }), []).errors.latency).toBe('golden.err.latency');
    const nothing = checkQuestionForm(form({ sources: ' , ', facts: '' }), []);
    expect(nothing.errors.sources).toBe('golden.err.nothingChecked');
    expect(nothing.question).toBeNull();
    // Facts alone are enough.
    expect(checkQuestionForm(form({ sources: '', facts: '158天' }), []).question).not.toBeNull();
  });

  it('makes up a unique id when none is typed', () => {
    expect(checkQuestionForm(form(), ['q-1', 'q-2']).question?.id).toBe('q-3');
    expect(uniqueId([])).toBe('q-1');
    expect(uniqueId(['leave'], 'Leave')).toBe('leave-1');
    expect(uniqueId([], 'Leave Days')).toBe('leave-days');
  });

  it('round-trips a question through the form', () => {
    const q = { id: 'drug', question: 'Q?', expectedSources: ['a.md', 'b.md'], mustContain: ['500mg'], tags: ['drug'], maxLatencyMs: 1500 };
    expect(checkQuestionForm(formOfQuestion(q), []).question).toEqual(q);
  });

  it('adds, replaces and deletes questions, and finds duplicate ids', () => {
    const a = { id: 'a', question: 'A', expectedSources: ['x'], mustContain: [], tags: [], maxLatencyMs: 1 };
    const b = { ...a, id: 'b', question: 'B' };
    const b2 = { ...b, id: 'b2', question: 'B2' };
    let qs = upsertQuestion([], a, null);
    qs = upsertQuestion(qs, b, null);
    qs = upsertQuestion(qs, b2, 'b');
    expect(qs.map((q) => q.id)).toEqual(['a', 'b2']);
    expect(removeQuestion(qs, 'a').map((q) => q.id)).toEqual(['b2']);
    expect(duplicateIds([a, b, a, b, a])).toEqual(['a', 'b']);
    expect(duplicateIds([a, b])).toEqual([]);
  });

  it('raises the version when the questions change and starts a new set at 1', () => {
    const a = { id: 'a', question: 'A', expectedSources: ['x'], mustContain: [], tags: [], maxLatencyMs: 1 };
    const loaded = { kb: 'demo', version: 3, questions: [a] };
    expect(setToSave('demo', loaded, [a]).version).toBe(3);
    expect(setToSave('demo', loaded, [{ ...a, question: 'A2' }]).version).toBe(4);
    expect(setToSave('new', null, [a])).toEqual({ kb: 'new', version: 1, questions: [a] });
  });

  it('offers every knowledge base and every set, and picks one with questions first', () => {
    const sets = [
      { kb: 'zeta', version: 1, questions: [] },
      { kb: 'demo', version: 1, questions: [{ id: 'a', question: 'A', expectedSources: ['x'], mustContain: [], tags: [], maxLatencyMs: 1 }] },
    ];
    const choices = goldenKbChoices(sets, [{ name: 'cardiology' }, { name: 'demo' }]);
    expect(choices).toEqual(['cardiology', 'demo', 'zeta']);
    expect(defaultGoldenKb(sets, choices)).toBe('demo');
    expect(defaultGoldenKb([], ['x'])).toBe('x');
    expect(defaultGoldenKb(null, [])).toBe('');
    expect(passPercent({ passed: 3, total: 4 })).toBe(75);
    expect(passPercent({ passed: 0, total: 0 })).toBe(0);
  });
});

describe('durations for the record', () => {
  it('writes hours, minutes and seconds in words, never an ambiguous clock', async () => {
    const { durationMessage, durationText } = await import('../../renderer/lib/wizard.js');
    expect(durationMessage(12_400)).toEqual({ key: 'wizard.duration.s', params: { s: 12 } });
    expect(durationMessage(200_000)).toEqual({ key: 'wizard.duration.ms', params: { m: 3, s: 20 } });
    expect(durationMessage(74 * 60_000 + 5000)).toEqual({ key: 'wizard.duration.hms', params: { h: 1, m: 14, s: 5 } });
    expect(durationMessage(Number.NaN).key).toBe('wizard.duration.unknown');
    expect(durationText((k, p) => translate('en', k, p), 2 * 3600_000)).toBe('2 h 0 min 0 s');
    expect(durationText((k, p) => translate('zh-CN', k, p), 200_000)).toBe('3 分 20 秒');
  });
});
