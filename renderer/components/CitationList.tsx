import type { Citation } from '../../electron/api/contract.js';
import { formatScore } from '../lib/format.js';
import { useT } from '../i18n/useT.js';

export function citationElementId(n: number): string {
  return `citation-${n}`;
}

export function CitationList({
  citations,
  expanded,
  onToggle,
}: {
  citations: readonly Citation[];
  expanded: readonly number[];
  onToggle: (n: number) => void;
}) {
  const t = useT();
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
            {open && (
              <blockquote className="passage" data-testid="citation-passage">
                {c.passage}
              </blockquote>
            )}
          </li>
        );
      })}
    </ol>
  );
}
