import { Fragment, useMemo } from 'react';
import type { AskResponse } from '../../electron/api/contract.js';
import { parseAnswer } from '../lib/segments.js';
import { useT } from '../i18n/useT.js';

/** The answer with its [n] markers as chips; a chip opens its citation. */
export function AnswerText({ response, onCite }: { response: AskResponse; onCite: (n: number) => void }) {
  const t = useT();
  const segments = useMemo(
    () => parseAnswer(response.answer, new Set(response.citations.map((c) => c.n))),
    [response],
  );
  return (
    <div
      className={response.covered ? 'answer' : 'answer answer-not-covered'}
      data-testid="answer"
      data-covered={String(response.covered)}
    >
      {segments.map((s, i) =>
        s.kind === 'text' ? (
          <Fragment key={i}>{s.text}</Fragment>
        ) : (
          <button
            key={i}
            type="button"
            className="chip"
            data-testid="citation-chip"
            data-n={s.n}
            title={t('ask.chipTitle', { n: s.n })}
            onClick={() => onCite(s.n)}
          >
            {s.n}
          </button>
        ),
      )}
    </div>
  );
}
