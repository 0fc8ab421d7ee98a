/**
 * Which function calls and operators are reads. A call is a read only when it certainly reaches
 * a built-in (unqualified or `pg_catalog.`) whose every overload is immutable or stable, and no
 * user function of that name could be chosen instead. Everything else runs code with effects.
 */
import type { Catalog } from "./types";

/** Volatile built-ins that change nothing: allowed in reads although the catalog says volatile. */
export const HARMLESS_VOLATILE = new Set(["random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid", "uuidv4", "uuidv7"]);

/**
 * Built-ins that are never reads whatever their declared volatility: some are marked stable yet
 * assign a transaction id, and the `*_to_xml` and ts_stat family run SQL given as text (a whole
 * schema or database, for `schema_to_xml`), which no table list here could see.
 */
const NEVER_READ_NAMES = new Set(["nextval", "setval", "currval", "set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_notify", "txid_current", "pg_current_xact_id", "ts_stat", "ts_rewrite"]);
const NEVER_READ_PREFIXES = ["lo_", "dblink", "pg_sleep", "query_to_xml", "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml"];

/** Server-side file access (and large-object import/export, which read and write server files). */
export const FILE_FUNCTIONS = new Set([
  "pg_read_file",
  "pg_read_binary_file",
  "pg_ls_dir",
  "pg_stat_file",
  "pg_ls_logdir",
  "pg_ls_waldir",
  "pg_ls_tmpdir",
  "pg_ls_archive_statusdir",
  "lo_import",
  "lo_export",
  "pg_file_write",
]);

/** A built-in that is not a read whatever the catalog says about its volatility. */
export function isNeverRead(name: string): boolean {
  return NEVER_READ_NAMES.has(name) || NEVER_READ_PREFIXES.some((p) => name.startsWith(p)) || FILE_FUNCTIONS.has(name);
}

export interface FunctionVerdict {
  /** As written, lower-cased by the parser's identifier folding (`nextval`, `pg_catalog.lower`). */
  name: string;
  read: boolean;
  /** Touches files on the database server. */
  file: boolean;
  /** Why it is not a read (absent for reads). */
  reason?: string;
}

/** Judges a function by its name parts as the parser gives them ([schema?, name] or [db, schema, name]). */
export function judgeFunction(parts: readonly string[], catalog: Catalog): FunctionVerdict {
  const display = parts.join(".");
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  const builtinPath = schema === undefined || schema === "pg_catalog";
  const file = builtinPath && FILE_FUNCTIONS.has(name);
  const notRead = (reason: string): FunctionVerdict => ({ name: display, read: false, file, reason });

  if (!builtinPath) return notRead(`calls ${display}(), which is not a built-in function`);
  if (schema === undefined && catalog.userFunctions.has(name)) {
    return notRead(`calls ${display}(), which may resolve to a user-defined function of that name`);
  }
  if (file) return notRead(`calls ${display}(), which reads or writes files on the database server`);
  if (isNeverRead(name)) return notRead(`calls ${display}(), which is not read-only`);
  if (catalog.readFunctions.has(name) || HARMLESS_VOLATILE.has(name)) return { name: display, read: true, file: false };
  return notRead(`calls ${display}(), which is not read-only`);
}

/** An operator runs its function: a user-defined operator is a user function call. */
export function judgeOperator(parts: readonly string[], catalog: Catalog): { read: boolean; reason?: string } {
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  const display = schema === undefined ? name : `OPERATOR(${parts.join(".")})`;
  if (schema === "pg_catalog") return { read: true };
  if (schema !== undefined) return { read: false, reason: `uses operator ${display}, which is not a built-in operator` };
  if (catalog.userOperators.has(name)) return { read: false, reason: `uses operator ${display}, which a user-defined operator may implement` };
  return { read: true };
}
