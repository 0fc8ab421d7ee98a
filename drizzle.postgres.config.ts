import { defineConfig } from "drizzle-kit";

/** Migrations of the PostgreSQL store (AIRLOCK_STORE_URL); drizzle.config.ts has SQLite's. Keep both in step. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/db/schema-pg.ts",
  out: "./drizzle/postgres",
});
