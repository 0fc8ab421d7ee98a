/**
 * The statements that change a session's search_path, read exactly or not at all: SET, SET LOCAL,
 * RESET, SET … TO DEFAULT, a lone `SELECT set_config('search_path', '<constant>', true|false)`, and
 * the transaction statements its changes live and die with. Anything else that would set the path
 * (set_config elsewhere or with a computed value, SET … FROM CURRENT) stays a privilege change.
 */
import type { SelectStmt, TransactionStmt, VariableSetStmt } from "libpg-query";
import type { Collector } from "./collector";
import { formatPath, splitPath, type PathEffect } from "./search-path";
import { unwrap, type Obj } from "./tree";

export const PATH_SETTING = "search_path";

/** Why a change of the path that Airlock cannot follow exactly is refused. */
const UNTRACKABLE = "changes which tables, functions and operators unqualified names reach, in a way Airlock cannot follow exactly";

/** SET / SET LOCAL / RESET / SET … TO DEFAULT of search_path. */
export function searchPathSetting(out: Collector, stmt: VariableSetStmt): void {
  const local = stmt.is_local === true;
  const verb = stmt.kind === "VAR_RESET" ? "RESET" : local ? "SET LOCAL" : "SET";
  if (stmt.kind === "VAR_RESET" || stmt.kind === "VAR_SET_DEFAULT") {
    out.pathEffect = { kind: "set", value: "reset", local };
    return out.add("session", `${verb} search_path restores this session's search_path, which Airlock follows`);
  }
  // SET search_path = a, "B", 'c': each value is one schema name as written (PostgreSQL quotes each, GUC_LIST_QUOTE).
  const values = stmt.kind === "VAR_SET_VALUE" ? (stmt.args ?? []).map((a) => (a as { A_Const?: { sval?: { sval?: string } } }).A_Const?.sval?.sval) : [undefined];
  if (values.some((v) => v === undefined)) return out.add("privilege", `${verb} search_path ${UNTRACKABLE}`);
  const path = splitPath(formatPath(values as string[]));
  if (!path) return out.add("privilege", `${verb} search_path ${UNTRACKABLE}`);
  out.pathEffect = { kind: "set", value: path, local };
  out.add("session", `${verb} search_path = ${formatPath(path)} changes where unqualified names lead, which Airlock follows`);
}

/**
 * `SELECT [pg_catalog.]set_config('search_path', '<constant>', true|false)` as a whole top-level
 * statement: it runs exactly once, with a value known now. True when recognised (and recorded).
 */
export function exactSetConfig(out: Collector, node: unknown): boolean {
  const [type, body] = unwrap(node);
  if (type !== "SelectStmt") return false;
  const s = body as SelectStmt & Obj;
  const extra = Object.keys(s).filter((k) => !["targetList", "limitOption", "op"].includes(k));
  if (extra.length > 0 || (s.op && s.op !== "SETOP_NONE") || s.targetList?.length !== 1) return false;
  const target = unwrap(s.targetList[0])[1];
  const [fnType, call] = unwrap(target.val);
  if (fnType !== "FuncCall") return false;
  const parts = ((call.funcname as unknown[]) ?? []).map((n) => (n as { String?: { sval?: string } }).String?.sval);
  const builtin = (parts.length === 1 || (parts.length === 2 && parts[0] === "pg_catalog")) && parts.at(-1) === "set_config";
  const keys = Object.keys(call).filter((k) => !["funcname", "args", "funcformat", "location"].includes(k));
  const args = (call.args as unknown[] | undefined) ?? [];
  if (!builtin || keys.length > 0 || args.length !== 3) return false;
  const [name, value, isLocal] = args.map((a) => (a as { A_Const?: { sval?: { sval?: string }; boolval?: { boolval?: boolean }; isnull?: boolean } }).A_Const);
  if (name?.sval?.sval?.toLowerCase() !== PATH_SETTING || value?.sval?.sval === undefined || !isLocal || isLocal.isnull || isLocal.sval !== undefined) return false;
  if (!("boolval" in isLocal)) return false;
  const path = splitPath(value.sval.sval);
  if (!path) return false;
  const local = isLocal.boolval?.boolval === true;
  out.functions.add(parts.join("."));
  out.pathEffect = { kind: "set", value: path, local };
  out.add("session", `set_config('search_path', …, ${local}) sets search_path = ${formatPath(path)}${local ? " until the transaction ends" : ""}, which Airlock follows`);
  return true;
}

/** set_config('search_path', …) anywhere else: a change Airlock cannot follow. */
export function untrackedSetConfig(out: Collector): void {
  out.add("privilege", `calls set_config('search_path', …), which ${UNTRACKABLE} (only a lone SELECT set_config('search_path', '<constant>', true|false) is followed)`);
}

/** What a transaction statement does to the path's changes. */
export function transactionEffect(stmt: TransactionStmt): PathEffect | undefined {
  const chain = stmt.chain === true;
  const name = stmt.savepoint_name ?? "";
  switch (stmt.kind) {
    case "TRANS_STMT_BEGIN":
    case "TRANS_STMT_START":
      return { kind: "begin" };
    case "TRANS_STMT_COMMIT":
      return { kind: "commit", chain };
    case "TRANS_STMT_ROLLBACK":
      return { kind: "rollback", chain };
    case "TRANS_STMT_SAVEPOINT":
      return { kind: "savepoint", name };
    case "TRANS_STMT_RELEASE":
      return { kind: "release", name };
    case "TRANS_STMT_ROLLBACK_TO":
      return { kind: "rollback-to", name };
    case "TRANS_STMT_PREPARE":
      return { kind: "commit", chain: false }; // settings are kept as at COMMIT (guc.c, AtEOXact_GUC)
    default:
      return undefined; // COMMIT/ROLLBACK PREPARED: another transaction's business
  }
}
