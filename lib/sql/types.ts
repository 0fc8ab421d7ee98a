import type { PathEffect, PathValue } from "./search-path";

/**
 * What Airlock understands of a statement. Kinds are listed from least to most strict; a
 * statement may carry several (a SELECT calling nextval() is `select` and `call`).
 */
export const KINDS = [
  "select",
  "session",
  "notify",
  "copy_out",
  "lock",
  "insert",
  "update",
  "delete",
  "merge",
  "copy_in",
  "truncate",
  "maintenance",
  "call",
  "ddl",
  "privilege",
  "admin",
  "unknown",
] as const;
export type Kind = (typeof KINDS)[number];

/** One statement of a (possibly multi-statement) SQL string. */
export interface StatementInfo {
  /** The statement's own text, as it stands in the string. */
  text: string;
  /** Every kind the statement is, strictest last (see KINDS); never empty. */
  kinds: Kind[];
  /** Tables (and views) read, schema-qualified (`public.customers`), views expanded to their base tables. */
  reads: string[];
  /** Tables written, schema-qualified. */
  writes: string[];
  /** Functions called, as written but lower-cased (`nextval`, `pg_catalog.lower`). */
  functions: string[];
  /** Why the kind is what it is, for people reading an explanation ("calls nextval(), which is volatile"). */
  reasons: string[];
  /** `PREPARE name AS …`: the name; the statement's kinds are those of the prepared body. */
  prepares?: string;
  /** `EXECUTE name`: the name; resolved against the session's SQL-level prepared statements. */
  executes?: string;
  /** `DEALLOCATE name` / `DEALLOCATE ALL` / `DISCARD ALL` ("*"). */
  deallocates?: string;
  /** `DECLARE name CURSOR …`: the cursor (a portal, in the same namespace as the protocol's); WITH HOLD outlives its transaction. */
  declares?: { name: string; holdable: boolean };
  /** `FETCH`/`MOVE … name`: the cursor it reads. */
  fetches?: string;
  /** `CLOSE name` / `CLOSE ALL` / `DISCARD ALL` ("*"). */
  closes?: string;
  /** Where the columns of the rows it returns come from (for PREPARE: of the body, for EXECUTE). */
  output?: OutputLineage;
  /** What it does to the session's search_path when it completes (lib/sql/search-path.ts). */
  pathEffect?: PathEffect;
  /** PREPARE, Parse: the search_path it was judged on (search-path.ts pathKey); EXECUTE on another is judged anew. */
  preparedOn?: string;
  /** The search_path it runs on may find an operator or type outside pg_catalog first (lib/sql/operator-path.ts). */
  pathBeforeCatalog?: true;
}

/** What may flow into one result column: source columns as `schema.table.column`. */
export interface ColumnLineage {
  /** The column's name in the result, when the statement says it (for people reading an explanation). */
  name?: string;
  sources: string[];
  /** Something flows in that Airlock cannot trace (a user function, an unknown relation, a cursor). */
  unknown?: true;
}

export interface OutputLineage {
  /** One entry per result column, when the result's width is known. */
  columns?: ColumnLineage[];
  /** Every column's lineage together: stands for each column when the width is not known. */
  all: ColumnLineage;
  /** COPY … TO STDOUT: how its rows are written. */
  copy?: CopyFormat;
}

export interface CopyFormat {
  format: "text" | "csv" | "binary";
  delimiter: string;
  null: string;
  quote: string;
  escape: string;
  header: boolean;
}

/** The session's prepared statements by name, as `EXECUTE` finds them (a Map will do). */
export interface PreparedLookup {
  /** `path`: the search_path the EXECUTE runs with, which PostgreSQL analyses the body on again. */
  get(name: string, path?: PathValue): StatementInfo | undefined;
}

/** A table's or view's columns in order (`type`: the type's OID); a view keeps its definition's SQL. */
export interface RelationInfo {
  oid: number;
  columns: ReadonlyArray<{ name: string; type: number }>;
  definition?: string;
  /** Which version of a view's definition this is (its rewrite rule's row), so an unchanged one is not read again. */
  version?: string;
  /** The tables it inherits from, or the partitioned table it is a partition of (row filters apply to their children). */
  parents?: readonly string[];
}

export interface Classification {
  statements: StatementInfo[];
  /** The strictest kind over all statements. */
  kind: Kind;
  /** Set when the parser rejected the text: then there is one statement of kind `unknown`. */
  error?: string;
}

/** What the target database says about functions, operators and views (loaded per resource). */
export interface Catalog {
  /** Built-in (pg_catalog) function names whose every overload is immutable or stable. */
  readFunctions: ReadonlySet<string>;
  /** Function names defined outside pg_catalog (user, extension): never reads, and they may shadow built-ins. */
  userFunctions: ReadonlySet<string>;
  /** Operator names defined outside pg_catalog. */
  userOperators: ReadonlySet<string>;
  /**
   * Types whose use may run user-defined code: types defined outside pg_catalog (their input,
   * domain checks, range functions) and the targets of casts implemented by user functions.
   */
  userTypes: ReadonlySet<string>;
  /** View (or materialized view) → the relations its definition reads, all schema-qualified. */
  views: ReadonlyMap<string, readonly string[]>;
  /** Views whose definition calls a function that is not a read. */
  viewsWithSideEffects: ReadonlySet<string>;
  /** User tables and views (not system ones) by qualified name, with their columns. */
  relations: ReadonlyMap<string, RelationInfo>;
  /** Relation OID → qualified name, to read the column origins a RowDescription names. */
  relationsByOid: ReadonlyMap<number, string>;
  /** Function OID → schema and name, to judge a fast-path call (which names its function by OID only). */
  functionsByOid: ReadonlyMap<number, { schema: string; name: string }>;
  /** What the function, operator and type parts were read from, so a reload reads only a changed part again. */
  versions?: CatalogVersions;
  /** Schemas, the upstream role and its configured search_path: where unqualified relation names lead. */
  namespaces?: CatalogNamespaces;
}

/** What a session's search_path is resolved against (lib/sql/relation-names.ts). */
export interface CatalogNamespaces {
  schemas: ReadonlySet<string>;
  /** The role Airlock's upstream sessions run as (`$user`). */
  user: string;
  /** The search_path a session starts with, as the role, database and server configure it. */
  searchPath: string;
}

/** A digest of the catalog rows each part is built from: any row added, dropped or altered changes it. */
export interface CatalogVersions {
  builtinFunctions: string;
  userFunctions: string;
  operators: string;
  types: string;
}
