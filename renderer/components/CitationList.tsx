import { useMemo } from 'react';
import type { Citation } from '../../electron/api/contract.js';
import { formatScore } from '../lib/format.js';
import { highlight, questionTerms } from '../lib/highlight.js';
import { useT } from '../i18n/useT.js';

export function citationElementId(n: number): string {
  return `citation-${n}`;
}

/** The cited passage in full, with where it comes from; the question's terms are marked. */
function Passage({ citation, terms }: { citation: Citation; terms: readonly string[] }) {
  const t = useT();
  const pieces = useMemo(() => highlight(citation.passage, terms), [citation.passage, terms]);
  return (
    <figure className="passage" data-testid="citation-passage">
      <figcaption className="passage-source">
        <span>
          <span className="label">{t('ask.passageDocument')}</span> <span className="strong" data-testid="passage-document">{citation.document}</span>
        </span>
        {citation.location && (
          <span>
            <span className="label">{t('ask.passageLocation')}</span> <span data-testid="passage-location">{citation.location}</span>
          </span>
        )}
        <span>
          <span className="label">{t('ask.passageKb')}</span> {citation.kb}
        </span>
      </figcaption>
      <blockquote className="passage-text" data-testid="passage-text">
        {pieces.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
      </blockquote>
    </figure>
  );
}

export function CitationList({
  citations,
  expanded,
  onToggle,
  question = '',
}: {
  citations: readonly Citation[];
  expanded: readonly number[];
  onToggle: (n: number) => void;
  /** The question asked: its terms are highlighted in the passages. */
  question?: string;
}) {
  const t = useT();
  const terms = useMemo(() => questionTerms(question), [question]);
  if (citations.length === 0) return <p className="muted">{t('ask.noCitations')}</p>;
  return (
    <ol className="citations">
      {citations.map((c) => {
        const open = expanded.includes(c.n);
        return (
          <li
            key={`${c.n}-${c.chunkId}`}
            id={citationElementId(c.n)}
            className={open ? 'citation open' : 'citation'}
            data-testid="citation"
            data-n={c.n}
            data-document={c.document}
          >
            <button
              type="button"
              className="citation-head"
              aria-expanded={open}
              title={open ? t('ask.hidePassage') : t('ask.showPassage')}
              onClick={() => onToggle(c.n)}
            >
              <span className="citation-n">{c.n}</span>
              <span className="citation-doc">{c.document}</span>
              <span className="citation-loc">{c.location}</span>
              <span className="citation-kb">{c.kb}</span>
              <span className="citation-score">{t('ask.score', { score: formatScore(c.score) })}</span>
            </button>
            {open && <Passage citation={c} terms={terms} />}
          </li>
        );
      })}
    </ol>
  );
}
