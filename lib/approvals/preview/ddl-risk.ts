/**
 * What a schema change does to the tables it touches, read from its parse tree: the strongest
 * lock it takes (PostgreSQL's documentation of ALTER TABLE, CREATE INDEX, DROP…), whether it
 * rewrites or scans every row under that lock, and whether it can be taken back. The table's size
 * and row estimate come from the catalog (pg_total_relation_size, reltuples).
 * https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
 */
import { stringOf, unwrap, type Obj } from "../../sql/tree";
import type { Catalog } from "../../sql/types";
import type { PreviewStatement } from "./statements";
import type { DdlRisk, PreviewSession } from "./types";

const AX = "ACCESS EXCLUSIVE";
const SERIAL_TYPES = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

/** The risks of one statement, without sizes; undefined when it is no schema change Airlock describes. */
export function ddlRisks(statement: PreviewStatement, catalog: Catalog): DdlRisk[] | undefined {
  const { node, body } = statement;
  switch (node) {
    case "AlterTableStmt":
      return ((body.cmds as unknown[]) ?? []).map((cmd) => alterRisk(unwrap(cmd)[1], relationName(body.relation), catalog));
    case "IndexStmt": {
      const table = relationName(body.relation);
      const index = body.idxname ? ` ${String(body.idxname)}` : "";
      return body.concurrent
        ? [{ action: `builds index${index} concurrently`, lock: "SHARE UPDATE EXCLUSIVE", rewrites: false, table, undo: "yes: DROP INDEX CONCURRENTLY" }]
        : [{ action: `builds index${index}, blocking writes while it builds (no CONCURRENTLY)`, lock: "SHARE", rewrites: false, scans: true, table, undo: "yes: DROP INDEX" }];
    }
    case "DropStmt":
      return dropRisks(body);
    case "TruncateStmt":
      return ((body.relations as unknown[]) ?? []).map((r) => ({ action: "removes every row", lock: AX, rewrites: false, table: relationName(unwrap(r)[1]), undo: "no: the rows are gone (TRUNCATE is not logged row by row)" }));
    case "RenameStmt":
      return body.relation ? [{ action: `renames ${String(body.renameType ?? "").replace("OBJECT_", "").toLowerCase()} to ${String(body.newname ?? "")}`, lock: AX, rewrites: false, table: relationName(body.relation), undo: "yes: rename it back (until something uses the new name)" }] : undefined;
    case "VacuumStmt": {
      const full = ((body.options as unknown[]) ?? []).some((o) => unwrap(o)[1].defname === "full");
      if (!full || !body.is_vacuumcmd) return undefined;
      return ((body.rels as unknown[]) ?? []).map((r) => ({ action: "VACUUM FULL rewrites the table", lock: AX, rewrites: true, table: relationName((unwrap(r)[1].relation ?? {}) as Obj), undo: "nothing to undo: the data is unchanged" }));
    }
    case "ClusterStmt":
      return body.relation ? [{ action: "CLUSTER rewrites the table in index order", lock: AX, rewrites: true, table: relationName(body.relation), undo: "nothing to undo: the data is unchanged" }] : undefined;
    case "CreateStmt":
      return [{ action: `creates table ${relationName(body.relation)}`, lock: "none on existing tables", rewrites: false, undo: "yes: DROP TABLE" }];
    default:
      return statement.info.kinds.includes("ddl") ? [{ action: `${node.replace(/Stmt$/, "")}: its locks are not described by Airlock`, lock: "unknown", rewrites: false, undo: "unknown" }] : undefined;
  }
}

function alterRisk(cmd: Obj, table: string, catalog: Catalog): DdlRisk {
  const subtype = String(cmd.subtype ?? "");
  const column = String(cmd.name ?? "");
  const base = { lock: AX, table };
  switch (subtype) {
    case "AT_AddColumn": {
      const def = unwrap(cmd.def)[1];
      const name = String(def.colname ?? "");
      const constraints = ((def.constraints as unknown[]) ?? []).map((c) => unwrap(c)[1]);
      const typeName = (((def.typeName as Obj | undefined)?.names as unknown[]) ?? []).map(stringOf).at(-1) ?? "";
      const defaultExpr = constraints.find((c) => c.contype === "CONSTR_DEFAULT")?.raw_expr;
      const identity = constraints.some((c) => c.contype === "CONSTR_IDENTITY") || SERIAL_TYPES.has(typeName);
      const generated = constraints.some((c) => c.contype === "CONSTR_GENERATED");
      const volatile = defaultExpr !== undefined && volatileCalls(defaultExpr, catalog).length > 0;
      const undo = "yes: DROP COLUMN (what was written to it since is lost)";
      if (identity || generated || volatile) {
        const why = identity ? "an identity or serial column" : generated ? "a stored generated column" : `a volatile default (${volatileCalls(defaultExpr, catalog).join(", ")})`;
        return { ...base, action: `adds column ${name} with ${why}, filling every row`, rewrites: true, undo };
      }
      const notNull = constraints.some((c) => c.contype === "CONSTR_NOTNULL");
      return { ...base, action: `adds column ${name}${defaultExpr ? " with a constant default (no rewrite)" : ""}${notNull && !defaultExpr ? " NOT NULL without a default (fails if the table has rows)" : ""}`, rewrites: false, undo };
    }
    case "AT_AlterColumnType":
      return { ...base, action: `changes the type of column ${column} (a rewrite, unless the new type is binary-compatible such as varchar to text)`, rewrites: true, undo: "only by changing the type back, which may not restore every value exactly" };
    case "AT_DropColumn":
      return { ...base, action: `drops column ${column}`, rewrites: false, undo: "no: the column's values are gone" };
    case "AT_SetNotNull":
      return { ...base, action: `sets column ${column} NOT NULL, scanning every row`, rewrites: false, scans: true, undo: "yes: DROP NOT NULL" };
    case "AT_DropNotNull":
      return { ...base, action: `drops NOT NULL on column ${column}`, rewrites: false, undo: "yes: SET NOT NULL (a full scan)" };
    case "AT_ColumnDefault":
      return { ...base, action: `changes the default of column ${column} (existing rows unchanged)`, rewrites: false, undo: "yes: set the old default again" };
    case "AT_AddConstraint": {
      const c = unwrap(cmd.def)[1];
      const kind = String(c.contype ?? "").replace("CONSTR_", "").toLowerCase();
      if (c.contype === "CONSTR_FOREIGN") return { table, lock: "SHARE ROW EXCLUSIVE (on both tables)", action: `adds foreign key${c.skip_validation ? " NOT VALID (no scan)" : ", scanning every row"}`, rewrites: false, scans: !c.skip_validation, undo: "yes: DROP CONSTRAINT" };
      if (c.contype === "CONSTR_PRIMARY" || c.contype === "CONSTR_UNIQUE") return { ...base, action: `adds a ${kind === "primary" ? "primary key" : "unique constraint"}, building its index`, rewrites: false, scans: true, undo: "yes: DROP CONSTRAINT" };
      return { ...base, action: `adds ${kind} constraint${c.skip_validation ? " NOT VALID (no scan)" : ", scanning every row"}`, rewrites: false, scans: !c.skip_validation, undo: "yes: DROP CONSTRAINT" };
    }
    case "AT_ValidateConstraint":
      return { table, lock: "SHARE UPDATE EXCLUSIVE", action: "validates a constraint, scanning every row (writes continue)", rewrites: false, scans: true, undo: "nothing to undo" };
    case "AT_SetTableSpace":
    case "AT_SetLogged":
    case "AT_SetUnLogged":
      return { ...base, action: `${subtype.replace("AT_", "")} rewrites the table`, rewrites: true, undo: "yes: the opposite command (another rewrite)" };
    case "AT_EnableTrig":
    case "AT_DisableTrig":
    case "AT_EnableTrigAll":
    case "AT_DisableTrigAll":
    case "AT_EnableTrigUser":
    case "AT_DisableTrigUser":
      return { table, lock: "SHARE ROW EXCLUSIVE", action: subtype.replace("AT_", "").toLowerCase().replace("trig", " trigger"), rewrites: false, undo: "yes: the opposite command" };
    default:
      return { ...base, action: `${subtype.replace("AT_", "")}${column ? ` on ${column}` : ""}`, rewrites: false, undo: "unknown" };
  }
}

function dropRisks(body: Obj): DdlRisk[] {
  const type = String(body.removeType ?? "").replace("OBJECT_", "").toLowerCase().replace("_", " ");
  const objects = ((body.objects as unknown[]) ?? []).map((o) => (((unwrap(o)[1].items as unknown[]) ?? []).map(stringOf).join(".")));
  if (type === "table" || type === "materialized view") return objects.map((table) => ({ action: `drops ${type} ${table} and its data`, lock: AX, rewrites: false, table, undo: "no: the table and its rows are gone" }));
  if (type === "index")
    return objects.map((index) => ({ action: `drops index ${index}${body.concurrent ? " concurrently" : ""}`, lock: body.concurrent ? "SHARE UPDATE EXCLUSIVE" : `${AX} on its table`, rewrites: false, undo: "yes: build it again (CREATE INDEX)" }));
  return objects.map((name) => ({ action: `drops ${type} ${name}`, lock: type === "view" ? AX : "on the object", rewrites: false, undo: "only by creating it again" }));
}

function relationName(relation: unknown): string {
  const r = (relation ?? {}) as { schemaname?: string; relname?: string };
  return r.schemaname ? `${r.schemaname}.${r.relname ?? ""}` : (r.relname ?? "");
}

/** Functions an expression calls that are not built-in immutable or stable ones (nextval, random, user functions). */
function volatileCalls(tree: unknown, catalog: Catalog): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    for (const [key, value] of Object.entries(node)) {
      if (key === "FuncCall") {
        const name = (((value as Obj).funcname as unknown[]) ?? []).map(stringOf).at(-1) ?? "";
        if (!catalog.readFunctions.has(name) || catalog.userFunctions.has(name)) out.push(`${name}()`);
      }
      visit(value);
    }
  };
  visit(tree);
  return out;
}

const SIZE_SQL = `
select pg_catalog.format('%I.%I', n.nspname, c.relname) as name, pg_catalog.pg_total_relation_size(c.oid)::text as bytes, c.reltuples::bigint::text as tuples
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = pg_catalog.to_regclass($1)`;

/** Each risk's table with its qualified name, size and row estimate, as the catalog has them (-1 rows: never analyzed). */
export async function withSizes(session: PreviewSession, risks: DdlRisk[]): Promise<DdlRisk[]> {
  const out: DdlRisk[] = [];
  for (const risk of risks) {
    if (!risk.table) {
      out.push(risk);
      continue;
    }
    const row = (await session.query(SIZE_SQL, [risk.table]).catch(() => undefined))?.rows[0];
    if (!row) out.push(risk);
    else out.push({ ...risk, table: row[0]!, bytes: Number(row[1]), ...(Number(row[2]) >= 0 ? { rowsEstimate: Number(row[2]) } : {}) });
  }
  return out;
}
