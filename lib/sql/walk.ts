/**
 * Walks a parse tree and records what it does. Every node is visited, so a function call, a
 * table or a data-modifying CTE is found wherever it hides (subquery, join, LATERAL, set
 * operation, sublink, RETURNING, ON CONFLICT…). The tree is the parser's JSON: a node is an object
 * with one key, its type (`{ "RangeVar": {…} }`); fields typed as one node type hold it "bare".
 */
import type { DeleteStmt, ExecuteStmt, InsertStmt, MergeStmt, SelectStmt, UpdateStmt, WithClause } from "libpg-query";
import { relationName, type Collector, type RelationRef } from "./collector";
import { PATH_SETTING, untrackedSetConfig } from "./path-statements";
import { PRIVILEGE_SETTINGS, SECURITY_SETTINGS } from "./statement-kinds";
import type { Kind, StatementInfo } from "./types";

/** CTE names visible at a point of the query; a CTE shadows tables only inside its WITH. */
export interface Scope {
  readonly names: ReadonlySet<string>;
  readonly parent?: Scope;
}

export interface Walk {
  out: Collector;
  /** SQL-level prepared statements of the session, as of this statement. */
  lookupPrepared(name: string): StatementInfo | undefined;
}

type Obj = Record<string, unknown>;

/** Leaves that hold no tables, calls or operators: not worth descending into. */
const LEAVES = new Set(["String", "Integer", "Float", "Boolean", "BitString", "A_Const", "A_Star", "ParamRef", "ColumnRef", "SQLValueFunction"]);
const SELECT_HANDLED = new Set(["withClause", "intoClause", "larg", "rarg", "lockingClause"]);
const MODIFY_HANDLED = new Set(["relation", "withClause"]);
const SKIP_FUNCNAME = new Set(["funcname"]);
const SKIP_NAME = new Set(["name"]);
const SKIP_OPERNAME = new Set(["operName"]);
const SKIP_USEOP = new Set(["useOp"]);
const SKIP_METHOD = new Set(["method"]);
const BUILTIN_SAMPLING = new Set(["bernoulli", "system"]);
const BETWEEN_OPERATORS = [["<"], ["<="], [">"], [">="]];

/**
 * Visits any part of a tree. `exec`: the SQL runs now. It does not inside a definition (a view's
 * query, a rule's action, a function body) or a plain EXPLAIN: there tables count as read and
 * calls as calls (a definition may run them later, and planning folds immutable ones), but
 * nothing is written or locked.
 */
export function walkNode(w: Walk, node: unknown, scope: Scope | undefined, exec: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) walkNode(w, item, scope, exec);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const obj = node as Obj;
  const keys = Object.keys(obj);
  if (keys.length === 1 && isNodeType(keys[0])) {
    visit(w, keys[0], obj[keys[0]] as Obj, scope, exec);
    return;
  }
  // A bare TypeName in a typed field (a cast's target, a column's type) names a type.
  if (Array.isArray(obj.names) && "typemod" in obj) {
    w.out.useType(names(obj.names));
    return walkFields(w, obj, scope, exec);
  }
  // A bare RangeVar in a typed field (LIKE t, REFERENCES t, …) is still a relation.
  if (typeof obj.relname === "string" && "relpersistence" in obj) {
    readRelation(w, obj as RelationRef, scope);
    return;
  }
  walkFields(w, obj, scope, exec);
}

function visit(w: Walk, type: string, body: Obj, scope: Scope | undefined, exec: boolean): void {
  if (LEAVES.has(type)) return;
  switch (type) {
    case "SelectStmt":
      return walkSelect(w, body as SelectStmt, scope, exec, false);
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      return walkModify(w, type, body, scope, exec, true);
    case "RangeVar":
      return readRelation(w, body as RelationRef, scope);
    case "FuncCall": {
      const parts = names(body.funcname);
      w.out.callFunction(parts);
      if (isBuiltinSetConfig(parts)) setConfig(w, body.args);
      return walkFields(w, body, scope, exec, SKIP_FUNCNAME);
    }
    case "A_Expr":
      operators(w, body);
      return walkFields(w, body, scope, exec, SKIP_NAME);
    case "SubLink":
      if (Array.isArray(body.operName)) w.out.useOperator(names(body.operName));
      return walkFields(w, body, scope, exec, SKIP_OPERNAME);
    case "SortBy":
      if (Array.isArray(body.useOp)) w.out.useOperator(names(body.useOp));
      return walkFields(w, body, scope, exec, SKIP_USEOP);
    case "ExecuteStmt":
      return walkExecute(w, body as ExecuteStmt, scope, exec);
    case "TypeName": {
      // A cast to, or a value of, such a type runs user code (input function, domain CHECK, cast function).
      w.out.useType(names(body.names));
      return;
    }
    case "RangeTableSample": {
      // TABLESAMPLE runs the method's handler: only the two built-in methods are known to be reads.
      const method = names(body.method);
      if (!(method.length === 1 || method[0] === "pg_catalog") || !BUILTIN_SAMPLING.has(method[method.length - 1])) {
        w.out.add("call", `samples rows with method ${method.join(".")}, which is not built in`);
      }
      return walkFields(w, body, scope, exec, SKIP_METHOD);
    }
    default:
      return walkFields(w, body, scope, exec);
  }
}

export function walkFields(w: Walk, obj: Obj, scope: Scope | undefined, exec: boolean, skip?: ReadonlySet<string>): void {
  for (const key in obj) {
    if (skip?.has(key)) continue;
    const value = obj[key];
    if (value !== null && typeof value === "object") walkNode(w, value, scope, exec);
  }
}

/** SELECT, VALUES, TABLE x and set operations. Only a statement-level one (`top`) is kind `select`. */
export function walkSelect(w: Walk, s: SelectStmt, scope: Scope | undefined, exec: boolean, top: boolean): void {
  const inner = s.withClause ? walkWith(w, s.withClause, scope, exec) : scope;
  if (top) w.out.add("select");
  if (exec && s.intoClause?.rel) {
    const target = relationName(s.intoClause.rel);
    w.out.writes.add(target);
    w.out.add("ddl", `SELECT … INTO creates table ${target}`);
  }
  if (exec && s.lockingClause?.length) {
    const strength = (s.lockingClause[0] as { LockingClause?: { strength?: string } }).LockingClause?.strength;
    w.out.add("lock", `SELECT … ${LOCK_STRENGTH[strength ?? ""] ?? "FOR UPDATE"} locks the rows it reads`);
  }
  if (s.larg) walkSelect(w, s.larg, inner, exec, false);
  if (s.rarg) walkSelect(w, s.rarg, inner, exec, false);
  walkFields(w, s as Obj, inner, exec, SELECT_HANDLED);
}

const LOCK_STRENGTH: Record<string, string> = {
  LCS_FORKEYSHARE: "FOR KEY SHARE",
  LCS_FORSHARE: "FOR SHARE",
  LCS_FORNOKEYUPDATE: "FOR NO KEY UPDATE",
  LCS_FORUPDATE: "FOR UPDATE",
};

const MODIFY: Record<string, { kind: Kind; verb: string }> = {
  InsertStmt: { kind: "insert", verb: "inserts into" },
  UpdateStmt: { kind: "update", verb: "updates" },
  DeleteStmt: { kind: "delete", verb: "deletes from" },
  MergeStmt: { kind: "merge", verb: "merges into" },
};

/** INSERT, UPDATE, DELETE, MERGE: the target is written (never a CTE), every other relation read. */
export function walkModify(w: Walk, type: string, body: Obj, scope: Scope | undefined, exec: boolean, inCte: boolean): void {
  const stmt = body as InsertStmt | UpdateStmt | DeleteStmt | MergeStmt;
  const inner = stmt.withClause ? walkWith(w, stmt.withClause, scope, exec) : scope;
  const target = stmt.relation ? relationName(stmt.relation) : "an unnamed relation";
  if (!exec) {
    if (stmt.relation) w.out.read(target);
  } else {
    const { kind, verb } = MODIFY[type];
    const prefix = inCte ? "data-modifying CTE " : "";
    if (stmt.relation) w.out.write(target);
    w.out.add(kind, `${prefix}${verb} ${target}`);
    if ((stmt as InsertStmt).onConflictClause?.action === "ONCONFLICT_UPDATE") {
      w.out.add("update", `${prefix}INSERT … ON CONFLICT DO UPDATE updates existing rows of ${target}`);
    }
  }
  walkFields(w, body, inner, exec, MODIFY_HANDLED);
}

/**
 * A WITH list: without RECURSIVE a CTE sees only the ones before it (its own name still means a
 * table); with RECURSIVE every one sees all. The statement under the WITH sees all of them.
 */
function walkWith(w: Walk, withClause: WithClause, scope: Scope | undefined, exec: boolean): Scope {
  const ctes = (withClause.ctes ?? []).map((n) => (n as { CommonTableExpr?: Obj }).CommonTableExpr);
  const all = ctes.map((c) => (typeof c?.ctename === "string" ? c.ctename : ""));
  const everything: Scope = { names: new Set(all), parent: scope };
  ctes.forEach((cte, i) => {
    if (!cte) return;
    const visible = withClause.recursive ? everything : { names: new Set(all.slice(0, i)), parent: scope };
    walkNode(w, cte.ctequery, visible, exec);
  });
  return everything;
}

/** `EXECUTE name (params)`: what the prepared body does, plus whatever the parameters call. */
export function walkExecute(w: Walk, stmt: ExecuteStmt, scope: Scope | undefined, exec: boolean): void {
  const name = stmt.name ?? "";
  w.out.executes = name;
  walkNode(w, stmt.params, scope, exec);
  const body = w.lookupPrepared(name);
  if (!body) {
    w.out.add("unknown", `EXECUTE ${name}: no statement of that name was prepared in this session`);
    return;
  }
  if (exec) {
    w.out.merge(body);
    return;
  }
  // Planned, not run (EXPLAIN EXECUTE): only what calling code would do carries over.
  for (const t of [...body.reads, ...body.writes]) w.out.reads.add(t);
  for (const f of body.functions) w.out.functions.add(f);
  for (const k of body.kinds) if (k === "call" || k === "admin" || k === "unknown") w.out.add(k, `prepared statement ${name} is ${k}`);
}

function isBuiltinSetConfig(parts: string[]): boolean {
  return parts[parts.length - 1] === "set_config" && (parts.length === 1 || parts[parts.length - 2] === "pg_catalog");
}

/** set_config() is SET by another name: of role or the like (or of a setting not spelled out), a privilege change. */
function setConfig(w: Walk, args: unknown): void {
  const first = Array.isArray(args) ? (args[0] as { A_Const?: { sval?: { sval?: string } } } | undefined) : undefined;
  const setting = first?.A_Const?.sval?.sval?.toLowerCase();
  if (setting === undefined) w.out.add("privilege", "calls set_config() with a setting that is not spelled out, which could be role");
  else if (setting === PATH_SETTING) untrackedSetConfig(w.out);
  else if (PRIVILEGE_SETTINGS.has(setting)) w.out.add("privilege", `calls set_config('${setting}', …), which ${SECURITY_SETTINGS.get(setting)}`);
}

function readRelation(w: Walk, ref: RelationRef, scope: Scope | undefined): void {
  if (!ref.schemaname && ref.relname && isCte(scope, ref.relname)) return;
  w.out.read(relationName(ref));
}

function isCte(scope: Scope | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

function operators(w: Walk, expr: Obj): void {
  const kind = String(expr.kind ?? "");
  if (kind.includes("BETWEEN")) {
    for (const op of BETWEEN_OPERATORS) w.out.useOperator(op);
  } else if (Array.isArray(expr.name)) {
    w.out.useOperator(names(expr.name));
  }
}

/** A list of String nodes (a qualified name) as strings. */
export function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((n) => (n as { String?: { sval?: string } }).String?.sval ?? "");
}

function isNodeType(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 65 && c <= 90; // node types start upper-case; fields never do
}
