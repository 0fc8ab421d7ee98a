import type { AccessRequest } from "../db/schema";

/**
 * What a held statement will run, as a request records it and an approval is bound to: its
 * text and parameters, then the body of each prepared statement it runs by name (`EXECUTE w1`
 * runs whatever `w1` is: approving the one without the other would approve the wrong thing).
 * `formats`: the parameters' format codes when any was sent in binary (its value is then the
 * hex of its bytes); `runs`: the text that goes upstream in its place, when row filters rewrote
 * it (lib/decision/row-filters.ts) — what the impact preview runs; `path`: the search_path its
 * unqualified names were judged on (held-path.ts), which an approval is bound to as well.
 */
export type HeldStatement = AccessRequest["statements"][number];

export function heldStatements(
  text: string,
  params: ReadonlyArray<string | null> | undefined,
  prepared: ReadonlyArray<{ name: string; text: string }> = [],
  as: { formats?: readonly number[]; runs?: string; path?: readonly string[] | null } = {},
): HeldStatement[] {
  const main: HeldStatement = { text, params: params ? [...params] : null };
  if (as.path !== undefined) main.path = as.path && [...as.path];
  if (as.formats?.some((f) => f !== 0)) main.formats = [...as.formats];
  if (as.runs !== undefined && as.runs !== text) main.runs = as.runs;
  return [main, ...prepared.map((p) => ({ text: p.text, params: null, prepared: p.name }))];
}

/**
 * The same statements always serialize alike, whatever order their keys were stored in; a binary
 * parameter never matches a text one of the same hex, nor a statement judged on one search_path
 * the same text on another.
 */
export function canonicalHeld(statement: HeldStatement): HeldStatement {
  const formats = statement.formats ? { formats: statement.formats } : {};
  const path = statement.path !== undefined ? { path: statement.path } : {};
  return statement.prepared === undefined ? { text: statement.text, params: statement.params, ...formats, ...path } : { text: statement.text, params: statement.params, prepared: statement.prepared };
}

/** The statements as one SQL text for people: each prepared body introduced by a comment naming it. */
export function heldSql(statements: ReadonlyArray<HeldStatement>): string {
  return statements.map((s) => (s.prepared === undefined ? s.text : `-- prepared statement ${s.prepared}, which it runs:\n${s.text}`)).join(";\n");
}
