/**
 * The audit log as JSON lines or CSV, a page of rows at a time (by id, never OFFSET): memory stays
 * flat however many rows, and no cursor stays open on the store while a slow client reads. CSV
 * follows RFC 4180 (SQL with commas, quotes and newlines stays one field).
 */
import type { StoreScope } from "../db/client";

export type ExportFormat = "jsonl" | "csv";

export interface ExportRange {
  from?: Date;
  to?: Date;
}

interface ExportRow {
  id: number;
  at: number;
  type: string;
  agent_id: string | null;
  person: string | null;
  resource: string | null;
  session_id: string | null;
  request_id: string | null;
  grant_id: string | null;
  decision: string | null;
  sql: string | null;
  tables: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

const CSV_COLUMNS = ["id", "at", "type", "agent_id", "person", "resource", "session_id", "request_id", "grant_id", "decision", "sql", "tables", "data", "prev_hash", "hash"] as const;

/** Rows read from the store at a time. */
export const EXPORT_PAGE_ROWS = 1_000;

const LAST_ID = "select max(id) as id from audit_log";
const PAGE = `select ${CSV_COLUMNS.join(", ")} from audit_log where id > ? and id <= ? and at >= ? and at < ? order by id limit ${EXPORT_PAGE_ROWS}`;

/**
 * Each line of the export, newline included, oldest row first: the rows there when it begins
 * (those appended meanwhile are the next export's), as one cursor over a snapshot would give them.
 */
export async function* exportLines(scope: StoreScope, format: ExportFormat, range: ExportRange = {}): AsyncGenerator<string> {
  const last = (await scope.sql.get<{ id: number | null }>(LAST_ID))?.id ?? 0;
  const [from, to] = [range.from?.getTime() ?? 0, range.to?.getTime() ?? Number.MAX_SAFE_INTEGER];
  if (format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`;
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const rows = await scope.sql.all<ExportRow>(PAGE, [after, last, from, to]);
    for (const row of rows) yield format === "csv" ? csvLine(row) : `${JSON.stringify(jsonRow(row))}\n`;
    if (rows.length < EXPORT_PAGE_ROWS) return;
    after = rows[rows.length - 1].id;
  }
}

function jsonRow(row: ExportRow): Record<string, unknown> {
  return { ...row, at: new Date(row.at).toISOString(), tables: row.tables ? (JSON.parse(row.tables) as unknown) : null, data: JSON.parse(row.data) as unknown };
}

function csvLine(row: ExportRow): string {
  return `${CSV_COLUMNS.map((c) => csvField(c === "at" ? new Date(row.at).toISOString() : row[c])).join(",")}\r\n`;
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Reads `from`/`to` (ISO dates or times); a bad one is an Error naming it. */
export function parseRange(from: string | null | undefined, to: string | null | undefined): ExportRange {
  const read = (name: string, value: string | null | undefined) => {
    if (!value) return undefined;
    // A time without a zone is UTC, as the audit log is: never the server's local time.
    const date = new Date(/T[\d:.]+$/.test(value) ? `${value}Z` : value);
    if (Number.isNaN(date.getTime())) throw new Error(`${name} must be a date or time (ISO 8601), got "${value}"`);
    return date;
  };
  return { from: read("from", from), to: read("to", to) };
}
