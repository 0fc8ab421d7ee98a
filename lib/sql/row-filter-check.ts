/**
 * The check after a row-filter rewrite, on the rewritten text parsed again: every reference to a
 * filtered table must be the inside of `(SELECT * FROM t AS airlock_rows WHERE <its filter>)`
 * exactly, or the target of an UPDATE/DELETE whose WHERE is its filter AND something. Anything
 * else — a reference the rewrite missed, a filter that did not land where meant — fails the check,
 * and the statement is refused. It knows nothing of how the text was edited.
 */
import { parseSql } from "./parser";
import { INNER_ALIAS, tableOf, visitFields, visitTables, type RowFilters, type TableVisitor } from "./row-filter-tables";
import { relationName, type RelationRef } from "./collector";
import { unwrap, type Obj } from "./tree";

const GUARD_KEYS = new Set(["targetList", "fromClause", "whereClause", "limitOffset", "limitOption", "op"]);

/** What is wrong with the rewritten text, or undefined when every filtered table is filtered. */
export function checkRowFilters(text: string, filters: RowFilters): string | undefined {
  const stmts = parseSql(text).stmts ?? [];
  if (stmts.length !== 1) return "the rewrite is not one statement";
  const checker = new Checker(filters);
  try {
    visitTables(checker, stmts[0].stmt, undefined);
  } catch (err) {
    if (err instanceof CheckFailure) return err.message;
    throw err;
  }
  return undefined;
}

class CheckFailure extends Error {}

class Checker implements TableVisitor {
  readonly #guarded = new Set<Obj>();
  readonly #expected = new Map<string, string>();

  constructor(private readonly filters: RowFilters) {}

  read(ref: Obj, scope: Parameters<TableVisitor["read"]>[1]): void {
    const table = tableOf(ref, scope);
    if (table && this.filters.has(table) && !this.#guarded.has(ref)) throw new CheckFailure(`${table} is read unfiltered`);
  }

  other(ref: Obj): void {
    const table = relationName(ref as RelationRef);
    if (this.filters.has(table)) throw new CheckFailure(`${table} is used unfiltered`);
  }

  subselect(body: Obj): boolean {
    const [type, s] = unwrap(body.subquery);
    if (type !== "SelectStmt" || s.op !== "SETOP_NONE" || Object.keys(s).some((k) => !GUARD_KEYS.has(k))) return false;
    const from = (s.fromClause as unknown[] | undefined) ?? [];
    const targets = (s.targetList as unknown[] | undefined) ?? [];
    const [fromType, rel] = unwrap(from[0]);
    if (from.length !== 1 || fromType !== "RangeVar" || targets.length !== 1 || !isStar(targets[0]) || !isOffsetZero(s.limitOffset)) return false;
    const r = rel as RelationRef & { alias?: { aliasname?: string; colnames?: unknown } };
    if (r.alias?.aliasname !== INNER_ALIAS || r.alias.colnames) return false;
    const table = relationName(r);
    if (this.filters.has(table) && same(s.whereClause, this.#expectedWhere(table, INNER_ALIAS))) this.#guarded.add(rel);
    return false;
  }

  statement(type: string, body: Obj, scope: Parameters<TableVisitor["read"]>[1]): boolean {
    const rel = body.relation as (RelationRef & { alias?: { aliasname?: string } }) | undefined;
    const target = rel ? relationName(rel) : undefined;
    if (target && this.filters.has(target)) {
      if (type !== "UpdateStmt" && type !== "DeleteStmt") throw new CheckFailure(`${target} is written unfiltered`);
      const expected = this.#expectedWhere(target, rel!.alias?.aliasname ?? rel!.relname ?? "");
      if (!filteredWhere(body.whereClause, expected)) throw new CheckFailure(`the WHERE of this statement does not hold the row filter of ${target}`);
    }
    visitFields(this, body, scope, new Set(["relation", "withClause"]));
    return true;
  }

  #expectedWhere(table: string, qualifier: string): string {
    const key = `${table}\0${qualifier}`;
    let expected = this.#expected.get(key);
    if (expected === undefined) {
      const select = unwrap((parseSql(`SELECT WHERE ${this.filters.get(table)!.render(qualifier)}`).stmts ?? [])[0]?.stmt)[1];
      expected = canonical(select.whereClause);
      this.#expected.set(key, expected);
    }
    return expected;
  }
}

/**
 * The filter itself, or `filter AND CASE WHEN filter THEN (…) ELSE false END` (the agent's condition
 * seen only by filtered rows). The parser flattens `(a AND b) AND c` into one list.
 */
function filteredWhere(where: unknown, expected: string): boolean {
  if (same(where, expected)) return true;
  const [type, body] = unwrap(where);
  if (type !== "BoolExpr" || body.boolop !== "AND_EXPR") return false;
  const args = body.args as unknown[];
  const [expType, exp] = unwrap(JSON.parse(expected));
  const want = expType === "BoolExpr" && exp.boolop === "AND_EXPR" && !same(args[0], expected) ? (exp.args as unknown[]) : [JSON.parse(expected)];
  if (args.length !== want.length + 1 || !want.every((w, i) => canonical(w) === canonical(args[i]))) return false;
  const [caseType, guard] = unwrap(args[args.length - 1]);
  const whens = (guard.args as unknown[] | undefined) ?? [];
  const [, when] = unwrap(whens[0]);
  return caseType === "CaseExpr" && guard.arg === undefined && whens.length === 1 && same(when.expr, expected) && isFalse(guard.defresult);
}

function isFalse(node: unknown): boolean {
  const [type, body] = unwrap(node);
  return type === "A_Const" && (body.boolval as { boolval?: boolean } | undefined)?.boolval !== true && "boolval" in body;
}

function isOffsetZero(node: unknown): boolean {
  const [type, body] = unwrap(node);
  return type === "A_Const" && (body.ival as { ival?: number } | undefined)?.ival === undefined && "ival" in body;
}

function isStar(target: unknown): boolean {
  const val = unwrap(unwrap(target)[1].val);
  const fields = val[0] === "ColumnRef" ? (val[1].fields as unknown[]) : [];
  return fields.length === 1 && unwrap(fields[0])[0] === "A_Star";
}

function same(node: unknown, expected: string): boolean {
  return node !== undefined && canonical(node) === expected;
}

/** Where a node stands in the text (`location`, `list_start`, `rexpr_list_end`…): differs between the filter alone and in place. */
const POSITION = /^(location|(.*_)?list_(start|end))$/;

/** A tree as JSON without its positions. */
function canonical(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => (POSITION.test(key) ? undefined : value));
}
