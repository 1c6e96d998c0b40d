import { useEffect, useState, type FormEvent } from 'react';
import type { BackupTarget } from '../../electron/api/contract.js';
import { useBackups } from '../store/backups.js';
import { useT } from '../i18n/useT.js';
import { formatBytes } from '../lib/format.js';
import { diskUsage, joinPath, normalizeRepoPath, targetKey, targetName } from '../lib/backups.js';
import { ErrorNote, Loading } from './Notice.js';

/** How long the "drive connected / removed" notice stays (it can be closed sooner). */
export const NOTICE_MS = 20_000;

/** The folder a new repository on a drive goes into. */
export const NEW_REPO_FOLDER = 'lifeline-backup';

const EXAMPLE_NAS = '/mnt/nas/lifeline-backup';

/**
 * Where a new repository on a target goes: a folder of its own on a drive; a configured
 * folder (a repository folder named in the schedule) is the repository itself.
 */
function newRepoPath(target: BackupTarget): string {
  return target.kind === 'folder' ? target.path : joinPath(target.path, NEW_REPO_FOLDER);
}

function Usage({ target }: { target: BackupTarget }) {
  const t = useT();
  const usage = diskUsage(target.sizeBytes, target.freeBytes);
  if (!usage.known) {
    return target.mounted ? <p className="muted small-text">{t('backups.target.sizeUnknown')}</p> : null;
  }
  return (
    <p className="backup-usage" data-testid="backup-target-usage" data-free-percent={usage.freePercent}>
      <meter className="backup-meter" min={0} max={1} low={0.8} high={0.9} optimum={0} value={usage.used} aria-label={t('backups.target.usageLabel')} />{' '}
      <span className={usage.low ? 'warn-only strong' : undefined}>
        {t('backups.target.free', { free: formatBytes(target.freeBytes ?? 0), size: formatBytes(target.sizeBytes ?? 0), percent: usage.freePercent })}
      </span>
      {usage.low && <span className="warn-only small-text"> · {t('backups.target.low')}</span>}
    </p>
  );
}

function TargetCard({ target }: { target: BackupTarget }) {
  const t = useT();
  const repo = useBackups((s) => s.repo);
  const running = useBackups((s) => s.running);
  const mounting = useBackups((s) => s.mounting);
  const mountError = useBackups((s) => s.mountError);
  const mount = useBackups((s) => s.mount);
  const selectRepo = useBackups((s) => s.selectRepo);
  const busy = running !== null;
  const isMounting = mounting !== null && mounting === target.device;
  const name = targetName(target);
  // A LUKS drive not unlocked yet: Lifeline never handles its password, the note says how.
  const locked = target.encrypted && !target.mounted;
  const isFolder = target.kind === 'folder';

  return (
    <li
      className={`backup-target${target.mounted ? '' : ' unmounted'}${locked ? ' locked' : ''}`}
      data-testid="backup-target"
      data-path={target.path}
      data-kind={target.kind}
      data-mounted={String(target.mounted)}
      data-encrypted={String(target.encrypted)}
      data-device={target.device ?? ''}
    >
      <div className="backup-target-head">
        <span className="strong break">{name}</span>
        <span className="badge">{t(target.kind === 'drive' ? 'backups.target.kind.drive' : 'backups.target.kind.folder')}</span>
        {target.removable && <span className="badge">{t('backups.target.removable')}</span>}
        {target.encrypted && <span className={locked ? 'badge badge-warn' : 'badge'}>{t(locked ? 'backups.target.encrypted' : 'backups.target.unlocked')}</span>}
        <span className={`health-badge tone-${target.mounted ? 'ok' : 'warn'}`}>
          <span className="health-icon" aria-hidden="true">
            {target.mounted ? '✓' : '!'}
          </span>
          {t(target.mounted ? 'backups.target.mounted' : isFolder ? 'backups.target.unavailable' : 'backups.target.notMounted')}
        </span>
      </div>
      <p className="small-text break backup-target-where">
        {target.path && name !== target.path && (
          <>
            <code>{target.path}</code>{' '}
          </>
        )}
        <span className="muted">{[target.device ? t('backups.target.device', { device: target.device }) : null, target.fsType].filter(Boolean).join(' · ')}</span>
      </p>
      <Usage target={target} />

      {!target.mounted && isFolder && <p className="small-text warn-only">{t('backups.target.folderUnavailable')}</p>}
      {!target.mounted && !isFolder && !locked && (
        <div className="backup-mount">
          <p className="small-text">{t('backups.target.notMountedExplain')}</p>
          {target.device && (
            <button type="button" className="primary" data-testid="backup-mount" disabled={mounting !== null} onClick={() => void mount(target.device as string)}>
              {isMounting ? t('backups.target.mounting') : t('backups.target.mount')}
            </button>
          )}
        </div>
      )}
      {mountError && mountError.device === target.device && (
        <ErrorNote text={t('backups.target.mountError', { message: mountError.message })} testId="backup-mount-error" />
      )}

      {locked ? (
        <div className="callout callout-warn" data-testid="backup-luks-note" role="note">
          <p className="strong">{t('backups.target.luksTitle')}</p>
          <p className="small-text">{t('backups.target.luksExplain')}</p>
          {target.note && <pre className="backup-note">{target.note}</pre>}
        </div>
      ) : (
        target.note && (
          <p className="small-text muted break" data-testid="backup-target-note">
            {target.note}
          </p>
        )
      )}

      {target.mounted && (
        <div className="backup-repos">
          {target.repositories.length > 0 ? (
            <>
              <p className="small-text strong">{t('backups.target.repos', { count: target.repositories.length })}</p>
              <ul>
                {target.repositories.map((r) => (
                  <li key={r}>
                    <button
                      type="button"
                      className={r === repo ? 'backup-repo-button selected' : 'backup-repo-button'}
                      data-testid="backup-repo"
                      data-repo={r}
                      aria-pressed={r === repo}
                      disabled={busy && r !== repo}
                      onClick={() => selectRepo(r)}
                    >
                      <code className="break">{r}</code>
                      <span className="small-text"> {r === repo ? t('backups.target.repoOpen') : t('backups.target.repoChoose')}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="small-text muted">
              {t('backups.target.noRepos')}{' '}
              <button
                type="button"
                className="small"
                data-testid="backup-target-use"
                data-repo={newRepoPath(target)}
                disabled={busy}
                onClick={() => selectRepo(newRepoPath(target))}
              >
                {isFolder ? t('backups.target.newRepoHere') : t('backups.target.newRepo', { folder: NEW_REPO_FOLDER })}
              </button>
            </p>
          )}
        </div>
      )}
    </li>
  );
}

function Notice() {
  const t = useT();
  const notice = useBackups((s) => s.notice);
  const dismiss = useBackups((s) => s.dismissNotice);
  const seq = notice?.seq;
  useEffect(() => {
    if (seq === undefined) return;
    const timer = setTimeout(() => {
      if (useBackups.getState().notice?.seq === seq) dismiss();
    }, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [seq, dismiss]);
  if (!notice) return null;
  const { added, removed } = notice.change;
  return (
    <div className="callout backup-notice" role="status" data-testid="backup-targets-notice" data-added={added.length} data-removed={removed.length}>
      <ul>
        {added.map((tg) => (
          <li key={`+${targetKey(tg)}`} className="ok-text">
            <span aria-hidden="true">＋ </span>
            {t(tg.kind === 'drive' ? 'backups.notice.driveAdded' : 'backups.notice.folderAdded', { name: targetName(tg) })}
          </li>
        ))}
        {removed.map((tg) => (
          <li key={`-${targetKey(tg)}`} className="warn-only">
            <span aria-hidden="true">－ </span>
            {t(tg.kind === 'drive' ? 'backups.notice.driveRemoved' : 'backups.notice.folderRemoved', { name: targetName(tg) })}
          </li>
        ))}
      </ul>
      <button type="button" className="small" data-testid="backup-targets-notice-close" onClick={dismiss} aria-label={t('backups.notice.close')}>
        ✕
      </button>
    </div>
  );
}

function PathForm() {
  const t = useT();
  const repo = useBackups((s) => s.repo);
  const running = useBackups((s) => s.running);
  const selectRepo = useBackups((s) => s.selectRepo);
  const [path, setPath] = useState('');
  const chosen = normalizeRepoPath(path);

  // A repository chosen elsewhere (a button above) shows in the field too.
  useEffect(() => {
    if (repo) setPath(repo);
  }, [repo]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen) selectRepo(chosen);
  };

  return (
    <form className="backup-path" onSubmit={submit}>
      <label className="backup-field grow">
        <span className="strong">{t('backups.path.label')}</span>
        <span className="backup-inline">
          <input
            type="text"
            data-testid="backup-repo-path"
            value={path}
            placeholder={EXAMPLE_NAS}
            spellCheck={false}
            autoComplete="off"
            aria-describedby="backup-path-hint"
            onChange={(e) => setPath(e.target.value)}
          />
          <button type="submit" className="primary" data-testid="backup-repo-open" disabled={!chosen || (running !== null && chosen !== repo)}>
            {t('backups.path.open')}
          </button>
        </span>
      </label>
      <p className="muted small-text" id="backup-path-hint">
        {t('backups.path.hint', { example: EXAMPLE_NAS })}
      </p>
    </form>
  );
}

export function BackupTargets() {
  const t = useT();
  const targets = useBackups((s) => s.targets);
  const loading = useBackups((s) => s.targetsLoading);
  const error = useBackups((s) => s.targetsError);
  const loadTargets = useBackups((s) => s.loadTargets);

  return (
    <section className="panel backup-targets" data-testid="backup-targets" aria-labelledby="backup-targets-title">
      <div className="screen-head">
        <h2 id="backup-targets-title">{t('backups.targets.title')}</h2>
        <button type="button" data-testid="backup-refresh" onClick={() => void loadTargets()} disabled={loading}>
          {loading ? t('backups.targets.refreshing') : t('backups.refresh')}
        </button>
      </div>
      <p className="muted small-text">{t('backups.targets.explain')}</p>
      <Notice />
      {error && (
        <ErrorNote text={t('backups.targets.error', { message: error })} testId="backup-targets-error" />
      )}
      {targets === null ? (
        loading && (
          <Loading text={t('backups.targets.loading')} />
        )
      ) : targets.length === 0 ? (
        <p className="muted" data-testid="backup-targets-empty">
          {t('backups.targets.empty')}
        </p>
      ) : (
        <ul className="backup-target-list">
          {targets.map((tg) => (
            <TargetCard key={targetKey(tg)} target={tg} />
          ))}
        </ul>
      )}
      <PathForm />
    </section>
  );
}
