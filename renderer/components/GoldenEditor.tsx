import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { GoldenQuestion, GoldenSet } from '../../electron/api/contract.js';
import { useGolden } from '../store/golden.js';
import { useT } from '../i18n/useT.js';
import type { MessageKey } from '../i18n/index.js';
import {
  checkQuestionForm,
  duplicateIds,
  emptyForm,
  formOfQuestion,
  joinList,
  questionsChanged,
  removeQuestion,
  setToSave,
  upsertQuestion,
  type QuestionField,
  type QuestionForm,
} from '../lib/golden.js';
import { ErrorNote } from './Notice.js';

interface Editing {
  /** The id of the question being edited, null for a new one. */
  replacing: string | null;
  form: QuestionForm;
}

const FIELDS: { field: QuestionField; label: MessageKey; multiline?: boolean; numeric?: boolean }[] = [
  { field: 'id', label: 'golden.form.id' },
  { field: 'question', label: 'golden.form.question', multiline: true },
  { field: 'sources', label: 'golden.form.sources' },
  { field: 'facts', label: 'golden.form.facts' },
  { field: 'tags', label: 'golden.form.tags' },
  { field: 'latency', label: 'golden.form.latency', numeric: true },
];

function QuestionEditor({
  editing,
  errors,
  showErrors,
  onChange,
  onApply,
  onCancel,
}: {
  editing: Editing;
  errors: Partial<Record<QuestionField, MessageKey>>;
  showErrors: boolean;
  onChange(form: QuestionForm): void;
  onApply(): void;
  onCancel(): void;
}) {
  const t = useT();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply();
  };
  return (
    <form className="golden-form" data-testid="golden-form" onSubmit={submit} noValidate>
      <h4>{editing.replacing === null ? t('golden.form.addTitle') : t('golden.form.editTitle', { id: editing.replacing })}</h4>
      <div className="golden-form-grid">
        {FIELDS.map(({ field, label, multiline, numeric }) => {
          const error = showErrors ? errors[field] : undefined;
          const common = {
            'data-testid': `golden-q-${field}`,
            value: editing.form[field],
            'aria-invalid': error ? true : undefined,
            spellCheck: false,
            onChange: (e: { target: { value: string } }) => onChange({ ...editing.form, [field]: e.target.value }),
          };
          return (
            <label key={field} className={multiline ? 'backup-field golden-field-wide' : 'backup-field'}>
              <span className="strong">{t(label)}</span>
              {multiline ? <textarea rows={2} {...common} /> : <input type="text" inputMode={numeric ? 'numeric' : undefined} autoComplete="off" {...common} />}
              {error && (
                <span className="field-error" role="alert" data-testid="golden-invalid" data-field={field}>
                  {t(error)}
                </span>
              )}
            </label>
          );
        })}
      </div>
      <div className="dialog-buttons">
        <button type="button" data-testid="golden-q-cancel" onClick={onCancel}>
          {t('golden.form.cancel')}
        </button>
        <button type="submit" className="primary" data-testid="golden-q-apply">
          {t('golden.form.apply')}
        </button>
      </div>
    </form>
  );
}

/** The golden set of one knowledge base: add, edit and delete questions, then save the set. */
export function GoldenEditor({ kb, loaded }: { kb: string; loaded: GoldenSet | null }) {
  const t = useT();
  const running = useGolden((s) => s.running);
  const error = useGolden((s) => s.error);
  const savedAt = useGolden((s) => s.savedAt);
  const save = useGolden((s) => s.save);
  const [questions, setQuestions] = useState<GoldenQuestion[]>(loaded?.questions ?? []);
  const [dirty, setDirty] = useState(false);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [showErrors, setShowErrors] = useState(false);

  // Follow the saved set until the operator changes something.
  useEffect(() => {
    if (!dirty) setQuestions(loaded?.questions ?? []);
  }, [loaded, dirty]);

  const otherIds = useMemo(() => (editing ? questions.filter((q) => q.id !== editing.replacing).map((q) => q.id) : []), [questions, editing]);
  const check = useMemo(() => (editing ? checkQuestionForm(editing.form, otherIds) : null), [editing, otherIds]);
  const duplicates = useMemo(() => duplicateIds(questions), [questions]);
  const changed = dirty && (!loaded || questionsChanged(loaded.questions, questions));
  const saving = running?.op === 'save';

  /** The questions with the open form applied; null (errors shown) when the form is not valid. */
  const withForm = (): GoldenQuestion[] | null => {
    if (!editing || !check) return questions;
    if (!check.question) {
      setShowErrors(true);
      return null;
    }
    return upsertQuestion(questions, check.question, editing.replacing);
  };

  const apply = () => {
    const next = withForm();
    if (!next) return;
    setQuestions(next);
    setDirty(true);
    setEditing(null);
    setShowErrors(false);
  };

  const startEdit = (next: Editing) => {
    setEditing(next);
    setShowErrors(false);
  };

  const saveSet = async () => {
    const next = withForm();
    if (!next || duplicateIds(next).length > 0) return;
    setQuestions(next);
    setDirty(true);
    setEditing(null);
    setShowErrors(false);
    if (await save(setToSave(kb, loaded, next))) setDirty(false);
  };

  const version = setToSave(kb, loaded, questions).version;

  return (
    <div className="golden-editor" data-testid="golden-editor" data-kb={kb}>
      <h4>{t('golden.editor.title', { kb, version: loaded?.version ?? 0 })}</h4>
      {!loaded && <p className="muted small-text">{t('golden.editor.new', { kb })}</p>}
      {questions.length === 0 ? (
        <p className="muted">{t('golden.editor.empty')}</p>
      ) : (
        <div className="table-scroll">
          <table className="table golden-questions">
            <thead>
              <tr>
                <th>{t('golden.editor.col.id')}</th>
                <th>{t('golden.editor.col.question')}</th>
                <th>{t('golden.editor.col.sources')}</th>
                <th>{t('golden.editor.col.facts')}</th>
                <th>{t('golden.editor.col.tags')}</th>
                <th>{t('golden.editor.col.latency')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {questions.map((q, i) => (
                <tr key={`${q.id}-${i}`} data-testid="golden-question" data-id={q.id} className={editing?.replacing === q.id ? 'selected' : undefined}>
                  <td className="nowrap">
                    <code className={duplicates.includes(q.id) ? 'error-text' : undefined}>{q.id}</code>
                  </td>
                  <td className="break">{q.question}</td>
                  <td className="small-text">{joinList(q.expectedSources)}</td>
                  <td className="small-text">{joinList(q.mustContain)}</td>
                  <td className="small-text">{joinList(q.tags)}</td>
                  <td className="nowrap num">{q.maxLatencyMs} ms</td>
                  <td className="actions nowrap">
                    <button
                      type="button"
                      className="small"
                      data-testid="golden-question-edit"
                      disabled={saving}
                      onClick={() => startEdit({ replacing: q.id, form: formOfQuestion(q) })}
                    >
                      {t('golden.editor.editOne')}
                    </button>{' '}
                    <button
                      type="button"
                      className="small danger-outline"
                      data-testid="golden-question-delete"
                      disabled={saving}
                      onClick={() => {
                        setQuestions(removeQuestion(questions, q.id));
                        setDirty(true);
                        if (editing?.replacing === q.id) setEditing(null);
                      }}
                    >
                      {t('golden.editor.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && check ? (
        <QuestionEditor
          editing={editing}
          errors={check.errors}
          showErrors={showErrors}
          onChange={(form) => setEditing({ ...editing, form })}
          onApply={apply}
          onCancel={() => {
            setEditing(null);
            setShowErrors(false);
          }}
        />
      ) : (
        <button type="button" className="small" data-testid="golden-add" disabled={saving} onClick={() => startEdit({ replacing: null, form: emptyForm() })}>
          + {t('golden.editor.add')}
        </button>
      )}
      {duplicates.length > 0 && (
        <ErrorNote text={t('golden.err.duplicates', { ids: duplicates.join(', ') })} testId="golden-duplicates" />
      )}
      <div className="dialog-buttons">
        {saving && (
          <span className="loading-inline" role="status">
            <span className="spinner" aria-hidden="true" /> {t('golden.saving')}
          </span>
        )}
        {changed && !saving && <span className="muted small-text">{t('golden.unsaved')}</span>}
        {dirty && (
          <button
            type="button"
            data-testid="golden-discard"
            disabled={saving}
            onClick={() => {
              setDirty(false);
              setEditing(null);
              setShowErrors(false);
            }}
          >
            {t('golden.discard')}
          </button>
        )}
        <button
          type="button"
          className="primary"
          data-testid="golden-save"
          disabled={saving || running !== null || duplicates.length > 0 || (!changed && !editing)}
          onClick={() => void saveSet()}
        >
          {t('golden.save', { version })}
        </button>
      </div>
      {error?.op === 'save' && (
        <ErrorNote text={t('golden.error.save', { message: error.message })} testId="golden-save-error" />
      )}
      {savedAt !== null && !dirty && !error && (
        <p className="ok-text" role="status" data-testid="golden-saved">
          ✓ {t('golden.saved')}
        </p>
      )}
    </div>
  );
}
