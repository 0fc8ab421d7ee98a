import { ChartLegend } from "./chart-legend";
import { ChartTable } from "./chart-table";
import type { ChartBar, ChartSeries } from "./chart-types";
import { formatCount } from "./format";

// Drawing units; the SVG scales to its box, so a narrow box keeps the text legible.
const WIDTH = 480;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 24, left: 60 };

export interface StackedBarChartProps {
  id: string;
  title: string;
  /** One sentence that says what the chart shows, for those who cannot see it. */
  summary: string;
  series: readonly ChartSeries[];
  bars: readonly ChartBar[];
  /** Label every n-th bar, so labels do not collide. */
  labelEvery?: number;
  rowHeader: string;
  formatValue?: (n: number) => string;
  /** Round values the axis may top out at (durations: 1 min, 2 min, 5 min…); by default 1, 2, 5 × 10ⁿ. */
  axisSteps?: readonly number[];
}

/**
 * Vertical bars, each stacked from its series, as inline SVG drawn on the server: no chart
 * library, no script. Each part names its figure on hover (`<title>`), and the numbers are also
 * a table below.
 */
export function StackedBarChart({ id, title, summary, series, bars, labelEvery = 1, rowHeader, formatValue = formatCount, axisSteps }: StackedBarChartProps) {
  const totals = bars.map((bar) => series.reduce((sum, s) => sum + (bar.values[s.key] ?? 0), 0));
  const top = Math.max(0, ...totals);
  const max = (axisSteps && axisSteps.find((step) => step >= top)) ?? niceMax(top);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.72);
  const y = (v: number) => PAD.top + plotH - (max === 0 ? 0 : (v / max) * plotH);

  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption className="chart-title">{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {ticks(max).map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} className="chart-grid" />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end" className="chart-axis">
              {formatValue(tick)}
            </text>
          </g>
        ))}
        {bars.map((bar, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={bar.fullLabel} data-testid="chart-bar" data-total={totals[i]}>
              <rect x={PAD.left + i * slot} y={PAD.top} width={slot} height={plotH} className="chart-hover">
                <title>{`${bar.fullLabel}: ${series.map((s) => `${formatValue(bar.values[s.key] ?? 0)} ${s.label}`).join(", ")}`}</title>
              </rect>
              {series.map((s) => {
                const value = bar.values[s.key] ?? 0;
                if (value === 0) return null;
                const top = y(base + value);
                const height = y(base) - top;
                base += value;
                return (
                  <rect key={s.key} x={x} y={top} width={barW} height={Math.max(height, 1)} className={s.className}>
                    <title>{`${bar.fullLabel}: ${formatValue(value)} ${s.label}`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={HEIGHT - 6} textAnchor="middle" className="chart-axis">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {series.length > 1 && <ChartLegend series={series} />}
      <ChartTable caption={title} rowHeader={rowHeader} series={series} bars={bars} formatValue={formatValue} />
    </figure>
  );
}

/** Gridlines at 0, the top and halfway, when halfway is a whole number. */
function ticks(max: number): number[] {
  return [...new Set([0, ...(Number.isInteger(max / 2) ? [max / 2] : []), max])];
}

/** A round top for the axis (1, 2, 5 × 10ⁿ), so gridlines fall on readable values. */
function niceMax(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}
