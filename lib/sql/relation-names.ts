/**
 * How the classifier names an unqualified relation: on the search_path the statement runs with
 * (lib/sql/search-path.ts), against what the catalog says exists and what the session's own schema
 * changes did since it was read. Set for the length of one statement's classification, which is
 * synchronous, so that every place that names a relation (collector, lineage, definitions) reads
 * the same path without passing it down each call.
 */
import { creationSchema, DEFAULT_SEARCH_PATH, effectiveSchemas, resolveRelation, splitPath, UNKNOWN_PATH, type PathValue, type RelationChange, type SchemaNames } from "./search-path";
import SYSTEM_RELATIONS_LIST from "./system-relations.json";
import type { Catalog } from "./types";

const SYSTEM_RELATIONS: ReadonlySet<string> = new Set(SYSTEM_RELATIONS_LIST);

/** A statement names a relation without a schema where Airlock cannot tell which relation that is. */
export class UnresolvedName extends Error {
  constructor(
    readonly relname: string,
    why: "path" | "changed",
  ) {
    super(
      why === "path"
        ? `it names ${relname} without a schema, and code Airlock cannot see into may have changed the search_path earlier in this session; qualify the name, or SET search_path (or RESET it) first`
        : `it names ${relname} without a schema, and code Airlock cannot see into (or a schema change whose relations it cannot name, such as DROP SCHEMA) ran earlier in this session: it may have set the search_path or made relations Airlock's catalog of the session does not know; qualify the name, or reconnect`,
    );
  }
}

/** The session's own schema changes since its catalog was read (lib/sql/touched-relations.ts). */
export type SessionChanges = ReadonlyMap<string, RelationChange> | "all";

interface Active {
  path: PathValue;
  names: SchemaNames;
  changed: SessionChanges;
  /** A schema change's own names: judged on what is known even when code ran ("all"). */
  lenient: boolean;
}
let active: Active | undefined;

/** The relation name `relname` reaches now: through the active path, else the default one with no catalog. */
export function unqualifiedRelation(relname: string): string {
  if (!active) return SYSTEM_RELATIONS.has(relname) ? `pg_catalog.${relname}` : `public.${relname}`;
  const { path, names, changed, lenient } = active;
  if (changed === "all" && !lenient) throw new UnresolvedName(relname, "changed");
  if (path === UNKNOWN_PATH) throw new UnresolvedName(relname, "path");
  return resolveRelation(path, names, relname);
}

/** Where an unqualified CREATE of `relname` puts it now. */
export function createdRelation(relname: string): string {
  if (!active || active.path === UNKNOWN_PATH) return unqualifiedRelation(relname);
  return `${creationSchema(active.path, active.names)}.${relname}`;
}

/** Whether the session changed this relation since its catalog was read: what the catalog says of it (columns, definition) is not to be trusted. */
export function changedRelation(qualified: string): boolean {
  const changed = active?.changed;
  return changed === "all" || (changed !== undefined && changed.has(qualified));
}

/** Runs `fn` with unqualified relation names resolved on `path` against `catalog` and the session's `changed` relations. */
export function withSearchPath<T>(catalog: Catalog, path: PathValue, fn: () => T, changed: SessionChanges = NONE, lenient = false): T {
  const before = active;
  active = { path, names: sessionNames(schemaNames(catalog), changed), changed, lenient };
  try {
    return fn();
  } finally {
    active = before;
  }
}

const NONE: SessionChanges = new Map();

/** The catalog's names with the session's own changes over them: a relation made exists (its schema too), a dropped one does not. */
function sessionNames(names: SchemaNames, changed: SessionChanges): SchemaNames {
  if (changed === "all" || changed.size === 0) return names;
  const schemas = names.schemas && new Set([...names.schemas, ...[...changed].filter(([, c]) => c === "exists").map(([q]) => q.slice(0, q.lastIndexOf(".")))]);
  return {
    schemas,
    user: names.user,
    hasRelation: (schema, name) => {
      const change = changed.get(`${schema}.${name}`);
      return change === undefined ? names.hasRelation(schema, name) : change === "exists";
    },
  };
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
