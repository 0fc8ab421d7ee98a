/**
 * How the classifier names an unqualified relation: on the search_path the statement runs with
 * (lib/sql/search-path.ts), against what the catalog says exists. Set for the length of one
 * statement's classification, which is synchronous, so that every place that names a relation
 * (collector, lineage, definitions) reads the same path without passing it down each call.
 */
import { DEFAULT_SEARCH_PATH, effectiveSchemas, resolveRelation, splitPath, UNKNOWN_PATH, type PathValue, type SchemaNames } from "./search-path";
import SYSTEM_RELATIONS_LIST from "./system-relations.json";
import type { Catalog } from "./types";

const SYSTEM_RELATIONS: ReadonlySet<string> = new Set(SYSTEM_RELATIONS_LIST);

/** A statement names a relation without a schema while Airlock does not know the session's search_path. */
export class UnresolvedName extends Error {
  constructor(readonly relname: string) {
    super(`it names ${relname} without a schema, and code Airlock cannot see into may have changed the search_path earlier in this session; qualify the name, or SET search_path (or RESET it) first`);
  }
}

type Resolve = (relname: string) => string;
let active: Resolve | undefined;

/** The relation name `relname` reaches now: through the active path, else the default one with no catalog. */
export function unqualifiedRelation(relname: string): string {
  if (active) return active(relname);
  return SYSTEM_RELATIONS.has(relname) ? `pg_catalog.${relname}` : `public.${relname}`;
}

/** Runs `fn` with unqualified relation names resolved on `path` against `catalog`. */
export function withSearchPath<T>(catalog: Catalog, path: PathValue, fn: () => T): T {
  const before = active;
  active = path === UNKNOWN_PATH ? unresolved : (relname) => resolveRelation(path, schemaNames(catalog), relname);
  try {
    return fn();
  } finally {
    active = before;
  }
}

function unresolved(relname: string): string {
  throw new UnresolvedName(relname);
}

/**
 * Why statements on `path` may reach a user-defined operator where PostgreSQL looks one up by name
 * without the statement writing it (JOIN … USING, NATURAL JOIN, CASE x WHEN): the path puts a schema
 * before pg_catalog, and user-defined operators exist. Undefined when it does not.
 */
export function catalogShadowed(catalog: Catalog, path: PathValue): string | undefined {
  if (path === UNKNOWN_PATH || catalog.userOperators.size === 0) return undefined;
  const schemas = effectiveSchemas(path, schemaNames(catalog)).filter((s) => s !== "pg_temp");
  const at = schemas.indexOf("pg_catalog");
  if (at <= 0) return undefined;
  return `the search_path puts ${schemas.slice(0, at).join(", ")} before pg_catalog, where a user-defined operator may stand in for a built-in one PostgreSQL looks up by name (JOIN … USING, CASE … WHEN)`;
}

/** The path a session of this catalog's database starts with when nothing at startup sets one. */
export function catalogSearchPath(catalog: Catalog): readonly string[] {
  return splitPath(catalog.namespaces?.searchPath ?? DEFAULT_SEARCH_PATH) ?? splitPath(DEFAULT_SEARCH_PATH)!;
}

const namesCache = new WeakMap<Catalog, SchemaNames>();

function schemaNames(catalog: Catalog): SchemaNames {
  let names = namesCache.get(catalog);
  if (!names) {
    names = {
      schemas: catalog.namespaces?.schemas,
      user: catalog.namespaces?.user,
      hasRelation: (schema, name) => (schema === "pg_catalog" ? SYSTEM_RELATIONS.has(name) : catalog.relations.has(`${schema}.${name}`)),
    };
    namesCache.set(catalog, names);
  }
  return names;
}
