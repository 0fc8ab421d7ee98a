import type { Dialect } from "../db/client";

/**
 * The one place audit SQL differs by dialect: reading the elements of a JSON array kept as text
 * (`tables`, `data`'s `kinds`). Everything else is written once for both. Gives a FROM item named
 * `alias` with one row per element in `<alias>.value`: SQLite's json_each, PostgreSQL's
 * json_array_elements_text. `json` and `key` are SQL and a key from the code, never a person's input.
 */
export function jsonArrayElements(dialect: Dialect, json: string, alias: string, key?: string): string {
  if (dialect === "postgres") return `json_array_elements_text((${json})::json${key ? ` -> '${key}'` : ""}) as ${alias}(value)`;
  return `json_each(${json}${key ? `, '$.${key}'` : ""}) as ${alias}`;
}
