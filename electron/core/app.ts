// Opens a data root and wires every core service together. The Electron main process, the
// headless server and the CLI all start here, so the three shells behave the same.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEvent, AppInfo, ReadyState } from '../api/contract.js';
import { type ApiHandlers, UserError } from '../api/handlers.js';
import { JobManager } from './jobs/jobs.js';
import { KnowledgeService } from './kb/knowledge.js';
import { extractiveAnswer } from './kb/answer.js';
import { ModelService, ggufNameOf } from './models/service.js';
import { modelAnswer } from './models/modelAnswer.js';
import { MODELS_CACHE_FILE, modelsCacheProblem } from './models/registry.js';
import type { AskRequest, AskResponse, HealthSummary, VerifyRun } from '../api/contract.js';
import { type DeepCatalogResults, type Problem, type VerifyOptions, type VerifyReport, verifyDataRoot } from './integrity/verify.js';
import type { FaissIndex } from './vectors/segments.js';
import { type RepairReport, repairDataRoot } from './integrity/repair.js';
import { writeSums } from './integrity/sums.js';
import { importChatchat, inspectChatchat } from './chatchat/index.js';
import { Repository, type WriteKey } from './backup/repo.js';
import { DEFAULT_KEEP_LOG_DAYS, backupDataRoot, pruneRepository, snapshotsPastRetention, verifyRepository } from './backup/backup.js';
import * as offload from './backup/offload.js';
import { finishSwap, restoreSnapshot, rollback } from './backup/restore.js';
import { mergeKnowledgeBase } from './backup/restoreKb.js';
import { GoldenService, toGoldenRunResult, baselineToGoldenRunResult } from './golden/index.js';
import { RecoveryWizard } from './recovery/wizard.js';
import { buildSteps } from './recovery/steps.js';
import { summarize as summarizeReport, writeReport as writeReportFile } from './recovery/report.js';
import { checkHardware } from './system/hardware.js';
import { runDrill } from './recovery/drills.js';
import { DRILL_SCENARIOS, type DrillResult, type DrillScenario, type DrillSchedule } from '../api/contract.js';
import { checkStorage } from './system/storage.js';
import { checkServices, openDocker, parseServiceActionId, runServiceAction } from './system/docker.js';
import type { Finding } from '../api/contract.js';
import os from 'node:os';
import { DEFAULT_SCAN_ROOTS, listBackupTargets, mountDrive, watchBackupTargets } from './backup/drives.js';
import type { BackupPolicy, BackupResult, BackupStatus, BackupTarget, RestoreResult, SnapshotSummary, VerifyResult } from '../api/contract.js';
import { type Db, catalogError, getMeta, openCatalog, setMeta } from './store/catalog.js';
import { type DataRootLayout, prepareDataRoot, resolveDataRoot, temporaryLocationWarning } from './store/dataRoot.js';
import { DataRootLock, type LockOwner } from './store/lock.js';
import { type SweepReport, sweepLeftovers } from './store/sweep.js';
import { appVersion, resourcesDir } from './util/appRoot.js';

export interface OpenOptions {
  /** Data root; when absent: $LIFELINE_HOME, else ~/.local/share/lifeline (Electron passes userData). */
  dataDir?: string;
  shell: AppInfo['shell'];
  /** Create the demo knowledge base from resources/sample-kb on a fresh data root (default true). */
  seedDemo?: boolean;
  /** Load indexes in the background and report `initializing` meanwhile (servers); default false. */
  background?: boolean;
  /**
   * 'write' (default) needs the data-root lock and fails when another process holds it;
   * 'read' proceeds without it (no sweep, no seeding, no resume) when it is held.
   */
  access?: 'write' | 'read';
  /** What holds the lock, for the message another process shows. */
  command?: string;
  /**
   * Start-up maintenance (default true): sweep leftovers, resume interrupted ingests, rebuild
   * damaged derived data. `lifeline verify` turns it off to report the data root as it is.
   */
  maintenance?: boolean;
  /**
   * Load the recorded embedders and every knowledge base's segments during start-up (default
   * true); they load on first use otherwise. Only with `maintenance: false` or without the lock:
   * `lifeline verify` reads what it checks by itself and skips the load.
   */
  warmUp?: boolean;
  /**
   * A data root checked before anything trusts it (a restore's staging): what opening and
   * checking it writes is not flushed (SQLite's synchronous OFF, no fsync of the lock). Whoever
   * trusts it flushes the whole root first; a crash before that discards it.
   */
  scratch?: boolean;
}

/** What start-up found and did: leftovers swept, interrupted ingests resumed. */
export interface StartupReport {
  lockedBy: LockOwner | null;
  swept: SweepReport | null;
  resumedIngests: { jobId: string; kb: string; documents: number }[];
  /** Repairs the start-up made by itself (derived data rebuilt), or null when none were needed. */
  repaired: RepairReport | null;
}

export interface LifelineApp {
  readonly info: AppInfo;
  readonly handlers: ApiHandlers;
  readonly knowledge: KnowledgeService;
  readonly models: ModelService;
  readonly jobs: JobManager;
  /**
   * Answers a question: with the chat model when one is in models/ (streamed through `onDelta`,
   * stopped by `signal`), otherwise extractively. Always with citations, or plainly not covered.
   */
  answer(req: AskRequest, options?: { signal?: AbortSignal; onDelta?: (text: string) => void }): Promise<AskResponse>;
  /**
   * Checks the data root (recorded for the Health screen and the metrics). `knownHashes`,
   * `deepCatalogResults`: what the caller (a restore) has already proven; see VerifyOptions.
   */
  verify(deep: boolean, opts?: Pick<VerifyOptions, 'knownHashes' | 'deepCatalogResults' | 'loadedAnn' | 'preloaded'>): Promise<VerifyReport>;
  /** Rebuilds derived data, sweeps, resumes; lists what needs a restore. */
  repair(): Promise<RepairReport>;
  health(): Promise<HealthSummary>;
  readonly layout: DataRootLayout;
  readonly db: Db;
  readonly startup: StartupReport;
  backupStatus(): BackupStatus;
  readonly wizard: RecoveryWizard;
  readonly golden: GoldenService;
  runDrill(scenario: DrillScenario): Promise<DrillResult>;
  /**
   * Backs up into `repoDir` (creating the repository when the folder has none). Without a
   * passphrase, with the write key this data root remembered when it last unlocked that
   * repository (README "Backups without the passphrase"); a UserError `passphrase-needed` when it has none.
   */
  runBackup(repoDir: string, passphrase?: string): Promise<BackupResult>;
  /** Runs the scheduled backups that are due now (the server and desktop app check once a minute). */
  runScheduledBackups(): Promise<void>;
  /** True when this data root can back up into `repoDir` without its passphrase (it remembers the repository's write key). */
  canBackUpWithoutPassphrase(repoDir: string): boolean;
  runRestore(repoDir: string, passphrase: string, snapshot?: string, kb?: string): Promise<RestoreResult>;
  runRollback(): Promise<{ restored: string }>;
  ready(): ReadyState;
  /** Resolves when start-up work (demo seeding, index loading) has finished. */
  whenReady(): Promise<void>;
  /** Subscribe to core events (job progress, readiness); returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  close(): Promise<void>;
}

export const DEMO_KB = 'demo';

export async function openLifeline(options: OpenOptions): Promise<LifelineApp> {
  const root = resolveDataRoot(options.dataDir);
  const layout = prepareDataRoot(root);
  const lockOrOwner = DataRootLock.acquire(root, options.command ?? options.shell, { durable: !options.scratch });
  const lock = lockOrOwner instanceof DataRootLock ? lockOrOwner : null;
  const owner = lock ? null : (lockOrOwner as LockOwner);
  if (owner && (options.access ?? 'write') === 'write') {
    throw new UserError('data-root-busy', `the data root ${root} is in use by process ${owner.pid} (${owner.command}, since ${owner.since}); stop it, or use its console`);
  }
  // From here on the lock is held and the catalog soon open. A start-up that fails anywhere —
  // opening the catalog, the first write to it, the start-up checks, the wiring after them — must
  // close the catalog and release the lock, or this process would refuse its own next attempt as
  // "in use by process <itself>". SQLite errors come out naming the catalog and what to do.
  const opened: Starting = { db: null, cleanups: [] };
  try {
    return await startLifeline(options, root, layout, lock, owner, opened);
  } catch (err) {
    for (const cleanup of opened.cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
    try {
      if (opened.db?.open) opened.db.close();
    } catch {
      // a catalog that failed may refuse to close cleanly; the handle is dropped either way
    }
    lock?.release();
    throw catalogError(layout.catalog, err);
  }
}

/** What a start-up in progress holds, for openLifeline to let go of when it fails. */
interface Starting {
  db: Db | null;
  cleanups: (() => unknown)[];
}

async function startLifeline(options: OpenOptions, root: string, layout: DataRootLayout, lock: DataRootLock | null, owner: LockOwner | null, opened: Starting): Promise<LifelineApp> {
  // A restore that was swapping when the power went is finished before anything reads the catalog.
  if (lock) finishSwap(root);
  let db: Db = openCatalog(layout.catalog, { scratch: options.scratch });
  opened.db = db;
  const startup: StartupReport = { lockedBy: owner, swept: null, resumedIngests: [], repaired: null };
  // Jobs left "running" by a dead process are marked interrupted — only by the lock holder.
  const jobs = new JobManager(db, { markInterrupted: lock !== null });
  // `let`: a restore swaps the catalog under a running app and re-attaches these.
  let knowledge = new KnowledgeService(db, layout);
  let models = new ModelService(db, layout.models);
  opened.cleanups.push(() => models.dispose());
  /** After every knowledge change: SHA256SUMS current, and the content generation moved on (backups compare it). */
  const onKnowledgeChanged = () => {
    writeSums(db, layout);
    db.prepare("INSERT INTO meta(key, value) VALUES ('content_generation', '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1").run();
  };
  if (lock) knowledge.onFilesChanged = onKnowledgeChanged;
  const listeners = new Set<(e: ApiEvent) => void>();
  const emit = (e: ApiEvent) => listeners.forEach((l) => l(e));
  jobs.onUpdate((job) => emit({ type: 'job', job }));

  let state: ReadyState = { status: 'initializing', phase: 'opening catalog', percent: 0 };
  const setState = (s: ReadyState) => {
    state = s;
    emit({ type: 'ready', ready: s });
  };

  // A run that did not clear its marker at exit ended by a crash or a power cut.
  const uncleanShutdown = lock !== null && getMeta(db, 'running_since') !== null;
  if (lock) setMeta(db, 'running_since', new Date().toISOString());
  const info: AppInfo = { name: 'Lifeline', version: appVersion(), shell: options.shell, dataRoot: root, dataRootWarning: temporaryLocationWarning(root), uncleanShutdown };

  /** GGUF embedders that knowledge bases were built with; a missing one is reported on use, not fatal. */
  const embedderLoadErrors: string[] = [];
  const loadRecordedEmbedders = async () => {
    const names = new Set(knowledge.recordedEmbedders().map((r) => ggufNameOf(r.embedder.id)).filter((n): n is string => n !== null));
    for (const name of names) {
      setState({ status: 'initializing', phase: `loading embedding model ${name}`, percent: 30 });
      try {
        knowledge.registerEmbedder(await models.embedder(name));
      } catch (err) {
        embedderLoadErrors.push(`${name}: ${(err as Error).message}`);
      }
    }
  };

  const startUp = async () => {
    if (!lock || options.maintenance === false) {
      if (options.warmUp !== false) {
        await loadRecordedEmbedders();
        setState({ status: 'initializing', phase: 'loading indexes', percent: 50 });
        await knowledge.warmUp();
      }
      setState({ status: 'ready', phase: 'ready', percent: 100 });
      return;
    }
    setState({ status: 'initializing', phase: 'sweeping leftovers of interrupted writes', percent: 2 });
    startup.swept = sweepLeftovers(db, layout);
    for (const r of knowledge.interruptedIngests()) {
      setState({ status: 'initializing', phase: `resuming an interrupted ingest into ${r.kb}`, percent: 5 });
      const results = await jobs.run('ingest', `Resume ingest into ${r.kb}`, (ctx) => knowledge.resumeIngest(r.jobId, ctx));
      startup.resumedIngests.push({ jobId: r.jobId, kb: r.kb, documents: results.length });
    }
    // Self-healing: derived data that is missing or damaged is rebuilt before anyone asks.
    setState({ status: 'initializing', phase: 'checking the data root', percent: 8 });
    // The catalog's page check is left to `verify` (~0.15 s per 100k chunks, added to every
    // start); a damaged catalog shows itself when it is read, and the Health screen's check runs it.
    const fast = await verify(false, { skipCatalogCheck: true });
    const failedLoads = await knowledge.warmUp();
    if (failedLoads.length || fast.problems.some((p) => p.repair === 'rebuild' || p.repair === 'sweep')) {
      setState({ status: 'initializing', phase: 'rebuilding damaged indexes', percent: 12 });
      startup.repaired = await jobs.run('repair', 'Self-healing start-up', (ctx) => repairDataRoot(db, layout, knowledge, verify, ctx));
    }
    // Only a brand-new data root gets the demo; a root whose first use declined it (--no-demo)
    // or that already holds knowledge bases never does.
    if (getMeta(db, 'demo_seeded') === null && knowledge.listKbs().length === 0) {
      if (options.seedDemo ?? true) {
        setState({ status: 'initializing', phase: 'creating the demo knowledge base', percent: 10 });
        await seedDemo(knowledge, jobs);
        setMeta(db, 'demo_seeded', new Date().toISOString());
      } else setMeta(db, 'demo_seeded', 'declined');
    }
    await loadRecordedEmbedders();
    setState({ status: 'initializing', phase: 'loading indexes', percent: 50 });
    await knowledge.warmUp((done, total) => setState({ status: 'initializing', phase: 'loading indexes', percent: 50 + Math.round((50 * done) / Math.max(total, 1)) - 1 }));
    setState({ status: 'ready', phase: 'ready', percent: 100 });
  };
  const started = startUp().catch((err: unknown) => {
    const e = catalogError(layout.catalog, err) as Error;
    setState({ status: 'failed', phase: state.phase, percent: state.percent, error: e.message });
    throw e;
  });
  // A failed start-up throws out of here; openLifeline closes the catalog and releases the lock.
  if (!options.background) await started;
  else started.catch(() => undefined);

  const whenReadyOrThrow = async () => {
    if (state.status === 'initializing') {
      // Answers wait for start-up instead of failing: a cold start is not an error.
      await started;
    }
    if (state.status === 'failed') throw new UserError('not-ready', `Lifeline could not start: ${state.error}`);
  };

  async function modelProblems(): Promise<Problem[]> {
    const out: Problem[] = [];
    const entries = await models.scan(true);
    for (const e of entries.filter((m) => m.error)) {
      out.push({ code: 'model-damaged', severity: 'warning', path: `models/${e.name}`, message: `${e.name}: ${e.error}`, repair: 'restore' });
    }
    for (const r of knowledge.recordedEmbedders()) {
      const name = ggufNameOf(r.embedder.id);
      if (!name) continue;
      const e = entries.find((m) => m.name === name);
      if (!e) out.push({ code: 'embedder-missing', severity: 'error', path: `models/${name}`, message: `knowledge base ${r.kb} was embedded with ${name}, which is not in the models folder`, repair: 'reembed', kb: r.kb });
      else if (e.sha256 && e.sha256 !== r.embedder.version) out.push({ code: 'embedder-changed', severity: 'error', path: `models/${name}`, message: `${name} is not the file knowledge base ${r.kb} was embedded with (its sha256 changed); its vectors would not match`, repair: 'reembed', kb: r.kb });
    }
    // The chat model the operator chose: when it is gone, answers silently fall back to extractive.
    const chat = models.chosenChatModel();
    if (chat && !entries.some((m) => m.name === chat)) {
      let what = 'is not in the models folder';
      try {
        if (fs.statSync(path.join(layout.models, chat)).isDirectory()) what = 'is a folder, not a model file';
      } catch {
        // missing: the default wording
      }
      out.push({ code: 'chat-model-missing', severity: 'warning', path: `models/${chat}`, message: `the chat model chosen with \`lifeline models use-chat\` (${chat}) ${what}: answers are extractive until it is put back (from a backup) or another one is chosen`, repair: 'restore' });
    }
    const cache = modelsCacheProblem(layout.models);
    if (cache) out.push({ code: 'models-cache-unusable', severity: 'warning', path: `models/${MODELS_CACHE_FILE}`, message: cache, repair: 'none' });
    return out;
  }

  async function verify(deep: boolean, opts: { record?: boolean } & Pick<VerifyOptions, 'skipCatalogCheck' | 'knownHashes' | 'deepCatalogResults' | 'loadedAnn' | 'preloaded'> = {}): Promise<VerifyReport> {
    const report = await verifyDataRoot(db, layout, {
      deep,
      embedders: modelProblems,
      skipCatalogCheck: opts.skipCatalogCheck,
      knownHashes: opts.knownHashes,
      deepCatalogResults: opts.deepCatalogResults,
      loadedAnn: opts.loadedAnn,
      preloaded: opts.preloaded,
    });
    if (lock && opts.record !== false) {
      const errors = report.problems.filter((p) => p.severity === 'error').length;
      db.prepare('INSERT INTO verify_run(at, deep, ok, errors, warnings, duration_ms, report) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        new Date().toISOString(), deep ? 1 : 0, report.ok ? 1 : 0, errors, report.problems.length - errors, report.durationMs, JSON.stringify(report),
      );
      if (deep && report.ok) writeSums(db, layout, { durable: !options.scratch });
    }
    return report;
  }

  function verifyHistory(limit = 30): VerifyRun[] {
    return (db.prepare('SELECT at, deep, ok, errors, warnings, duration_ms AS durationMs FROM verify_run ORDER BY id DESC LIMIT ?').all(limit) as (Omit<VerifyRun, 'deep' | 'ok'> & { deep: number; ok: number })[])
      .map((r) => ({ ...r, deep: r.deep === 1, ok: r.ok === 1 }))
      .reverse();
  }

  async function repair(): Promise<RepairReport> {
    if (!lock) throw new UserError('read-only', `another process (${owner?.pid}, ${owner?.command}) holds the data root; repair there`);
    const r = await jobs.run('repair', 'Repair', (ctx) => repairDataRoot(db, layout, knowledge, verify, ctx));
    writeSums(db, layout);
    return r;
  }

  function backupComponent(): HealthSummary['components'][number] {
    const b = backupStatus();
    if (!b.lastGood && !b.lastAttempt) return { id: 'backups', status: 'warn', detail: 'no backup has been made yet' };
    if (b.warning) return { id: 'backups', status: b.lastAttempt && !b.lastAttempt.ok ? 'fail' : 'warn', detail: b.lastAttempt && !b.lastAttempt.ok ? `${b.warning}; last attempt failed: ${b.lastAttempt.error}` : b.warning };
    return { id: 'backups', status: 'ok', detail: `last good backup ${b.lastGood!.at} to ${b.lastGood!.repo}` };
  }

  async function health(): Promise<HealthSummary> {
    const history = verifyHistory();
    const last = history[history.length - 1] ?? null;
    const lastReport = last ? (JSON.parse((db.prepare('SELECT report FROM verify_run ORDER BY id DESC LIMIT 1').get() as { report: string }).report) as VerifyReport) : null;
    const byCode = (codes: string[]) => lastReport?.problems.filter((p) => codes.some((c) => p.code.startsWith(c))) ?? [];
    const status = (ps: Problem[]): 'ok' | 'warn' | 'fail' | 'unknown' => (!lastReport ? 'unknown' : ps.some((p) => p.severity === 'error') ? 'fail' : ps.length ? 'warn' : 'ok');
    const catalogP = byCode(['catalog', 'document', 'isolation']);
    const indexP = byCode(['segment', 'ann', 'chunks-without', 'fulltext']);
    const modelP = byCode(['model', 'embedder']);
    const kbs = knowledge.listKbs();
    const running = jobs.list().filter((j) => j.state === 'running');
    const chat = await models.chatModelName().catch(() => null);
    return {
      ready: state,
      lastVerify: last,
      history,
      components: [
        { id: 'catalog', status: status(catalogP), detail: catalogP[0]?.message ?? `${kbs.length} knowledge bases, ${kbs.reduce((s, k) => s + k.documents, 0)} documents` },
        { id: 'indexes', status: status(indexP), detail: indexP[0]?.message ?? `${kbs.reduce((s, k) => s + k.chunks, 0)} chunks searchable` },
        { id: 'models', status: status(modelP), detail: modelP[0]?.message ?? (chat ? `answers from ${chat}` : 'extractive answers (no chat model)') },
        { id: 'jobs', status: running.length ? 'warn' : 'ok', detail: running.length ? running.map((j) => j.title).join(', ') : 'no job running' },
        backupComponent(),
      ],
    };
  }

  /** Rescues a Chatchat knowledge base into a Lifeline one (created when missing), as a job. */
  async function importChatchatInto(dir: string, kb: string, sourceKb?: string) {
    if (!kb) throw new UserError('bad-request', 'name the Lifeline knowledge base to import into');
    if (!knowledge.listKbs().some((k) => k.name === kb)) knowledge.createKb(kb, `Imported from Chatchat (${dir})`);
    const report = await jobs.run('chatchat-import', `Import Chatchat into ${kb}`, (ctx) =>
      importChatchat(dir, { kbName: sourceKb, ingest: async (sources) => knowledge.ingest(kb, sources, ctx) }),
    );
    return { ...report, kb, source: report.source === 'none' ? 'docstore' : report.source };
  }

  // -- backups ------------------------------------------------------------------------------------
  const backupPolicy = (): BackupPolicy => ({ ...DEFAULT_POLICY, ...JSON.parse(getMeta(db, 'backup_policy') ?? '{}') });
  const setBackupPolicy = (p: Partial<BackupPolicy>): void => {
    const next = { ...backupPolicy(), ...p };
    if (next.dailyAt !== null && !/^([01]\d|2[0-3]):[0-5]\d$/.test(String(next.dailyAt))) throw new UserError('bad-policy', `daily time "${next.dailyAt}" is not HH:MM`);
    if (!Number.isInteger(next.keepDailySnapshots) || next.keepDailySnapshots < 1) throw new UserError('bad-policy', 'keep at least 1 daily snapshot');
    if (!Number.isInteger(next.keepLogDays) || next.keepLogDays! < 1) throw new UserError('bad-policy', 'keep the logs at least 1 day');
    setMeta(db, 'backup_policy', JSON.stringify(next));
  };
  function backupStatus(): BackupStatus {
    const policy = backupPolicy();
    const lastGood = JSON.parse(getMeta(db, 'last_backup_good') ?? 'null') as BackupStatus['lastGood'];
    const lastAttempt = JSON.parse(getMeta(db, 'last_backup_attempt') ?? 'null') as BackupStatus['lastAttempt'];
    const ageH = lastGood ? (Date.now() - Date.parse(lastGood.at)) / 3_600_000 : Infinity;
    const warning = ageH > policy.maxAgeHours ? (lastGood ? `the last good backup is ${Math.floor(ageH)} hours old (policy: at most ${policy.maxAgeHours})` : 'there is no good backup yet') : null;
    const pruneDue = [...new Set([...policy.targets, ...(lastGood ? [lastGood.repo] : [])])]
      .map((repo) => ({ repo, snapshots: snapshotsPastRetention(repo, policy.keepDailySnapshots) }))
      .filter((x) => x.snapshots > 0);
    return { policy, lastGood, lastAttempt, warning, nextRun: nextRunAt(policy, lastAttempt?.at ?? null), pruneDue };
  }
  /**
   * Unlocked repositories, for this process's life: the passphrase costs one scrypt per unlock,
   * not one per backup. Keyed by folder and a hash of the passphrase (never the passphrase).
   */
  const unlocked = new Map<string, Repository>();
  async function openRepo(dir: string, passphrase: string): Promise<Repository> {
    const key = `${path.resolve(dir)}\u0000${createHash('sha256').update(passphrase).digest('hex')}`;
    const hit = unlocked.get(key);
    if (hit && Repository.isRepository(hit.dir)) return hit;
    const repo = await Repository.open(dir, passphrase);
    unlocked.set(key, repo);
    rememberWriteKey(repo);
    return repo;
  }
  /**
   * The write key of every repository this data root has unlocked (README "Backups without the
   * passphrase"), in the live catalog's meta; a backup's catalog copy leaves it out (backup_%).
   */
  function rememberWriteKey(repo: Repository): void {
    if (lock) setMeta(db, `backup_writekey:${repo.info.id}`, JSON.stringify(repo.writeKey()));
  }
  function rememberedWriteKey(id: string): WriteKey | null {
    try {
      const k = JSON.parse(getMeta(db, `backup_writekey:${id}`) ?? 'null') as WriteKey | null;
      return k && typeof k.recipient === 'string' && typeof k.nameKey === 'string' && /^[0-9a-f]{64}$/.test(k.nameKey) ? { id, recipient: k.recipient, nameKey: k.nameKey } : null;
    } catch {
      return null;
    }
  }
  /** The repository in `dir` for a backup without the passphrase: unlocked in this process, or by the remembered write key. */
  function repoWithoutPassphrase(dir: string): Repository {
    const abs = path.resolve(dir);
    if (!Repository.isRepository(abs)) throw new UserError('passphrase-needed', `${abs} holds no backup repository yet: creating one needs a passphrase`);
    const info = Repository.readMarker(abs);
    for (const [k, repo] of unlocked) if (k.startsWith(`${abs}\u0000`) && repo.info.id === info.id && repo.info.recipient === info.recipient) return repo;
    const key = rememberedWriteKey(info.id);
    if (!key) throw new UserError('passphrase-needed', `this data root has not backed up to the repository in ${abs} before: the first backup to it needs its passphrase (later ones do not)`);
    return Repository.forWriting(abs, key);
  }
  function withWriteKeys(targets: BackupTarget[]): BackupTarget[] {
    return targets.map((t) => ({ ...t, withoutPassphrase: t.repositories.filter(canBackUpWithoutPassphrase) }));
  }
  function canBackUpWithoutPassphrase(dir: string): boolean {
    try {
      repoWithoutPassphrase(dir);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A new repository. `forBackup`: returned before its key file is written — the key's scrypt
   * runs on the thread pool while the first backup encrypts, and its snapshot manifest waits for
   * the key (Repository.create).
   */
  async function initRepo(dir: string, passphrase: string, forBackup = false): Promise<Repository> {
    const repo = forBackup ? Repository.create(dir, passphrase) : await Repository.init(dir, passphrase);
    unlocked.set(`${path.resolve(dir)}\u0000${createHash('sha256').update(passphrase).digest('hex')}`, repo);
    rememberWriteKey(repo);
    return repo;
  }

  async function runBackup(repoDir: string, passphrase?: string): Promise<BackupResult> {
    writable();
    await whenReadyOrThrow();
    const at = new Date().toISOString();
    let created: Repository | null = null;
    try {
      // The models' checksums (any model file that changed is hashed on the backup's hashing
      // thread, and not hashed again as it is encrypted) while the passphrase's scrypt runs on
      // the thread pool.
      const modelHashes = offload.recordingHasher();
      const scanned = models.scan(true, { hashFile: modelHashes.hashFile });
      scanned.catch(() => undefined); // awaited below; unlocking may fail first
      const repo =
        passphrase === undefined || passphrase === ''
          ? repoWithoutPassphrase(repoDir)
          : Repository.isRepository(repoDir)
            ? await openRepo(repoDir, passphrase)
            : (created = await initRepo(repoDir, passphrase, true));
      // The scan goes on beside the catalog copy; the backup takes the models once it is done.
      const result = await jobs.run('backup', `Backup to ${repoDir}`, async (ctx) => backupDataRoot(db, layout, scanned, repo, ctx, { hashedNow: modelHashes.hashed }));
      // Pruning reads the manifests: only with the passphrase (a backup by write key leaves it
      // to the next unlocked backup or to lifeline backups prune).
      const policy = backupPolicy();
      const pruned = repo.canRead ? pruneRepository(repo, policy.keepDailySnapshots, new Date(), policy.keepLogDays) : null;
      setMeta(db, 'last_backup_good', JSON.stringify({ at: new Date().toISOString(), repo: repo.dir, snapshot: result.snapshot }));
      setMeta(db, 'last_backup_at', new Date().toISOString());
      setMeta(db, 'last_backup_attempt', JSON.stringify({ at, repo: repo.dir, ok: true, error: null }));
      return { ...result, pruned: pruned?.removedSnapshots ?? [], ...(pruned ? {} : { pruneDeferred: true }) };
    } catch (err) {
      // A repository this backup created has its key and marker written (or given up) before the
      // failure is reported: a retry right after finds a settled folder, not one still being created.
      await created?.settled();
      setMeta(db, 'last_backup_attempt', JSON.stringify({ at, repo: repoDir, ok: false, error: (err as Error).message }));
      throw err;
    }
  }
  /** Closes the live catalog and models (a restore is about to swap them). */
  async function releaseLive(): Promise<void> {
    await models.dispose();
    db.close();
  }
  /**
   * Opens the (restored) catalog again and re-attaches every service to it. `restored`: what a
   * restore that just completed knows of the files now live — the sha256 of each, computed while
   * decrypting it (segments are not hashed again), and the approximate indexes its staged verify
   * loaded from them (not loaded again).
   */
  async function reattach(restored?: { knownHashes?: ReadonlyMap<string, string>; loadedAnn?: ReadonlyMap<string, FaissIndex> }): Promise<void> {
    db = openCatalog(layout.catalog);
    jobs.setDb(db);
    knowledge = new KnowledgeService(db, layout);
    knowledge.onFilesChanged = onKnowledgeChanged;
    models = new ModelService(db, layout.models);
    await loadRecordedEmbedders();
    await knowledge.warmUp(undefined, restored);
  }
  /** Scheduled backups (server and desktop app): every configured target, once a day. */
  let scheduler: NodeJS.Timeout | null = null;
  async function scheduledBackups(): Promise<void> {
    const policy = backupPolicy();
    const next = nextRunAt(policy, (JSON.parse(getMeta(db, 'last_backup_attempt') ?? 'null') as { at: string } | null)?.at ?? null);
    if (!next || Date.parse(next) > Date.now() || jobs.list().some((j) => j.state === 'running' && j.kind === 'backup')) return;
    // With no passphrase file, each target by the write key this data root remembers for it (a
    // target it has never unlocked fails, and that is recorded as the last attempt).
    let passphrase: string | undefined;
    if (policy.passphraseFile) {
      try {
        passphrase = fs.readFileSync(policy.passphraseFile, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        setMeta(db, 'last_backup_attempt', JSON.stringify({ at: new Date().toISOString(), repo: policy.targets.join(', '), ok: false, error: `cannot read the passphrase file ${policy.passphraseFile}: ${(err as Error).message}` }));
        return;
      }
    }
    for (const target of policy.targets) await runBackup(target, passphrase).catch(() => undefined); // recorded as the last attempt
  }
  let driveWatch: { stop(): void } | null = null;
  async function scheduledDrills(): Promise<void> {
    const sch = drillSchedule();
    if (!sch.nextRun || Date.parse(sch.nextRun) > Date.now() || jobs.list().some((j) => j.state === 'running')) return;
    for (const sc of sch.scenarios) await runDrillHere(sc).catch(() => undefined);
  }
  if (lock && (options.shell === 'server' || options.shell === 'electron')) {
    scheduler = setInterval(() => {
      void scheduledBackups().catch(() => undefined);
      void scheduledDrills().catch(() => undefined);
    }, 60_000);
    scheduler.unref();
    opened.cleanups.push(() => clearInterval(scheduler!));
    // Drives plugged in or pulled out show up in the console within seconds.
    driveWatch = watchBackupTargets((targets) => emit({ type: 'backup.targets', targets: withWriteKeys(targets) }), { roots: mediaRoots(), extraFolders: backupPolicy().targets, intervalMs: 2000 });
    opened.cleanups.push(() => driveWatch?.stop());
  }

  async function runRestore(repoDir: string, passphrase: string, snapshot?: string, kb?: string): Promise<RestoreResult> {
    writable();
    // The decryption workers start while the passphrase's scrypt runs (it needs one core, for
    // about 0.7 s; nothing can be decrypted before it ends).
    offload.available();
    const repo = await openRepo(repoDir, passphrase);
    // This machine's backup settings and record (the schedule, the write keys, the last backups)
    // are not in any backup (VOLATILE_SQL): a restore over the live data root carries them over.
    const machineRows = kb ? [] : (db.prepare("SELECT key, value FROM meta WHERE key = 'backup_policy' OR key LIKE 'backup_writekey:%' OR key LIKE 'last_backup%'").all() as { key: string; value: string }[]);
    const kbCounts = () => knowledge.listKbs().map((k) => ({ name: k.name, documents: k.documents, chunks: k.chunks }));
    let released = false;
    // The sha256 of every file the restore decrypted, and the approximate indexes the staged
    // verify loaded from them; used by the reload only once the swap has completed (the live
    // files are then exactly the ones hashed and loaded).
    let decrypted: ReadonlyMap<string, string> | undefined;
    const loadedAnn = new Map<string, FaissIndex>();
    let completed = false;
    setState({ status: 'ready', phase: 'restoring from a backup', percent: 100 });
    try {
      const result = await jobs.run('restore', `Restore from ${repoDir}`, (ctx) =>
        restoreSnapshot(root, repo, snapshot, {
          before: kbCounts(),
          verifyStaged: (dir, known) => {
            decrypted = known.hashes;
            return verifyStagedRoot(dir, { ...known, loadedAnn });
          },
          releaseLive: async () => {
            released = true;
            await releaseLive();
          },
          onlyKb: kb
            ? {
                name: kb,
                merge: async (staging) => {
                  mergeKnowledgeBase(db, layout, staging, kb);
                  knowledge = new KnowledgeService(db, layout);
                  knowledge.onFilesChanged = onKnowledgeChanged;
                  await loadRecordedEmbedders();
                  await knowledge.warmUp();
                  onKnowledgeChanged();
                  return kbCounts();
                },
              }
            : undefined,
        }, ctx),
      );
      completed = true;
      return result;
    } finally {
      if (released) await reattach(completed ? { knownHashes: decrypted, loadedAnn } : undefined);
      // The restored catalog holds no write keys (a backup leaves them out): the live root's are
      // put back, and the repository just unlocked is remembered, so the next backup to it needs
      // no passphrase either.
      if (completed) {
        for (const r of machineRows) if (getMeta(db, r.key) === null) setMeta(db, r.key, r.value);
        rememberWriteKey(repo);
      }
      setState({ status: 'ready', phase: 'ready', percent: 100 });
    }
  }
  async function runRollback(): Promise<{ restored: string }> {
    writable();
    await releaseLive();
    try {
      return { restored: rollback(root) };
    } finally {
      await reattach();
    }
  }

  // -- golden questions, the recovery wizard, doctor ------------------------------------------
  const golden = new GoldenService({
    root,
    db: () => db,
    kbNames: () => knowledge.listKbs().map((k) => k.name),
    answerer: { answer: (req: AskRequest, o?: { signal?: AbortSignal }) => answer(req, o ?? {}), whenReady: whenReadyOrThrow },
  });
  const site = (): SiteConfig => ({ ...DEFAULT_SITE, ...JSON.parse(getMeta(db, 'site_config') ?? '{}') });
  let dockerClient: ReturnType<typeof openDocker> | null | undefined;
  const docker = () => {
    if (dockerClient === undefined) {
      const socket = process.env.LIFELINE_DOCKER_SOCKET ?? site().dockerSocket ?? '/var/run/docker.sock';
      dockerClient = fs.existsSync(socket) ? openDocker(socket) : null;
    }
    return dockerClient;
  };
  const lastSeen = getMeta(db, 'last_seen_time');
  if (lock) setMeta(db, 'last_seen_time', new Date().toISOString());
  const steps = buildSteps({
    dataRoot: root,
    checkHardware: () => checkHardware({ previousRunEndedCleanly: !uncleanShutdown, lastSeenTime: lastSeen ?? undefined, airGap: site().airGap ? { allowedListeners: site().allowedListeners } : undefined }),
    checkStorage: () => checkStorage(root, { expectedMounts: site().expectedMounts }),
    docker,
    services: {
      check: (d) => checkServices(d, { projects: site().composeProjects.length ? site().composeProjects : undefined, expectedPorts: site().expectedPorts }),
      act: async (d, action) => {
        const parsed = parseServiceActionId(action);
        if (!parsed) return { ok: false, message: `unknown service action ${action}` };
        return runServiceAction(d, parsed);
      },
    },
    modelProblems: async () =>
      (await modelProblems()).map((p): Finding => ({
        code: p.code,
        severity: p.severity === 'error' ? 'fail' : 'warn',
        message: p.message,
        evidence: [p.path],
        advice: p.code === 'embedder-missing' || p.code === 'embedder-changed' ? 'Put the original model file back in the models folder (from the USB backup), or re-embed the knowledge base.' : undefined,
        actions: [],
      })),
    verify: (deep) => verify(deep),
    repair: () => repair(),
    golden: {
      kbs: () => golden.listSets().filter((x) => x.kbExists && !x.error).map((x) => x.kb),
      run: async (kb) => toGoldenRunResult(await jobs.run('golden', `Golden questions for ${kb}`, (ctx) => golden.run(kb, { ctx }))),
      baseline: async (kb) => baselineToGoldenRunResult(golden.recordLastRunAsBaseline(kb)),
    },
    backupStatus: () => backupStatus(),
    backupTargets: () => listBackupTargets({ roots: mediaRoots(), extraFolders: backupPolicy().targets }),
    restore: (repo, pass, snap) => runRestore(repo, pass, snap),
  });
  const reportsDir = path.join(root, 'reports');
  const wizard = new RecoveryWizard(() => db, steps, {
    uncleanShutdown,
    writeReport: (run) => writeReportFile(reportsDir, run, { version: appVersion(), dataRoot: root, host: os.hostname() }),
  });
  // -- drills ---------------------------------------------------------------------------------
  const drillSchedule = (): DrillSchedule => {
    const saved = JSON.parse(getMeta(db, 'drill_schedule') ?? '{}') as Partial<DrillSchedule>;
    const monthlyDay = saved.monthlyDay === undefined ? 1 : saved.monthlyDay;
    const lastRun = (db.prepare('SELECT max(started_at) AS t FROM drill_run').get() as { t: string | null }).t;
    // Scheduled drills touch only sandbox copies by default; container-down and port-conflict act
    // on the site's real services, so they run when the operator asks or adds them.
    return { monthlyDay, scenarios: saved.scenarios ?? DRILL_SCENARIOS.filter((x) => x !== 'container-down' && x !== 'port-conflict'), lastRun, nextRun: nextMonthly(monthlyDay, lastRun) };
  };
  async function runDrillHere(scenario: DrillScenario): Promise<DrillResult> {
    writable();
    if (!(DRILL_SCENARIOS as readonly string[]).includes(scenario)) throw new UserError('bad-request', `unknown drill scenario "${scenario}"; one of: ${DRILL_SCENARIOS.join(', ')}`);
    const result = await jobs.run('drill', `Drill: ${scenario}`, async () =>
      runDrill(scenario, {
        liveRoot: root,
        copyCatalog: (dest) => db.prepare('VACUUM INTO ?').run(dest),
        open: (dir, o) => openLifeline({ dataDir: dir, shell: 'cli', seedDemo: false, maintenance: o?.maintenance ?? true, command: `drill ${scenario}` }),
        docker,
        site: () => site(),
      }),
    );
    db.prepare('INSERT INTO drill_run(id, scenario, started_at, result) VALUES (?, ?, ?, ?)').run(result.id, scenario, result.startedAt, JSON.stringify(result));
    return result;
  }
  const drillHistory = (): DrillResult[] => (db.prepare('SELECT result FROM drill_run ORDER BY started_at DESC LIMIT 200').all() as { result: string }[]).map((r) => JSON.parse(r.result) as DrillResult);

  const wizardOp = () => {
    writable();
    return wizard;
  };

  /** Folders named over the API must be absolute: a relative one would resolve against the server's working directory. */
  const absoluteFolder = (value: unknown, what: string): string => {
    const v = typeof value === 'string' ? value.trim() : '';
    if (!v || !path.isAbsolute(v)) throw new UserError('bad-path', `${what} must be an absolute folder path (e.g. /media/usb/lifeline-backup), not "${String(value ?? '')}"`);
    return path.normalize(v);
  };

  const writable = () => {
    if (!lock) throw new UserError('read-only', `another process (${owner?.pid}, ${owner?.command}) holds the data root; this one can only read`);
  };
  const streams = new Map<string, AbortController>();

  const answer = async (req: AskRequest, opts: { signal?: AbortSignal; onDelta?: (text: string) => void } = {}): Promise<AskResponse> => {
    await whenReadyOrThrow();
    const p = await knowledge.prepareAsk(req);
    const chatName = await models.chatModelName();
    const chat = chatName ? await models.chatModel() : null;
    if (!chat) return extractiveAnswer(p.question, p.passages, p.limit, p.started);
    const r = await modelAnswer(p.question, p.passages, chat, { limit: p.limit, signal: opts.signal, onDelta: opts.onDelta, started: p.started });
    return r.mode === 'model' ? { ...r, model: chatName ?? undefined } : r;
  };

  const embedderNamed = async (name: string | undefined) => (name && name !== 'default' ? models.embedder(name) : undefined);

  const handlers: ApiHandlers = {
    'app.info': async () => info,
    'app.ready': async () => state,
    'kb.list': async () => knowledge.listKbs(),
    'kb.create': async (r) => {
      writable();
      const e = await embedderNamed(r.embedder);
      if (e) knowledge.registerEmbedder(e);
      return knowledge.createKb(r.name, r.description, e);
    },
    'kb.reembed': async (r) => {
      writable();
      await whenReadyOrThrow();
      const e = (await embedderNamed(r.embedder)) ?? knowledge.defaultEmbedderInstance();
      return jobs.run('reembed', `Re-embed ${r.kb}`, (ctx) => knowledge.reembed(r.kb, e, ctx));
    },
    'kb.rename': async (r) => (writable(), knowledge.renameKb(r.name, r.newName)),
    'kb.delete': async (r) => (writable(), knowledge.deleteKb(r.name, r.confirm), { deleted: r.name }),
    'kb.deleted': async () => knowledge.deletedKbs(),
    'kb.undelete': async (r) => (writable(), knowledge.undeleteKb(r.name)),
    'kb.purge': async (r) => (writable(), knowledge.purgeKb(r.name, r.confirm), { purged: r.name }),
    'kb.documents': async (r) => knowledge.documents(r.kb),
    'kb.deleteDocument': async (r) => (writable(), knowledge.deleteDocument(r.kb, r.document), { deleted: r.document }),
    'kb.compact': async (r) => {
      writable();
      await whenReadyOrThrow();
      const res = await jobs.run('compact', `Compact ${r.kb}`, async (ctx) => knowledge.compact(r.kb, ctx));
      return { segmentsBefore: res.segmentsBefore, segmentsAfter: res.segmentsAfter, vectors: res.vectors };
    },
    'kb.upload': async (r) => {
      writable();
      await whenReadyOrThrow();
      if (typeof r.dataBase64 !== 'string') throw new UserError('bad-request', 'kb.upload needs dataBase64');
      const bytes = Buffer.from(r.dataBase64, 'base64');
      return jobs.run('ingest', `Upload ${r.name} into ${r.kb}`, (ctx) => knowledge.ingestUpload(r.kb, r.name, bytes, ctx));
    },
    ask: async (req) => {
      const id = typeof req.streamId === 'string' ? req.streamId : null;
      const controller = new AbortController();
      if (id) streams.set(id, controller);
      try {
        return await answer(req, { signal: controller.signal, onDelta: id ? (text) => emit({ type: 'answer.delta', streamId: id, text }) : undefined });
      } finally {
        if (id) streams.delete(id);
      }
    },
    'ask.cancel': async (r) => {
      const c = streams.get(String(r.streamId));
      c?.abort();
      return { cancelled: Boolean(c) };
    },
    'models.list': async () => models.list(),
    'models.useChat': async (r) => {
      writable();
      await models.useChatModel(r.name ?? null);
      return { chatModel: await models.chatModelName() };
    },
    'integrity.verify': async (r) => verify(Boolean(r.deep)),
    'integrity.repair': async () => repair(),
    'health.summary': async () => health(),
    'chatchat.inspect': async (r) => {
      const dir = absoluteFolder(r.dir, 'the Chatchat folder');
      return jobs.run('chatchat', `Inspect ${dir}`, async () => inspectChatchat(dir, { deep: Boolean(r.deep) }));
    },
    'chatchat.import': async (r) => {
      writable();
      await whenReadyOrThrow();
      return importChatchatInto(absoluteFolder(r.dir, 'the Chatchat folder'), String(r.kb ?? ''), r.sourceKb);
    },
    'backup.targets': async () => withWriteKeys(await listBackupTargets({ roots: mediaRoots(), extraFolders: backupPolicy().targets })),
    'backup.mount': async (r) =>
      mountDrive(String(r.device ?? '')).catch((err: Error) => {
        throw new UserError('mount-failed', err.message);
      }),
    'backup.init': async (r) => {
      const repo = await initRepo(absoluteFolder(r.repo, 'the repository'), String(r.passphrase ?? ''));
      return { repo: repo.dir, id: repo.info.id };
    },
    'backup.run': async (r) => runBackup(absoluteFolder(r.repo, 'the repository'), r.passphrase ? String(r.passphrase) : undefined),
    'backup.snapshots': async (r) => snapshotSummaries(await openRepo(absoluteFolder(r.repo, 'the repository'), String(r.passphrase ?? ''))),
    'backup.verify': async (r) => {
      const repo = await openRepo(absoluteFolder(r.repo, 'the repository'), String(r.passphrase ?? ''));
      return jobs.run('backup-verify', `Verify backups in ${repo.dir}`, (ctx) => verifyRepository(repo, { sample: r.sample, ctx }));
    },
    'backup.restore': async (r) => runRestore(absoluteFolder(r.repo, 'the repository'), String(r.passphrase ?? ''), r.snapshot, r.kb),
    'backup.rollback': async () => runRollback(),
    'backup.status': async () => backupStatus(),
    'backup.setPolicy': async (r) => {
      writable();
      const p = { ...r };
      if (p.targets !== undefined) p.targets = (Array.isArray(p.targets) ? p.targets : []).map((x) => absoluteFolder(x, 'a backup target'));
      if (p.passphraseFile) p.passphraseFile = absoluteFolder(p.passphraseFile, 'the passphrase file');
      setBackupPolicy(p);
      return backupStatus();
    },
    'wizard.current': async () => wizard.current(),
    'wizard.start': async (r) => wizardOp().start(String(r.operator ?? '')),
    'wizard.check': async (r) => wizardOp().check(r.step),
    'wizard.action': async (r) => wizardOp().action(r.step, String(r.action ?? ''), r.finding, r.confirm === true, r.params ?? {}),
    'wizard.goto': async (r) => wizardOp().goto(r.step),
    'wizard.finish': async () => wizardOp().finish(),
    'doctor.run': async () => wizard.doctor(),
    'reports.list': async () => wizard.finishedRuns().map(summarizeReport),
    'reports.get': async (r) => {
      const id = String(r.id ?? '');
      if (!/^[\w.-]+$/.test(id)) throw new UserError('bad-request', 'bad report id');
      const file = path.join(reportsDir, `${id}.html`);
      if (!fs.existsSync(file)) throw new UserError('no-such-report', `no report ${id}`);
      return { id, html: fs.readFileSync(file, 'utf8') };
    },
    'reports.pdf': async () => {
      throw new UserError('needs-desktop', 'PDF export needs the desktop app (Electron prints the report); here, export the HTML and print it from a browser');
    },
    'golden.sets': async () => golden.listSets().filter((x) => !x.error).map((x) => golden.getSet(x.kb)!).filter(Boolean),
    'golden.save': async (r) => (writable(), golden.saveSet(r.set)),
    'golden.run': async (r) => toGoldenRunResult(await jobs.run('golden', `Golden questions for ${r.kb}`, (ctx) => golden.run(String(r.kb ?? ''), { ctx }))),
    'golden.baseline': async (r) => {
      writable();
      const run = await jobs.run('golden', `Golden baseline for ${r.kb}`, (ctx) => golden.run(String(r.kb ?? ''), { ctx }));
      golden.recordBaseline(run);
      return toGoldenRunResult(run);
    },
    'drills.run': async (r) => runDrillHere(r.scenario),
    'drills.history': async () => drillHistory(),
    'drills.schedule': async () => drillSchedule(),
    'drills.setSchedule': async (r) => {
      writable();
      const cur = drillSchedule();
      const monthlyDay = r.monthlyDay === undefined ? cur.monthlyDay : r.monthlyDay;
      if (monthlyDay !== null && (!Number.isInteger(monthlyDay) || monthlyDay < 1 || monthlyDay > 28)) throw new UserError('bad-request', 'the drill day must be 1–28 (or null for no schedule)');
      const scenarios = r.scenarios ?? cur.scenarios;
      if (scenarios.some((x) => !(DRILL_SCENARIOS as readonly string[]).includes(x))) throw new UserError('bad-request', `unknown drill scenario in ${scenarios.join(', ')}`);
      setMeta(db, 'drill_schedule', JSON.stringify({ monthlyDay, scenarios }));
      return drillSchedule();
    },
    'jobs.list': async () => jobs.list(),
    'jobs.cancel': async (req) => ({ cancelled: jobs.cancel(String(req.id)) }),
  };

  return {
    info,
    handlers,
    get knowledge() {
      return knowledge;
    },
    get models() {
      return models;
    },
    get db() {
      return db;
    },
    backupStatus,
    wizard,
    golden,
    runDrill: runDrillHere,
    runBackup,
    canBackUpWithoutPassphrase,
    runScheduledBackups: scheduledBackups,
    runRestore,
    runRollback,
    answer,
    verify,
    repair,
    health,
    jobs,
    layout,
    startup,
    ready: () => state,
    whenReady: async () => {
      await started;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await started.catch(() => undefined);
      for (const c of streams.values()) c.abort();
      if (scheduler) clearInterval(scheduler);
      driveWatch?.stop();
      await models.dispose();
      listeners.clear();
      if (lock && db.open) db.prepare("DELETE FROM meta WHERE key = 'running_since'").run();
      db.close();
      lock?.release();
    },
  };
}

/** Where drives are looked for: /media, /run/media, /mnt, or LIFELINE_MEDIA_ROOTS (colon-separated). */
export function mediaRoots(): string[] {
  const env = process.env.LIFELINE_MEDIA_ROOTS;
  return env ? env.split(':').filter(Boolean) : [...DEFAULT_SCAN_ROOTS];
}

/** What the site runs, for the wizard and doctor (meta key site_config; `lifeline site set`). */
export interface SiteConfig {
  composeProjects: string[];
  expectedPorts: number[];
  expectedMounts: string[];
  airGap: boolean;
  allowedListeners: number[];
  dockerSocket?: string;
}

export const DEFAULT_SITE: SiteConfig = { composeProjects: [], expectedPorts: [], expectedMounts: [], airGap: false, allowedListeners: [] };

/** The next monthly drill: this month's day at 03:00 if it is still ahead and no drill ran this month, else next month's. */
export function nextMonthly(day: number | null, lastRun: string | null, now = new Date()): string | null {
  if (day === null) return null;
  const next = new Date(now.getFullYear(), now.getMonth(), day, 3, 0, 0);
  const ranThisMonth = lastRun !== null && Date.parse(lastRun) >= new Date(now.getFullYear(), now.getMonth(), 1).getTime();
  if (next.getTime() <= now.getTime() || ranThisMonth) next.setMonth(next.getMonth() + 1);
  return next.toISOString();
}

export const DEFAULT_POLICY: BackupPolicy = { dailyAt: '02:30', targets: [], keepDailySnapshots: 7, keepLogDays: DEFAULT_KEEP_LOG_DAYS, maxAgeHours: 26 };

/** The next scheduled run after the last attempt (local time), or null when scheduling is off. */
export function nextRunAt(policy: BackupPolicy, lastAttempt: string | null, now = new Date()): string | null {
  if (!policy.dailyAt || policy.targets.length === 0) return null;
  const [h, m] = policy.dailyAt.split(':').map(Number) as [number, number];
  const today = new Date(now);
  today.setHours(h, m, 0, 0);
  const due = lastAttempt && Date.parse(lastAttempt) >= today.getTime() ? new Date(today.getTime() + 86_400_000) : today;
  return due.toISOString();
}

/**
 * Verifies a staged data root (deep) in its own short-lived app, and counts its knowledge bases.
 * The deep verify loads every segment itself, so the app does not warm them up first; files the
 * restore hashed while decrypting them (`known.hashes`) are not hashed a second time, and the
 * catalog checks it ran meanwhile (`known.catalog`) are not run again. `known.loadedAnn` receives
 * the sound approximate indexes it loaded (see VerifyOptions.loadedAnn).
 */
export async function verifyStagedRoot(
  dir: string,
  known?: { hashes?: ReadonlyMap<string, string>; catalog?: DeepCatalogResults; loadedAnn?: Map<string, FaissIndex>; preloaded?: ReadonlyMap<string, FaissIndex> },
): Promise<{ report: VerifyResult; kbs: { name: string; documents: number; chunks: number }[] }> {
  // Scratch: its fsyncs would each wait for the staged files' own flush (on a journaling
  // filesystem, a commit waits for the data written before it), which restore runs meanwhile.
  const staged = await openLifeline({ dataDir: dir, shell: 'cli', seedDemo: false, maintenance: false, warmUp: false, scratch: true, command: 'restore staging check' });
  try {
    // What opening it wrote, back into the catalog file: the deep check then reads the freelist
    // from the file instead of running integrity_check whole (see catalogIntegrityCheck).
    try {
      staged.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // the check runs integrity_check whole
    }
    const report = await staged.verify(true, { knownHashes: known?.hashes, deepCatalogResults: known?.catalog, loadedAnn: known?.loadedAnn, preloaded: known?.preloaded });
    const kbs = staged.knowledge.listKbs().map((k) => ({ name: k.name, documents: k.documents, chunks: k.chunks }));
    return { report, kbs };
  } finally {
    await staged.close();
    fs.rmSync(path.join(dir, 'lifeline.lock'), { force: true });
  }
}

function snapshotSummaries(repo: Repository): SnapshotSummary[] {
  return repo
    .snapshotFiles()
    .map((f) => {
      const m = repo.readSnapshot(f);
      return { id: f.replace(/\.age$/, ''), time: m.time, host: m.host, lifelineVersion: m.lifelineVersion, files: m.files.length, bytes: m.files.reduce((s, x) => s + x.size, 0), knowledgeBases: m.knowledgeBases, ...(m.retained ? { retained: true } : {}) };
    })
    .reverse();
}

async function seedDemo(knowledge: KnowledgeService, jobs: JobManager): Promise<void> {
  const dir = path.join(resourcesDir(), 'sample-kb');
  if (!fs.existsSync(dir)) throw new Error(`the demo documents are missing: ${dir}`);
  if (!knowledge.listKbs().some((k) => k.name === DEMO_KB)) knowledge.createKb(DEMO_KB, '演示知识库（医院制度、药品说明书、IT 应急手册） · Demo knowledge base');
  const report = await jobs.run('ingest', 'Demo knowledge base', (ctx) => knowledge.ingest(DEMO_KB, KnowledgeService.collectInputs([dir]), ctx));

  if (report.failed > 0) throw new Error(`demo documents failed to ingest: ${report.files.filter((f) => f.status === 'failed').map((f) => `${f.document} (${f.error})`).join('; ')}`);
}
