import { catalogSearchPath } from "../sql/relation-names";
import { formatPath, SearchPath, UNKNOWN_PATH, type PathValue } from "../sql/search-path";
import type { Catalog } from "../sql/types";

/**
 * The search_path a held statement's unqualified names were judged on, as the server resolves it:
 * its elements in order, `$user` as the upstream role's name (when the catalog knows it). An
 * approval is bound to it: the same text resent on another path names other tables. Null when the
 * proxy could not follow the path (code ran that may have set it): such a statement never matches
 * a resend (lib/approvals/service.ts consumeApproved).
 */
export function heldPath(path: PathValue, user: string | undefined): string[] | null {
  if (path === UNKNOWN_PATH) return null;
  return path.map((schema) => (schema === "$user" && user !== undefined ? user : schema));
}

/** The path a session of this database starts on, as heldPath records it: a request on it needs no mention of its path. */
export function defaultHeldPath(catalog: Catalog): string[] {
  return heldPath(catalogSearchPath(catalog), catalog.namespaces?.user) ?? [];
}

/** The line a request's page shows for a statement held on a path other than the database's default; none on the default. */
export function heldPathNote(path: readonly string[] | null | undefined, catalog: Catalog | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (path === null) return "search_path: not known (code ran that may have set it)";
  if (catalog && JSON.stringify(path) === JSON.stringify(defaultHeldPath(catalog))) return undefined;
  return `search_path: ${formatPath(path)}`;
}

/** The path as the classifier takes it, for judging a held statement again (its preview, its masking). */
export function heldSearchPath(path: readonly string[] | null | undefined): SearchPath | undefined {
  return path ? new SearchPath(path, path) : undefined;
}
