/** What the audit charts draw: bars of named parts (one part for a plain bar chart). */
export interface ChartSeries {
  key: string;
  label: string;
  /** Colour class (`chart-allowed`…), so light and dark themes both apply. */
  className: string;
}

export interface ChartBar {
  /** Short label under the bar (`14:00`). */
  label: string;
  /** What the bar stands for in full (`2026-01-31 14:00–15:00 UTC`). */
  fullLabel: string;
  values: Record<string, number>;
}
