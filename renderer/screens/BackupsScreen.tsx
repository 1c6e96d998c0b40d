import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { BackupPolicy } from '../../electron/api/contract.js';
import { useBackups, startBackups } from '../store/backups.js';
import { useT } from '../i18n/useT.js';
import type { MessageKey } from '../i18n/index.js';
import { formatDateTime } from '../lib/format.js';
import { ageMessage, checkPolicyForm, formOfPolicy, knownRepos, normalizeRepoPath, policyChanged, shortId, type PolicyField, type PolicyForm } from '../lib/backups.js';
import { BackupTargets } from '../components/BackupTargets.js';
import { BackupRepoPanel } from '../components/BackupRepoPanel.js';
import { ErrorNote, Loading } from '../components/Notice.js';

function Age({ at }: { at: string }) {
  const t = useT();
  const time = Date.parse(at);
  if (Number.isNaN(time)) return null;
  const age = ageMessage(Date.now() - time);
  return <span className="muted"> ({t(age.key, age.params)})</span>;
}

function StatusPanel() {
  const t = useT();
  const status = useBackups((s) => s.status);
  const loading = useBackups((s) => s.statusLoading);
  const error = useBackups((s) => s.statusError);
  const loadStatus = useBackups((s) => s.loadStatus);
  const selectRepo = useBackups((s) => s.selectRepo);
  const running = useBackups((s) => s.running);
  const lastGood = status?.lastGood ?? null;
  const lastAttempt = status?.lastAttempt ?? null;

  return (
    <section
      className={`panel backup-status${status?.warning ? ' panel-warn' : ''}`}
      data-testid="backup-status"
      data-has-warning={String(Boolean(status?.warning))}
      data-last-good={lastGood?.at ?? ''}
      data-last-attempt-ok={lastAttempt ? String(lastAttempt.ok) : ''}
      aria-labelledby="backup-status-title"
    >
      <div className="screen-head">
        <h2 id="backup-status-title">{t('backups.status.title')}</h2>
        <button type="button" className="small" data-testid="backup-status-refresh" onClick={() => void loadStatus()} disabled={loading}>
          {t('backups.refresh')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('backups.status.error', { message: error })} testId="backup-status-error" />
      )}
      {status === null ? (
        loading && (
          <Loading text={t('backups.status.loading')} />
        )
      ) : (
        <>
          {status.warning && (
            <div className="backup-warning" role="alert" data-testid="backup-warning">
              <p className="strong">
                <span aria-hidden="true">⚠ </span>
                {status.warning}
              </p>
              <p>{t('backups.status.warningHelp')}</p>
            </div>
          )}
          {(status.pruneDue ?? []).map((d) => (
            <p key={d.repo} className="notice small-text break" data-testid="backup-prune-due" data-repo={d.repo}>
              {t('backups.status.pruneDue', { n: d.snapshots, repo: d.repo })}
            </p>
          ))}
          <dl className="health-facts backup-facts">
            <div data-testid="backup-last-good">
              <dt>{t('backups.status.lastGood')}</dt>
              {lastGood ? (
                <dd>
                  <span className="ok-text strong">✓ {formatDateTime(lastGood.at)}</span>
                  <Age at={lastGood.at} />
                  <div className="small-text break">
                    {t('backups.status.inRepo')} <code>{lastGood.repo}</code>
                  </div>
                  <div className="small-text">
                    {t('backups.status.snapshot')} <code title={lastGood.snapshot}>{shortId(lastGood.snapshot)}</code>{' '}
                    <button
                      type="button"
                      className="small link-button"
                      data-testid="backup-status-open"
                      disabled={running !== null}
                      onClick={() => selectRepo(lastGood.repo)}
                    >
                      {t('backups.status.open')}
                    </button>
                  </div>
                </dd>
              ) : (
                <dd className="warn-only strong">{t('backups.status.noGood')}</dd>
              )}
            </div>
            <div data-testid="backup-last-attempt" data-ok={lastAttempt ? String(lastAttempt.ok) : ''}>
              <dt>{t('backups.status.lastAttempt')}</dt>
              {lastAttempt ? (
                <dd>
                  {lastAttempt.ok ? (
                    <span className="ok-text strong">✓ {t('backups.status.attemptOk')}</span>
                  ) : (
                    <span className="error-text strong">✕ {t('backups.status.attemptFailed')}</span>
                  )}{' '}
                  {formatDateTime(lastAttempt.at)}
                  <Age at={lastAttempt.at} />
                  <div className="small-text break">
                    {t('backups.status.inRepo')} <code>{lastAttempt.repo}</code>
                  </div>
                  {!lastAttempt.ok && lastAttempt.error && <div className="error-text break">{lastAttempt.error}</div>}
                </dd>
              ) : (
                <dd className="muted">{t('backups.status.noAttempt')}</dd>
              )}
            </div>
            <div data-testid="backup-next-run">
              <dt>{t('backups.status.nextRun')}</dt>
              <dd>
                {status.nextRun ? (
                  <>
                    {formatDateTime(status.nextRun)}
                    {status.policy.targets.length > 0 && (
                      <div className="small-text muted">{t('backups.status.nextRunTargets', { count: status.policy.targets.length })}</div>
                    )}
                  </>
                ) : (
                  <span className="muted">{status.policy.dailyAt ? t('backups.status.nextRunUnknown') : t('backups.status.scheduleOff')}</span>
                )}
              </dd>
            </div>
          </dl>
        </>
      )}
    </section>
  );
}

function FieldError({ field, errors }: { field: PolicyField; errors: Partial<Record<PolicyField, MessageKey>> }) {
  const t = useT();
  const key = errors[field];
  if (!key) return null;
  return (
    <span className="field-error" role="alert" id={`backup-policy-${field}-error`} data-testid="backup-policy-invalid" data-field={field}>
      {t(key)}
    </span>
  );
}

/** One whole-number field of the policy form (days or hours), with its hint and its error. */
function NumberField(props: {
  field: 'keep' | 'keepLogs' | 'maxAge';
  label: MessageKey;
  hint: MessageKey;
  testId: string;
  form: PolicyForm;
  errors: Partial<Record<PolicyField, MessageKey>>;
  edit: (patch: Partial<PolicyForm>) => void;
}) {
  const t = useT();
  const { field, errors } = props;
  return (
    <label className="backup-field">
      <span className="strong">{t(props.label)}</span>
      <input
        type="number"
        min={1}
        step={1}
        data-testid={props.testId}
        value={props.form[field]}
        aria-invalid={errors[field] ? true : undefined}
        onChange={(e) => props.edit({ [field]: e.target.value })}
      />
      <span className="muted small-text">{t(props.hint)}</span>
      <FieldError field={field} errors={errors} />
    </label>
  );
}

function PolicyPanel() {
  const t = useT();
  const status = useBackups((s) => s.status);
  const targets = useBackups((s) => s.targets);
  const repo = useBackups((s) => s.repo);
  const saving = useBackups((s) => s.policySaving);
  const error = useBackups((s) => s.policyError);
  const savedAt = useBackups((s) => s.policySavedAt);
  const savePolicy = useBackups((s) => s.savePolicy);
  const policy: BackupPolicy | null = status?.policy ?? null;
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [dirty, setDirty] = useState(false);
  const [newTarget, setNewTarget] = useState('');

  // Follow the saved policy until the operator starts editing.
  useEffect(() => {
    if (policy && !dirty) setForm(formOfPolicy(policy));
  }, [policy, dirty]);

  const check = useMemo(() => (form ? checkPolicyForm(form) : null), [form]);
  const choices = useMemo(() => knownRepos(targets, status, [...(form?.targets ?? []), ...(repo ? [repo] : [])]), [targets, status, form?.targets, repo]);

  if (!policy || !form || !check) {
    return (
      <section className="panel backup-policy" aria-labelledby="backup-policy-title">
        <h2 id="backup-policy-title">{t('backups.policy.title')}</h2>
        <p className="muted">{t('backups.status.loading')}</p>
      </section>
    );
  }

  const edit = (patch: Partial<PolicyForm>) => {
    setForm({ ...form, ...patch });
    setDirty(true);
  };
  const toggleTarget = (r: string, on: boolean) => edit({ targets: on ? [...form.targets.filter((x) => x !== r), r] : form.targets.filter((x) => x !== r) });
  const addTarget = () => {
    const r = normalizeRepoPath(newTarget);
    if (!r) return;
    if (!form.targets.includes(r)) edit({ targets: [...form.targets, r] });
    setNewTarget('');
  };
  const changed = policyChanged(form, policy);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!check.policy || saving) return;
    if (await savePolicy(check.policy)) setDirty(false);
  };

  return (
    <form className="panel backup-policy" data-testid="backup-policy" onSubmit={(e) => void submit(e)} aria-labelledby="backup-policy-title" noValidate>
      <h2 id="backup-policy-title">{t('backups.policy.title')}</h2>
      <p className="muted small-text">{t('backups.policy.explain')}</p>

      <label className="backup-field">
        <span className="strong">{t('backups.policy.time')}</span>
        <input
          type="text"
          inputMode="numeric"
          data-testid="backup-policy-time"
          value={form.dailyAt}
          placeholder="02:30"
          maxLength={5}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={check.errors.dailyAt ? true : undefined}
          aria-describedby="backup-policy-time-hint"
          onChange={(e) => edit({ dailyAt: e.target.value })}
        />
        <span className="muted small-text" id="backup-policy-time-hint">
          {t('backups.policy.timeHint')}
        </span>
        <FieldError field="dailyAt" errors={check.errors} />
      </label>

      <fieldset className="backup-field backup-policy-targets">
        <legend className="strong">{t('backups.policy.targets')}</legend>
        {choices.length === 0 ? (
          <p className="muted small-text">{t('backups.policy.noTargets')}</p>
        ) : (
          <ul>
            {choices.map((r) => (
              <li key={r}>
                <label className="checkbox">
                  <input type="checkbox" data-testid="backup-policy-target" data-repo={r} checked={form.targets.includes(r)} onChange={(e) => toggleTarget(r, e.target.checked)} />
                  <code className="break">{r}</code>
                </label>
              </li>
            ))}
          </ul>
        )}
        <div className="backup-inline">
          <input
            type="text"
            data-testid="backup-policy-target-new"
            value={newTarget}
            placeholder={t('backups.policy.addPlaceholder')}
            aria-label={t('backups.policy.addLabel')}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setNewTarget(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addTarget();
              }
            }}
          />
          <button type="button" className="small" data-testid="backup-policy-target-add" onClick={addTarget} disabled={!normalizeRepoPath(newTarget)}>
            {t('backups.policy.add')}
          </button>
        </div>
        <FieldError field="targets" errors={check.errors} />
      </fieldset>

      <div className="backup-policy-numbers">
        <NumberField field="keep" label="backups.policy.keep" hint="backups.policy.keepHint" testId="backup-policy-keep" form={form} errors={check.errors} edit={edit} />
        <NumberField field="keepLogs" label="backups.policy.keepLogs" hint="backups.policy.keepLogsHint" testId="backup-policy-keep-logs" form={form} errors={check.errors} edit={edit} />
        <NumberField field="maxAge" label="backups.policy.maxAge" hint="backups.policy.maxAgeHint" testId="backup-policy-maxage" form={form} errors={check.errors} edit={edit} />
      </div>

      <div className="dialog-buttons">
        {dirty && changed && <span className="muted small-text">{t('backups.policy.unsaved')}</span>}
        {dirty && (
          <button
            type="button"
            data-testid="backup-policy-reset"
            onClick={() => {
              setForm(formOfPolicy(policy));
              setDirty(false);
            }}
            disabled={saving}
          >
            {t('backups.policy.reset')}
          </button>
        )}
        <button type="submit" className="primary" data-testid="backup-policy-save" disabled={saving || !check.policy}>
          {saving ? t('backups.policy.saving') : t('backups.policy.save')}
        </button>
      </div>
      {error && (
        <ErrorNote text={t('backups.policy.error', { message: error })} testId="backup-policy-error" />
      )}
      {savedAt !== null && !dirty && !error && (
        <p className="ok-text" role="status" data-testid="backup-policy-saved">
          ✓ {t('backups.policy.saved')}
        </p>
      )}
    </form>
  );
}

export function BackupsScreen() {
  const t = useT();
  const repo = useBackups((s) => s.repo);

  useEffect(() => startBackups(), []);

  return (
    <section className="screen backups" data-testid="screen-backups">
      <h1>{t('nav.backups')}</h1>
      <p className="muted">{t('backups.intro')}</p>
      <div className="backups-row">
        <StatusPanel />
        <PolicyPanel />
      </div>
      <BackupTargets />
      {repo && <BackupRepoPanel key={repo} repo={repo} />}
    </section>
  );
}
