import type { KeyboardEvent } from 'react';
import { useAsk } from '../store/ask.js';
import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';
import { formatTook } from '../lib/format.js';
import { AnswerText } from '../components/AnswerText.js';
import { CitationList, citationElementId } from '../components/CitationList.js';

function AskForm() {
  const t = useT();
  const { question, kb, loading, setQuestion, setKb, ask } = useAsk();
  const kbs = useApp((s) => s.kbs);
  const initializing = useApp((s) => s.ready?.status === 'initializing');

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter asks; Shift+Enter is a new line; Enter that confirms an IME composition (Chinese input) is neither.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      void ask();
    }
  };

  return (
    <form
      className="ask-form"
      onSubmit={(e) => {
        e.preventDefault();
        void ask();
      }}
    >
      <label className="visually-hidden" htmlFor="ask-input">
        {t('ask.inputLabel')}
      </label>
      <textarea
        id="ask-input"
        data-testid="ask-input"
        rows={3}
        value={question}
        placeholder={t('ask.placeholder')}
        onChange={(e) => setQuestion(e.target.value)}
        onKeyDown={onKeyDown}
        autoFocus
      />
      <div className="ask-controls">
        <label className="kb-select">
          {t('ask.kbLabel')}{' '}
          <select data-testid="ask-kb" value={kb} onChange={(e) => setKb(e.target.value)}>
            <option value="">{t('ask.kbAll')}</option>
            {(kbs ?? []).map((k) => (
              <option key={k.name} value={k.name}>
                {k.name}
              </option>
            ))}
          </select>
        </label>
        <span className="muted hint">{t('ask.hint')}</span>
        <button type="submit" className="primary" data-testid="ask-submit" disabled={loading || !question.trim()}>
          {loading ? t('ask.asking') : t('ask.submit')}
        </button>
      </div>
      {initializing && <p className="notice">{t('ask.initializing')}</p>}
    </form>
  );
}

function AskResult() {
  const t = useT();
  const { loading, response, error, expanded, toggle, expand } = useAsk();

  const cite = (n: number) => {
    expand(n);
    // After React has rendered the passage, bring the citation into view.
    requestAnimationFrame(() => document.getElementById(citationElementId(n))?.scrollIntoView({ block: 'nearest' }));
  };

  if (loading)
    return (
      <p className="loading" role="status" data-testid="ask-loading">
        <span className="spinner" aria-hidden="true" /> {t('ask.asking')}
      </p>
    );
  if (error)
    return (
      <p className="error" role="alert" data-testid="ask-error">
        {t('ask.error', { message: error })}
      </p>
    );
  if (!response) return <p className="muted">{t('ask.empty')}</p>;
  return (
    <section className="result" aria-live="polite">
      <div className="result-head">
        <h2>{t('ask.answer')}</h2>
        <span className="muted">
          {t(response.mode === 'model' ? 'ask.mode.model' : 'ask.mode.extractive')} ·{' '}
          <span data-testid="took">{t('ask.took', { took: formatTook(response.tookMs) })}</span>
        </span>
      </div>
      {!response.covered && (
        <p className="not-covered" data-testid="not-covered">
          {t('ask.notCovered')}
        </p>
      )}
      <AnswerText response={response} onCite={cite} />
      <h2>{t('ask.citations')}</h2>
      <CitationList citations={response.citations} expanded={expanded} onToggle={toggle} />
    </section>
  );
}

export function AskScreen() {
  const t = useT();
  return (
    <section className="screen ask" data-testid="screen-ask">
      <h1>{t('ask.title')}</h1>
      <AskForm />
      <AskResult />
    </section>
  );
}
