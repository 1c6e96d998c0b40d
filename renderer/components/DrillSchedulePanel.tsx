import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useDrills } from '../store/drills.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import { DRILL_SCENARIOS, SCHEDULE_DAYS, actsOnRealServices, checkScheduleForm, formOfSchedule, scenarioTitleKey, scheduleChanged, toggleScenario, type ScheduleForm } from '../lib/drills.js';
import { ErrorNote, Loading } from './Notice.js';

/** The monthly schedule: the day (or off) and which drills run, saved with drills.setSchedule; the next run. */
export function DrillSchedulePanel() {
  const t = useT();
  const schedule = useDrills((s) => s.schedule);
  const loading = useDrills((s) => s.scheduleLoading);
  const loadError = useDrills((s) => s.scheduleError);
  const saving = useDrills((s) => s.scheduleSaving);
  const saveError = useDrills((s) => s.scheduleSaveError);
  const savedAt = useDrills((s) => s.scheduleSavedAt);
  const saveSchedule = useDrills((s) => s.saveSchedule);
  const [form, setForm] = useState<ScheduleForm | null>(null);
  const [dirty, setDirty] = useState(false);

  // Follow the saved schedule until the operator starts editing.
  useEffect(() => {
    if (schedule && !dirty) setForm(formOfSchedule(schedule));
  }, [schedule, dirty]);

  const check = useMemo(() => (form ? checkScheduleForm(form) : null), [form]);

  if (!schedule || !form || !check) {
    return (
      <section className="panel drill-schedule" aria-labelledby="drill-schedule-title">
        <h2 id="drill-schedule-title">{t('drills.schedule.title')}</h2>
        {loadError ? (
          <ErrorNote text={t('drills.error.schedule', { message: loadError })} testId="drill-schedule-load-error" />
        ) : (
          loading && (
            <Loading text={t('drills.schedule.loading')} />
          )
        )}
      </section>
    );
  }

  const edit = (patch: Partial<ScheduleForm>) => {
    setForm({ ...form, ...patch });
    setDirty(true);
  };
  const changed = scheduleChanged(form, schedule);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!check.request || saving) return;
    if (await saveSchedule(check.request)) setDirty(false);
  };

  return (
    <form className="panel drill-schedule" data-testid="drill-schedule" onSubmit={(e) => void submit(e)} aria-labelledby="drill-schedule-title" noValidate>
      <h2 id="drill-schedule-title">{t('drills.schedule.title')}</h2>
      <p className="muted small-text">{t('drills.schedule.explain')}</p>

      <dl className="health-facts drill-schedule-facts">
        <div data-testid="drill-schedule-next" data-next-run={schedule.nextRun ?? ''} data-monthly-day={schedule.monthlyDay ?? ''}>
          <dt>{t('drills.schedule.nextRun')}</dt>
          <dd className="strong">{schedule.nextRun ? formatDateTime(schedule.nextRun) : <span className="muted">{t('drills.schedule.isOff')}</span>}</dd>
        </div>
        <div data-testid="drill-schedule-last" data-last-run={schedule.lastRun ?? ''}>
          <dt>{t('drills.schedule.lastRun')}</dt>
          <dd>{schedule.lastRun ? formatDateTime(schedule.lastRun) : <span className="muted">{t('drills.schedule.never')}</span>}</dd>
        </div>
      </dl>

      <label className="backup-field">
        <span className="strong">{t('drills.schedule.day')}</span>
        <select data-testid="drill-schedule-day" value={form.day} aria-describedby="drill-schedule-day-hint" onChange={(e) => edit({ day: e.target.value })}>
          <option value="">{t('drills.schedule.off')}</option>
          {SCHEDULE_DAYS.map((d) => (
            <option key={d} value={String(d)}>
              {t('drills.schedule.dayOption', { day: d })}
            </option>
          ))}
        </select>
        <span className="muted small-text" id="drill-schedule-day-hint">
          {t('drills.schedule.dayHint')}
        </span>
      </label>

      <fieldset className="backup-field drill-schedule-scenarios" disabled={form.day === ''}>
        <legend className="strong">{t('drills.schedule.scenarios')}</legend>
        <ul>
          {DRILL_SCENARIOS.map((s) => (
            <li key={s}>
              <label className="checkbox">
                <input type="checkbox" data-testid="drill-schedule-scenario" data-scenario={s} checked={form.scenarios.includes(s)} onChange={(e) => edit({ scenarios: toggleScenario(form.scenarios, s, e.target.checked) })} />
                <span>
                  {t(scenarioTitleKey(s))}
                  {actsOnRealServices(s) && <span className="warn-only small-text"> ⚠ {t('drills.schedule.realWarn')}</span>}
                </span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>

      {check.error && (
        <p className="field-error" role="alert" data-testid="drill-schedule-invalid">
          {t(check.error)}
        </p>
      )}

      <div className="dialog-buttons">
        {dirty && changed && <span className="muted small-text">{t('drills.schedule.unsaved')}</span>}
        {dirty && (
          <button
            type="button"
            data-testid="drill-schedule-reset"
            disabled={saving}
            onClick={() => {
              setForm(formOfSchedule(schedule));
              setDirty(false);
            }}
          >
            {t('drills.schedule.reset')}
          </button>
        )}
        <button type="submit" className="primary" data-testid="drill-schedule-save" disabled={saving || !check.request}>
          {saving ? t('drills.schedule.saving') : t('drills.schedule.save')}
        </button>
      </div>
      {saveError && (
        <ErrorNote text={t('drills.schedule.saveError', { message: saveError })} testId="drill-schedule-error" />
      )}
      {savedAt !== null && !dirty && !saveError && (
        <p className="ok-text" role="status" data-testid="drill-schedule-saved">
          ✓ {t('drills.schedule.saved')}
        </p>
      )}
    </form>
  );
}
