/** Plain-text output helpers: aligned columns and budget verdicts. */

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** "within budget (…)" or "OVER budget (…)": the run goes on either way; figures are for people. */
export function verdict(ok: boolean, budget: string): string {
  return `${ok ? "within budget" : "OVER budget"} (${budget})`;
}

export const mb = (n: number) => `${n.toFixed(1)} MB`;
export const ms = (n: number) => `${n.toFixed(3)} ms`;

export function heading(title: string): void {
  console.log(`\n== ${title}`);
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
