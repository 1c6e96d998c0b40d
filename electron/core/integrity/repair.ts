// `lifeline repair` and the self-healing start-up: rebuild what is derived (vector segments,
// approximate indexes, the full-text index) from the catalog, sweep leftovers, resume
// interrupted ingests — and refuse, with a clear finding, what only a restore can bring back
// (a damaged catalog, missing or damaged original documents).
import type { Db } from '../store/catalog.js';
import type { DataRootLayout } from '../store/dataRoot.js';
import { sweepLeftovers } from '../store/sweep.js';
import type { KnowledgeService } from '../kb/knowledge.js';
import { ensureAnnIndexes } from '../vectors/compaction.js';
import type { JobContext } from '../jobs/jobs.js';
import type { Problem, VerifyReport } from './verify.js';

export interface RepairAction {
  code: string;
  /** What was done, in the operator's words. */
  action: string;
  kb?: string;
  ok: boolean;
  error?: string;
}

export interface RepairReport {
  ok: boolean;
  actions: RepairAction[];
  /** Problems repair cannot fix here: they need a restore from a backup. */
  needsRestore: Problem[];
  after: VerifyReport;
}

export async function repairDataRoot(
  db: Db,
  layout: DataRootLayout,
  knowledge: KnowledgeService,
  verify: (deep: boolean) => Promise<VerifyReport>,
  ctx?: JobContext,
): Promise<RepairReport> {
  const actions: RepairAction[] = [];
  const before = await verify(true);
  const needsRestore = before.problems.filter((p) => p.repair === 'restore');
  if (before.problems.some((p) => p.code === 'catalog-corrupt')) {
    return { ok: false, actions, needsRestore, after: before };
  }
  const attempt = async (code: string, action: string, kb: string | undefined, fn: () => unknown | Promise<unknown>) => {
    try {
      await fn();
      actions.push({ code, action, ...(kb ? { kb } : {}), ok: true });
    } catch (err) {
      actions.push({ code, action, ...(kb ? { kb } : {}), ok: false, error: (err as Error).message });
    }
  };
  const has = (code: string) => before.problems.some((p) => p.code === code);

  if (has('leftover-files')) {
    await attempt('leftover-files', 'removed temporary files of interrupted writes', undefined, () => {
      const r = sweepLeftovers(db, layout);
      return r.tempFiles.length;
    });
  }
  for (const r of knowledge.interruptedIngests()) {
    await attempt('interrupted-ingest', `finished the interrupted ingest into ${r.kb} (${r.pending} documents)`, r.kb, () => knowledge.resumeIngest(r.jobId, ctx));
  }
  // Vectors: every knowledge base with a missing, damaged or incomplete segment is re-embedded
  // from its chunks, as one swap. The embedder is the recorded one, so answers come back the same.
  const vectorCodes = new Set(['segment-missing', 'segment-corrupt', 'segment-mismatch', 'segment-self-search', 'chunks-without-vectors', 'isolation']);
  const kbsToRebuild = new Set(before.problems.filter((p) => vectorCodes.has(p.code) && p.kb).map((p) => p.kb!));
  if (has('isolation')) for (const k of knowledge.listKbs()) kbsToRebuild.add(k.name);
  for (const kb of kbsToRebuild) {
    await attempt('segment', `rebuilt the vector segments of ${kb} from its chunks`, kb, async () => {
      const row = db.prepare('SELECT * FROM kb WHERE name = ? AND deleted_at IS NULL').get(kb) as Parameters<KnowledgeService['embedderFor']>[0];
      await knowledge.reembed(kb, knowledge.embedderFor(row), ctx);
    });
  }
  for (const p of before.problems.filter((x) => (x.code === 'ann-missing' || x.code === 'ann-corrupt') && x.kb && !kbsToRebuild.has(x.kb))) {
    await attempt(p.code, `rebuilt the approximate index of ${p.kb}`, p.kb, () => {
      const kbId = (db.prepare('SELECT id FROM kb WHERE name = ? AND deleted_at IS NULL').get(p.kb) as { id: number }).id;
      db.prepare('UPDATE segment SET ann_file = NULL, ann_sha256 = NULL, ann_params = NULL WHERE kb_id = ? AND ann_file = ?').run(kbId, p.path);
      ensureAnnIndexes(db, layout.root, kbId);
      knowledge.forget(kbId);
    });
  }
  if (has('fulltext-mismatch')) {
    await attempt('fulltext-mismatch', 'rebuilt the full-text index from the chunks', undefined, () => db.prepare("INSERT INTO chunk_fts(chunk_fts) VALUES ('rebuild')").run());
  }
  const after = await verify(true);
  return { ok: after.ok && actions.every((a) => a.ok), actions, needsRestore: after.problems.filter((p) => p.repair === 'restore'), after };
}
