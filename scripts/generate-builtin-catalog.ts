/**
 * Regenerates the built-in catalog snapshot from a real PostgreSQL (PGlite, in memory):
 *   - lib/sql/builtin-read-functions.json: pg_catalog function names whose every overload is
 *     immutable or stable (BUILTIN_CATALOG's readFunctions, used when a resource's own catalog
 *     is not loaded, as in the CLI's explain);
 *   - lib/sql/system-relations.json: pg_catalog's tables and views, to which an unqualified name
 *     resolves before any user schema.
 * Run after upgrading @electric-sql/pglite: `node --import tsx scripts/generate-builtin-catalog.ts`.
 * Both files are committed as data.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";

const SQL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "lib", "sql");

const READ_FUNCTIONS_SQL = `
  select p.proname as name, bool_and(p.provolatile in ('i', 's')) as readonly
  from pg_proc p
  where p.pronamespace = 'pg_catalog'::regnamespace
  group by 1`;

const SYSTEM_RELATIONS_SQL = `
  select c.relname as name
  from pg_class c
  where c.relnamespace = 'pg_catalog'::regnamespace and c.relkind in ('r', 'v', 'm', 'p', 'f')`;

async function main(): Promise<void> {
  const db = await PGlite.create();
  try {
    const version = (await db.query<{ server_version: string }>("show server_version")).rows[0].server_version;
    const functions = await db.query<{ name: string; readonly: boolean }>(READ_FUNCTIONS_SQL);
    const reads = functions.rows.filter((r) => r.readonly).map((r) => r.name);
    const relations = (await db.query<{ name: string }>(SYSTEM_RELATIONS_SQL)).rows.map((r) => r.name);
    write("builtin-read-functions.json", reads);
    write("system-relations.json", relations);
    console.log(`PostgreSQL ${version}: ${reads.length} read-only of ${functions.rows.length} built-in function names; ${relations.length} system relations`);
  } finally {
    await db.close();
  }
}

function write(file: string, names: string[]): void {
  const sorted = [...new Set(names)].sort();
  writeFileSync(path.join(SQL_DIR, file), `[\n${sorted.map((n) => `  ${JSON.stringify(n)}`).join(",\n")}\n]\n`);
}

await main();
