/**
 * Reading the audit log for people: a filtered list, newest first, a page at a time by cursor
 * (never OFFSET, which reads every skipped row), one row in full, and the rows that belong together
 * (a request's story, a grant's, a session's). Every value from a person is a bound parameter.
 */
import { and, asc, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Dialect, StoreScope, Tables } from "../db/client";
import type { AuditRow } from "../db/schema";
import type { AuditFilters } from "./filters";
import { jsonArrayElements } from "./json-arrays";

export const AUDIT_PAGE_SIZE = 50;
/** How much of a statement the list carries; the record page has all of it. */
export const LIST_SQL_CHARS = 300;
/** Rows shown as belonging to one request, grant or session. */
export const RELATED_LIMIT = 200;

/** A row as the list shows it: no data, no hashes, the SQL shortened. */
export interface AuditListRow {
  id: number;
  at: Date;
  type: string;
  agentId: string | null;
  person: string | null;
  resource: string | null;
  sessionId: string | null;
  requestId: string | null;
  grantId: string | null;
  decision: string | null;
  sql: string | null;
  tables: string[];
}

export interface AuditPage {
  rows: AuditListRow[];
  /** The cursor for the next, older page; undefined on the last page. */
  olderBefore?: number;
}

type AuditTable = Tables["auditLog"];

const listColumns = (auditLog: AuditTable) => ({
  id: auditLog.id,
  at: auditLog.at,
  type: auditLog.type,
  agentId: auditLog.agentId,
  person: auditLog.person,
  resource: auditLog.resource,
  sessionId: auditLog.sessionId,
  requestId: auditLog.requestId,
  grantId: auditLog.grantId,
  decision: auditLog.decision,
  sql: sql<string | null>`substr(${auditLog.sql}, 1, ${LIST_SQL_CHARS})`,
  tables: auditLog.tables,
});

/**
 * One page of rows matching the filters, newest first (by time, then by row for rows of the same
 * millisecond), older than the row `before`. The order matches the indexes on `at` and
 * `(agent_id, at)`, so a page reads about as many rows as it shows unless a filter is rare.
 */
export async function listAuditRows(store: StoreScope, filters: AuditFilters, options: { before?: number; limit?: number } = {}): Promise<AuditPage> {
  const { auditLog } = store.tables;
  const limit = options.limit ?? AUDIT_PAGE_SIZE;
  const conditions = filterConditions(store.dialect, auditLog, filters);
  if (options.before !== undefined) {
    const [cursor] = await store.db.select({ at: auditLog.at }).from(auditLog).where(eq(auditLog.id, options.before)).limit(1);
    // A cursor row that is gone was pruned, and pruning takes the oldest rows: nothing is older.
    if (!cursor) return { rows: [] };
    conditions.push(sql`(${auditLog.at}, ${auditLog.id}) < (${cursor.at.getTime()}, ${options.before})`);
  }
  const rows = await store.db
    .select(listColumns(auditLog))
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit + 1);
  const more = rows.length > limit;
  const shown = rows.slice(0, limit).map(toListRow);
  return { rows: shown, olderBefore: more ? shown[shown.length - 1].id : undefined };
}

/** One row with everything in it. */
export async function getAuditRow(store: StoreScope, id: number): Promise<AuditRow | undefined> {
  const { auditLog } = store.tables;
  return (await store.db.select().from(auditLog).where(eq(auditLog.id, id)).limit(1))[0];
}

/** The rows of one request, grant or session, in the order they were recorded. */
export async function relatedAuditRows(store: StoreScope, about: { requestId: string } | { grantId: string } | { sessionId: string }): Promise<AuditListRow[]> {
  const { auditLog } = store.tables;
  const where = "requestId" in about ? eq(auditLog.requestId, about.requestId) : "grantId" in about ? eq(auditLog.grantId, about.grantId) : eq(auditLog.sessionId, about.sessionId);
  const rows = await store.db.select(listColumns(auditLog)).from(auditLog).where(where).orderBy(asc(auditLog.id)).limit(RELATED_LIMIT);
  return rows.map(toListRow);
}

function filterConditions(dialect: Dialect, auditLog: AuditTable, f: AuditFilters): SQL[] {
  const c: SQL[] = [];
  if (f.from) c.push(gte(auditLog.at, f.from));
  if (f.to) c.push(lt(auditLog.at, f.to));
  if (f.agent) c.push(eq(auditLog.agentId, f.agent));
  // Emails compare without case (lower() on both sides: `collate nocase` is SQLite's only).
  if (f.person) c.push(sql`lower(${auditLog.person}) = lower(${f.person})`);
  if (f.resource) c.push(eq(auditLog.resource, f.resource));
  if (f.type?.endsWith(".*")) c.push(sql`${auditLog.type} like ${`${escapeLike(f.type.slice(0, -1))}%`} escape '\\'`);
  else if (f.type) c.push(eq(auditLog.type, f.type));
  if (f.decision) c.push(eq(auditLog.decision, f.decision));
  if (f.kind) c.push(sql`exists (select 1 from ${sql.raw(jsonArrayElements(dialect, "audit_log.data", "k", "kinds"))} where k.value = ${f.kind})`);
  if (f.table) c.push(tableCondition(auditLog, f.table));
  if (f.q) c.push(likeAnyCase(auditLog.sql, `%${escapeLike(f.q)}%`));
  if (f.request) c.push(eq(auditLog.requestId, f.request));
  if (f.session) c.push(eq(auditLog.sessionId, f.session));
  if (f.grant) c.push(eq(auditLog.grantId, f.grant));
  return c;
}

/**
 * `tables` holds a JSON array of schema-qualified names. A name with a schema must be one of
 * them; a bare name matches it in any schema — as policy globs read names — so `orders` finds
 * `public.orders` but not `public.orders_archive`.
 */
function tableCondition(auditLog: AuditTable, table: string): SQL {
  const quoted = escapeLike(JSON.stringify(table).slice(1, -1));
  const exact = likeAnyCase(auditLog.tables, `%"${quoted}"%`);
  return table.includes(".") ? exact : sql`(${exact} or ${likeAnyCase(auditLog.tables, `%.${quoted}"%`)})`;
}

/** LIKE regardless of ASCII case, as SQLite's LIKE is and PostgreSQL's is not: lower() on both sides says it on both. */
function likeAnyCase(column: AuditTable["sql"] | AuditTable["tables"], pattern: string): SQL {
  return sql`lower(${column}) like lower(${pattern}) escape '\\'`;
}

/** LIKE treats `%` and `_` as wildcards; a person searching for them means the characters. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toListRow(row: Omit<AuditListRow, "tables"> & { tables: string | null }): AuditListRow {
  return { ...row, tables: parseTables(row.tables) };
}

export function parseTables(text: string | null): string[] {
  if (!text) return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string") : [];
}

const RECENT_AGENTS = "select distinct name from (select agent_id as name from agent_sessions order by started_at desc limit 1000) as recent order by name limit 200";

/**
 * Names to suggest in the filters: agents of the latest sessions (read by the index on their start,
 * not a scan of every session ever), people who have signed in.
 */
export async function auditSuggestions(store: StoreScope): Promise<{ agents: string[]; people: string[] }> {
  const agents = await store.sql.all<{ name: string }>(RECENT_AGENTS);
  const people = await store.sql.all<{ name: string }>("select email as name from people order by email limit 200");
  return { agents: agents.map((a) => a.name), people: people.map((p) => p.name) };
}
