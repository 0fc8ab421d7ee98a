import { ChartTable } from "./chart-table";
import { formatCount } from "./format";

// Drawing units, as in the stacked chart: narrow, so the text stays legible when scaled.
const WIDTH = 480;
const ROW = 28;
const LABEL_W = 170;
const COUNT_W = 64;
/** Longer names are shortened in the drawing; the whole name is on hover and in the table. */
const MAX_LABEL_CHARS = 20;

/**
 * Horizontal bars, largest first (top agents, top tables), as inline SVG drawn on the server.
 * Each bar names its figure on hover and beside it; the numbers are also a table below.
 */
export function RankedBarChart({ id, title, summary, items, rowHeader, unit }: { id: string; title: string; summary: string; items: ReadonlyArray<{ name: string; count: number }>; rowHeader: string; unit: string }) {
  const max = Math.max(1, ...items.map((i) => i.count));
  const height = Math.max(1, items.length) * ROW + 4;
  const barSpace = WIDTH - LABEL_W - COUNT_W;
  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption className="chart-title">{title}</figcaption>
      {items.length === 0 ? (
        <p className="muted small">Nothing in this period.</p>
      ) : (
        <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
          <title id={`${id}-title`}>{title}</title>
          <desc id={`${id}-desc`}>{summary}</desc>
          {items.map((item, i) => {
            const y = i * ROW + 4;
            const w = Math.max(2, (item.count / max) * barSpace);
            const label = item.name.length > MAX_LABEL_CHARS ? `${item.name.slice(0, MAX_LABEL_CHARS - 1)}…` : item.name;
            return (
              <g key={item.name} data-testid="chart-bar" data-name={item.name} data-total={item.count}>
                <title>{`${item.name}: ${formatCount(item.count)} ${unit}`}</title>
                <text x={LABEL_W - 8} y={y + ROW / 2 + 2} textAnchor="end" className="chart-label">
                  {label}
                </text>
                <rect x={LABEL_W} y={y + 3} width={w} height={ROW - 8} rx="2" className="chart-ranked" />
                <text x={LABEL_W + w + 6} y={y + ROW / 2 + 2} className="chart-axis">
                  {formatCount(item.count)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <ChartTable
        caption={title}
        rowHeader={rowHeader}
        series={[{ key: "count", label: unit, className: "chart-ranked" }]}
        bars={items.map((i) => ({ label: i.name, fullLabel: i.name, values: { count: i.count } }))}
        formatValue={formatCount}
      />
    </figure>
  );
}
