/**
 * What a proxy asks a resource's database to build its Catalog: function volatility, user
 * operators, what each view reads and whether its definition calls anything that is not a read.
 * Plain SQL over pg_catalog, readable by any role, for PostgreSQL 12 and later.
 *
 * Views are read from their stored query tree (pg_rewrite.ev_action) as well as from pg_depend:
 * PostgreSQL records no dependency on "pinned" built-in objects, so pg_depend alone would miss a
 * view over pg_authid or one calling nextval() or pg_read_file(). System views (pg_catalog,
 * information_schema) are left out: they count as relations in their own right, and their
 * internal helper calls would otherwise make every driver's introspection a `call`.
 */
import { FILE_FUNCTIONS, HARMLESS_VOLATILE, isNeverRead } from "./functions";
import type { Catalog, CatalogVersions, RelationInfo } from "./types";

/**
 * name, builtin (defined in pg_catalog), readonly (every overload immutable or stable): the
 * built-in functions (thousands, changed only by an upgrade) and the others apart, so that DDL
 * on a user function reads only those again.
 */
const functionsSql = (builtin: boolean) => `
select p.proname as name, ${builtin} as builtin, bool_and(p.provolatile in ('i', 's')) as readonly
from pg_catalog.pg_proc p
where p.pronamespace ${builtin ? "=" : "<>"} 'pg_catalog'::regnamespace
group by 1`;
export const BUILTIN_FUNCTIONS_SQL = functionsSql(true);
export const USER_FUNCTIONS_SQL = functionsSql(false);

/** Every function by OID, for the fast-path call: the built-in ones (a few thousand rows) and the others apart. */
const functionOidsSql = (builtin: boolean) => `
select p.oid::text as oid, n.nspname as schema, p.proname as name
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where p.pronamespace ${builtin ? "=" : "<>"} 'pg_catalog'::regnamespace`;
export const BUILTIN_FUNCTION_OIDS_SQL = functionOidsSql(true);
export const USER_FUNCTION_OIDS_SQL = functionOidsSql(false);

/** Operator names defined outside pg_catalog. */
export const OPERATORS_SQL = `
select distinct o.oprname as name
from pg_catalog.pg_operator o
where o.oprnamespace <> 'pg_catalog'::regnamespace`;

/**
 * Types whose use may run user code: base, domain, range and multirange types outside the system
 * schemas (composite row types and enums run only built-in code), and the targets of casts whose
 * function is not built in.
 */
export const USER_TYPES_SQL = `
select t.typname as name
from pg_catalog.pg_type t
where t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  and t.typtype in ('b', 'd', 'r', 'm')
union
select t.typname
from pg_catalog.pg_cast c
join pg_catalog.pg_proc p on p.oid = c.castfunc
join pg_catalog.pg_type t on t.oid = c.casttarget
where p.pronamespace <> 'pg_catalog'::regnamespace`;

/**
 * A digest per part of the rows it is built from, by OID and row version (xmin: every CREATE,
 * ALTER or CREATE OR REPLACE writes a new row version), namespaces included, since a function's
 * schema name is part of what is read. Read before the parts: a part that changes in between is
 * read new and filed under the older digest, so the next reload reads it again, never the reverse.
 */
export const VERSIONS_SQL = `
with namespaces as (
  select coalesce(string_agg(n.oid::text || ':' || n.xmin::text, ',' order by n.oid), '') as v from pg_catalog.pg_namespace n
)
select
  (select md5(coalesce(string_agg(p.oid::text || ':' || p.xmin::text, ',' order by p.oid), '')) from pg_catalog.pg_proc p
    where p.pronamespace = 'pg_catalog'::regnamespace) as "builtinFunctions",
  (select md5(namespaces.v || '|' || coalesce(string_agg(p.oid::text || ':' || p.xmin::text, ',' order by p.oid), ''))
     from namespaces left join pg_catalog.pg_proc p on p.pronamespace <> 'pg_catalog'::regnamespace group by namespaces.v) as "userFunctions",
  (select md5(coalesce(string_agg(o.oid::text || ':' || o.xmin::text, ',' order by o.oid), '')) from pg_catalog.pg_operator o
    where o.oprnamespace <> 'pg_catalog'::regnamespace) as operators,
  (select md5(coalesce(string_agg(t.oid::text || ':' || t.xmin::text, ',' order by t.oid), ''))
     from pg_catalog.pg_type t
    where t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) and t.typtype in ('b', 'd', 'r', 'm'))
  || (select md5(coalesce(string_agg(c.oid::text || ':' || c.xmin::text, ',' order by c.oid), '')) from pg_catalog.pg_cast c) as types`;

/**
 * Every schema, the role sessions run as (`$user` on a search_path) and the search_path a session
 * starts with (the role's, the database's or the server's: RESET's value when startup sets none).
 */
export const NAMESPACES_SQL = `
select current_user as "user",
       (select s.reset_val from pg_catalog.pg_settings s where s.name = 'search_path') as "searchPath",
       (select pg_catalog.json_agg(n.nspname) from pg_catalog.pg_namespace n)::text as schemas`;

/** The _RETURN rule (the definition) of every view and materialized view outside the system schemas. */
const VIEW_RULES = `
  select rw.oid as rule, v.oid as view_oid, vn.nspname || '.' || v.relname as "view", rw.ev_action::text as tree
  from pg_catalog.pg_rewrite rw
  join pg_catalog.pg_class v on v.oid = rw.ev_class
  join pg_catalog.pg_namespace vn on vn.oid = v.relnamespace
  where rw.rulename = '_RETURN' and v.relkind in ('v', 'm')
    and vn.nspname not in ('pg_catalog', 'information_schema')`;

/** view → each relation its definition reads (tables, views, sequences…), schema-qualified. */
export const VIEW_DEPS_SQL = `
with rules as (${VIEW_RULES}
), refs as (
  select r."view", r.view_oid, m[1]::oid as relid
  from rules r, regexp_matches(r.tree, ':relid (\\d+)', 'g') as m
  union
  select r."view", r.view_oid, d.refobjid
  from rules r
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.rule
                             and d.refclassid = 'pg_catalog.pg_class'::regclass
)
select distinct refs."view", n.nspname || '.' || c.relname as relation
from refs
join pg_catalog.pg_class c on c.oid = refs.relid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.oid <> refs.view_oid and c.relkind in ('r', 'v', 'm', 'p', 'f', 'S')
order by 1, 2`;

/** view → each function its definition calls (directly, through an operator, aggregate or window). */
export const VIEW_FUNCTIONS_SQL = `
with rules as (${VIEW_RULES}
), calls as (
  select r."view", m[2]::oid as fn
  from rules r, regexp_matches(r.tree, ':(funcid|opfuncid|aggfnoid|winfnoid) (\\d+)', 'g') as m
  union
  select r."view", d.refobjid
  from rules r
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.rule
                             and d.refclassid = 'pg_catalog.pg_proc'::regclass
  union
  select r."view", o.oprcode::oid
  from rules r
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.rule
                             and d.refclassid = 'pg_catalog.pg_operator'::regclass
  join pg_catalog.pg_operator o on o.oid = d.refobjid
)
select distinct calls."view", p.proname as "function",
       p.provolatile in ('i', 's') as readonly,
       p.pronamespace = 'pg_catalog'::regnamespace as builtin
from calls
join pg_catalog.pg_proc p on p.oid = calls.fn
order by 1, 2`;

/**
 * Every user table, view, materialized view, foreign and partitioned table with its columns in
 * order (name and type OID) and, for views, a version of the definition (its rewrite rule's row):
 * what masking traces results to. No relation is locked: definitions are read apart (below).
 */
export const RELATIONS_SQL = `
select n.nspname || '.' || c.relname as relation, c.oid::text as oid,
       (select r.oid::text || ':' || r.xmin::text from pg_catalog.pg_rewrite r
         where r.ev_class = c.oid and r.rulename = '_RETURN') as version,
       coalesce((select json_agg(json_build_array(a.attname, a.atttypid::int8) order by a.attnum)
                 from pg_catalog.pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')::text as columns,
       (select json_agg(pn.nspname || '.' || pc.relname) from pg_catalog.pg_inherits i
          join pg_catalog.pg_class pc on pc.oid = i.inhparent join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
         where i.inhrelid = c.oid)::text as parents
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'v', 'm', 'f', 'p')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'`;

/**
 * The SQL of the given views. pg_get_viewdef locks each view it reads, so only new or changed
 * views are read, never a sweep of all of them under agents' feet (and the catalog connection
 * gives up on a lock quickly: see proxy/configured-proxy.ts).
 */
export function viewDefinitionsSql(oids: readonly number[]): string {
  return `select c.oid::text as oid, pg_catalog.pg_get_viewdef(c.oid) as definition
from pg_catalog.pg_class c where c.oid = any('{${oids.map((oid) => Math.trunc(oid)).join(",")}}'::pg_catalog.oid[])`;
}

export interface CatalogRows {
  functions: Array<{ name: string; builtin: boolean; readonly: boolean }>;
  operators: string[];
  types: string[];
  viewDeps: Array<{ view: string; relation: string }>;
  viewFunctions: Array<{ view: string; function: string; readonly: boolean; builtin: boolean }>;
  relations?: Array<{ relation: string; oid: string; version?: string | null; definition: string | null; columns: string; parents?: string | null }>;
  functionOids?: Array<{ oid: string; schema: string; name: string }>;
}

/** The Catalog from the rows of the queries above. */
export function buildCatalog(rows: CatalogRows): Catalog {
  const builtin = builtinFunctionParts(rows.functions.filter((f) => f.builtin));
  const user = userFunctionParts(rows.functions.filter((f) => !f.builtin));
  return {
    ...builtin,
    ...user,
    functionsByOid: functionsByOid(rows.functionOids ?? []),
    userOperators: new Set(rows.operators),
    userTypes: new Set(rows.types),
    ...relationParts(rows),
  };
}

function builtinFunctionParts(functions: CatalogRows["functions"]): Pick<Catalog, "readFunctions"> {
  const readFunctions = new Set<string>();
  const notRead = new Set<string>();
  for (const f of functions) (f.readonly ? readFunctions : notRead).add(f.name);
  for (const name of notRead) readFunctions.delete(name); // one volatile overload spoils the name
  return { readFunctions };
}

function userFunctionParts(functions: CatalogRows["functions"]): Pick<Catalog, "userFunctions"> {
  return { userFunctions: new Set(functions.map((f) => f.name)) };
}

function functionsByOid(rows: NonNullable<CatalogRows["functionOids"]>): Map<number, { schema: string; name: string }> {
  return new Map(rows.map((f) => [Number(f.oid), { schema: f.schema, name: f.name }]));
}

function relationParts(rows: Pick<CatalogRows, "viewDeps" | "viewFunctions" | "relations">): Pick<Catalog, "views" | "viewsWithSideEffects" | "relations" | "relationsByOid"> {
  const views = new Map<string, string[]>();
  for (const { view, relation } of rows.viewDeps) {
    const list = views.get(view) ?? [];
    if (!list.includes(relation)) list.push(relation);
    views.set(view, list);
  }
  for (const list of views.values()) list.sort();

  // Here the exact function is known (no shadowing to fear): the same test as for a call otherwise.
  const viewsWithSideEffects = new Set<string>();
  for (const f of rows.viewFunctions) {
    const read = f.builtin && (f.readonly || HARMLESS_VOLATILE.has(f.function)) && !isNeverRead(f.function) && !FILE_FUNCTIONS.has(f.function);
    if (!read) viewsWithSideEffects.add(f.view);
  }

  const relations = new Map<string, RelationInfo>();
  const relationsByOid = new Map<number, string>();
  for (const r of rows.relations ?? []) {
    const columns = (JSON.parse(r.columns) as Array<[string, number]>).map(([name, type]) => ({ name, type: Number(type) }));
    const parents = r.parents ? (JSON.parse(r.parents) as string[]) : [];
    relations.set(r.relation, { oid: Number(r.oid), columns, ...(r.definition !== null ? { definition: r.definition } : {}), ...(r.version ? { version: r.version } : {}), ...(parents.length > 0 ? { parents } : {}) });
    relationsByOid.set(Number(r.oid), r.relation);
  }
  return { views, viewsWithSideEffects, relations, relationsByOid };
}

/**
 * Runs the queries through `query` (any client: pg, PGlite…) and builds the Catalog. With the
 * `previous` catalog (a reload after DDL), the function, operator and type parts whose rows did not
 * change are kept rather than read again (functions are thousands of rows, and most DDL touches
 * tables and views), and so are the definitions of unchanged views. Tables and views are always read.
 */
export async function loadCatalog(query: <T>(sql: string) => Promise<T[]>, previous?: Catalog): Promise<Catalog> {
  type FunctionRow = CatalogRows["functions"][number];
  type FunctionOidRow = NonNullable<CatalogRows["functionOids"]>[number];
  const [versions] = await query<CatalogVersions>(VERSIONS_SQL);
  const kept = (part: keyof CatalogVersions) => previous?.versions !== undefined && versions !== undefined && previous.versions[part] === versions[part];
  const [builtins, users, operators, types, viewDeps, viewFunctions, relations, [namespaces]] = await Promise.all([
    kept("builtinFunctions") ? undefined : Promise.all([query<FunctionRow>(BUILTIN_FUNCTIONS_SQL), query<FunctionOidRow>(BUILTIN_FUNCTION_OIDS_SQL)]),
    kept("userFunctions") ? undefined : Promise.all([query<FunctionRow>(USER_FUNCTIONS_SQL), query<FunctionOidRow>(USER_FUNCTION_OIDS_SQL)]),
    kept("operators") ? undefined : query<{ name: string }>(OPERATORS_SQL),
    kept("types") ? undefined : query<{ name: string }>(USER_TYPES_SQL),
    query<CatalogRows["viewDeps"][number]>(VIEW_DEPS_SQL),
    query<CatalogRows["viewFunctions"][number]>(VIEW_FUNCTIONS_SQL),
    query<Omit<NonNullable<CatalogRows["relations"]>[number], "definition">>(RELATIONS_SQL),
    query<{ user: string; searchPath: string; schemas: string }>(NAMESPACES_SQL),
  ]);
  // A view's definition is read again only when its rule is new or was replaced.
  const known = (r: (typeof relations)[number]) => {
    const before = previous?.relations.get(r.relation);
    return before && before.version === r.version && before.oid === Number(r.oid) ? before.definition : undefined;
  };
  const unread = relations.filter((r) => r.version && known(r) === undefined).map((r) => Number(r.oid));
  const read = unread.length === 0 ? [] : await query<{ oid: string; definition: string | null }>(viewDefinitionsSql(unread));
  const definitions = new Map(read.map((d) => [Number(d.oid), d.definition]));
  const withDefinitions = relations.map((r) => ({ ...r, definition: r.version ? (known(r) ?? definitions.get(Number(r.oid)) ?? null) : null }));

  // A part not read again is taken from `previous` (there whenever a part was kept).
  const before = previous as Catalog;
  const keptByOid = (builtin: boolean) => [...before.functionsByOid].filter(([, f]) => (f.schema === "pg_catalog") === builtin);
  return {
    ...(builtins ? builtinFunctionParts(builtins[0]) : { readFunctions: before.readFunctions }),
    ...(users ? userFunctionParts(users[0]) : { userFunctions: before.userFunctions }),
    functionsByOid: builtins && users ? functionsByOid([...builtins[1], ...users[1]]) : new Map([...(builtins ? functionsByOid(builtins[1]) : keptByOid(true)), ...(users ? functionsByOid(users[1]) : keptByOid(false))]),
    userOperators: operators ? new Set(operators.map((o) => o.name)) : before.userOperators,
    userTypes: types ? new Set(types.map((t) => t.name)) : before.userTypes,
    ...relationParts({ viewDeps, viewFunctions, relations: withDefinitions }),
    ...(versions ? { versions } : {}),
    ...(namespaces ? { namespaces: { user: namespaces.user, searchPath: namespaces.searchPath, schemas: new Set(JSON.parse(namespaces.schemas) as string[]) } } : {}),
  };
}
