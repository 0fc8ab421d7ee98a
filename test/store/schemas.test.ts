import assert from "node:assert/strict";
import { test } from "node:test";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { is } from "drizzle-orm";
import * as pgSchema from "../../lib/db/schema-pg";
import * as sqliteSchema from "../../lib/db/schema";

/** Each table as the two dialects define it: names, columns, nullability, keys and indexes. */
function shape(config: { name: string; columns: Array<{ name: string; notNull: boolean; primary: boolean; hasDefault: boolean }>; indexes: Array<{ config: { name: string; unique: boolean; columns: unknown[] } }> }) {
  return {
    name: config.name,
    columns: config.columns.map((c) => ({ name: c.name, notNull: c.notNull, primary: c.primary, hasDefault: c.hasDefault })).sort((a, b) => a.name.localeCompare(b.name)),
    indexes: config.indexes.map((i) => ({ name: i.config.name, unique: i.config.unique, columns: i.config.columns.length })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

test("the PostgreSQL schema has the same tables, columns and indexes as SQLite's, under the same export names", () => {
  const sqliteTables = Object.entries(sqliteSchema).filter(([, t]) => is(t, SQLiteTable));
  const pgTables = Object.entries(pgSchema).filter(([, t]) => is(t, PgTable));
  assert.deepEqual(pgTables.map(([name]) => name).sort(), sqliteTables.map(([name]) => name).sort());
  for (const [name, table] of sqliteTables) {
    const mirror = pgTables.find(([n]) => n === name)![1] as PgTable;
    // Identity columns are generated on PostgreSQL where SQLite autoincrements: both have a default.
    const pg = shape(pgConfig(mirror) as never);
    const lite = shape(sqliteConfig(table as SQLiteTable) as never);
    for (const c of pg.columns) if (c.primary) c.hasDefault = lite.columns.find((l) => l.name === c.name)!.hasDefault;
    assert.deepEqual(pg, lite, `table ${name}`);
  }
});
