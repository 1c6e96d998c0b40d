// Prometheus metrics (text format via prom-client) for the site's monitoring: is each knowledge
// base loaded, how big, is a model loaded and how much memory the process holds, when the last
// verify ran and how it ended (with a count of failures in a row, for "three failed checks in
// a row" alerts), last backup, golden pass ratio, jobs.
import client from 'prom-client';
import type { LifelineApp } from '../app.js';

export function createMetrics(app: Pick<LifelineApp, 'knowledge' | 'jobs' | 'db' | 'ready' | 'models'>): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ app: 'lifeline' });
  client.collectDefaultMetrics({ register: registry, prefix: 'lifeline_' });

  const gauge = (name: string, help: string, labelNames: string[], collect: (g: client.Gauge) => void | Promise<void>) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        await collect(this);
      },
    });

  gauge('lifeline_ready', '1 when ready to answer, 0 while initializing or failed', ['status', 'phase'], (g) => {
    const s = app.ready();
    g.set({ status: s.status, phase: s.phase }, s.status === 'ready' ? 1 : 0);
  });
  gauge('lifeline_kb_loaded', '1 when the knowledge base\'s vector segments are loaded', ['kb'], (g) => {
    for (const k of app.knowledge.listKbs()) g.set({ kb: k.name }, app.knowledge.isLoaded(k.name) ? 1 : 0);
  });
  gauge('lifeline_kb_chunks', 'Chunks per knowledge base', ['kb'], (g) => {
    for (const k of app.knowledge.listKbs()) g.set({ kb: k.name }, k.chunks);
  });
  gauge('lifeline_kb_documents', 'Documents per knowledge base', ['kb'], (g) => {
    for (const k of app.knowledge.listKbs()) g.set({ kb: k.name }, k.documents);
  });
  gauge('lifeline_kb_segments', 'Vector segments per knowledge base', ['kb'], (g) => {
    for (const r of app.db.prepare('SELECT k.name AS kb, count(s.id) AS n FROM kb k LEFT JOIN segment s ON s.kb_id = k.id WHERE k.deleted_at IS NULL GROUP BY k.name').all() as { kb: string; n: number }[]) g.set({ kb: r.kb }, r.n);
  });
  gauge('lifeline_model_loaded', '1 when the chat model is loaded in memory', ['model'], (g) => {
    const m = app.models.loadedChatModel();
    if (m) g.set({ model: m }, 1);
  });
  gauge('lifeline_last_verify_timestamp_seconds', 'When the data root was last verified', ['deep'], (g) => {
    for (const r of app.db.prepare('SELECT deep, max(at) AS at FROM verify_run GROUP BY deep').all() as { deep: number; at: string }[]) g.set({ deep: String(r.deep === 1) }, Date.parse(r.at) / 1000);
  });
  gauge('lifeline_last_verify_ok', '1 when the last verify found no error', [], (g) => {
    const r = app.db.prepare('SELECT ok FROM verify_run ORDER BY id DESC LIMIT 1').get() as { ok: number } | undefined;
    if (r) g.set(r.ok);
  });
  gauge('lifeline_verify_failures_in_a_row', 'Consecutive verify runs that found errors (alert at 3)', [], (g) => {
    const runs = app.db.prepare('SELECT ok FROM verify_run ORDER BY id DESC LIMIT 100').all() as { ok: number }[];
    let n = 0;
    for (const r of runs) {
      if (r.ok) break;
      n++;
    }
    g.set(n);
  });
  gauge('lifeline_last_backup_timestamp_seconds', 'When the last successful backup finished (0: never)', [], (g) => {
    const r = app.db.prepare("SELECT value FROM meta WHERE key = 'last_backup_at'").get() as { value: string } | undefined;
    g.set(r ? Date.parse(r.value) / 1000 : 0);
  });
  gauge('lifeline_golden_pass_ratio', 'Share of golden questions that passed in the last run', [], (g) => {
    const r = app.db.prepare("SELECT value FROM meta WHERE key = 'golden_pass_ratio'").get() as { value: string } | undefined;
    if (r) g.set(Number(r.value));
  });
  gauge('lifeline_jobs', 'Jobs by kind and state (running, and those recorded)', ['kind', 'state'], (g) => {
    for (const r of app.db.prepare('SELECT kind, state, count(*) AS n FROM job GROUP BY kind, state').all() as { kind: string; state: string; n: number }[]) g.set({ kind: r.kind, state: r.state }, r.n);
  });
  return registry;
}
