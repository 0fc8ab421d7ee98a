import type { DdlRisk, ImpactPreview, StatementPreview } from "./types";

/** The preview in a few lines for people (the request page and Slack say the same). */
export function previewLines(preview: ImpactPreview): string[] {
  if (preview.unavailable) return [`No preview: ${preview.unavailable}`];
  const many = preview.statements.length > 1;
  return preview.statements.flatMap((s, i) => statementLines(s).map((line) => (many ? `${i + 1}. ${line}` : line)));
}

export function statementLines(s: StatementPreview): string[] {
  const lines: string[] = [];
  if (s.estimate) lines.push("rows" in s.estimate ? `~${formatCount(s.estimate.rows)} ${plural(s.estimate.rows, "row")} (estimate) ${verb(s.kind)}` : `No estimate: ${s.estimate.error}`);
  if (s.dryRun) {
    if ("rows" in s.dryRun) lines.push(`${s.dryRun.rows} ${plural(s.dryRun.rows, "row")} (dry run)${s.dryRun.sampleNote ? ` — ${s.dryRun.sampleNote}` : ""}`);
    else lines.push(`No dry run: ${"skipped" in s.dryRun ? s.dryRun.skipped : s.dryRun.error}`);
  }
  for (const risk of s.ddl ?? []) lines.push(ddlLine(risk));
  return lines;
}

/** "rewrites public.orders (1.2 GB, ~8M rows) under ACCESS EXCLUSIVE: adds column … Undo: …" */
export function ddlLine(risk: DdlRisk): string {
  const what = risk.rewrites ? "rewrites" : risk.scans ? "reads every row of" : "changes";
  const size = risk.bytes === undefined ? "" : ` (${formatBytes(risk.bytes)}${risk.rowsEstimate === undefined ? "" : `, ~${formatCount(risk.rowsEstimate)} rows`})`;
  const on = risk.table ? `${what} ${risk.table}${size}` : what === "changes" ? "" : what;
  return `${on ? `${on} under ${risk.lock}` : `takes ${risk.lock}`}: ${risk.action}. Undo: ${risk.undo}`;
}

function verb(kind: string): string {
  return { update: "updated", delete: "deleted", insert: "inserted", merge: "merged" }[kind] ?? "changed";
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

export function formatBytes(bytes: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** 8 → "8", 12_345 → "12K", 8_000_000 → "8M": an estimate is shown as the order it is. */
export function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${Math.round(n / 1_000)}K`;
  const m = n / 1_000_000;
  return m < 1_000 ? `${m >= 10 ? Math.round(m) : Number(m.toFixed(1))}M` : `${Number((m / 1_000).toFixed(1))}B`;
}
