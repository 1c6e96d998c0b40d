// Health for monitoring: /healthz (alive), /readyz (initializing with phase and percent during a
// cold start — never a failure), /metrics in Prometheus text format.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeInfo, lifeline, serve } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe('health endpoints', () => {
  const t = tempDir();
  const data = path.join(t.dir, 'data');
  let server: ServeInfo | null = null;

  beforeAll(() => {
    // A knowledge base large enough that loading it takes a noticeable moment.
    const docs = path.join(t.dir, 'docs');
    fs.mkdirSync(docs);
    for (let i = 0; i < 300; i++) {
      const body = Array.from({ length: 60 }, (_, p) => `## 第${p}节\n第${i}号规程第${p}节：检查${(i * 13 + p) % 97}号机柜的电源与磁盘指示灯，记录读数${i * 1000 + p}。`).join('\n\n');
      fs.writeFileSync(path.join(docs, `proc-${i}.md`), `# 规程 ${i}\n\n${body}\n`);
    }
    expect(lifeline(['kb', 'create', 'ops', '--data', data, '--no-demo']).status).toBe(0);
    expect(lifeline(['ingest', docs, '--kb', 'ops', '--data', data], { timeoutMs: 240_000 }).status).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    t.cleanup();
  });

  it('reports "initializing" with a phase and percent during a cold start, then "ready" — never a failure', async () => {
    server = await serve(['--data', data]);
    const seen: { status: number; state: string; phase: string; percent: number }[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = await get(`${server.url}readyz`);
      const body = JSON.parse(r.body);
      seen.push({ status: r.status, state: body.status, phase: body.phase, percent: body.percent });
      if (body.status === 'ready') break;
    }
    expect(seen.every((s) => s.status === 200 && s.state !== 'failed')).toBe(true);
    expect(seen.some((s) => s.state === 'initializing' && s.phase.length > 0)).toBe(true);
    expect(seen[seen.length - 1]!.state).toBe('ready');
    const percents = seen.map((s) => s.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents); // progress only goes forward
    expect((await get(`${server.url}healthz`)).status).toBe(200);
  }, 60_000);

  it('exports Prometheus metrics per knowledge base, verify results and jobs', async () => {
    const m = (await get(`${server!.url}metrics`)).body;
    expect(m).toMatch(/lifeline_ready\{[^}]*status="ready"[^}]*\} 1/);
    expect(m).toMatch(/lifeline_kb_chunks\{[^}]*kb="ops"[^}]*\} 18000/);
    expect(m).toMatch(/lifeline_kb_loaded\{[^}]*kb="ops"[^}]*\} 1/);
    expect(m).toMatch(/lifeline_kb_segments\{[^}]*kb="ops"/);
    expect(m).toMatch(/lifeline_verify_failures_in_a_row\{[^}]*\} 0/);
    expect(m).toMatch(/lifeline_last_backup_timestamp_seconds\{[^}]*\} 0/);
    expect(m).toMatch(/lifeline_process_resident_memory_bytes/);
    expect(m).toMatch(/lifeline_jobs\{[^}]*kind="ingest"/);
  });
});
