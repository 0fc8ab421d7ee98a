/**
 * Where a statement names tables, for the row-filter rewrite and its check: every relation is met
 * with the CTE names visible there (a CTE shadows an unqualified table name only inside its WITH),
 * so a CTE called `orders` is never mistaken for the table, nor the table for the CTE.
 */
import { relationName, type RelationRef } from "./collector";
import { unwrap, type Obj } from "./tree";
import type { Scope } from "./walk";

/** One table's filter, ready for a statement: its SQL with columns qualified by `qualifier`. */
export interface BoundRowFilter {
  render(qualifier: string): string;
  /** Columns the filter reads: an UPDATE may not set them. */
  columns: ReadonlySet<string>;
}

/** Filtered tables (schema-qualified) and their filters. */
export type RowFilters = ReadonlyMap<string, BoundRowFilter>;

/** The alias a filtered table has inside its subquery: the filter's columns are qualified by it. */
export const INNER_ALIAS = "airlock_rows";

/**
 * Ends the filtered subquery. PostgreSQL neither flattens a subquery with OFFSET nor pushes the
 * outer query's conditions into it, so the agent's own conditions (which could raise an error on a
 * hidden row's value: `1/(total - 40)`) only ever see rows the filter let through — what a
 * security-barrier view does.
 */
export const FENCE = "OFFSET 0";

export interface TableVisitor {
  /** A relation in a FROM list, a JOIN, `TABLE t`: read where it stands. */
  read(ref: Obj, scope: Scope | undefined): void;
  /** A relation in any other place the visitor does not handle itself (a target, INTO, LIKE…). */
  other(ref: Obj, where: string): void;
  /** `(SELECT …) AS x`: true when the visitor took care of everything inside it. */
  subselect?(body: Obj, scope: Scope | undefined): boolean;
  /** INSERT/UPDATE/DELETE/MERGE (and COPY): true when the visitor walked it itself. */
  statement?(type: string, body: Obj, scope: Scope | undefined): boolean;
}

const SELECT_OWN = new Set(["withClause", "larg", "rarg", "lockingClause"]);

/** Visits `node` and everything below it. */
export function visitTables(v: TableVisitor, node: unknown, scope: Scope | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) visitTables(v, item, scope);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const keys = Object.keys(node);
  if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
    const [type, body] = unwrap(node);
    return visitNode(v, type, body, scope);
  }
  const obj = node as Obj;
  // A bare SelectStmt (a set operation's branch) keeps its own WITH and locking clauses.
  if ("op" in obj && "limitOption" in obj) return visitSelect(v, obj, scope);
  if (typeof obj.relname === "string" && "relpersistence" in obj) return v.other(obj, "here");
  visitFields(v, obj, scope);
}

function visitNode(v: TableVisitor, type: string, body: Obj, scope: Scope | undefined): void {
  switch (type) {
    case "RangeVar":
      return v.read(body, scope);
    case "SelectStmt":
      return visitSelect(v, body, scope);
    case "RangeTableSample": {
      // A sample of a table is taken from the table itself, not from a subquery in its place.
      const [relType, rel] = unwrap(body.relation);
      if (relType === "RangeVar") v.other(rel, "TABLESAMPLE");
      return visitFields(v, body, scope, new Set(["relation"]));
    }
    case "RangeSubselect":
      if (v.subselect?.(body, scope)) return;
      return visitFields(v, body, scope);
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
    case "CopyStmt": {
      const inner = withScope(v, body.withClause as Obj | undefined, scope);
      if (v.statement?.(type, body, inner)) return;
      return visitFields(v, body, inner, new Set(["withClause"]));
    }
    default:
      return visitFields(v, body, scope);
  }
}

export function visitFields(v: TableVisitor, obj: Obj, scope: Scope | undefined, skip?: ReadonlySet<string>): void {
  for (const key in obj) {
    if (skip?.has(key)) continue;
    const value = obj[key];
    if (value !== null && typeof value === "object") visitTables(v, value, scope);
  }
}

function visitSelect(v: TableVisitor, s: Obj, scope: Scope | undefined): void {
  const inner = withScope(v, s.withClause as Obj | undefined, scope);
  if (s.larg) visitSelect(v, s.larg as Obj, inner);
  if (s.rarg) visitSelect(v, s.rarg as Obj, inner);
  // FOR UPDATE OF x names a FROM item by its alias, not a table: nothing to read there.
  visitFields(v, s, inner, SELECT_OWN);
}

/** A WITH list: without RECURSIVE a CTE sees only those before it; the statement sees all. */
export function withScope(v: TableVisitor, withClause: Obj | undefined, scope: Scope | undefined): Scope | undefined {
  if (!withClause) return scope;
  const ctes = ((withClause.ctes as unknown[]) ?? []).map((n) => unwrap(n)[1]);
  const all = ctes.map((c) => (typeof c.ctename === "string" ? c.ctename : ""));
  const everything: Scope = { names: new Set(all), parent: scope };
  ctes.forEach((cte, i) => {
    const visible = withClause.recursive ? everything : { names: new Set(all.slice(0, i)), parent: scope };
    visitTables(v, cte.ctequery, visible);
  });
  return everything;
}

/** The table a relation names, or undefined when it names a CTE visible there. */
export function tableOf(ref: Obj, scope: Scope | undefined): string | undefined {
  const r = ref as RelationRef;
  if (!r.schemaname && r.relname) {
    for (let s = scope; s; s = s.parent) if (s.names.has(r.relname)) return undefined;
  }
  return relationName(r);
}
