// Application state: what the core said about itself, readiness, jobs, knowledge bases,
// the chosen language and screen. Fed by calls at start-up and by pushed events.
import { create } from 'zustand';
import type { ApiEvent, AppInfo, JobRecord, KbSummary, Locale, ReadyState } from '../../electron/api/contract.js';
import { bridge, isUnauthorized, type ConnectionState } from '../bridge.js';
import { DEFAULT_LOCALE, isLocale } from '../i18n/index.js';
import { mergeJobs, upsertJob, type JobMap } from '../lib/jobs.js';
import type { Screen } from '../lib/screens.js';

export { SCREENS, type Screen } from '../lib/screens.js';

const LOCALE_KEY = 'lifeline.locale';

/** `missing`: no token in a browser; `denied`: the server refused it. */
export type Access = 'ok' | 'missing' | 'denied';

export interface AppState {
  info: AppInfo | null;
  ready: ReadyState | null;
  locale: Locale;
  screen: Screen;
  /** The operator picked a screen: start-up no longer moves to the recovery wizard by itself. */
  screenChosen: boolean;
  jobs: JobMap;
  kbs: KbSummary[] | null;
  kbLoading: boolean;
  kbError: string | null;
  access: Access;
  connection: ConnectionState;
  loadError: string | null;
  setLocale(locale: Locale): void;
  setScreen(screen: Screen): void;
  applyEvent(event: ApiEvent): void;
  loadKbs(): Promise<void>;
}

function savedLocale(): Locale {
  try {
    const value = localStorage.getItem(LOCALE_KEY);
    return isLocale(value) ? value : DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const useApp = create<AppState>()((set) => ({
  info: null,
  ready: null,
  locale: savedLocale(),
  screen: 'ask',
  screenChosen: false,
  jobs: {},
  kbs: null,
  kbLoading: false,
  kbError: null,
  access: bridge.mode === 'no-token' ? 'missing' : 'ok',
  connection: 'connecting',
  loadError: null,

  setLocale(locale) {
    try {
      localStorage.setItem(LOCALE_KEY, locale);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
    set({ locale });
  },

  setScreen: (screen) => set({ screen, screenChosen: true }),

  applyEvent(event) {
    if (event.type === 'ready') setReady(event.ready);
    else if (event.type === 'job') setJob(event.job);
  },

  async loadKbs() {
    set({ kbLoading: true });
    try {
      set({ kbs: await bridge.invoke('kb.list', {}), kbError: null });
    } catch (err) {
      fail(err);
      set({ kbError: message(err) });
    } finally {
      set({ kbLoading: false });
    }
  },
}));

/** Notes a failed call: a refused token locks the console (the caller still shows its own error). */
export function noteFailure(err: unknown): void {
  fail(err);
}

function fail(err: unknown): void {
  if (isUnauthorized(err)) useApp.setState({ access: bridge.mode === 'no-token' ? 'missing' : 'denied' });
}

function setReady(ready: ReadyState): void {
  const before = useApp.getState().ready?.status;
  useApp.setState({ ready });
  if (ready.status === 'ready' && before !== 'ready') void useApp.getState().loadKbs();
}

function setJob(job: JobRecord): void {
  const { jobs } = useApp.getState();
  const before = jobs[job.id]?.state;
  useApp.setState({ jobs: upsertJob(jobs, job) });
  // A finished job (an ingest, a restore…) may have changed the knowledge bases.
  if (job.state === 'done' && before !== 'done') void useApp.getState().loadKbs();
}

async function refreshReadyAndJobs(): Promise<void> {
  const [ready, jobs] = await Promise.all([bridge.invoke('app.ready', {}), bridge.invoke('jobs.list', {})]);
  setReady(ready);
  // Events may have arrived meanwhile: for each job, the later record wins.
  useApp.setState({ jobs: mergeJobs(useApp.getState().jobs, jobs) });
}

async function load(): Promise<void> {
  try {
    const info = await bridge.invoke('app.info', {});
    useApp.setState({ info });
    // After a power cut or a crash the console opens on the recovery wizard, not on Ask.
    if (info.uncleanShutdown && !useApp.getState().screenChosen) useApp.setState({ screen: 'recovery' });
    await refreshReadyAndJobs();
    useApp.setState({ loadError: null });
    if (useApp.getState().kbs === null) await useApp.getState().loadKbs();
  } catch (err) {
    fail(err);
    useApp.setState({ loadError: message(err) });
  }
}

/** Loads the initial state, subscribes to events, polls while the core initializes. Returns a stop function. */
export function startApp(): () => void {
  if (bridge.mode === 'no-token') return () => {};
  void load();
  const offEvent = bridge.onEvent((event) => useApp.getState().applyEvent(event));
  let previous: ConnectionState = 'connecting';
  const offConnection = bridge.onConnection((connection) => {
    useApp.setState({ connection });
    if (connection === 'unauthorized') useApp.setState({ access: 'denied' });
    // Events may have been missed while the stream was down: catch up.
    if (connection === 'connected' && previous === 'reconnecting') void refreshReadyAndJobs().catch(fail);
    previous = connection;
  });
  const timer = setInterval(() => {
    const { info, ready, loadError, access } = useApp.getState();
    if (access !== 'ok') return;
    if (!info || loadError) void load();
    else if (ready?.status === 'initializing') void bridge.invoke('app.ready', {}).then(setReady, fail);
  }, 2000);
  return () => {
    clearInterval(timer);
    offEvent();
    offConnection();
  };
}
