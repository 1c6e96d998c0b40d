// The Backups screen's state: the backup status and policy, the drives and folders to back up
// to (kept current by `backup.targets` events), the chosen repository, the one operation
// running on it, and the results. Kept in a store so leaving the screen during a long backup
// and coming back still shows its progress and result.
//
// The passphrase is never kept here: every action that needs it takes it as an argument. It
// lives only in the repository panel's component state (see BackupsScreen).
import { create } from 'zustand';
import type { BackupPolicy, BackupResult, BackupStatus, BackupTarget, BackupVerifyResult, RestoreResult, SnapshotSummary } from '../../electron/api/contract.js';
import { bridge } from '../bridge.js';
import { diffTargets, hasChange, sortSnapshots, type TargetChange } from '../lib/backups.js';
import { noteFailure, useApp } from './app.js';

/** How often the status is re-read while the screen is open (the age warning changes with time). */
export const STATUS_REFRESH_MS = 60_000;

/** The sample size of "Verify sample". */
export const VERIFY_SAMPLE = 50;

export type BackupOp = 'init' | 'run' | 'snapshots' | 'verify' | 'verify-sample' | 'restore';

/** The job kind the core reports each long operation under (null: no job, it is quick). */
export const OP_JOB_KIND: Record<BackupOp, string | null> = {
  init: null,
  run: 'backup',
  snapshots: null,
  verify: 'backup-verify',
  'verify-sample': 'backup-verify',
  restore: 'restore',
};

export interface RunningOp {
  op: BackupOp;
  repo: string;
  /** ms since the epoch, this machine's clock (for the elapsed time only). */
  startedAt: number;
  /** Ids of the jobs of this kind that existed before the call: the call's job is a new one. */
  jobsBefore: ReadonlySet<string>;
  /** The snapshot being restored. */
  snapshot?: string;
}

export interface TargetNotice {
  change: TargetChange;
  at: number;
  seq: number;
}

export interface BackupsState {
  status: BackupStatus | null;
  statusLoading: boolean;
  statusError: string | null;
  targets: BackupTarget[] | null;
  targetsLoading: boolean;
  targetsError: string | null;
  notice: TargetNotice | null;
  /** The device being mounted. */
  mounting: string | null;
  mountError: { device: string; message: string } | null;
  policySaving: boolean;
  policyError: string | null;
  policySavedAt: number | null;

  /** The repository whose panel is open. */
  repo: string | null;
  /** Repositories opened with success in this session (their passphrase worked). */
  opened: string[];
  running: RunningOp | null;
  /** The last failed operation on the open repository, the core's message as it is. */
  error: { op: BackupOp | 'cancel'; message: string } | null;
  initResult: { repo: string; id: string } | null;
  runResult: BackupResult | null;
  snapshots: SnapshotSummary[] | null;
  verifyResult: { sample: boolean; result: BackupVerifyResult } | null;
  restoreResult: RestoreResult | null;
  rollbackResult: { restored: string } | null;

  loadStatus(): Promise<void>;
  loadTargets(): Promise<void>;
  applyTargets(targets: BackupTarget[]): void;
  dismissNotice(): void;
  mount(device: string): Promise<void>;
  /** Resolves true when saved; the core's message is in policyError otherwise. */
  savePolicy(policy: Partial<BackupPolicy>): Promise<boolean>;
  /** Opens a repository's panel (null closes it). Refused while an operation runs. */
  selectRepo(repo: string | null): boolean;
  init(passphrase: string): Promise<boolean>;
  run(passphrase: string): Promise<boolean>;
  loadSnapshots(passphrase: string): Promise<boolean>;
  verify(passphrase: string, sample: boolean): Promise<boolean>;
  restore(passphrase: string, snapshot: string): Promise<boolean>;
  /** Rejects with the core's message (the confirmation dialog shows it). */
  rollback(): Promise<void>;
  /** Asks the core to stop the running operation's job. */
  cancel(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function jobIdsOfKind(kind: string | null): Set<string> {
  if (!kind) return new Set();
  return new Set(Object.values(useApp.getState().jobs).filter((j) => j.kind === kind).map((j) => j.id));
}

/** Bumped by every new list of targets, so an older answer never overwrites a newer event. */
let targetsSeq = 0;
let noticeSeq = 0;

const PER_REPO_RESULTS = {
  error: null,
  initResult: null,
  runResult: null,
  snapshots: null,
  verifyResult: null,
  restoreResult: null,
  rollbackResult: null,
} as const;

export const useBackups = create<BackupsState>()((set, get) => {
  /**
   * Runs one operation on the open repository: refuses a second one, remembers which jobs
   * existed (to find this call's job), and keeps the core's message when it fails. The
   * result is written only if the same repository is still open.
   */
  async function operate<T>(op: BackupOp, call: (repo: string) => Promise<T>, done: (value: T, repo: string) => void, extra: Partial<RunningOp> = {}): Promise<boolean> {
    const repo = get().repo;
    if (!repo || get().running) return false;
    const running: RunningOp = { op, repo, startedAt: Date.now(), jobsBefore: jobIdsOfKind(OP_JOB_KIND[op]), ...extra };
    set({ running, error: null });
    try {
      const value = await call(repo);
      if (get().repo === repo) done(value, repo);
      return true;
    } catch (err) {
      noteFailure(err);
      if (get().repo === repo) set({ error: { op, message: message(err) } });
      return false;
    } finally {
      if (get().running === running) set({ running: null });
    }
  }

  function noteOpened(repo: string): void {
    if (!get().opened.includes(repo)) set({ opened: [...get().opened, repo] });
  }

  return {
    status: null,
    statusLoading: false,
    statusError: null,
    targets: null,
    targetsLoading: false,
    targetsError: null,
    notice: null,
    mounting: null,
    mountError: null,
    policySaving: false,
    policyError: null,
    policySavedAt: null,
    repo: null,
    opened: [],
    running: null,
    ...PER_REPO_RESULTS,

    async loadStatus() {
      set({ statusLoading: true });
      try {
        set({ status: await bridge.invoke('backup.status', {}), statusError: null });
      } catch (err) {
        noteFailure(err);
        set({ statusError: message(err) });
      } finally {
        set({ statusLoading: false });
      }
    },

    async loadTargets() {
      const mine = ++targetsSeq;
      set({ targetsLoading: true });
      try {
        const targets = await bridge.invoke('backup.targets', {});
        // An event that came meanwhile is newer than this answer.
        if (mine === targetsSeq) get().applyTargets(targets);
        set({ targetsError: null });
      } catch (err) {
        noteFailure(err);
        set({ targetsError: message(err) });
      } finally {
        set({ targetsLoading: false });
      }
    },

    applyTargets(targets) {
      targetsSeq++;
      const before = get().targets;
      set({ targets });
      if (before === null) return;
      const change = diffTargets(before, targets);
      if (hasChange(change)) set({ notice: { change, at: Date.now(), seq: ++noticeSeq } });
      // A mount error about a drive that left no longer helps.
      const mountError = get().mountError;
      if (mountError && !targets.some((t) => t.device === mountError.device)) set({ mountError: null });
    },

    dismissNotice: () => set({ notice: null }),

    async mount(device) {
      if (get().mounting) return;
      set({ mounting: device, mountError: null });
      try {
        await bridge.invoke('backup.mount', { device });
      } catch (err) {
        noteFailure(err);
        set({ mountError: { device, message: message(err) } });
      } finally {
        set({ mounting: null });
        await get().loadTargets();
      }
    },

    async savePolicy(policy) {
      set({ policySaving: true, policyError: null, policySavedAt: null });
      try {
        const status = await bridge.invoke('backup.setPolicy', policy);
        set({ status, policySavedAt: Date.now() });
        return true;
      } catch (err) {
        noteFailure(err);
        set({ policyError: message(err) });
        return false;
      } finally {
        set({ policySaving: false });
      }
    },

    selectRepo(repo) {
      if (get().running) return repo === get().repo;
      if (repo === get().repo) return true;
      set({ repo, ...PER_REPO_RESULTS });
      return true;
    },

    init(passphrase) {
      return operate(
        'init',
        (repo) => bridge.invoke('backup.init', { repo, passphrase }),
        (initResult, repo) => {
          noteOpened(repo);
          set({ initResult, snapshots: [] });
          void get().loadTargets();
        },
      );
    },

    async run(passphrase) {
      const ok = await operate(
        'run',
        (repo) => bridge.invoke('backup.run', { repo, passphrase }),
        (runResult, repo) => {
          noteOpened(repo);
          set({ runResult });
        },
      );
      // The status (last good, last attempt, warning) changed either way.
      void get().loadStatus();
      if (ok) {
        void get().loadTargets();
        // A backup by write key (no passphrase) cannot list the snapshots: the list stays as it was.
        if (passphrase !== '') await get().loadSnapshots(passphrase);
      }
      return ok;
    },

    loadSnapshots(passphrase) {
      return operate(
        'snapshots',
        (repo) => bridge.invoke('backup.snapshots', { repo, passphrase }),
        (snapshots, repo) => {
          noteOpened(repo);
          set({ snapshots: sortSnapshots(snapshots) });
        },
      );
    },

    verify(passphrase, sample) {
      if (get().running) return Promise.resolve(false);
      set({ verifyResult: null });
      return operate(
        sample ? 'verify-sample' : 'verify',
        (repo) => bridge.invoke('backup.verify', sample ? { repo, passphrase, sample: VERIFY_SAMPLE } : { repo, passphrase }),
        (result, repo) => {
          noteOpened(repo);
          set({ verifyResult: { sample, result } });
        },
      );
    },

    async restore(passphrase, snapshot) {
      if (get().running) return false;
      set({ restoreResult: null, rollbackResult: null });
      const ok = await operate(
        'restore',
        (repo) => bridge.invoke('backup.restore', { repo, passphrase, snapshot }),
        (restoreResult) => set({ restoreResult }),
        { snapshot },
      );
      // The knowledge bases (and perhaps the status) are the restored ones now — or, after a
      // failure, still the old ones: read them again either way.
      await Promise.all([useApp.getState().loadKbs(), get().loadStatus()]);
      return ok;
    },

    async rollback() {
      const rollbackResult = await bridge.invoke('backup.rollback', {}).catch((err: unknown) => {
        noteFailure(err);
        throw err;
      });
      set({ rollbackResult });
      await Promise.all([useApp.getState().loadKbs(), get().loadStatus()]);
    },

    async cancel() {
      const running = get().running;
      const kind = running ? OP_JOB_KIND[running.op] : null;
      if (!running || !kind) return;
      const job = Object.values(useApp.getState().jobs).find((j) => j.kind === kind && !running.jobsBefore.has(j.id) && (j.state === 'queued' || j.state === 'running'));
      if (!job) return;
      try {
        await bridge.invoke('jobs.cancel', { id: job.id });
      } catch (err) {
        noteFailure(err);
        set({ error: { op: 'cancel', message: message(err) } });
      }
    },
  };
});

/**
 * While the Backups screen is open: reads the status and the targets, follows drives being
 * plugged in and pulled (`backup.targets` events), and re-reads the status now and then.
 * Returns the stop function.
 */
export function startBackups(): () => void {
  const state = useBackups.getState();
  void state.loadStatus();
  void state.loadTargets();
  const off = bridge.onEvent((event) => {
    if (event.type === 'backup.targets' && Array.isArray(event.targets)) useBackups.getState().applyTargets(event.targets);
  });
  const timer = setInterval(() => void useBackups.getState().loadStatus(), STATUS_REFRESH_MS);
  return () => {
    clearInterval(timer);
    off();
  };
}
