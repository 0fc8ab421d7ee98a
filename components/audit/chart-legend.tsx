import type { ChartSeries } from "./chart-types";

export function ChartLegend({ series }: { series: readonly ChartSeries[] }) {
  return (
    <ul className="chart-legend" aria-hidden="true">
      {series.map((s) => (
        <li key={s.key}>
          <svg width="10" height="10" aria-hidden="true">
            <rect width="10" height="10" rx="2" className={s.className} />
          </svg>
          {s.label}
        </li>
      ))}
    </ul>
  );
}
