/** How the audit pages write times and amounts: UTC throughout, so what one person reads another can find. */

/** `2026-01-31 14:05:09` (UTC). */
export function formatUtc(at: Date): string {
  return at.toISOString().replace("T", " ").slice(0, 19);
}

/** `850 ms`, `42 s`, `3.5 min`, `2.1 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)} min`;
  return `${trim(ms / 3_600_000)} h`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function trim(n: number): string {
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1).replace(/\.0$/, "");
}
