/**
 * COPY … TO STDOUT rows in text and CSV format (PostgreSQL sends one row per CopyData message):
 * split into fields with the statement's delimiter, quoting and NULL string, some fields
 * replaced, joined back exactly as PostgreSQL would have written them.
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9
 */
import type { CopyFormat } from "../sql/types";

/** A field's new value: undefined keeps it, null writes NULL. */
export type FieldMasker = (index: number, value: string) => string | null | undefined;

/** The row with fields replaced, or undefined when nothing changed. */
export function maskCopyRow(row: string, format: CopyFormat, mask: FieldMasker): string | undefined {
  const eol = row.endsWith("\r\n") ? "\r\n" : row.endsWith("\n") ? "\n" : "";
  const body = row.slice(0, row.length - eol.length);
  const fields = format.format === "csv" ? splitCsv(body, format) : splitText(body, format);
  let changed = false;
  const out = fields.map((field, i) => {
    if (field.value === null) return field.raw;
    const masked = mask(i, field.value);
    if (masked === undefined) return field.raw;
    changed = true;
    if (masked === null) return format.null;
    return format.format === "csv" ? quoteCsv(masked, format) : escapeText(masked, format.delimiter);
  });
  return changed ? out.join(format.delimiter) + eol : undefined;
}

interface Field {
  raw: string;
  /** Decoded; null for SQL NULL. */
  value: string | null;
}

function splitText(body: string, format: CopyFormat): Field[] {
  const raws: string[] = [];
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (body[i] === "\\") i++; // an escaped character, the delimiter too, belongs to the field
    else if (i === body.length || body[i] === format.delimiter) {
      raws.push(body.slice(start, i));
      start = i + 1;
    }
  }
  return raws.map((raw) => ({ raw, value: raw === format.null ? null : unescapeText(raw) }));
}

const TEXT_ESCAPES: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

function unescapeText(raw: string): string {
  if (!raw.includes("\\")) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === "x" && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return TEXT_ESCAPES[e] ?? e;
  });
}

function escapeText(value: string, delimiter: string): string {
  let out = "";
  for (const c of value) {
    if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c === "\\" || c === delimiter) out += "\\" + c;
    else out += c;
  }
  return out;
}

function splitCsv(body: string, format: CopyFormat): Field[] {
  const { delimiter, quote, escape } = format;
  const fields: Field[] = [];
  let start = 0;
  let value = "";
  let quoted = false;
  let inQuotes = false;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (i === body.length || (!inQuotes && c === delimiter)) {
      const raw = body.slice(start, i);
      fields.push({ raw, value: !quoted && raw === format.null ? null : value });
      [start, value, quoted] = [i + 1, "", false];
    } else if (inQuotes) {
      const next = body[i + 1];
      if (c === escape && (next === quote || (next === escape && escape !== quote))) value += body[++i];
      else if (c === quote) inQuotes = false;
      else value += c;
    } else if (c === quote) inQuotes = quoted = true;
    else value += c;
  }
  return fields;
}

function quoteCsv(value: string, format: CopyFormat): string {
  const needs = value === format.null || value.includes(format.delimiter) || value.includes(format.quote) || value.includes(format.escape) || /[\r\n]/.test(value);
  if (!needs) return value;
  let out = format.quote;
  for (const c of value) out += c === format.quote || c === format.escape ? format.escape + c : c;
  return out + format.quote;
}
