/**
 * Row filters at the decision point: a statement that an allow or review rule with `rows:` lets
 * through runs rewritten (lib/sql/row-filter-rewrite.ts), or not at all. What the rewrite cannot
 * make certain is refused here with the reason, so a statement never runs unfiltered.
 */
import type { StatementVerdict } from "../policy/evaluate";
import type { Decision, SessionIdentity } from "./decide";
import { renderRowFilter, RowFilterError, type CompiledRowFilter, type FilterValues } from "../sql/row-filter";
import { rewriteRowFilters } from "../sql/row-filter-rewrite";
import type { Catalog, StatementInfo } from "../sql/types";

export type FilteredText = { ok: true; text: string; changed: boolean } | { ok: false; reason: string };

/** The text to run for these statements (each under its own rule's filters), or why there is none. */
export function rowFilteredText(verdicts: readonly StatementVerdict[], values: FilterValues, catalog?: Catalog): FilteredText {
  const texts: string[] = [];
  let changed = false;
  for (const v of verdicts) {
    const rows = v.action === "deny" ? undefined : v.rule?.rows;
    const result = rows?.length ? guarded(() => cached(v.statement, rows, values, catalog)) : undefined;
    if (result && !result.ok) return { ok: false, reason: `rule ${v.rule?.name} filters rows: ${result.reason}` };
    texts.push(result?.text ?? v.statement.text);
    changed ||= result?.changed ?? false;
  }
  // A newline before each semicolon: a statement's trailing -- comment cannot swallow it.
  return { ok: true, text: texts.join("\n;\n"), changed };
}

/** A filter that fails to compile at first use (the policy was parsed before the parser loaded) refuses. */
function guarded(rewrite: () => FilteredText): FilteredText {
  try {
    return rewrite();
  } catch (err) {
    if (err instanceof RowFilterError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** Whether any of these statements is under a rule with row filters. */
export function hasRowFilters(verdicts: readonly StatementVerdict[]): boolean {
  return verdicts.some((v) => v.action !== "deny" && (v.rule?.rows?.length ?? 0) > 0);
}

const ancestry = new WeakMap<Catalog, ReadonlyMap<string, readonly string[]>>();

/** Each table with parents → its ancestors, nearest first (inheritance and partitions, any depth). */
function inheritance(catalog: Catalog): ReadonlyMap<string, readonly string[]> {
  let known = ancestry.get(catalog);
  if (known) return known;
  const map = new Map<string, string[]>();
  for (const [name, info] of catalog.relations) {
    if (!info.parents?.length) continue;
    const ancestors: string[] = [];
    for (let queue = [...info.parents]; queue.length > 0; ) {
      const next = queue.shift()!;
      if (ancestors.includes(next) || next === name) continue;
      ancestors.push(next);
      queue.push(...(catalog.relations.get(next)?.parents ?? []));
    }
    map.set(name, ancestors);
  }
  ancestry.set(catalog, (known = map));
  return known;
}

/** Statistics and counters of whole tables: values and frequencies, live, dead, inserted and deleted rows. */
const STATISTICS = new Set(
  [
    ...["pg_stats", "pg_stats_ext", "pg_stats_ext_exprs", "pg_statistic", "pg_statistic_ext_data"],
    ...["all", "user", "sys"].flatMap((w) => [`pg_stat_${w}_tables`, `pg_stat_xact_${w}_tables`, `pg_statio_${w}_tables`]),
  ].map((v) => `pg_catalog.${v}`),
);

/** The functions behind those views (pg_stat_get_live_tuples(oid)…) and the sizes of relations. */
const COUNTERS = /^(pg_catalog\.)?(pg_stat_get_|pg_statio_|pg_relation_size$|pg_table_size$|pg_total_relation_size$)/;

/** Rewrites kept per rule's filters and catalog: a Parse and its Binds, and repeated texts, rewrite once. */
const MAX_CACHED_REWRITES = 2_000;
const cache = new WeakMap<readonly CompiledRowFilter[], WeakMap<Catalog | typeof NO_CATALOG, Map<string, FilteredText>>>();
const NO_CATALOG = {};

/**
 * The key holds everything the rewrite reads besides the filters and the catalog: the text, what the
 * classifier found in it (on the session's search_path), and the values of the placeholders used.
 */
function cached(info: StatementInfo, rows: readonly CompiledRowFilter[], values: FilterValues, catalog: Catalog | undefined): FilteredText {
  let byCatalog = cache.get(rows);
  if (!byCatalog) cache.set(rows, (byCatalog = new WeakMap()));
  let entries = byCatalog.get(catalog ?? NO_CATALOG);
  if (!entries) byCatalog.set(catalog ?? NO_CATALOG, (entries = new Map()));
  const used = rows.flatMap((f) => f.tokens.filter((t) => t.placeholder).map((t) => t.placeholder!));
  const placeholders = used.map((p) => (p === "agent" ? values.agent : p === "groups" ? values.groups : values.claims[p.slice(7)]));
  const key = JSON.stringify([info.text, info.kinds, info.reads, info.writes, info.prepares, info.executes, info.pathBeforeCatalog, placeholders]);
  const hit = entries.get(key);
  if (hit) return hit;
  const result = rewriteStatement(info, rows, values, catalog);
  if (entries.size >= MAX_CACHED_REWRITES) entries.delete(entries.keys().next().value as string);
  entries.set(key, result);
  return result;
}

function rewriteStatement(info: StatementInfo, rows: readonly CompiledRowFilter[], values: FilterValues, catalog?: Catalog): FilteredText {
  const filters = new Map(rows.map((f) => [f.table, { render: (q: string) => renderRowFilter(f, q, values), columns: f.columns }]));
  // A child table or partition holds the parent's rows too: read by its own name, the parent's filter applies.
  for (const [child, ancestors] of catalog ? inheritance(catalog) : []) {
    const filtered = filters.has(child) ? undefined : ancestors.find((a) => rows.some((f) => f.table === a));
    if (filtered) filters.set(child, filters.get(filtered)!);
  }
  const reached = [...new Set([...info.reads, ...info.writes])].filter((t) => filters.has(t));
  // Statistics hold values and frequencies of every row of the filtered tables, the hidden ones too.
  const stats = info.reads.find((t) => STATISTICS.has(t));
  if (stats) return { ok: false, reason: `it reads ${stats}, whose statistics describe rows the filters hide` };
  const counter = info.functions.find((f) => COUNTERS.test(f));
  if (counter) return { ok: false, reason: `it calls ${counter}, whose counts include rows the filters hide` };
  // Code Airlock does not see into (a function, DO, CALL) could read a filtered table by name, unfiltered.
  const tables = rows.map((f) => f.table).join(", ");
  if (info.kinds.includes("call") || info.kinds.includes("unknown")) return { ok: false, reason: `the statement runs code that could read ${tables} unfiltered` };
  if (reached.length === 0) return { ok: true, text: info.text, changed: false };
  const list = reached.join(", ");
  // The filter names its operators and types as the policy wrote them (`=`, `::text`): a schema searched
  // before pg_catalog may hold others of those names, made in this very session where no catalog sees them.
  if (info.pathBeforeCatalog) return { ok: false, reason: `the session's search_path puts a schema before pg_catalog, where the operators and types of the filter on ${list} could be others than PostgreSQL's; RESET search_path, or list pg_catalog first` };
  if (info.prepares !== undefined || info.executes !== undefined) {
    return { ok: false, reason: `PREPARE/EXECUTE of a statement on ${list} is refused; send it through the extended protocol (a driver's parameterized query), which Airlock rewrites` };
  }
  for (const f of rows) {
    const op = [...f.operators].find((o) => catalog?.userOperators.has(o));
    const type = [...f.types].find((t) => catalog?.userTypes.has(t));
    if (op || type) return { ok: false, reason: `the filter on ${f.table} uses ${op ? `operator ${op}` : `type ${type}`}, which this database defines beyond the built-in one` };
  }
  const result = rewriteRowFilters(info.text, filters, catalog);
  if (!result.ok) return result;
  // The rewrite names relations on the default search_path; the classification on the session's.
  const differs = reached.some((t) => !result.tables.has(t)) || [...result.tables].some((t) => !reached.includes(t));
  if (differs) return { ok: false, reason: `Airlock cannot tell for certain which relation each name means here; qualify ${list} with its schema` };
  return result;
}

/**
 * Sessions let run a schema change, or code that could make one (a function, DO): an operator or
 * type made there (`public.=` for varchar, found before pg_catalog's on the default path) is in no
 * catalog Airlock read, and could stand in for the filter's. From then on filtered statements refuse.
 */
const SCHEMA_CHANGING: ReadonlySet<string> = new Set(["ddl", "call", "unknown", "admin"]);
const changedSchema = new WeakSet<SessionIdentity>();

/** The decision, with the text to run when a rule filters rows; refused when that text cannot be had. */
export function withRowFilters(decision: Decision, session: SessionIdentity, catalog?: Catalog): Decision {
  if (decision.action === "refuse") return decision;
  // Marked once let through (this one too: `CREATE OPERATOR …; SELECT …` in one Query).
  const changing = decision.verdict.statements.some((v) => v.statement.kinds.some((k) => SCHEMA_CHANGING.has(k)));
  if (!hasRowFilters(decision.verdict.statements)) {
    if (changing) changedSchema.add(session);
    return decision;
  }
  const filtered = rowFilteredText(decision.verdict.statements, { agent: session.agentId, groups: session.groups, claims: session.claims ?? {} }, catalog);
  const stale = filtered.ok && filtered.changed && (changing || changedSchema.has(session));
  const result: FilteredText = stale ? { ok: false, reason: "this session ran a schema change (or code that could make one), so an operator or type of the filter may no longer be PostgreSQL's; connect again" } : filtered;
  if (result.ok && changing) changedSchema.add(session);
  if (result.ok) return result.changed ? { ...decision, rewritten: result.text } : decision;
  const refusal = {
    action: "refuse" as const,
    code: "42501" as const,
    message: `airlock: ${result.reason}`,
    hint: "Row filters apply to this table: read it with plain SELECT, UPDATE or DELETE on the table itself (qualified with its schema), or ask a person for a rule without rows: for this.",
    verdict: decision.verdict,
  };
  return refusal;
}

/**
 * For explanations (the Policy page, `airlock policy explain`): the statement as it would run
 * under its rule's row filters, or why it would be refused. Without the agent's token, each claim
 * is shown as its placeholder's text.
 */
export function explainRowFilters(verdict: StatementVerdict, who: { agentId: string; groups: readonly string[]; claims?: Readonly<Record<string, unknown>> }, catalog?: Catalog): { rewritten?: string; refused?: string } {
  if (!hasRowFilters([verdict])) return {};
  const claims: Record<string, unknown> = { ...who.claims };
  for (const f of verdict.rule?.rows ?? []) {
    for (const t of f.tokens) if (t.placeholder?.startsWith("claims.") && !(t.placeholder.slice(7) in claims)) claims[t.placeholder.slice(7)] = `{{${t.placeholder}}}`;
  }
  const result = rowFilteredText([verdict], { agent: who.agentId, groups: who.groups, claims }, catalog);
  if (!result.ok) return { refused: result.reason };
  return result.changed ? { rewritten: result.text } : {};
}
