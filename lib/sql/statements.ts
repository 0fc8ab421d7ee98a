/**
 * One top-level statement → what it does, recorded in the walk's collector. Statements whose
 * kind depends on more than their type (COPY's direction, EXPLAIN's ANALYZE, SET's setting, ALTER
 * TABLE … OWNER TO) are decided here; the rest come from SIMPLE_KINDS; anything else is unknown.
 */
import type {
  AlterTableStmt,
  CallStmt,
  ClosePortalStmt,
  CopyStmt,
  CreateTableAsStmt,
  DeallocateStmt,
  DeclareCursorStmt,
  DiscardStmt,
  DropStmt,
  ExecuteStmt,
  ExplainStmt,
  FetchStmt,
  GrantStmt,
  LockStmt,
  NotifyStmt,
  PrepareStmt,
  RenameStmt,
  SelectStmt,
  TransactionStmt,
  TruncateStmt,
  VariableSetStmt,
} from "libpg-query";
import { relationName, relationsOf } from "./collector";
import { alterTable, drop, grant, rename, simple } from "./definitions";
import { maintenance } from "./maintenance";
import { PATH_SETTING, searchPathSetting, transactionEffect } from "./path-statements";
import { PRIVILEGE_SETTINGS, SECURITY_SETTINGS } from "./statement-kinds";
import { names, walkExecute, walkModify, walkNode, walkSelect, type Walk } from "./walk";
import { unwrap, type Obj } from "./tree";

/** DECLARE … WITH HOLD (PostgreSQL's parsenodes.h): the cursor outlives the transaction that made it. */
const CURSOR_OPT_HOLD = 0x0020;

const DATA_MODIFYING = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

export function classifyStatement(w: Walk, node: unknown): void {
  const [type, body] = unwrap(node);
  const out = w.out;
  switch (type) {
    case "SelectStmt":
      return walkSelect(w, body as SelectStmt, undefined, true, true);
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      return walkModify(w, type, body, undefined, true, false);
    case "CopyStmt":
      return copy(w, body as CopyStmt);
    case "ExplainStmt":
      return explain(w, body as ExplainStmt);
    case "DeclareCursorStmt": {
      const stmt = body as DeclareCursorStmt;
      out.declares = { name: stmt.portalname ?? "", holdable: ((stmt.options ?? 0) & CURSOR_OPT_HOLD) !== 0 };
      return classifyStatement(w, stmt.query);
    }
    case "FetchStmt":
      out.fetches = (body as FetchStmt).portalname ?? "";
      return out.add("select");
    case "ClosePortalStmt":
      out.closes = (body as ClosePortalStmt).portalname ?? "*";
      return out.add("select");
    case "PrepareStmt": {
      const stmt = body as PrepareStmt;
      out.prepares = stmt.name ?? "";
      return classifyStatement(w, stmt.query);
    }
    case "ExecuteStmt":
      return walkExecute(w, body as ExecuteStmt, undefined, true);
    case "CreateTableAsStmt":
      return createTableAs(w, body as CreateTableAsStmt);
    case "TruncateStmt": {
      const stmt = body as TruncateStmt;
      const targets = relationsOf(stmt.relations);
      for (const t of targets) out.writes.add(t);
      return out.add("truncate", `truncates ${targets.join(", ")}${stmt.behavior === "DROP_CASCADE" ? " and every table that references them (CASCADE)" : ""}`);
    }
    case "LockStmt": {
      const targets = relationsOf((body as LockStmt).relations);
      for (const t of targets) out.read(t);
      return out.add("lock", `LOCK TABLE locks ${targets.join(", ")}`);
    }
    case "CallStmt": {
      const call = (body as CallStmt).funccall;
      const name = names(call?.funcname).join(".");
      out.functions.add(name);
      out.add("call", `CALL runs procedure ${name}()`);
      return walkNode(w, call?.args, undefined, true);
    }
    case "DoStmt":
      return out.add("call", "DO runs an anonymous code block");
    case "NotifyStmt":
      return out.add("notify", `NOTIFY signals the sessions listening on ${(body as NotifyStmt).conditionname ?? "a channel"}`);
    case "VariableSetStmt":
      return setting(w, body as VariableSetStmt);
    case "TransactionStmt":
      return transaction(w, body as TransactionStmt);
    case "DiscardStmt": {
      const target = (body as DiscardStmt).target ?? "DISCARD_ALL";
      if (target === "DISCARD_ALL") {
        out.deallocates = "*";
        out.closes = "*";
        out.pathEffect = { kind: "set", value: "reset", local: false };
      }
      return out.add("session", `DISCARD ${target.slice("DISCARD_".length)} resets session state`);
    }
    case "DeallocateStmt": {
      const stmt = body as DeallocateStmt;
      out.deallocates = stmt.isall || stmt.name === undefined ? "*" : stmt.name;
      return out.add("session", `DEALLOCATE forgets ${out.deallocates === "*" ? "every prepared statement" : `prepared statement ${out.deallocates}`}`);
    }
    case "VacuumStmt":
    case "ReindexStmt":
    case "ClusterStmt":
    case "RefreshMatViewStmt":
      return maintenance(w, type, body);
    case "AlterTableStmt":
      return alterTable(w, body as AlterTableStmt);
    case "RenameStmt":
      return rename(w, body as RenameStmt);
    case "DropStmt":
      return drop(w, body as DropStmt);
    case "GrantStmt":
      return grant(w, body as GrantStmt);
    default:
      return simple(w, type, body);
  }
}

/** `{ "SelectStmt": {…} }` → ["SelectStmt", {…}]. */

function copy(w: Walk, stmt: CopyStmt): void {
  const out = w.out;
  const target = stmt.relation ? relationName(stmt.relation) : undefined;
  if (stmt.is_program) out.add("admin", `COPY … PROGRAM runs a program on the database server`);
  else if (stmt.filename !== undefined) out.add("admin", `COPY … ${stmt.is_from ? "FROM" : "TO"} a file reaches the database server's file system`);
  else if (stmt.is_from) out.add("copy_in", `COPY … FROM STDIN loads rows into ${target ?? "a table"}`);
  else out.add("copy_out", `COPY … TO STDOUT exports ${target ?? "a query's result"}`);
  if (target) {
    if (stmt.is_from) out.write(target);
    else out.read(target);
  }
  if (stmt.query) {
    const [type, body] = unwrap(stmt.query);
    if (DATA_MODIFYING.has(type)) walkModify(w, type, body, undefined, true, false);
    else walkNode(w, stmt.query, undefined, true);
  }
  walkNode(w, stmt.whereClause, undefined, true);
}

/** EXPLAIN plans without running, so it reads; EXPLAIN ANALYZE runs the statement, so it is that statement. */
function explain(w: Walk, stmt: ExplainStmt): void {
  if (hasAnalyze(stmt.options)) return classifyStatement(w, stmt.query);
  w.out.add("select");
  walkNode(w, stmt.query, undefined, false);
}

/** True unless ANALYZE is absent or clearly switched off; an option not understood counts as on. */
function hasAnalyze(options: unknown[] | undefined): boolean {
  return (options ?? []).some((o) => {
    const def = (o as { DefElem?: { defname?: string; arg?: Obj } }).DefElem;
    if (def?.defname !== "analyze") return false;
    const arg = def.arg;
    if (!arg) return true;
    const [type, value] = unwrap(arg);
    if (type === "String") return !["false", "off", "no", "0"].includes(String(value.sval ?? "").toLowerCase());
    if (type === "Integer") return (value.ival ?? 0) !== 0;
    if (type === "Boolean") return value.boolval === true;
    return true;
  });
}

function createTableAs(w: Walk, stmt: CreateTableAsStmt): void {
  const target = stmt.into?.rel ? relationName(stmt.into.rel) : "a new relation";
  w.out.writes.add(target);
  const label = stmt.objtype === "OBJECT_MATVIEW" ? "CREATE MATERIALIZED VIEW … AS" : "CREATE TABLE … AS";
  w.out.add("ddl", `${label} creates ${target}`);
  // WITH NO DATA defines the relation without running the query.
  const runs = !stmt.into?.skipData;
  const [type, body] = unwrap(stmt.query);
  if (type === "ExecuteStmt") walkExecute(w, body as ExecuteStmt, undefined, runs);
  else walkNode(w, stmt.query, undefined, runs);
}

function setting(w: Walk, stmt: VariableSetStmt): void {
  const name = (stmt.name ?? "").toLowerCase();
  const verb = stmt.kind === "VAR_RESET" ? "RESET" : stmt.is_local ? "SET LOCAL" : "SET";
  if (stmt.kind === "VAR_RESET_ALL") {
    w.out.pathEffect = { kind: "set", value: "reset", local: false };
    return w.out.add("session", "RESET ALL restores this session's settings (not its role)");
  }
  if (name === PATH_SETTING) return searchPathSetting(w.out, stmt);
  if (PRIVILEGE_SETTINGS.has(name)) return w.out.add("privilege", `${verb} ${name} ${SECURITY_SETTINGS.get(name)}`);
  if (stmt.kind === "VAR_SET_MULTI") return w.out.add("session", `SET ${name.toUpperCase()} changes transaction settings`);
  w.out.add("session", `${verb} ${name} changes a setting of this session`);
}

const TRANSACTION_LABELS: Record<string, string> = {
  TRANS_STMT_BEGIN: "BEGIN",
  TRANS_STMT_START: "START TRANSACTION",
  TRANS_STMT_COMMIT: "COMMIT",
  TRANS_STMT_ROLLBACK: "ROLLBACK",
  TRANS_STMT_SAVEPOINT: "SAVEPOINT",
  TRANS_STMT_RELEASE: "RELEASE SAVEPOINT",
  TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT",
  TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
  TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
  TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
};

/** Transaction control is session business, except two-phase commit: a prepared transaction outlives the session. */
function transaction(w: Walk, stmt: TransactionStmt): void {
  const kind = stmt.kind ?? "";
  const label = Object.hasOwn(TRANSACTION_LABELS, kind) ? TRANSACTION_LABELS[kind] : undefined;
  if (!label) return w.out.add("unknown", `transaction statement ${kind || "(no kind)"} is not understood`);
  w.out.pathEffect = transactionEffect(stmt);
  if (kind.endsWith("PREPARE") || kind.endsWith("PREPARED")) return w.out.add("admin", `${label} manages a two-phase transaction that outlives the session`);
  w.out.add("session", `${label} controls this session's transaction`);
}
