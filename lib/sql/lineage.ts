/**
 * Where each column of a statement's result comes from, for masking: the source columns
 * (`schema.table.column`) whose values may flow into it, through aliases, expressions, casts,
 * functions, subqueries, CTEs, views, set operations and whole-row references (`SELECT c FROM
 * customers c`, `row_to_json(c)`). Conservative by construction: a column takes every column its
 * expression mentions (in a FILTER, an ORDER BY, a CASE condition too), and what cannot be traced
 * (a user function, an unknown relation, a cursor) is `unknown`, never clean.
 */
import { qualifiedName, type RelationRef } from "./collector";
import { copyFormat } from "./copy-format";
import { clean, commonNames, find, finish, merge, named, opaque, renamed, spreadOf, toLineage, unionAll, zipUnion, type Col } from "./lineage-columns";
import { parseSql } from "./parser";
import { catalogSearchPath, changedRelation, withSearchPath } from "./relation-names";
import { stringOf, unwrap, type Obj } from "./tree";
import type { Catalog, ColumnLineage, OutputLineage, StatementInfo } from "./types";



/** A FROM item: columns by name when known; `rest` answers for any other name (or all of them). */
interface Rte {
  alias: string;
  columns?: Col[];
  rest?: Col;
}

interface Scope {
  rtes: Rte[];
  /** What `*` expands to, in order (USING/NATURAL joins merge their common columns). */
  star: Col[];
  ctes: Map<string, Col[]>;
  parent?: Scope;
}

/** Built-in functions that run SQL given as text or read whole relations by name. */
const OPAQUE_FUNCTIONS = new Set([
  "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
  "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml", "schema_to_xmlschema",
  "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
  "ts_stat", "dblink", "dblink_exec",
]);

/** System views that show values of user tables (column statistics). */
const SYSTEM_VIEWS_WITH_DATA = new Set(["pg_catalog.pg_stats", "pg_catalog.pg_stats_ext", "pg_catalog.pg_stats_ext_exprs", "pg_catalog.pg_statistic", "pg_catalog.pg_statistic_ext_data"]);


export { mergeOutputs } from "./lineage-columns";

/** The result lineage of one parsed statement (`node` is a RawStmt's `stmt`). */
export function outputLineage(node: unknown, catalog: Catalog, lookupPrepared: (name: string) => StatementInfo | undefined): OutputLineage {
  try {
    return new Lineage(catalog).statement(node, lookupPrepared);
  } catch (err) {
    // A tree shape this code did not expect: nothing in the result is trusted to be clean.
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    return finish([opaque()]);
  }
}

/** What flows into each column of a view of the catalog. */
export function viewColumns(catalog: Catalog, name: string): ColumnLineage[] {
  if (catalog.relations.get(name)?.definition === undefined) return [];
  return new Lineage(catalog).view(name).map(toLineage);
}

/** View outputs per catalog, computed once from the view's definition. */
const viewCache = new WeakMap<Catalog, Map<string, Col[] | "pending">>();

class Lineage {
  constructor(private readonly catalog: Catalog) {}

  statement(node: unknown, lookupPrepared: (name: string) => StatementInfo | undefined): OutputLineage {
    const [type, body] = unwrap(node);
    switch (type) {
      case "SelectStmt":
      case "InsertStmt":
      case "UpdateStmt":
      case "DeleteStmt":
        return finish(this.query(node, undefined));
      case "PrepareStmt":
      case "DeclareCursorStmt":
        return finish(this.query(body.query, undefined));
      case "ExecuteStmt":
        return lookupPrepared(String(body.name))?.output ?? finish([opaque()]);
      case "CopyStmt":
        return { ...finish(this.copy(body)), copy: copyFormat(body.options) };
      case "ExplainStmt":
      case "VariableShowStmt":
        return finish([clean()]);
      default:
        // FETCH from a cursor, CALL with OUT parameters, MERGE … RETURNING: not traced.
        return finish([opaque()]);
    }
  }

  /** A row-returning query: SELECT, VALUES, set operations, or a data-modifying statement's RETURNING. */
  query(node: unknown, outer: Scope | undefined): Col[] {
    const [type, body] = unwrap(node);
    if (type === "SelectStmt") return this.select(body, outer);
    if (type === "InsertStmt" || type === "UpdateStmt" || type === "DeleteStmt") return this.returning(type, body, outer);
    return [opaque()];
  }

  select(s: Obj, outer: Scope | undefined): Col[] {
    const withScope = this.withClause(s.withClause as Obj | undefined, outer);
    const op = s.op as string | undefined;
    if (op && op !== "SETOP_NONE") return zipUnion(this.select(s.larg as Obj, withScope), this.select(s.rarg as Obj, withScope));
    if (Array.isArray(s.valuesLists)) {
      const rows = s.valuesLists.map((row) => ((row as { List?: { items?: unknown[] } }).List?.items ?? []).map((e, i) => named(`column${i + 1}`, this.expr(e, withScope))));
      return rows.reduce(zipUnion);
    }
    const scope = this.from(s.fromClause as unknown[] | undefined, withScope);
    return this.targets(s.targetList as unknown[] | undefined, scope);
  }

  returning(type: string, s: Obj, outer: Scope | undefined): Col[] {
    const withScope = this.withClause(s.withClause as Obj | undefined, outer);
    const extra = type === "UpdateStmt" ? (s.fromClause as unknown[]) : type === "DeleteStmt" ? (s.usingClause as unknown[]) : undefined;
    const scope = this.from([{ RangeVar: s.relation }, ...(extra ?? [])], withScope);
    const out = this.targets((s.returningClause as { exprs?: unknown[] } | undefined)?.exprs, scope);
    // A returned column carries whatever was written into the row, wherever that came from.
    const written = type === "InsertStmt" && s.selectStmt ? unionAll(this.query(s.selectStmt, withScope)) : type === "UpdateStmt" ? this.expr(s.targetList, scope) : clean();
    return out.map((c) => merge(c, written));
  }

  copy(s: Obj): Col[] {
    if (s.query) return this.query(s.query, undefined);
    const rte = this.relation(s.relation as RelationRef, undefined);
    const attlist = (s.attlist as unknown[] | undefined)?.map(stringOf);
    if (!attlist) return rte.columns ?? [spreadOf(rte.rest ?? opaque())];
    return attlist.map((name) => rte.columns?.find((c) => c.name === name) ?? rte.rest ?? opaque(name));
  }

  withClause(w: Obj | undefined, outer: Scope | undefined): Scope | undefined {
    if (!w) return outer;
    const scope: Scope = { rtes: [], star: [], ctes: new Map(), parent: outer };
    for (const item of (w.ctes as unknown[]) ?? []) {
      const cte = unwrap(item)[1];
      const name = String(cte.ctename);
      const rename = (cols: Col[]) => renamed(cols, (cte.aliascolnames as unknown[] | undefined)?.map(stringOf));
      if (w.recursive) {
        // The recursive arm reads the CTE itself: start from the other arm, then let what flows in grow.
        const q = unwrap(cte.ctequery)[1];
        scope.ctes.set(name, rename(q.larg ? this.select(q.larg as Obj, scope) : [opaque()]));
        for (let i = 0; i < 4; i++) scope.ctes.set(name, rename(this.query(cte.ctequery, scope)));
      } else scope.ctes.set(name, rename(this.query(cte.ctequery, scope)));
    }
    return scope;
  }

  /** The FROM list as a scope: the items' names, and what `*` expands to. */
  from(items: unknown[] | undefined, outer: Scope | undefined): Scope {
    const scope: Scope = { rtes: [], star: [], ctes: new Map(), parent: outer };
    for (const item of items ?? []) scope.star.push(...this.fromItem(item, scope));
    return scope;
  }

  /** Adds a FROM item's names to the scope; returns its `*` columns. */
  fromItem(item: unknown, scope: Scope): Col[] {
    const [type, body] = unwrap(item);
    switch (type) {
      case "RangeVar": {
        const rte = this.relation(body as RelationRef, scope);
        scope.rtes.push(rte);
        return rte.columns ?? [spreadOf(rte.rest ?? opaque())];
      }
      case "RangeSubselect": {
        // Lateral or not, resolving against earlier items is harmless: a plain subquery cannot name them.
        const cols = renamed(this.query(body.subquery, scope), aliasColumns(body.alias));
        scope.rtes.push({ alias: aliasName(body.alias) ?? "", columns: cols });
        return cols;
      }
      case "RangeFunction":
        return this.rangeFunction(body, scope);
      case "JoinExpr":
        return this.join(body, scope);
      case "RangeTableSample":
        return this.fromItem(body.relation, scope);
      default: {
        // XMLTABLE, JSON_TABLE and anything newer: every column carries everything its arguments do.
        const all = this.expr(body, scope);
        scope.rtes.push({ alias: aliasName(body.alias) ?? "", rest: all });
        return [spreadOf(all)];
      }
    }
  }

  rangeFunction(body: Obj, scope: Scope): Col[] {
    const calls = (body.functions as unknown[]) ?? [];
    let all = clean();
    const defined: Col[] = [];
    let exact = true;
    for (const call of calls) {
      const [fn, coldefs] = (call as { List?: { items?: unknown[] } }).List?.items ?? [];
      all = merge(all, this.expr(fn, scope));
      const defs = ((coldefs as { List?: { items?: unknown[] } } | undefined)?.List?.items ?? []).map((d) => String(unwrap(d)[1].colname));
      if (defs && defs.length > 0) defined.push(...defs.map(clean));
      else exact = false;
    }
    const alias = aliasName(body.alias) ?? "";
    const names = aliasColumns(body.alias);
    if (names && names.length > 0 && calls.length === 1) exact = true;
    const colNames = names && names.length > 0 ? names : defined.map((c) => c.name);
    const cols = exact ? colNames.map((n) => named(n, all)) : undefined;
    if (cols && body.ordinality) cols.push(clean("ordinality"));
    // A one-column function is also known by its alias (`unnest(x) u` … `u`).
    scope.rtes.push({ alias, columns: cols, rest: all });
    return cols ?? [spreadOf(all)];
  }

  join(j: Obj, scope: Scope): Col[] {
    const left = this.fromItem(j.larg, scope);
    const right = this.fromItem(j.rarg, scope);
    const using = (j.usingClause as unknown[] | undefined)?.map(stringOf) ?? (j.isNatural ? commonNames(left, right) : []);
    let star: Col[];
    if (!using) star = [spreadOf(unionAll([...left, ...right]))];
    else {
      const merged = using.map((name) => merge(find(left, name) ?? opaque(name), find(right, name) ?? opaque(name)));
      star = [...merged, ...left.filter((c) => !using.includes(c.name)), ...right.filter((c) => !using.includes(c.name))];
    }
    if (j.alias) scope.rtes.push({ alias: aliasName(j.alias) ?? "", columns: renamed(star, aliasColumns(j.alias)) });
    return star;
  }

  /** A named relation: a CTE in scope, a table or view of the catalog, a system relation, or unknown. */
  relation(ref: RelationRef, scope: Scope | undefined): Rte {
    const alias = aliasName((ref as Obj).alias) ?? ref.relname ?? "";
    const rename = (cols: Col[]) => renamed(cols, aliasColumns((ref as Obj).alias));
    if (!ref.schemaname && ref.relname) {
      for (let s = scope; s; s = s.parent) {
        const cte = s.ctes.get(ref.relname);
        if (cte) return { alias, columns: rename(cte) };
      }
    }
    const name = qualifiedName(ref.schemaname, ref.relname ?? "");
    // Made, altered or dropped by this session since its catalog was read: its columns are not known.
    if (changedRelation(name)) return { alias, rest: opaque() };
    const relation = this.catalog.relations.get(name);
    if (relation) {
      const cols = relation.definition !== undefined ? this.view(name) : relation.columns.map((c) => ({ name: c.name, sources: new Set([`${name}.${c.name}`]), unknown: false }));
      return { alias, columns: rename(cols) };
    }
    const system = (name.startsWith("pg_catalog.") || name.startsWith("information_schema.")) && !SYSTEM_VIEWS_WITH_DATA.has(name);
    return { alias, rest: system ? clean() : opaque() };
  }

  /** A view's columns carry what its definition's columns do (views over views too). */
  view(name: string): Col[] {
    let views = viewCache.get(this.catalog);
    if (!views) viewCache.set(this.catalog, (views = new Map()));
    const relation = this.catalog.relations.get(name)!;
    const cached = views.get(name);
    if (cached === "pending") return relation.columns.map((c) => opaque(c.name)); // a cycle: give up, safely
    if (cached) return cached;
    views.set(name, "pending");
    let cols: Col[];
    try {
      const stmt = parseSql(relation.definition ?? "").stmts?.[0]?.stmt;
      // pg_get_viewdef leaves out the schemas the catalog's own session could see on its search_path.
      const out = withSearchPath(this.catalog, catalogSearchPath(this.catalog), () => this.query(stmt, undefined));
      cols = out.length === relation.columns.length && !out.some((c) => c.spread) ? out.map((c, i) => named(relation.columns[i].name, c)) : relation.columns.map((c) => named(c.name, unionAll(out)));
    } catch {
      cols = relation.columns.map((c) => opaque(c.name));
    }
    views.set(name, cols);
    return cols;
  }

  /** A target (or RETURNING) list: `*` and `t.*` expand; anything else is one column. */
  targets(list: unknown[] | undefined, scope: Scope): Col[] {
    const out: Col[] = [];
    for (const item of list ?? []) {
      const target = unwrap(item)[1];
      const star = starOf(target.val);
      if (star) out.push(...this.expandStar(star, scope));
      else out.push(named(target.name ? String(target.name) : nameOf(target.val), this.expr(target.val, scope)));
    }
    return out;
  }

  expandStar(qualifier: string[], scope: Scope): Col[] {
    if (qualifier.length === 0) return scope.star;
    const rte = this.findRte(qualifier.at(-1)!, scope);
    if (!rte) return [spreadOf(opaque())];
    return rte.columns ?? [spreadOf(rte.rest ?? opaque())];
  }

  /** Everything an expression's value may carry. */
  expr(node: unknown, scope: Scope | undefined): Col {
    let acc = clean();
    const visit = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(visit);
      if (n === null || typeof n !== "object") return;
      const obj = n as Obj;
      const keys = Object.keys(obj);
      if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
        const [type, body] = [keys[0], obj[keys[0]] as Obj];
        switch (type) {
          case "ColumnRef":
            acc = merge(acc, this.columnRef(body, scope));
            return;
          case "SubLink":
            acc = merge(acc, unionAll(this.query(body.subselect, scope)));
            return visit(body.testexpr);
          case "SelectStmt":
          case "InsertStmt":
          case "UpdateStmt":
          case "DeleteStmt":
            acc = merge(acc, unionAll(this.query(n, scope)));
            return;
          case "FuncCall":
            if (this.opaqueFunction((body.funcname as unknown[]).map(stringOf))) acc = merge(acc, opaque());
            for (const [key, value] of Object.entries(body)) if (key !== "funcname") visit(value);
            return;
          case "TypeName":
            return;
          default:
            return visit(body);
        }
      }
      for (const value of Object.values(obj)) visit(value);
    };
    visit(node);
    return acc;
  }

  opaqueFunction(parts: string[]): boolean {
    const name = parts.at(-1) ?? "";
    const schema = parts.length > 1 ? parts.at(-2) : undefined;
    if (schema !== undefined && schema !== "pg_catalog") return true;
    return this.catalog.userFunctions.has(name) || OPAQUE_FUNCTIONS.has(name);
  }

  /**
   * A column reference, resolved the way PostgreSQL does: a name is a column of the nearest
   * scope that has it, else a whole row of a FROM item of that name; `t.c` is column c of item t.
   */
  columnRef(ref: Obj, scope: Scope | undefined): Col {
    const fields = (ref.fields as unknown[]) ?? [];
    const last = fields.at(-1);
    const names = fields.filter((f) => unwrap(f)[0] === "String").map(stringOf);
    if (last && unwrap(last)[0] === "A_Star") return names.length === 0 ? unionAll(scope?.star ?? []) : this.wholeRow(names.at(-1)!, scope);
    if (names.length === 1) return this.bareName(names[0], scope);
    const [qualifier, column] = names.slice(-2);
    // `t.c`, or (`c.f`) a field of a composite column c: either way c's lineage covers it.
    const rte = this.findRte(qualifier, scope);
    if (rte) return rte.columns?.find((c) => c.name === column) ?? rte.rest ?? opaque(column);
    return names.length === 2 ? this.bareName(qualifier, scope) : opaque(column);
  }

  bareName(name: string, scope: Scope | undefined): Col {
    for (let s = scope; s; s = s.parent) {
      const found = s.rtes.flatMap((r) => r.columns?.filter((c) => c.name === name) ?? []);
      if (found.length > 0) return unionAll(found);
      const rests = s.rtes.filter((r) => !r.columns && r.rest).map((r) => r.rest!);
      if (rests.length > 0) return unionAll(rests);
      const whole = s.rtes.find((r) => r.alias === name);
      if (whole) return this.wholeRow(name, s);
    }
    return opaque(name);
  }

  wholeRow(alias: string, scope: Scope | undefined): Col {
    const rte = this.findRte(alias, scope);
    if (!rte) return opaque(alias);
    return unionAll([...(rte.columns ?? []), ...(rte.rest ? [rte.rest] : [])]);
  }

  findRte(alias: string, scope: Scope | undefined): Rte | undefined {
    for (let s = scope; s; s = s.parent) {
      const rte = s.rtes.find((r) => r.alias === alias);
      if (rte) return rte;
    }
    return undefined;
  }
}

/** `*` → [], `t.*` → ["t"]; undefined for anything else. */
function starOf(node: unknown): string[] | undefined {
  const [type, body] = unwrap(node);
  if (type !== "ColumnRef") return undefined;
  const fields = (body.fields as unknown[]) ?? [];
  if (unwrap(fields.at(-1))[0] !== "A_Star") return undefined;
  return fields.slice(0, -1).map(stringOf);
}

/** The name PostgreSQL gives an unnamed target: the column's or the function's name. */
function nameOf(node: unknown): string {
  const [type, body] = unwrap(node);
  if (type === "ColumnRef") return stringOf((body.fields as unknown[]).at(-1));
  if (type === "FuncCall") return stringOf((body.funcname as unknown[]).at(-1));
  return "?column?";
}

function aliasName(alias: unknown): string | undefined {
  return (alias as { aliasname?: string } | undefined)?.aliasname;
}

function aliasColumns(alias: unknown): string[] | undefined {
  return (alias as { colnames?: unknown[] } | undefined)?.colnames?.map(stringOf);
}


