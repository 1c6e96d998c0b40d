// The wizard's steps wired to the services that check and act: hardware and storage (the
// system's own tools), services (Docker through dockerode), models, knowledge-base integrity,
// golden questions, restore. Each returns findings with evidence and the actions it offers.
import fs from 'node:fs';
import type Dockerode from 'dockerode';
import type { BackupStatus, BackupTarget, Finding, GoldenRunResult, RepairResult, RestoreResult, VerifyResult } from '../../api/contract.js';
import { type CheckResult, statusOf } from '../system/finding.js';
import type { StepRunner, StepRunners } from './wizard.js';

export interface StepDeps {
  dataRoot: string;
  checkHardware(): Promise<CheckResult>;
  checkStorage(): Promise<CheckResult>;
  docker(): Dockerode | null;
  services: {
    check(docker: Dockerode | null): Promise<CheckResult>;
    /** `action` as offered by a finding (e.g. "start:web"). */
    act(docker: Dockerode, action: string): Promise<{ ok: boolean; message: string }>;
  };
  modelProblems(): Promise<Finding[]>;
  verify(deep: boolean): Promise<VerifyResult>;
  repair(): Promise<RepairResult>;
  golden: {
    kbs(): string[];
    run(kb: string): Promise<GoldenRunResult>;
    baseline(kb: string): Promise<GoldenRunResult>;
  };
  backupStatus(): BackupStatus;
  backupTargets(): Promise<BackupTarget[]>;
  restore(repo: string, passphrase: string, snapshot?: string): Promise<RestoreResult>;
}

const timed = async (fn: () => Promise<Finding[]>): Promise<CheckResult> => {
  const t = Date.now();
  const findings = await fn();
  return { status: statusOf(findings), findings, durationMs: Date.now() - t };
};

const ok = (code: string, message: string, evidence: string[] = []): Finding => ({ code, severity: 'ok', message, evidence, actions: [] });

export function buildSteps(d: StepDeps): StepRunners {

  const hardware: StepRunner = { check: () => d.checkHardware(), act: async () => ({ ok: true, detail: 'checked again' }) };
  const storage: StepRunner = {
    check: () => d.checkStorage(),
    async act(action) {
      if (action === 'storage.create-data-root') {
        fs.mkdirSync(d.dataRoot, { recursive: true });
        return { ok: true, detail: `created ${d.dataRoot}` };
      }
      return { ok: true, detail: 'checked again' };
    },
  };

  const services: StepRunner = {
    check: () => d.services.check(d.docker()),
    async act(action) {
      const docker = d.docker();
      if (!docker) return { ok: false, detail: 'no Docker engine is reachable' };
      const r = await d.services.act(docker, action);
      return { ok: r.ok, detail: r.message };
    },
    async rollbackPoint(action, finding) {
      return `container configuration recorded before ${action}: ${finding?.evidence.slice(0, 3).join('; ') ?? ''}`;
    },
  };

  const models: StepRunner = {
    check: () =>
      timed(async () => {
        const problems = await d.modelProblems();
        return problems.length ? problems : [ok('models-ok', 'model files are present and match their recorded checksums (or none are needed: the built-in embedder answers)')];
      }),
    act: async () => ({ ok: true, detail: 'checked again' }),
  };

  const integrity: StepRunner = {
    check: () =>
      timed(async () => {
        const r = await d.verify(true);
        if (r.ok && r.problems.length === 0) return [ok('integrity-ok', `every checksum, the catalog and every index verified (${Object.entries(r.checked).map(([k, v]) => `${k} ${v}`).join(', ')})`)];
        return r.problems.map((p): Finding => {
          const rebuildable = p.repair === 'rebuild' || p.repair === 'sweep' || p.repair === 'resume';
          return {
            code: p.code,
            severity: p.severity === 'error' ? 'fail' : 'warn',
            message: p.message,
            evidence: [`path: ${p.path}`, ...(p.kb ? [`knowledge base: ${p.kb}`] : [])],
            advice:
              p.repair === 'restore'
                ? 'This cannot be rebuilt from what is on this machine: go to the restore step and restore from the USB drive.'
                : rebuildable
                  ? 'Lifeline can rebuild this from the catalog and the original documents: press Repair.'
                  : undefined,
            actions: rebuildable ? [{ id: 'repair', label: 'Repair (rebuild derived data)', destructive: false }] : [],
          };
        });
      }),
    async act(action) {
      if (action !== 'repair') return { ok: false, detail: `unknown action ${action}` };
      const r = await d.repair();
      return { ok: r.ok || r.actions.every((a) => a.ok), detail: r.actions.map((a) => `${a.ok ? 'done' : 'FAILED'}: ${a.action}`).join('; ') || 'nothing to repair' };
    },
  };

  const golden: StepRunner = {
    check: () =>
      timed(async () => {
        const kbs = d.golden.kbs();
        if (kbs.length === 0) return [{ code: 'golden-none', severity: 'warn', message: 'no golden questions are defined: nothing proves the answers are right', evidence: [], advice: 'Write a few questions whose answers you know (Recovery → golden questions) and record a baseline.', actions: [] }];
        const findings: Finding[] = [];
        for (const kb of kbs) {
          const r = await d.golden.run(kb);
          const failed = r.results.filter((x) => !x.passed);
          findings.push({
            code: failed.length ? 'golden-failed' : 'golden-passed',
            severity: failed.length ? 'fail' : 'ok',
            message: `${kb}: ${r.passed} of ${r.total} golden questions passed${r.hasBaseline ? '' : ' (no baseline recorded yet)'}`,
            evidence: r.results.map((x) => `${x.passed ? 'PASS' : 'FAIL'} ${x.id} (${x.latencyMs} ms)${x.reasons.length ? ': ' + x.reasons.join('; ') : ''}${x.changes.length ? ' — since baseline: ' + x.changes.join('; ') : ''}`),
            advice: failed.length ? 'Failing questions after a restore or repair mean the knowledge is not back: check the integrity step, or restore.' : undefined,
            actions: [{ id: `baseline:${kb}`, label: `Record this run as the baseline for ${kb}`, destructive: false }],
          });
        }
        return findings;
      }),
    async act(action) {
      if (action.startsWith('baseline:')) {
        const r = await d.golden.baseline(action.slice('baseline:'.length));
        return { ok: true, detail: `baseline recorded: ${r.passed}/${r.total} passed` };
      }
      return { ok: false, detail: `unknown action ${action}` };
    },
  };

  const restore: StepRunner = {
    check: () =>
      timed(async () => {
        const findings: Finding[] = [];
        const v = await d.verify(false);
        const lost = v.problems.filter((p) => p.repair === 'restore');
        const b = d.backupStatus();
        const targets = await d.backupTargets().catch(() => []);
        const repos = targets.flatMap((t) => t.repositories);
        if (lost.length) {
          findings.push({
            code: 'data-lost',
            severity: 'fail',
            message: `data that cannot be rebuilt is missing or damaged (${lost.map((p) => p.code).join(', ')}): restore from a backup`,
            evidence: [...lost.map((p) => `${p.path}: ${p.message}`), ...repos.map((r) => `repository found: ${r}`)],
            advice: repos.length ? 'Plug in the backup USB drive if it is not already, choose the repository, enter the passphrase and restore.' : 'Plug in the encrypted backup USB drive; it appears here within seconds.',
            actions: [{ id: 'restore', label: 'Restore from the backup (previous data kept for rollback)', destructive: true }],
          });
        } else findings.push(ok('no-restore-needed', 'no data is lost: no restore is needed'));
        if (b.warning) findings.push({ code: 'backup-old', severity: 'warn', message: b.warning, evidence: b.lastAttempt ? [`last attempt ${b.lastAttempt.at}: ${b.lastAttempt.ok ? 'ok' : b.lastAttempt.error}`] : [], advice: 'Once the system works again, make a backup to the USB drive (Backups screen).', actions: [] });
        else if (b.lastGood) findings.push(ok('backup-recent', `last good backup ${b.lastGood.at} (${b.lastGood.repo})`));
        return findings;
      }),
    async act(action, _finding, params) {
      if (action !== 'restore') return { ok: false, detail: `unknown action ${action}` };
      if (!params.repo || !params.passphrase) return { ok: false, detail: 'choose the repository and enter its passphrase' };
      const r = await d.restore(params.repo, params.passphrase, params.snapshot);
      return { ok: true, detail: `restored snapshot ${r.snapshot}; previous data kept at ${r.previous ?? '(none)'}` };
    },
    async rollbackPoint() {
      return 'the current data root is moved aside to .previous-<time> by the restore itself (lifeline restore --rollback)';
    },
  };

  return { hardware, storage, services, models, integrity, golden, restore };
}
