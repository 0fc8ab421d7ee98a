import { UNKNOWN_PATH, type PathValue } from "./search-path";

/**
 * Whether an operator or type written without a schema may resolve outside pg_catalog on this
 * search_path: the path lists another schema before pg_catalog (existing or not — one created in this
 * session is not in Airlock's catalog, nor are operators made since it was read), or is not known.
 * PostgreSQL never looks operators, functions or types up in pg_temp.
 */
export function pathBeforeCatalog(path: PathValue): boolean {
  if (path === UNKNOWN_PATH) return true;
  const at = path.indexOf("pg_catalog");
  return at > 0 && path.slice(0, at).some((s) => s !== "pg_temp");
}
