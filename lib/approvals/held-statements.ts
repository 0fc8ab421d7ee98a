import type { AccessRequest } from "../db/schema";

/**
 * What a held statement will run, as a request records it and an approval is bound to: its
 * text and parameters, then the body of each prepared statement it runs by name (`EXECUTE w1`
 * runs whatever `w1` is: approving the one without the other would approve the wrong thing).
 */
export type HeldStatement = AccessRequest["statements"][number];

export function heldStatements(
  text: string,
  params: ReadonlyArray<string | null> | undefined,
  prepared: ReadonlyArray<{ name: string; text: string }> = [],
): HeldStatement[] {
  return [{ text, params: params ? [...params] : null }, ...prepared.map((p) => ({ text: p.text, params: null, prepared: p.name }))];
}

/** The same statements always serialize alike, whatever order their keys were stored in. */
export function canonicalHeld(statement: HeldStatement): HeldStatement {
  return statement.prepared === undefined ? { text: statement.text, params: statement.params } : { text: statement.text, params: statement.params, prepared: statement.prepared };
}

/** The statements as one SQL text for people: each prepared body introduced by a comment naming it. */
export function heldSql(statements: ReadonlyArray<HeldStatement>): string {
  return statements.map((s) => (s.prepared === undefined ? s.text : `-- prepared statement ${s.prepared}, which it runs:\n${s.text}`)).join(";\n");
}
