import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { BackupResult, BackupVerifyResult, RestoreResult, SnapshotSummary } from '../../electron/api/contract.js';
import { useApp } from '../store/app.js';
import { OP_JOB_KIND, VERIFY_SAMPLE, useBackups, type RunningOp } from '../store/backups.js';
import { useT } from '../i18n/useT.js';
import { LOCALES, translate } from '../i18n/index.js';
import { formatBytes, formatClock, formatCount, formatDateTime } from '../lib/format.js';
import { backsUpWithoutPassphrase, etaMessage, formatDuration, isKnownRepo, jobProgress, newJobOf, shortId, targetKey, targetOfRepo } from '../lib/backups.js';
import { ProgressBar } from './ProgressBar.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { KbCompareTable, RestoreDialog } from './RestoreDialog.js';
import { ErrorNote } from './Notice.js';

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <>{formatClock(Math.max(0, now - since))}</>;
}

/** The running operation: a bar with bytes, percent and time left from its job's events. */
function Progress({ running }: { running: RunningOp }) {
  const t = useT();
  const jobs = useApp((s) => s.jobs);
  const cancel = useBackups((s) => s.cancel);
  const kind = OP_JOB_KIND[running.op];
  const job = useMemo(() => (kind ? newJobOf(jobs, kind, running.jobsBefore) : null), [jobs, kind, running.jobsBefore]);
  const p = jobProgress(job);
  const eta = job?.state === 'running' ? etaMessage(job.etaMs) : null;
  const label = t(`backups.running.${running.op}`, { id: running.snapshot ? shortId(running.snapshot) : '' });

  if (!kind) {
    return (
      <p className="loading" role="status" data-testid="backup-working" data-op={running.op}>
        <span className="spinner" aria-hidden="true" /> {label}
      </p>
    );
  }
  return (
    <div className="backup-progress" role="status" data-testid="backup-progress" data-op={running.op} data-percent={p.percent} data-job={job?.id ?? ''} data-state={job?.state ?? 'starting'}>
      <p className="loading-inline">
        <span className="spinner" aria-hidden="true" /> <span className="strong">{label}</span>
      </p>
      <p className="backup-progress-line">
        <ProgressBar done={p.percent} total={job ? 100 : 0} label={label} />{' '}
        {job ? (
          <span className="backup-progress-numbers">
            <span className="strong">{p.percent}%</span>
            {p.bytesTotal > 0 && <> · {t('backups.progress.bytes', { done: formatBytes(p.bytesDone), total: formatBytes(p.bytesTotal) })}</>}
            {p.total > 0 && <> · {t('backups.progress.items', { done: formatCount(p.done), total: formatCount(p.total) })}</>}
            {eta && <> · {t(eta.key, eta.params)}</>}
          </span>
        ) : (
          <span className="muted">{t('backups.progress.starting')}</span>
        )}
      </p>
      {job?.message && <p className="small-text muted break">{job.message}</p>}
      <p className="small-text muted">
        {t('backups.progress.elapsed')} <Elapsed since={running.startedAt} /> · {t('backups.progress.leave')}
      </p>
      {job && (job.state === 'running' || job.state === 'queued') && (
        <button type="button" className="small danger-outline" data-testid="backup-cancel" onClick={() => void cancel()}>
          {t('backups.progress.stop')}
        </button>
      )}
    </div>
  );
}

function RunResultView({ result }: { result: BackupResult }) {
  const t = useT();
  return (
    <div className="backup-result" role="status" data-testid="backup-result" data-snapshot={result.snapshot} data-files={result.files} data-new-files={result.newFiles}>
      <p className="ok-text strong">✓ {t('backups.result.title', { id: shortId(result.snapshot) })}</p>
      <dl className="health-facts">
        <div>
          <dt>{t('backups.result.files')}</dt>
          <dd>{formatCount(result.files)}</dd>
        </div>
        <div>
          <dt>{t('backups.result.newFiles')}</dt>
          <dd>{formatCount(result.newFiles)}</dd>
        </div>
        <div>
          <dt>{t('backups.result.written')}</dt>
          <dd>{t('backups.result.writtenOf', { written: formatBytes(result.bytesWritten), total: formatBytes(result.bytesTotal) })}</dd>
        </div>
        <div>
          <dt>{t('backups.result.duration')}</dt>
          <dd>{formatDuration(result.durationMs)}</dd>
        </div>
      </dl>
      <p className="small-text muted">{t('backups.result.explain')}</p>
      {result.pruned.length > 0 && (
        <p className="small-text muted break" data-testid="backup-result-pruned">
          {t('backups.result.pruned', { count: result.pruned.length, ids: result.pruned.map(shortId).join(', ') })}
        </p>
      )}
    </div>
  );
}

function VerifyResultView({ sample, result }: { sample: boolean; result: BackupVerifyResult }) {
  const t = useT();
  return (
    <div
      className={`backup-verify-result ${result.ok ? 'ok' : 'damaged'}`}
      role={result.ok ? 'status' : 'alert'}
      data-testid="backup-verify-result"
      data-ok={String(result.ok)}
      data-sample={String(sample)}
      data-damaged={result.damaged.length}
    >
      <p className={result.ok ? 'ok-text strong' : 'error-text strong'}>
        {result.ok ? '✓ ' : '✕ '}
        {result.ok
          ? t(sample ? 'backups.verify.okSample' : 'backups.verify.ok', {
              snapshots: formatCount(result.snapshots),
              blobs: formatCount(result.blobsChecked),
              bytes: formatBytes(result.bytesChecked),
            })
          : t('backups.verify.damaged', { count: formatCount(result.damaged.length), blobs: formatCount(result.blobsChecked) })}
      </p>
      {sample && result.ok && <p className="small-text muted">{t('backups.verify.sampleNote')}</p>}
      {result.damaged.length > 0 && (
        <>
          <p>{t('backups.verify.damagedHelp')}</p>
          <table className="table backup-damaged" data-testid="backup-damaged">
            <thead>
              <tr>
                <th>{t('backups.verify.col.snapshot')}</th>
                <th>{t('backups.verify.col.file')}</th>
                <th>{t('backups.verify.col.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {result.damaged.map((d, i) => (
                <tr key={`${d.snapshot}-${d.file}-${d.blob}-${i}`} data-testid="backup-damaged-row" data-snapshot={d.snapshot}>
                  <td>
                    <code title={d.snapshot}>{shortId(d.snapshot)}</code>
                  </td>
                  <td className="break">
                    <code>{d.file}</code>
                    <div className="muted small-text">
                      {t('backups.verify.blob')} <code title={d.blob}>{shortId(d.blob)}</code>
                    </div>
                  </td>
                  <td className="break error-text">{d.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function SnapshotRow({ snapshot, canRestore, onRestore }: { snapshot: SnapshotSummary; canRestore: boolean; onRestore: () => void }) {
  const t = useT();
  return (
    <tr data-testid="backup-snapshot" data-id={snapshot.id} data-time={snapshot.time}>
      <td className="nowrap">
        {formatDateTime(snapshot.time)}
        <div className="muted small-text">
          <code title={snapshot.id}>{shortId(snapshot.id)}</code>
        </div>
      </td>
      <td className="break">{snapshot.host}</td>
      <td className="nowrap">{snapshot.lifelineVersion}</td>
      <td className="num nowrap">
        {formatBytes(snapshot.bytes)}
        <div className="muted small-text">{t('backups.snapshots.files', { count: formatCount(snapshot.files) })}</div>
      </td>
      <td>
        {snapshot.retained ? (
          <span className="muted" data-testid="backup-snapshot-retained">{t('backups.snapshots.retained')}</span>
        ) : snapshot.knowledgeBases.length === 0 ? (
          <span className="muted">{t('backups.snapshots.noKbs')}</span>
        ) : (
          <ul className="backup-snapshot-kbs">
            {snapshot.knowledgeBases.map((k) => (
              <li key={k.name}>
                <span className="strong">{k.name}</span>{' '}
                <span className="small-text">
                  {t('backups.compare.counts', { documents: formatCount(k.documents), chunks: formatCount(k.chunks) })} · <code>{k.embedder}</code>
                </span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className="actions">
        {!snapshot.retained && (
          <button type="button" className="danger-outline" data-testid="backup-restore" data-id={snapshot.id} disabled={!canRestore} title={canRestore ? undefined : t('backups.snapshots.needPass')} onClick={onRestore}>
            {t('backups.snapshots.restore')}
          </button>
        )}
      </td>
    </tr>
  );
}

function RestoreResultView({ result }: { result: RestoreResult }) {
  const t = useT();
  const rollbackResult = useBackups((s) => s.rollbackResult);
  const running = useBackups((s) => s.running);
  const rollback = useBackups((s) => s.rollback);
  const [confirming, setConfirming] = useState(false);
  const v = result.staged.verify;
  const errors = v.problems.filter((p) => p.severity === 'error').length;
  const warnings = v.problems.length - errors;
  return (
    <div className="backup-restore-result" role="status" data-testid="backup-restore-result" data-snapshot={result.snapshot} data-verify-ok={String(v.ok)} data-previous={result.previous ?? ''}>
      <p className="ok-text strong">✓ {t('backups.restored.title', { id: shortId(result.snapshot), took: formatDuration(result.durationMs) })}</p>
      <KbCompareTable before={result.before} after={result.after} beforeLabel={t('backups.compare.before')} afterLabel={t('backups.compare.after')} />
      <dl className="health-facts">
        <div>
          <dt>{t('backups.restored.staged')}</dt>
          <dd>{t('backups.restored.stagedValue', { files: formatCount(result.staged.files), bytes: formatBytes(result.staged.bytes) })}</dd>
        </div>
        <div data-testid="backup-restore-verify" data-ok={String(v.ok)}>
          <dt>{t('backups.restored.check')}</dt>
          <dd className={v.ok ? 'ok-text' : 'warn-only'}>
            {v.ok ? `✓ ${t('backups.restored.checkOk')}` : `! ${t('backups.restored.checkProblems', { errors, warnings })}`}
          </dd>
        </div>
        <div>
          <dt>{t('backups.restored.previous')}</dt>
          <dd className="break">{result.previous ? <code>{result.previous}</code> : <span className="muted">{t('backups.restored.noPrevious')}</span>}</dd>
        </div>
      </dl>
      {!v.ok && v.problems.length > 0 && (
        <ul className="small-text">
          {v.problems.map((p, i) => (
            <li key={`${p.code}-${i}`} className={p.severity === 'error' ? 'error-text' : 'warn-only'}>
              <code>{p.code}</code> <code className="break">{p.path}</code> — {p.message}
            </li>
          ))}
        </ul>
      )}
      {result.previous && !rollbackResult && (
        <>
          <p className="small-text">{t('backups.restored.rollbackExplain')}</p>
          <button type="button" className="danger-outline" data-testid="backup-rollback" disabled={running !== null} onClick={() => setConfirming(true)}>
            {t('backups.rollback')}
          </button>
        </>
      )}
      {rollbackResult && (
        <p className="ok-text strong" data-testid="backup-rollback-result">
          ✓ {t('backups.rollback.done', { restored: rollbackResult.restored })}
        </p>
      )}
      {confirming && (
        <ConfirmDialog title={t('backups.rollback.title')} okLabel={t('backups.rollback.ok')} danger onConfirm={() => rollback()} onClose={() => setConfirming(false)}>
          <p>{t('backups.rollback.body', { previous: result.previous ?? '' })}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** The lost-passphrase warning, in the console's language first and then the other one. */
function LostPassphraseWarning() {
  const locale = useApp((s) => s.locale);
  const order = [locale, ...LOCALES.filter((l) => l !== locale)];
  return (
    <div className="callout callout-danger" role="note" data-testid="backup-passphrase-warning">
      {order.map((l, i) => (
        <p key={l} lang={l} className={i === 0 ? 'strong' : 'small-text'}>
          {translate(l, 'backups.pass.lostWarning')}
        </p>
      ))}
    </div>
  );
}

/**
 * One repository: the passphrase (in this component's state only, never stored), create,
 * back up, snapshots, verify, restore. Keyed by the repository: another one starts afresh.
 */
export function BackupRepoPanel({ repo }: { repo: string }) {
  const t = useT();
  const targets = useBackups((s) => s.targets);
  const status = useBackups((s) => s.status);
  const opened = useBackups((s) => s.opened);
  const running = useBackups((s) => s.running);
  const error = useBackups((s) => s.error);
  const initResult = useBackups((s) => s.initResult);
  const runResult = useBackups((s) => s.runResult);
  const snapshots = useBackups((s) => s.snapshots);
  const verifyResult = useBackups((s) => s.verifyResult);
  const restoreResult = useBackups((s) => s.restoreResult);
  const selectRepo = useBackups((s) => s.selectRepo);
  const init = useBackups((s) => s.init);
  const run = useBackups((s) => s.run);
  const loadSnapshots = useBackups((s) => s.loadSnapshots);
  const verify = useBackups((s) => s.verify);
  const restore = useBackups((s) => s.restore);

  // The passphrase lives here only: gone when the panel closes or Forget is pressed.
  const [passphrase, setPassphrase] = useState('');
  const [passphrase2, setPassphrase2] = useState('');
  const [restoring, setRestoring] = useState<SnapshotSummary | null>(null);
  const panelRef = useRef<HTMLElement>(null);

  // The panel opens below the list: bring it into view.
  useEffect(() => {
    const calm = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    panelRef.current?.scrollIntoView?.({ block: 'start', behavior: calm ? 'auto' : 'smooth' });
  }, []);

  const known = isKnownRepo(repo, targets, status, opened);
  const target = targets ? targetOfRepo(repo, targets) : null;
  // Remember the drive the repository was seen on, to say so when it is pulled out.
  const seenOn = useRef<string | null>(null);
  if (target) seenOn.current = targetKey(target);
  const driveGone = targets !== null && target === null && seenOn.current !== null;

  const busy = running !== null;
  const mine = running !== null && running.repo === repo;
  const hasPass = passphrase !== '';
  const twiceOk = hasPass && passphrase === passphrase2;
  const mismatch = passphrase2 !== '' && passphrase !== passphrase2;
  // An unknown folder is created by the first backup: only with the passphrase typed twice. A
  // repository this data root has unlocked before takes a backup without it (its write key).
  const writeKey = backsUpWithoutPassphrase(repo, targets);
  const canRun = !busy && (hasPass ? known || twiceOk : writeKey);

  const forget = () => {
    setPassphrase('');
    setPassphrase2('');
  };
  const onPassKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && hasPass && !busy) {
      e.preventDefault();
      if (known) void loadSnapshots(passphrase);
    }
  };

  return (
    <section ref={panelRef} className="panel backup-repo-panel" data-testid="backup-repo-panel" data-repo={repo} data-known={String(known)} aria-labelledby="backup-repo-title">
      <div className="screen-head">
        <h2 id="backup-repo-title">
          {t('backups.repo.title')} <code className="break backup-repo-path-title">{repo}</code>
        </h2>
        <button type="button" data-testid="backup-repo-close" disabled={busy} onClick={() => selectRepo(null)}>
          {t('backups.repo.close')}
        </button>
      </div>
      {driveGone && (
        <ErrorNote text={t('backups.repo.driveGone')} testId="backup-repo-gone" />
      )}
      {!known && <p className="notice" data-testid="backup-repo-unknown">{t('backups.repo.unknown')}</p>}

      <div className="backup-pass">
        <p className="small-text muted">{t('backups.pass.explain')}</p>
        {writeKey && (
          <p className="small-text" data-testid="backup-writekey-note">
            {t('backups.pass.writeKey')}
          </p>
        )}
        <div className="backup-pass-fields">
          <label className="backup-field">
            <span className="strong">{t('backups.pass.label')}</span>
            <input
              type="password"
              data-testid="backup-passphrase"
              value={passphrase}
              autoComplete={known ? 'off' : 'new-password'}
              spellCheck={false}
              autoCapitalize="off"
              onChange={(e) => setPassphrase(e.target.value)}
              onKeyDown={onPassKey}
            />
          </label>
          {!known && (
            <label className="backup-field">
              <span className="strong">{t('backups.pass.again')}</span>
              <input
                type="password"
                data-testid="backup-passphrase2"
                value={passphrase2}
                autoComplete="new-password"
                spellCheck={false}
                autoCapitalize="off"
                aria-invalid={mismatch ? true : undefined}
                onChange={(e) => setPassphrase2(e.target.value)}
              />
            </label>
          )}
          <button type="button" data-testid="backup-forget" disabled={!passphrase && !passphrase2} onClick={forget}>
            {t('backups.pass.forget')}
          </button>
        </div>
        {mismatch && (
          <p className="error-text small-text" role="alert" data-testid="backup-passphrase-mismatch">
            {t('backups.pass.mismatch')}
          </p>
        )}
        {!known && <LostPassphraseWarning />}
      </div>

      <div className="backup-actions">
        {!known && (
          <button type="button" className="primary" data-testid="backup-init" disabled={busy || !twiceOk} onClick={() => void init(passphrase)}>
            {t('backups.init')}
          </button>
        )}
        <button type="button" className={known ? 'primary' : undefined} data-testid="backup-run" disabled={!canRun} onClick={() => void run(passphrase)}>
          {t('backups.run')}
        </button>
        <button type="button" data-testid="backup-snapshots-load" disabled={busy || !hasPass} onClick={() => void loadSnapshots(passphrase)}>
          {t('backups.snapshots.load')}
        </button>
        <button type="button" data-testid="backup-verify" disabled={busy || !hasPass} onClick={() => void verify(passphrase, false)}>
          {t('backups.verify')}
        </button>
        <button type="button" data-testid="backup-verify-sample" disabled={busy || !hasPass} onClick={() => void verify(passphrase, true)}>
          {t('backups.verifySample', { n: VERIFY_SAMPLE })}
        </button>
      </div>
      <p className="small-text muted">
        {!hasPass ? t(writeKey ? 'backups.actions.needPassToRead' : 'backups.actions.needPass') : !known && !twiceOk ? t('backups.actions.needTwice') : t('backups.actions.explain', { n: VERIFY_SAMPLE })}
      </p>

      {mine && running && <Progress running={running} />}
      {running && !mine && <p className="notice">{t('backups.repo.otherBusy', { repo: running.repo })}</p>}
      {error && (
        <p className="error" role="alert" data-testid="backup-error" data-op={error.op}>
          {t('backups.error', { op: t(`backups.op.${error.op}`), message: error.message })}
        </p>
      )}
      {initResult && (
        <p className="ok-text strong" role="status" data-testid="backup-init-result">
          ✓ {t('backups.init.done')}
        </p>
      )}
      {restoreResult && <RestoreResultView result={restoreResult} />}
      {runResult && <RunResultView result={runResult} />}
      {verifyResult && <VerifyResultView sample={verifyResult.sample} result={verifyResult.result} />}

      <h3>{t('backups.snapshots.title')}</h3>
      {snapshots === null ? (
        <p className="muted" data-testid="backup-snapshots-none">
          {t('backups.snapshots.notLoaded')}
        </p>
      ) : snapshots.length === 0 ? (
        <p className="muted" data-testid="backup-snapshots-empty">
          {t('backups.snapshots.empty')}
        </p>
      ) : (
        <>
          <p className="small-text muted">{t('backups.snapshots.explain')}</p>
          <table className="table backup-snapshots" data-testid="backup-snapshots">
            <thead>
              <tr>
                <th>{t('backups.snapshots.col.time')}</th>
                <th>{t('backups.snapshots.col.host')}</th>
                <th>{t('backups.snapshots.col.version')}</th>
                <th className="num">{t('backups.snapshots.col.size')}</th>
                <th>{t('backups.snapshots.col.contents')}</th>
                <th>{t('kb.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {snapshots.map((s) => (
                <SnapshotRow key={s.id} snapshot={s} canRestore={hasPass && !busy} onRestore={() => setRestoring(s)} />
              ))}
            </tbody>
          </table>
        </>
      )}

      {restoring && (
        <RestoreDialog
          snapshot={restoring}
          onClose={() => setRestoring(null)}
          onConfirm={() => {
            const id = restoring.id;
            setRestoring(null);
            void restore(passphrase, id);
          }}
        />
      )}
    </section>
  );
}
