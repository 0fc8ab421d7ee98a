/**
 * When a dry run is safe (docs/security.md, "The impact preview's dry run"): running the statement
 * and rolling it back must leave nothing behind and run nobody's code. So, for the statement and
 * every table its changes reach (the tables written, and those an ON DELETE/UPDATE CASCADE, SET
 * NULL or SET DEFAULT foreign key changes in turn):
 *   - the statement only reads and writes rows: no function that is not a built-in immutable or
 *     stable one (or on the classifier's short harmless list), no user function, operator or type;
 *   - plain tables only (no view, partitioned or foreign table), without rules or row security;
 *   - no triggers but PostgreSQL's internal ones (those enforcing foreign keys);
 *   - nothing that advances a sequence, which a rollback does not undo: where the statement may
 *     insert (INSERT, MERGE) or set a column to its default (SET x = DEFAULT, ON … SET DEFAULT),
 *     no identity column and no default that is not such a read (nextval() is not);
 *   - the check constraints and domain checks of those tables only such reads as well.
 * The tables are locked (ROW EXCLUSIVE, what the statement takes anyway) before the catalog is
 * read, so no trigger, rule or foreign key can be added between the check and the run.
 */
import { classify } from "../../sql/classify";
import type { Catalog } from "../../sql/types";
import { containsNode, quoteIdent, type PreviewStatement } from "./statements";
import type { PreviewSession } from "./types";

const DML_KINDS = new Set(["select", "insert", "update", "delete", "merge"]);

/** Why the statement itself may not be dry-run (before any table is looked at), or undefined. */
export function statementRefusal(statement: PreviewStatement, catalog: Catalog): string | undefined {
  const user = statement.info.functions.filter((f) => catalog.userFunctions.has(f.split(".").at(-1) ?? f));
  if (user.length > 0) return `it calls user-defined function ${user.join(", ")}`;
  const other = statement.info.kinds.filter((k) => !DML_KINDS.has(k));
  if (other.length > 0) {
    const why = statement.info.reasons.find((r) => /call|function|volatile/i.test(r)) ?? statement.info.reasons[0];
    return `it is not only a read and a write of rows (${other.join(", ")}${why ? `: ${why}` : ""})`;
  }
  if (statement.info.writes.length === 0) return "it writes no table Airlock can name";
  return undefined;
}

const CLOSURE_SQL = `
with recursive reached(oid, defaults) as (
  select c.oid, $2::boolean from pg_catalog.pg_class c where c.oid = any($1::regclass[])
  union
  select con.conrelid, con.confdeltype = 'd' or con.confupdtype = 'd'
  from pg_catalog.pg_constraint con join reached r on con.confrelid = r.oid
  where con.contype = 'f' and (con.confdeltype in ('c', 'n', 'd') or con.confupdtype in ('c', 'n', 'd'))
)
select c.oid::text, pg_catalog.format('%I.%I', n.nspname, c.relname) as name, c.relkind, c.relhasrules, c.relrowsecurity, bool_or(r.defaults) as defaults
from reached r join pg_catalog.pg_class c on c.oid = r.oid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
group by c.oid, n.nspname, c.relname, c.relkind, c.relhasrules, c.relrowsecurity`;

const TRIGGERS_SQL = `
select t.tgrelid::regclass::text as tab, t.tgname from pg_catalog.pg_trigger t
where t.tgrelid = any($1::oid[]) and not t.tgisinternal order by 1, 2`;

const EXPRESSIONS_SQL = `
select a.attrelid::regclass::text as tab, a.attname as what, case when a.attgenerated <> '' then 'generated' else 'default' end as kind, pg_catalog.pg_get_expr(d.adbin, d.adrelid) as expr, a.attidentity as identity
from pg_catalog.pg_attribute a left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped and (d.adbin is not null or a.attidentity <> '')
  and (a.attrelid = any($2::oid[]) or a.attgenerated <> '')
union all
select con.conrelid::regclass::text, con.conname, 'check', pg_catalog.pg_get_expr(con.conbin, con.conrelid), ''
from pg_catalog.pg_constraint con where con.conrelid = any($1::oid[]) and con.contype = 'c'
union all
select a.attrelid::regclass::text, a.attname || ' (domain ' || con.contypid::regtype::text || ')', 'domain', pg_catalog.pg_get_constraintdef(con.oid), ''
from pg_catalog.pg_attribute a join pg_catalog.pg_constraint con on con.contypid = a.atttypid
where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped and con.contype = 'c'`;

/**
 * Locks what the statements write and reads the catalog of everything their changes reach; inside
 * the dry run's transaction. Returns why it is not safe, or undefined.
 */
export async function tablesRefusal(session: PreviewSession, statements: readonly PreviewStatement[], catalog: Catalog): Promise<string | undefined> {
  const written = [...new Set(statements.flatMap((s) => s.info.writes))];
  const setsDefaults = statements.some((s) => s.node === "InsertStmt" || s.node === "MergeStmt" || containsNode(s.body, "SetToDefault"));
  const closure = await session.query(CLOSURE_SQL, [arrayLiteral(written), String(setsDefaults)]);
  const tables = closure.rows.map(([oid, name, relkind, rules, rowSecurity, defaults]) => ({ oid: oid!, name: name!, relkind, rules: rules === "t", rowSecurity: rowSecurity === "t", defaults: defaults === "t" }));
  if (tables.length === 0) return "the tables it writes were not found";
  // Locked before their triggers, rules and constraints are read: none can be added until the rollback.
  await session.query(`LOCK TABLE ${tables.map((t) => t.name).join(", ")} IN ROW EXCLUSIVE MODE`);
  for (const t of tables) {
    if (t.relkind !== "r") return `${t.name} is not a plain table (${RELKINDS[t.relkind ?? ""] ?? `relkind ${t.relkind}`})`;
    if (t.rules) return `${t.name} has rewrite rules`;
    if (t.rowSecurity) return `${t.name} has row-level security, whose policies may call functions`;
  }
  const names = `{${tables.map((t) => t.oid).join(",")}}`;
  const triggers = await session.query(TRIGGERS_SQL, [names]);
  if (triggers.rows.length > 0) return `of trigger${triggers.rows.length > 1 ? "s" : ""} ${triggers.rows.map(([tab, name]) => `${name} on ${tab}`).join(", ")}, which a dry run would fire`;
  // Defaults only matter where rows may be inserted or set to their default; generated columns always.
  const defaultsMatter = `{${tables.filter((t) => t.defaults).map((t) => t.oid).join(",")}}`;
  for (const [tab, what, kind, expr, identity] of (await session.query(EXPRESSIONS_SQL, [names, defaultsMatter])).rows) {
    if (identity) return `column ${what} of ${tab} is an identity column: inserting would advance its sequence, which a rollback does not undo`;
    const unsafe = expressionRefusal(kind === "domain" ? (expr ?? "").replace(/^CHECK\s*/i, "").replace(/\s+NOT VALID$/i, "") : (expr ?? ""), catalog);
    if (unsafe) return `the ${KIND_WORDS[kind!] ?? kind} ${what} of ${tab} ${unsafe}`;
  }
  return undefined;
}

/** Why an expression of the catalog (a default, a check) could do more than read, or undefined. */
function expressionRefusal(expr: string, catalog: Catalog): string | undefined {
  const info = classify(`SELECT ${expr}`, catalog).statements[0];
  if (!info || info.kinds.some((k) => k !== "select")) {
    const calls = info?.functions.length ? `calls ${info.functions.join(", ")}` : "is not only a read";
    return `${calls}${info?.functions.includes("nextval") ? ", which advances a sequence a rollback does not undo" : ""} (${expr})`;
  }
  const user = info.functions.filter((f) => catalog.userFunctions.has(f.split(".").at(-1) ?? f));
  return user.length > 0 ? `calls user-defined function ${user.join(", ")}` : undefined;
}

const KIND_WORDS: Record<string, string> = { default: "default of column", generated: "expression of generated column", check: "check constraint", domain: "check of column" };
const RELKINDS: Record<string, string> = { v: "a view", m: "a materialized view", p: "a partitioned table", f: "a foreign table" };

/** A text[] literal of table names, each quoted as the regclass input reads it. */
function arrayLiteral(names: readonly string[]): string {
  return `{${names.map((n) => `"${n.split(".").map(quoteIdent).join(".").replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}
