import { ALL_TABLES } from "../approvals/grant-scope";
import { KINDS, type Kind } from "../sql/types";

/** What the named access levels stand for, in statement kinds (see lib/sql/types.ts). */
export const ACCESS_LEVELS = {
  read: ["select", "session", "copy_out"],
  write: ["select", "session", "copy_out", "insert", "update", "delete", "merge", "copy_in"],
  admin: ["select", "session", "copy_out", "insert", "update", "delete", "merge", "copy_in", "truncate", "ddl"],
} as const satisfies Record<string, readonly Kind[]>;
export type AccessLevel = keyof typeof ACCESS_LEVELS;

/** Kinds an agent may name itself: never `unknown`, which no grant may ever cover. */
export const ASKABLE_KINDS = KINDS.filter((k) => k !== "unknown");

/** What an access request covers: kinds, and tables (schema-qualified) or every table. */
export interface AccessScope {
  kinds: Kind[];
  /** Schema-qualified names, or [ALL_TABLES]. */
  tables: string[];
}

/** Unquoted SQL identifiers, optionally schema-qualified: the only table names an agent may name. */
const TABLE_NAME = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/;

/**
 * A table as classification names it: lower-cased, as PostgreSQL folds unquoted names, and
 * qualified with `public` when no schema is given. Undefined when it is not a plain name.
 */
export function qualifyTable(name: string): string | undefined {
  const folded = name.trim().toLowerCase();
  if (!TABLE_NAME.test(folded)) return undefined;
  return folded.includes(".") ? folded : `public.${folded}`;
}

export function coversAllTables(scope: Pick<AccessScope, "tables">): boolean {
  return scope.tables.includes(ALL_TABLES);
}

/** The level whose kinds these are exactly, for a shorter label ("write"); undefined otherwise. */
export function levelOf(kinds: readonly string[]): AccessLevel | undefined {
  const wanted = [...kinds].sort().join(",");
  return (Object.keys(ACCESS_LEVELS) as AccessLevel[]).find((level) => [...ACCESS_LEVELS[level]].sort().join(",") === wanted);
}
