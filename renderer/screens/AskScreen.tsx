import { useEffect, type KeyboardEvent } from 'react';
import { useAsk } from '../store/ask.js';
import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';
import { formatTook } from '../lib/format.js';
import { AnswerText } from '../components/AnswerText.js';
import { CitationList, citationElementId } from '../components/CitationList.js';
import { ErrorNote } from '../components/Notice.js';

/** With one knowledge base chosen: optionally only some of its documents. */
function DocumentFilter() {
  const t = useT();
  const kb = useAsk((s) => s.kb);
  const docs = useAsk((s) => s.kbDocuments);
  const docsError = useAsk((s) => s.kbDocumentsError);
  const chosen = useAsk((s) => s.documents);
  const setDocuments = useAsk((s) => s.setDocuments);
  const loading = useAsk((s) => s.loading);
  if (!kb) return null;
  if (docsError)
    return (
      <p className="muted small-text" data-testid="ask-documents-error">
        {t('ask.documentsError', { message: docsError })}
      </p>
    );
  if (!docs || docs.length === 0) return null;
  return (
    <div className="doc-filter">
      <label htmlFor="ask-documents">{t('ask.documentsLabel')}</label>
      <select
        id="ask-documents"
        data-testid="ask-documents"
        multiple
        size={Math.min(6, Math.max(3, docs.length))}
        value={[...chosen]}
        disabled={loading}
        onChange={(e) => setDocuments(Array.from(e.currentTarget.selectedOptions, (o) => o.value))}
      >
        {docs.map((d) => (
          <option key={d.name} value={d.name}>
            {d.name}
          </option>
        ))}
      </select>
      <div className="doc-filter-side">
        <span className="muted">{chosen.length > 0 ? t('ask.documentsChosen', { count: chosen.length }) : t('ask.documentsHint')}</span>
        {chosen.length > 0 && (
          <button type="button" className="small" data-testid="ask-documents-clear" onClick={() => setDocuments([])} disabled={loading}>
            {t('ask.documentsClear')}
          </button>
        )}
      </div>
    </div>
  );
}

function AskForm() {
  const t = useT();
  const { question, kb, loading, setQuestion, setKb, ask, loadKbDocuments } = useAsk();
  const kbs = useApp((s) => s.kbs);
  const initializing = useApp((s) => s.ready?.status === 'initializing');

  // The documents of the chosen knowledge base may have changed on the other screen.
  useEffect(() => {
    void loadKbDocuments();
  }, [loadKbDocuments]);
  // …and it may have been deleted or renamed there: then ask all knowledge bases.
  useEffect(() => {
    if (kb && kbs && !kbs.some((k) => k.name === kb)) setKb('');
  }, [kb, kbs, setKb]);

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
          <select data-testid="ask-kb" value={kb} onChange={(e) => setKb(e.target.value)} disabled={loading}>
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
      <DocumentFilter />
      {initializing && <p className="notice">{t('ask.initializing')}</p>}
    </form>
  );
}

function Pending() {
  const t = useT();
  const stream = useAsk((s) => s.stream);
  const stopping = useAsk((s) => s.stopping);
  const stopError = useAsk((s) => s.stopError);
  const stop = useAsk((s) => s.stop);
  const text = stream?.text ?? '';
  return (
    <section className="result" aria-live="polite">
      <div className="loading" role="status" data-testid="ask-loading">
        <span className="spinner" aria-hidden="true" /> {text ? t('ask.streaming') : t('ask.asking')}
        <button type="button" className="small" data-testid="ask-stop" onClick={() => void stop()} disabled={stopping}>
          {stopping ? t('ask.stopping') : t('ask.stop')}
        </button>
      </div>
      {stopError && (
        <ErrorNote text={t('ask.stopError', { message: stopError })} testId="ask-stop-error" />
      )}
      {text && (
        <div className="answer answer-streaming" data-testid="ask-stream">
          {text}
          <span className="caret" aria-hidden="true" />
        </div>
      )}
    </section>
  );
}

function AskResult() {
  const t = useT();
  const { loading, response, error, expanded, toggle, expand, asked } = useAsk();

  const cite = (n: number) => {
    expand(n);
    // After React has rendered the passage, bring the citation into view.
    requestAnimationFrame(() => document.getElementById(citationElementId(n))?.scrollIntoView({ block: 'nearest' }));
  };

  if (loading) return <Pending />;
  if (error)
    return (
      <ErrorNote text={t('ask.error', { message: error })} testId="ask-error" />
    );
  if (!response) return <p className="muted">{t('ask.empty')}</p>;
  return (
    <section className="result" aria-live="polite">
      <div className="result-head">
        <h2>{t('ask.answer')}</h2>
        <span className="muted" data-testid="answer-meta" data-mode={response.mode}>
          {t(response.mode === 'model' ? 'ask.mode.model' : 'ask.mode.extractive')}
          {response.mode === 'model' && response.model && (
            <>
              {' · '}
              <code data-testid="answer-model">{t('ask.model', { model: response.model })}</code>
            </>
          )}
          {' · '}
          <span data-testid="took">{t('ask.took', { took: formatTook(response.tookMs) })}</span>
        </span>
      </div>
      {response.cancelled && (
        <p className="notice" data-testid="ask-cancelled">
          {t('ask.cancelled')}
        </p>
      )}
      {!response.covered && (
        <p className="not-covered" data-testid="not-covered">
          {t('ask.notCovered')}
        </p>
      )}
      <AnswerText response={response} onCite={cite} />
      <h2>{t('ask.citations')}</h2>
      <CitationList citations={response.citations} expanded={expanded} onToggle={toggle} question={asked} />
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
