import { useMemo } from 'react';
import type { DrillResult } from '../../electron/api/contract.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import { drillTrendLayout, formatDrillMs, scenarioTitleKey } from '../lib/drills.js';

const WIDTH = 640;
const HEIGHT = 200;

/** Time to a verified recovery of each scenario over time: one line per scenario, inline SVG. */
export function DrillTrend({ history }: { history: readonly DrillResult[] | null }) {
  const t = useT();
  const layout = useMemo(() => drillTrendLayout(history, { width: WIDTH, height: HEIGHT }), [history]);
  const max = useMemo(() => layout.series.reduce((m, s) => s.points.reduce((mm, p) => Math.max(mm, p.ms), m), 0), [layout]);
  const notPlotted = (history?.length ?? 0) - layout.count;
  const { plot } = layout;
  return (
    <figure className="panel drill-trend" data-testid="drill-trend" data-points={layout.count} data-series={layout.series.length}>
      <figcaption>
        <h2 id="drill-trend-title">{t('drills.trend.title')}</h2>
      </figcaption>
      {layout.count === 0 ? (
        <p className="muted">{t('drills.trend.empty')}</p>
      ) : (
        <>
          <svg className="drill-trend-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="drill-trend-svg-title drill-trend-svg-desc">
            <title id="drill-trend-svg-title">{t('drills.trend.title')}</title>
            <desc id="drill-trend-svg-desc">{t('drills.trend.desc', { max: formatDrillMs(max) })}</desc>
            {layout.ticks.map((tick) => (
              <g key={tick.ms} className="drill-tick">
                <line className="drill-grid" x1={plot.left} y1={tick.y} x2={plot.right} y2={tick.y} />
                <text className="drill-axis-label" x={plot.left - 6} y={tick.y + 4} textAnchor="end">
                  {tick.label}
                </text>
              </g>
            ))}
            <line className="drill-axis" x1={plot.left} y1={plot.bottom} x2={plot.right} y2={plot.bottom} />
            {layout.from !== null && (
              <text className="drill-axis-label" x={plot.left} y={HEIGHT - 4} textAnchor="start">
                {formatDateTime(new Date(layout.from).toISOString())}
              </text>
            )}
            {layout.to !== null && layout.to !== layout.from && (
              <text className="drill-axis-label" x={plot.right} y={HEIGHT - 4} textAnchor="end">
                {formatDateTime(new Date(layout.to).toISOString())}
              </text>
            )}
            {layout.series.map((s) => (
              <g key={s.scenario} className={`drill-series series-${s.colour}`} data-scenario={s.scenario}>
                {s.points.length > 1 && <path className="drill-line" d={s.path} />}
                {s.points.map((p) => (
                  <circle key={p.result.id} className="drill-point" cx={p.x} cy={p.y} r={4}>
                    <title>{t('drills.trend.point', { scenario: t(scenarioTitleKey(s.scenario)), time: formatDateTime(p.result.startedAt), took: formatDrillMs(p.ms) })}</title>
                  </circle>
                ))}
              </g>
            ))}
          </svg>
          <ul className="trend-legend drill-legend small-text" aria-label={t('drills.col.scenario')}>
            {layout.series.map((s) => (
              <li key={s.scenario} className="legend-item">
                <span className={`legend-swatch drill-swatch series-${s.colour}`} aria-hidden="true" /> {t(scenarioTitleKey(s.scenario))}
              </li>
            ))}
          </ul>
          <p className="muted small-text">
            {t('drills.trend.scale')}
            {notPlotted > 0 && ` ${t('drills.trend.notPlotted', { count: notPlotted })}`}
          </p>
        </>
      )}
    </figure>
  );
}
