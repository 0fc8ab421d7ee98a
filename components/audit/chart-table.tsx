import type { ChartBar, ChartSeries } from "./chart-types";

/** A chart's numbers as a table: for screen readers, copying, and anyone who prefers them. A missing value is a dash. */
export function ChartTable({ caption, rowHeader, series, bars, formatValue }: { caption: string; rowHeader: string; series: readonly ChartSeries[]; bars: readonly ChartBar[]; formatValue: (n: number) => string }) {
  return (
    <details className="chart-table">
      <summary>Show as a table</summary>
      <table className="table">
        <caption className="muted small">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{rowHeader}</th>
            {series.map((s) => (
              <th key={s.key} scope="col" className="num">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {bars.map((bar) => (
            <tr key={bar.fullLabel}>
              <th scope="row">{bar.fullLabel}</th>
              {series.map((s) => (
                <td key={s.key} className="num">
                  {s.key in bar.values ? formatValue(bar.values[s.key]) : "—"}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
