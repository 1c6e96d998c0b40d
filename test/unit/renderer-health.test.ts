import { describe, expect, it } from 'vitest';
import type { ChatchatReport, JobRecord, ModelSummary, VerifyResult, VerifyRun } from '../../electron/api/contract.js';
import { dictionaries, translate } from '../../renderer/i18n/index.js';
import {
  AUTO_REPAIR_KINDS,
  COMPONENT_IDS,
  HEALTH_STATUSES,
  REPAIR_KINDS,
  canRepair,
  componentLabelKey,
  countSeverities,
  latestRun,
  normalizeStatus,
  repairKindKey,
  runOf,
  runTone,
  sortProblems,
  statusIcon,
  statusLabelKey,
  statusTone,
  trendLayout,
} from '../../renderer/lib/health.js';
import {
  STORE_STATUSES,
  defaultImportTarget,
  importComplete,
  importSourceKey,
  lastSegment,
  storeExplainKey,
  storeStatusKey,
  storeTone,
  summarizeReport,
} from '../../renderer/lib/chatchat.js';
import { DEFAULT_EMBEDDER, chatModels, embedderChoiceOf, embedderFileOf, embeddingModels } from '../../renderer/lib/models.js';
import { findJob } from '../../renderer/lib/jobs.js';

function run(at: string, patch: Partial<VerifyRun> = {}): VerifyRun {
  return { at, deep: false, ok: true, errors: 0, warnings: 0, durationMs: 100, ...patch };
}

describe('health status mapping', () => {
  it('gives every status its own tone, icon and label in both languages', () => {
    const icons = new Set<string>();
    for (const status of HEALTH_STATUSES) {
      expect(statusTone(status)).toBe(status);
      icons.add(statusIcon(status));
      for (const locale of ['zh-CN', 'en'] as const) expect(translate(locale, statusLabelKey(status))).not.toMatch(/^health\./);
    }
    expect(icons.size).toBe(HEALTH_STATUSES.length);
    expect(translate('en', statusLabelKey('ok'))).toBe('OK');
    expect(translate('zh-CN', statusLabelKey('fail'))).toBe('故障');
  });

  it('shows a status it does not know as unknown rather than breaking', () => {
    expect(normalizeStatus('degraded')).toBe('unknown');
    expect(statusTone('degraded')).toBe('unknown');
    expect(statusIcon('degraded')).toBe('?');
    expect(statusLabelKey('degraded')).toBe('health.status.unknown');
  });

  it('names every component, and an unknown one generically', () => {
    for (const id of COMPONENT_IDS) {
      const key = componentLabelKey(id);
      expect(key).not.toBeNull();
      expect(Object.keys(dictionaries.en)).toContain(key);
    }
    expect(componentLabelKey('network')).toBeNull();
  });
});

describe('repair kinds in plain words', () => {
  it('explains every repair kind in both languages, each differently', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const texts = REPAIR_KINDS.map((kind) => translate(locale, repairKindKey(kind), { kind }));
      expect(new Set(texts).size).toBe(REPAIR_KINDS.length);
      for (const text of texts) expect(text.length).toBeGreaterThan(5);
    }
  });

  it('points a restore at the Backups screen and a re-embed at the knowledge bases', () => {
    expect(translate('en', repairKindKey('restore'))).toMatch(/restore from a backup.*Backups screen/i);
    expect(translate('zh-CN', repairKindKey('restore'))).toMatch(/备份/);
    expect(translate('en', repairKindKey('reembed'))).toMatch(/Re-embed/);
    expect(translate('en', repairKindKey('rebuild'))).toMatch(/Repair/);
  });

  it('keeps an unknown kind readable, naming it', () => {
    expect(repairKindKey('teleport')).toBe('health.fix.unknown');
    expect(translate('en', repairKindKey('teleport'), { kind: 'teleport' })).toContain('teleport');
  });

  it('enables Repair only for what repair fixes by itself', () => {
    expect([...AUTO_REPAIR_KINDS].sort()).toEqual(['rebuild', 'resume', 'sweep']);
    expect(canRepair([])).toBe(false);
    expect(canRepair([{ repair: 'restore' }, { repair: 'reembed' }, { repair: 'none' }])).toBe(false);
    for (const repair of AUTO_REPAIR_KINDS) expect(canRepair([{ repair: 'restore' }, { repair }])).toBe(true);
  });

  it('lists errors before warnings and counts them', () => {
    const problems = [
      { code: 'a', severity: 'warning' as const },
      { code: 'b', severity: 'error' as const },
      { code: 'c', severity: 'warning' as const },
      { code: 'd', severity: 'error' as const },
    ];
    expect(sortProblems(problems).map((p) => p.code)).toEqual(['b', 'd', 'a', 'c']);
    expect(countSeverities(problems)).toEqual({ errors: 2, warnings: 2 });
  });
});

describe('verify runs', () => {
  const result: VerifyResult = {
    ok: false,
    deep: true,
    checked: {},
    durationMs: 1234,
    problems: [
      { code: 'segment-missing', severity: 'error', path: 'segments/1.faiss', message: 'gone', repair: 'rebuild' },
      { code: 'leftover-files', severity: 'warning', path: 'x.tmp', message: 'left', repair: 'sweep' },
    ],
  };

  it('turns a result into a history entry', () => {
    expect(runOf(result, '2025-01-01T00:00:00.000Z')).toEqual({ at: '2025-01-01T00:00:00.000Z', deep: true, ok: false, errors: 1, warnings: 1, durationMs: 1234 });
  });

  it('picks the newer of two runs', () => {
    const a = run('2025-01-01T10:00:00.000Z');
    const b = run('2025-01-01T11:00:00.000Z');
    expect(latestRun(a, b)).toBe(b);
    expect(latestRun(b, a)).toBe(b);
    expect(latestRun(null, a)).toBe(a);
    expect(latestRun(a, undefined)).toBe(a);
    expect(latestRun(null, null)).toBeNull();
  });

  it('colours a run by its outcome', () => {
    expect(runTone({ ok: true, errors: 0, warnings: 0 })).toBe('ok');
    expect(runTone({ ok: true, errors: 0, warnings: 2 })).toBe('warn');
    expect(runTone({ ok: false, errors: 1, warnings: 0 })).toBe('fail');
    expect(runTone({ ok: false, errors: 0, warnings: 0 })).toBe('fail');
  });
});

describe('the verify-history chart', () => {
  it('is empty without runs', () => {
    expect(trendLayout([], { width: 100, height: 50 }).bars).toEqual([]);
  });

  it('scales heights linearly to the longest run and stands bars on the bottom edge', () => {
    const history = [run('2025-01-01T00:00:00Z', { durationMs: 1000 }), run('2025-01-02T00:00:00Z', { durationMs: 500 }), run('2025-01-03T00:00:00Z', { durationMs: 250 })];
    const { bars, maxDurationMs } = trendLayout(history, { width: 300, height: 100, gap: 0, minBarHeight: 0 });
    expect(maxDurationMs).toBe(1000);
    expect(bars.map((b) => b.height)).toEqual([100, 50, 25]);
    for (const b of bars) expect(b.y + b.height).toBe(100);
  });

  it('orders runs by time, oldest left, and keeps only the newest maxBars', () => {
    const history = [run('2025-01-03T00:00:00Z'), run('2025-01-01T00:00:00Z'), run('2025-01-02T00:00:00Z'), run('2025-01-04T00:00:00Z')];
    const { bars } = trendLayout(history, { width: 400, height: 10, maxBars: 3 });
    expect(bars.map((b) => b.run.at)).toEqual(['2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z']);
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.x).toBeGreaterThan(bars[i - 1]!.x);
  });

  it('keeps every bar inside the chart, right-aligned, and visible however short', () => {
    const history = Array.from({ length: 12 }, (_, i) => run(new Date(Date.UTC(2025, 0, i + 1)).toISOString(), { durationMs: i === 0 ? 0 : i * 1000 }));
    const { bars } = trendLayout(history, { width: 240, height: 60, minBarHeight: 3 });
    expect(bars).toHaveLength(12);
    for (const b of bars) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(240 + 1e-9);
      expect(b.height).toBeGreaterThanOrEqual(3);
      expect(b.height).toBeLessThanOrEqual(60);
    }
    const last = bars[bars.length - 1]!;
    expect(last.x + last.width).toBeCloseTo(240 - 1, 5); // half the default gap of 2
  });

  it('does not stretch a single run across the chart', () => {
    const { bars } = trendLayout([run('2025-01-01T00:00:00Z')], { width: 500, height: 40 });
    expect(bars[0]!.width).toBeLessThanOrEqual(50);
    expect(bars[0]!.height).toBe(40);
  });

  it('treats missing or negative durations as zero and colours each bar', () => {
    const history = [run('2025-01-01T00:00:00Z', { durationMs: Number.NaN }), run('2025-01-02T00:00:00Z', { durationMs: -5, ok: false, errors: 1 }), run('2025-01-03T00:00:00Z', { durationMs: 0, warnings: 1 })];
    const { bars, maxDurationMs } = trendLayout(history, { width: 90, height: 30, minBarHeight: 2 });
    expect(maxDurationMs).toBe(0);
    expect(bars.map((b) => b.height)).toEqual([2, 2, 2]);
    expect(bars.map((b) => b.tone)).toEqual(['ok', 'fail', 'warn']);
  });
});

describe('Chatchat vector-store status', () => {
  it('labels and explains every status in both languages', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const labels = STORE_STATUSES.map((s) => translate(locale, storeStatusKey(s)));
      const explanations = STORE_STATUSES.map((s) => translate(locale, storeExplainKey(s)));
      expect(new Set(labels).size).toBe(STORE_STATUSES.length);
      expect(new Set(explanations).size).toBe(STORE_STATUSES.length);
    }
    expect(translate('en', storeExplainKey('missing-index'))).toMatch(/FAISS index file.*gone.*rescued by importing/);
    expect(translate('zh-CN', storeExplainKey('missing-index'))).toMatch(/index\.faiss.*导入/);
  });

  it('marks only ok as ok, and an unknown status as unknown', () => {
    expect(storeTone('ok')).toBe('ok');
    for (const s of STORE_STATUSES.filter((x) => x !== 'ok')) expect(storeTone(s)).not.toBe('ok');
    expect(storeTone('exploded')).toBe('unknown');
    expect(storeStatusKey('exploded')).toBe('chatchat.status.unknown');
    expect(storeExplainKey('exploded')).toBe('chatchat.explain.unknown');
  });

  it('names every import source', () => {
    for (const s of ['original', 'docstore', 'mixed']) expect(importSourceKey(s)).toBe(`chatchat.source.${s}`);
    expect(importSourceKey('other')).toBe('chatchat.source.unknown');
  });

  it('summarizes a report and defaults the import target to the Chatchat name', () => {
    const report: ChatchatReport = {
      ok: false,
      root: '/srv/chatchat/knowledge_base',
      knowledgeBases: [
        {
          name: 'samples',
          embedModel: 'bge-large-zh-v1.5',
          infoDb: { files: 1, docs: 323 },
          content: { present: 1, missing: 0 },
          vectorStores: [
            { path: 'a', indexType: 'IndexFlatL2', metric: 'L2', dimension: 1024, vectors: 323, documents: 323, idMap: 323, status: 'ok', problems: [] },
            { path: 'b', indexType: null, metric: null, dimension: null, vectors: null, documents: 10, idMap: 10, status: 'missing-index', problems: [] },
          ],
        },
      ],
    };
    expect(summarizeReport(report)).toEqual({ knowledgeBases: 1, stores: 2, ok: 1, damaged: 1, vectors: 323 });
    expect(defaultImportTarget(' samples ')).toBe('samples');
    expect(lastSegment('/srv/chatchat/knowledge_base/')).toBe('knowledge_base');
    expect(lastSegment('C:\\chatchat\\kb')).toBe('kb');
    expect(importComplete({ kb: 'x', source: 'original', imported: 1, failed: [], notBroughtOver: [] })).toBe(true);
    expect(importComplete({ kb: 'x', source: 'original', imported: 1, failed: [], notBroughtOver: [{ what: 'vectors', reason: 'recomputed' }] })).toBe(false);
  });
});

describe('models for the knowledge-base screen', () => {
  const model = (name: string, kind: ModelSummary['kind'], error?: string): ModelSummary => ({ name, bytes: 1, sha256: 'x', kind, architecture: null, ...(error ? { error } : {}) });
  const models = [model('bge.gguf', 'embedding'), model('sub/e5.gguf', 'embedding'), model('qwen.gguf', 'chat'), model('broken.gguf', 'embedding', 'bad header'), model('odd.gguf', 'unknown')];

  it('offers only usable models of each kind', () => {
    expect(embeddingModels(models).map((m) => m.name)).toEqual(['bge.gguf', 'sub/e5.gguf']);
    expect(chatModels(models).map((m) => m.name)).toEqual(['qwen.gguf']);
    expect(embeddingModels(null)).toEqual([]);
  });

  it('finds the embedder a knowledge base uses', () => {
    expect(embedderFileOf({ id: 'hash-v1' })).toBeNull();
    expect(embedderFileOf({ id: 'gguf:bge.gguf' })).toBe('bge.gguf');
    expect(embedderChoiceOf({ id: 'hash-v1' }, models)).toBe(DEFAULT_EMBEDDER);
    expect(embedderChoiceOf({ id: 'gguf:bge.gguf' }, models)).toBe('bge.gguf');
    expect(embedderChoiceOf({ id: 'gguf:e5.gguf' }, models)).toBe('sub/e5.gguf');
    expect(embedderChoiceOf({ id: 'gguf:gone.gguf' }, models)).toBe('gone.gguf');
  });
});

describe('finding the job of a long call', () => {
  const job = (id: string, patch: Partial<JobRecord>): JobRecord => ({
    id,
    kind: 'reembed',
    title: `Re-embed ${id}`,
    state: 'running',
    done: 0,
    total: 10,
    bytesDone: 0,
    bytesTotal: 0,
    etaMs: null,
    message: '',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    error: null,
    ...patch,
  });

  it('takes the newest job of the kind about the subject', () => {
    const jobs = {
      a: job('a', { title: 'Re-embed demo', state: 'done', startedAt: '2025-01-01T00:00:00.000Z' }),
      b: job('b', { title: 'Re-embed demo', startedAt: '2025-01-02T00:00:00.000Z' }),
      c: job('c', { title: 'Re-embed other', startedAt: '2025-01-03T00:00:00.000Z' }),
      d: job('d', { kind: 'ingest', title: 'Upload demo', startedAt: '2025-01-04T00:00:00.000Z' }),
    };
    expect(findJob(jobs, 'reembed', 'demo')?.id).toBe('b');
    expect(findJob(jobs, 'reembed')?.id).toBe('c');
    expect(findJob(jobs, 'reembed', 'demo', '2025-01-02T12:00:00.000Z')).toBeNull();
    expect(findJob(jobs, 'compact')).toBeNull();
  });
});
