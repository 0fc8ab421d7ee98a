/** Reading the parser's JSON tree: a node is an object with one key, its type (`{ "SelectStmt": {…} }`). */

export type Obj = Record<string, unknown>;

/** A node's type and body; for anything else, a type no code looks for and an empty body. */
export function unwrap(node: unknown): [string, Obj] {
  if (node && typeof node === "object" && !Array.isArray(node)) {
    const keys = Object.keys(node);
    if (keys.length === 1) return [keys[0], ((node as Obj)[keys[0]] ?? {}) as Obj];
  }
  return ["(no statement)", {}];
}

/** A `String` node's value ("" for anything else). */
export function stringOf(node: unknown): string {
  return String((node as { String?: { sval?: string } } | undefined)?.String?.sval ?? "");
}
