/**
 * A session's search_path as PostgreSQL keeps it, and the schema an unqualified relation name
 * reaches on it. Pure: the proxy feeds a SearchPath with what the server confirmed (see
 * proxy/search-path-tracker.ts); classification reads it, and runs it forward over the statements
 * of one text. Functions, operators and types need no path: any one defined outside pg_catalog,
 * in whatever schema, already makes every unqualified use of its name a call (lib/sql/functions.ts).
 * https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATH
 */

/** PostgreSQL's boot value, when neither the role, the database nor the server configure another. */
export const DEFAULT_SEARCH_PATH = '"$user", public';

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** A path Airlock could not follow (code ran that may have changed it): names that depend on it are not judged. */
export const UNKNOWN_PATH = Symbol("search_path not known");
export type PathValue = readonly string[] | typeof UNKNOWN_PATH;

/**
 * A search_path value as PostgreSQL reads it (SplitIdentifierString): comma-separated, blanks
 * around elements ignored, a double-quoted element kept as written ("" for a quote), an unquoted
 * one lower-cased (ASCII). Undefined where PostgreSQL rejects the value.
 */
export function splitPath(value: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const blank = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";
  while (blank(value[i])) i++;
  if (i === value.length) return out;
  for (;;) {
    let name: string;
    if (value[i] === '"') {
      name = "";
      for (i++; ; i++) {
        if (i >= value.length) return undefined;
        if (value[i] === '"') {
          if (value[i + 1] !== '"') break;
          i++;
        }
        name += value[i];
      }
      i++;
      if (name === "") return undefined;
    } else {
      const start = i;
      while (i < value.length && value[i] !== "," && !blank(value[i]) && value[i] !== '"') i++;
      if (i === start) return undefined;
      name = value.slice(start, i).replace(/[A-Z]/g, (c) => c.toLowerCase());
    }
    out.push(truncateIdentifier(name));
    while (blank(value[i])) i++;
    if (i === value.length) return out;
    if (value[i] !== ",") return undefined;
    i++;
    while (blank(value[i])) i++;
  }
}

/** The value as SET would show it, each element quoted where PostgreSQL's quote_identifier would. */
export function formatPath(path: readonly string[]): string {
  return path.map((s) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`)).join(", ");
}

function truncateIdentifier(name: string): string {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length <= MAX_IDENTIFIER_BYTES) return name;
  let end = MAX_IDENTIFIER_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // never split a character
  return bytes.subarray(0, end).toString("utf8");
}

/** What the classifier knows of the database's schemas (from the catalog; absent for the built-in one). */
export interface SchemaNames {
  /** Every schema that exists; absent: take each schema named as existing. */
  schemas?: ReadonlySet<string>;
  /** The role the upstream session runs as: what `$user` stands for; absent: `$user` is skipped. */
  user?: string;
  /** Whether a relation `schema.name` exists (tables, views…; pg_catalog's system relations). */
  hasRelation(schema: string, name: string): boolean;
}

/**
 * Where an unqualified relation name leads on `path` (namespace.c, recomputeNamespacePath): pg_catalog
 * first unless the path places it; `$user` as the role's name, a missing schema skipped; pg_temp
 * first of all unless placed (the session's temporary relations are known only from its own
 * CREATE TEMP statements: see lib/sql/touched-relations.ts). A name found nowhere is what CREATE
 * would make: in the first schema of the path that exists.
 */
export function resolveRelation(path: readonly string[], names: SchemaNames, relname: string): string {
  const explicit = effectiveSchemas(path, names);
  const withCatalog = explicit.includes("pg_catalog") ? explicit : ["pg_catalog", ...explicit];
  const searched = withCatalog.includes("pg_temp") ? withCatalog : ["pg_temp", ...withCatalog];
  for (const schema of searched) if (names.hasRelation(schema, relname)) return `${schema}.${relname}`;
  return `${creationSchema(path, names)}.${relname}`;
}

/** The schema CREATE of an unqualified name uses: the first of the path that exists (pg_temp when placed first). */
export function creationSchema(path: readonly string[], names: SchemaNames): string {
  return effectiveSchemas(path, names)[0] ?? path.find((s) => s !== "$user") ?? "public";
}

/** The path's schemas that exist, `$user` replaced, duplicates dropped, in order. */
export function effectiveSchemas(path: readonly string[], names: SchemaNames): string[] {
  const out: string[] = [];
  for (const element of path) {
    const schema = element === "$user" ? names.user : element;
    if (schema === undefined || out.includes(schema)) continue;
    if (schema !== "pg_temp" && schema !== "pg_catalog" && names.schemas && !names.schemas.has(schema)) continue;
    out.push(schema);
  }
  return out;
}

/** What a statement does to the search_path, or to the transaction its changes belong to. */
export type PathEffect =
  | { kind: "set"; value: readonly string[] | "reset"; local: boolean }
  | { kind: "begin" }
  | { kind: "commit" | "rollback"; chain: boolean }
  | { kind: "savepoint" | "release" | "rollback-to"; name: string }
  /** Code Airlock does not see ran (a function, DO, CALL…): it may have set the path, or made relations. */
  | { kind: "untracked" }
  /** A schema change: these relations (schema-qualified) now exist or are gone, or any may have changed ("all"). */
  | { kind: "relations"; changes: ReadonlyArray<readonly [string, RelationChange]> | "all" };

/** What the session's own schema changes did to a relation its catalog (read at its start) may describe otherwise. */
export type RelationChange = "exists" | "dropped";

type Block = "none" | "implicit" | "explicit" | "failed";
interface Values {
  current: PathValue;
  session: PathValue;
}

/**
 * The session's search_path through transactions, as guc.c keeps it: SET changes the value and
 * what the transaction commits; SET LOCAL only the value until the transaction ends; ROLLBACK (or
 * an error outside a transaction block, which rolls back the implicit one) restores the values of
 * its start, ROLLBACK TO a savepoint's. A multi-statement Query, and what the extended protocol
 * sends up to a Sync, run as one implicit transaction.
 * https://www.postgresql.org/docs/current/sql-set.html
 */
export class SearchPath {
  #values: Values;
  #start: Values;
  #savepoints: Array<Values & { name: string }> = [];
  #block: Block = "none";
  /**
   * Relations this session's schema changes made, altered or dropped ("all": code ran that may
   * have): never undone, even by ROLLBACK, since the session's catalog stays as it was read.
   */
  #changed: ReadonlyMap<string, RelationChange> | "all" = new Map();
  /** key(), until the next change: the classifier asks for it on every statement. */
  #key: string | undefined;

  /** `reset`: what RESET, SET … TO DEFAULT, RESET ALL and DISCARD ALL restore (the startup value, else the configured one). */
  constructor(readonly reset: readonly string[], initial: PathValue = reset) {
    this.#values = { current: initial, session: initial };
    this.#start = this.#values;
  }

  /** The path statements run with now. */
  get current(): PathValue {
    return this.#values.current;
  }

  /** Relations the session's catalog no longer describes (see #changed). */
  get changed(): ReadonlyMap<string, RelationChange> | "all" {
    return this.#changed;
  }

  clone(): SearchPath {
    const copy = new SearchPath(this.reset);
    copy.#values = this.#values;
    copy.#start = this.#start;
    copy.#savepoints = [...this.#savepoints];
    copy.#block = this.#block;
    copy.#changed = this.#changed;
    copy.#key = this.#key;
    return copy;
  }

  /** Everything that decides how later statements resolve, for a cache key. */
  key(): string {
    if (this.#key !== undefined) return this.#key;
    const v = (p: PathValue) => (p === UNKNOWN_PATH ? "?" : JSON.stringify(p));
    const changed = this.#changed === "all" ? "*" : [...this.#changed].join(",");
    return (this.#key = [changed, this.#block, v(this.#values.current), v(this.#values.session), v(this.#start.current), v(this.#start.session), v(this.reset), ...this.#savepoints.flatMap((s) => [s.name, v(s.current), v(s.session)])].join("|"));
  }

  /** A statement completed (CommandComplete): its effect, if any, takes hold. */
  completed(effect: PathEffect | undefined): void {
    this.#key = undefined;
    if (this.#block === "none") {
      this.#block = "implicit";
      this.#start = this.#values;
      this.#savepoints = [];
    }
    if (!effect) return;
    switch (effect.kind) {
      case "set": {
        const value = effect.value === "reset" ? this.reset : effect.value;
        this.#values = effect.local ? { ...this.#values, current: value } : { current: value, session: value };
        return;
      }
      case "untracked":
        this.#values = { current: UNKNOWN_PATH, session: UNKNOWN_PATH };
        this.#changed = "all";
        return;
      case "relations":
        this.#changed = effect.changes === "all" || this.#changed === "all" ? "all" : new Map([...this.#changed, ...effect.changes]);
        return;
      case "begin":
        if (this.#block === "implicit") this.#block = "explicit";
        return;
      case "commit":
      case "rollback":
        // COMMIT of a failed transaction rolls it back (its tag says ROLLBACK).
        if (effect.kind === "commit" && this.#block !== "failed") this.#values = { current: this.#values.session, session: this.#values.session };
        else this.#values = this.#start;
        this.#savepoints = [];
        this.#block = effect.chain ? "explicit" : "none";
        this.#start = this.#values;
        return;
      case "savepoint":
        this.#savepoints.push({ name: effect.name, ...this.#values });
        return;
      case "release":
      case "rollback-to": {
        const at = this.#savepoints.map((s) => s.name).lastIndexOf(effect.name);
        if (at < 0) return this.#lost();
        if (effect.kind === "release") {
          this.#savepoints.length = at;
          return;
        }
        const { current, session } = this.#savepoints[at];
        this.#values = { current, session };
        this.#savepoints.length = at + 1;
        this.#block = "explicit";
        return;
      }
    }
  }

  /** An ErrorResponse: a transaction block is aborted (values stay until ROLLBACK); an implicit one is rolled back. */
  failed(): void {
    this.#key = undefined;
    if (this.#block === "explicit") this.#block = "failed";
    else if (this.#block === "implicit") {
      this.#values = this.#start;
      this.#block = "none";
    }
  }

  /** ReadyForQuery: idle ends an implicit transaction (committed: nothing failed in it, or failed() rolled it back). */
  ready(status: "I" | "T" | "E"): void {
    this.#key = undefined;
    if (status === "I") {
      if (this.#block === "implicit") this.#values = { current: this.#values.session, session: this.#values.session };
      else if (this.#block !== "none") this.#lost();
      this.#block = "none";
      this.#savepoints = [];
      return;
    }
    const expected = status === "T" ? "explicit" : "failed";
    if (this.#block !== expected && !(status === "E" && this.#block === "explicit")) this.#lost();
    this.#block = expected;
  }

  /** The model and the server disagree: nothing is assumed about the path from here. */
  #lost(): void {
    this.#key = undefined;
    this.#values = { current: UNKNOWN_PATH, session: UNKNOWN_PATH };
    this.#start = this.#values;
    this.#savepoints = this.#savepoints.map((s) => ({ ...s, current: UNKNOWN_PATH, session: UNKNOWN_PATH }));
  }
}

/** A path as a string, to tell whether two statements were judged on the same one. */
export function pathKey(path: PathValue): string {
  return path === UNKNOWN_PATH ? "?" : JSON.stringify(path);
}
