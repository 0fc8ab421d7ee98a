/**
 * What the Audit page filters by, read from a URL's query and written back into one, so every
 * filtered view (and each page of it) has its own address and the form works without scripts.
 */

/** Event types the log records; `family.*` in a filter stands for every type of that family. */
export const AUDIT_TYPES = [
  "statement",
  "session.started",
  "session.ended",
  "request.opened",
  "request.previewed",
  "request.decision",
  "request.approved",
  "request.denied",
  "request.expired",
  "request.cancelled",
  "request.step_up_refused",
  "request.undo_captured",
  "request.reverted",
  "grant.created",
  "grant.revoked",
  "grant.expired",
  "break_glass.used",
  "break_glass.reviewed",
  "policy.loaded",
  "policy.rejected",
  "person.signed_in",
  "person.sign_in_refused",
] as const;
export const AUDIT_TYPE_FAMILIES = ["session.*", "request.*", "grant.*", "break_glass.*", "policy.*"] as const;

/** The `decision` column's values, by what they belong to. */
export const AUDIT_DECISIONS = ["allowed", "masked", "held", "refused", "approve", "deny", "pending", "approved", "denied", "expired", "cancelled", "created", "revoked", "break_glass", "reviewed", "restored"] as const;

export interface AuditFilters {
  /** `at` from (inclusive) and to (exclusive). */
  from?: Date;
  to?: Date;
  agent?: string;
  person?: string;
  resource?: string;
  /** An exact type, or a family (`request.*`). */
  type?: string;
  /** A statement kind (select, update…), from the statement's classification. */
  kind?: string;
  decision?: string;
  /** A table name: `orders` matches any schema's `orders`; `public.orders` that one. */
  table?: string;
  /** Text the SQL contains (case-insensitive for ASCII letters). */
  q?: string;
  request?: string;
  session?: string;
  grant?: string;
}

const TEXT_KEYS = ["agent", "person", "resource", "type", "kind", "decision", "table", "q", "request", "session", "grant"] as const;

/** Longer values are refused: nothing real is this long, and LIKE patterns stay cheap. */
export const MAX_FILTER_CHARS = 200;

export type SearchParams = Record<string, string | string[] | undefined>;

export interface ParsedAuditQuery {
  filters: AuditFilters;
  /** Show rows older than this row (the cursor of "older"). */
  before?: number;
  /** What could not be read; a page with errors shows them and no rows, never unfiltered rows. */
  errors: string[];
}

export function parseAuditQuery(params: SearchParams): ParsedAuditQuery {
  const errors: string[] = [];
  const filters: AuditFilters = {};
  for (const key of TEXT_KEYS) {
    const value = first(params[key])?.trim();
    if (!value) continue;
    if (value.length > MAX_FILTER_CHARS) errors.push(`${key} is longer than ${MAX_FILTER_CHARS} characters`);
    else filters[key] = value;
  }
  if (filters.type && !(AUDIT_TYPES as readonly string[]).includes(filters.type) && !(AUDIT_TYPE_FAMILIES as readonly string[]).includes(filters.type)) {
    errors.push(`type "${filters.type}" is not an audit event type`);
    delete filters.type;
  }
  for (const key of ["from", "to"] as const) {
    const value = first(params[key])?.trim();
    if (!value) continue;
    const date = parseUtc(value);
    if (date) filters[key] = date;
    else errors.push(`${key} must be a date or a time (ISO 8601, UTC unless it says otherwise), got "${value.slice(0, 40)}"`);
  }
  const beforeText = first(params.before)?.trim();
  let before: number | undefined;
  if (beforeText) {
    if (/^[1-9]\d{0,15}$/.test(beforeText)) before = Number(beforeText);
    else errors.push("before must be a row number");
  }
  return { filters, before, errors };
}

/** The query string for these filters (and a cursor), in a stable order; empty values left out. */
export function auditQueryString(filters: AuditFilters, extra: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  if (filters.from) params.set("from", filters.from.toISOString());
  if (filters.to) params.set("to", filters.to.toISOString());
  for (const key of TEXT_KEYS) if (filters[key]) params.set(key, filters[key]);
  for (const [key, value] of Object.entries(extra)) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function hasFilters(filters: AuditFilters): boolean {
  return Object.values(filters).some((v) => v !== undefined);
}

/**
 * A date (`2026-01-31`) or a date and time; without a zone it is UTC, not the server's local
 * time (what `new Date()` would do), so a link means the same wherever the server runs.
 */
export function parseUtc(value: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  // `new Date` rolls 2026-02-31 over to March; a date that does not exist is an error instead.
  if (Number.isNaN(date.getTime()) || (zone === "Z" && date.toISOString().slice(0, 10) !== `${y}-${mo}-${d}`)) return undefined;
  return date;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
