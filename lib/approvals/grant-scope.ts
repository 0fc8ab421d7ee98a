import type { Kind, StatementInfo } from "../sql/types";

/**
 * One thing a statement does, or a grant allows: a kind of statement on one table. `table` is
 * schema-qualified (`public.orders`), ALL_TABLES (access asked for over every table), or null: a
 * kind that acts on no table (a function call, NOTIFY, a SELECT of functions only, VACUUM of the
 * whole database).
 */
export interface ScopePair {
  kind: Kind;
  table: string | null;
}

/**
 * A grant's table when it covers every table of the resource (access asked for without naming
 * tables). Classified table names are always schema-qualified, so no real table reads as this.
 */
export const ALL_TABLES = "*";

/** Kinds that act on the tables a statement writes. */
const WRITE_KINDS: ReadonlySet<Kind> = new Set(["insert", "update", "delete", "merge", "copy_in", "truncate", "ddl", "maintenance"]);
/** Kinds that act on the tables a statement reads. */
const READ_KINDS: ReadonlySet<Kind> = new Set(["select", "copy_out", "lock"]);

/**
 * What statements do, as pairs: a write kind on each table written, a read kind on each table
 * read (`select` when the statement is only a write: `UPDATE orders … FROM customers` reads
 * customers), any other kind on no table. A written table with no write kind to pair with is
 * paired with `unknown`, so that no grant covers it.
 */
export function statementScope(statements: readonly StatementInfo[]): ScopePair[] {
  const pairs: ScopePair[] = [];
  for (const s of statements) {
    for (const kind of s.kinds) {
      const tables = WRITE_KINDS.has(kind) ? s.writes : READ_KINDS.has(kind) ? s.reads : [];
      if (tables.length === 0) pairs.push({ kind, table: null });
      for (const table of tables) pairs.push({ kind, table });
    }
    if (!s.kinds.some((k) => READ_KINDS.has(k))) for (const table of s.reads) pairs.push({ kind: "select", table });
    if (!s.kinds.some((k) => WRITE_KINDS.has(k))) for (const table of s.writes) pairs.push({ kind: "unknown", table });
  }
  return normalize(pairs);
}

/** Access asked for up front: every kind on every table named (or on ALL_TABLES). */
export function accessScope(kinds: readonly Kind[], tables: readonly string[]): ScopePair[] {
  return normalize(kinds.flatMap((kind) => tables.map((table) => ({ kind, table }))));
}

/**
 * What a grant made from an approved request may hold: its pairs on a table. A pair on no table
 * says nothing of which function, channel or object the next such statement would touch, and
 * `unknown` is never granted.
 */
export function grantableScope(scope: readonly ScopePair[]): ScopePair[] {
  return scope.filter((p) => p.table !== null && p.kind !== "unknown");
}

/**
 * Whether a grant's pairs cover a statement's, fail closed:
 * - an empty statement scope, or any `unknown` pair, is never covered;
 * - a pair on a table is covered by the same kind on that table or on every table;
 * - a pair on no table only by the same kind on every table, what approvers granted as such —
 *   except `session` (BEGIN, SET, SHOW), which touches no data: any session pair covers it.
 */
export function coversScope(grant: readonly ScopePair[], statement: readonly ScopePair[]): boolean {
  if (statement.length === 0) return false;
  const has = (kind: Kind, table: string) => grant.some((g) => g.kind === kind && g.table === table);
  return statement.every((p) => {
    if (p.kind === "unknown") return false;
    if (has(p.kind, ALL_TABLES)) return true;
    if (p.table !== null) return has(p.kind, p.table);
    return p.kind === "session" && grant.some((g) => g.kind === "session");
  });
}

/** The kinds of a scope, each once, in the order they first appear. */
export function kindsOf(scope: readonly ScopePair[]): Kind[] {
  return [...new Set(scope.map((p) => p.kind))];
}

/** The tables of a scope, each once, sorted; ALL_TABLES when it covers every table. */
export function tablesOf(scope: readonly ScopePair[]): string[] {
  return [...new Set(scope.flatMap((p) => (p.table === null ? [] : [p.table])))].sort();
}

/** Each pair once, in a stable order (by table, then kind), so equal scopes compare equal. */
function normalize(pairs: readonly ScopePair[]): ScopePair[] {
  const seen = new Map(pairs.map((p) => [`${p.table ?? ""}\u0000${p.kind}`, p]));
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}
