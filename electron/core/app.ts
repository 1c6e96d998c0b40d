// Opens a data root and wires every core service together. The Electron main process, the
// headless server and the CLI all start here, so the three shells behave the same.
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEvent, AppInfo, ReadyState } from '../api/contract.js';
import { type ApiHandlers, UserError } from '../api/handlers.js';
import { JobManager } from './jobs/jobs.js';
import { KnowledgeService } from './kb/knowledge.js';
import { type Db, getMeta, openCatalog, setMeta } from './store/catalog.js';
import { type DataRootLayout, prepareDataRoot, resolveDataRoot, temporaryLocationWarning } from './store/dataRoot.js';
import { appVersion, resourcesDir } from './util/appRoot.js';

export interface OpenOptions {
  /** Data root; when absent: $LIFELINE_HOME, else ~/.local/share/lifeline (Electron passes userData). */
  dataDir?: string;
  shell: AppInfo['shell'];
  /** Create the demo knowledge base from resources/sample-kb on a fresh data root (default true). */
  seedDemo?: boolean;
  /** Load indexes in the background and report `initializing` meanwhile (servers); default false. */
  background?: boolean;
}

export interface LifelineApp {
  readonly info: AppInfo;
  readonly handlers: ApiHandlers;
  readonly knowledge: KnowledgeService;
  readonly jobs: JobManager;
  readonly layout: DataRootLayout;
  readonly db: Db;
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
  const db = openCatalog(layout.catalog);
  const jobs = new JobManager(db);
  const knowledge = new KnowledgeService(db, layout);
  const listeners = new Set<(e: ApiEvent) => void>();
  const emit = (e: ApiEvent) => listeners.forEach((l) => l(e));
  jobs.onUpdate((job) => emit({ type: 'job', job }));

  let state: ReadyState = { status: 'initializing', phase: 'opening catalog', percent: 0 };
  const setState = (s: ReadyState) => {
    state = s;
    emit({ type: 'ready', ready: s });
  };

  const info: AppInfo = { name: 'Lifeline', version: appVersion(), shell: options.shell, dataRoot: root, dataRootWarning: temporaryLocationWarning(root) };

  const startUp = async () => {
    // Only a brand-new data root gets the demo; a root whose first use declined it (--no-demo)
    // or that already holds knowledge bases never does.
    if (getMeta(db, 'demo_seeded') === null && knowledge.listKbs().length === 0) {
      if (options.seedDemo ?? true) {
        setState({ status: 'initializing', phase: 'creating the demo knowledge base', percent: 10 });
        await seedDemo(knowledge, jobs);
        setMeta(db, 'demo_seeded', new Date().toISOString());
      } else setMeta(db, 'demo_seeded', 'declined');
    }
    setState({ status: 'initializing', phase: 'loading indexes', percent: 50 });
    knowledge.warmUp((done, total) => setState({ status: 'initializing', phase: 'loading indexes', percent: 50 + Math.round((50 * done) / Math.max(total, 1)) - 1 }));
    setState({ status: 'ready', phase: 'ready', percent: 100 });
  };
  const started = startUp().catch((err: Error) => {
    setState({ status: 'failed', phase: state.phase, percent: state.percent, error: err.message });
    throw err;
  });
  if (!options.background) await started;
  else started.catch(() => undefined);

  const whenReadyOrThrow = async () => {
    if (state.status === 'initializing') {
      // Answers wait for start-up instead of failing: a cold start is not an error.
      await started;
    }
    if (state.status === 'failed') throw new UserError('not-ready', `Lifeline could not start: ${state.error}`);
  };

  const handlers: ApiHandlers = {
    'app.info': async () => info,
    'app.ready': async () => state,
    'kb.list': async () => knowledge.listKbs(),
    ask: async (req) => {
      await whenReadyOrThrow();
      return knowledge.ask(req);
    },
    'jobs.list': async () => jobs.list(),
    'jobs.cancel': async (req) => ({ cancelled: jobs.cancel(String(req.id)) }),
  };

  return {
    info,
    handlers,
    knowledge,
    jobs,
    layout,
    db,
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
      listeners.clear();
      db.close();
    },
  };
}

async function seedDemo(knowledge: KnowledgeService, jobs: JobManager): Promise<void> {
  const dir = path.join(resourcesDir(), 'sample-kb');
  if (!fs.existsSync(dir)) throw new Error(`the demo documents are missing: ${dir}`);
  if (!knowledge.listKbs().some((k) => k.name === DEMO_KB)) knowledge.createKb(DEMO_KB, '演示知识库（医院制度、药品说明书、IT 应急手册） · Demo knowledge base');
  const report = await jobs.run('ingest', 'Demo knowledge base', (ctx) => knowledge.ingest(DEMO_KB, KnowledgeService.collectInputs([dir]), ctx));
  if (report.failed > 0) throw new Error(`demo documents failed to ingest: ${report.files.filter((f) => f.status === 'failed').map((f) => `${f.document} (${f.error})`).join('; ')}`);
}
