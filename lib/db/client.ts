import path from "node:path";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { ensurePrivateDir } from "../data-dir";
import * as schema from "./schema";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface Store {
  db: Db;
  close(): void;
}

export const STORE_FILE = "airlock.db";

/**
 * Opens the embedded store in the data dir: WAL so readers never wait on the writer. The dir is
 * made private here too, for callers (the CLI) that did not prepare it at their start.
 */
export function openStore(dataDir: string, migrationsFolder?: string): Store {
  ensurePrivateDir(dataDir);
  const sqlite = new Database(path.join(dataDir, STORE_FILE));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite, { schema });
  if (migrationsFolder) migrate(db, { migrationsFolder });
  return { db, close: () => sqlite.close() };
}

/**
 * A second, read-only connection to the store, for long reads (an export streamed to a slow
 * client). better-sqlite3 refuses every write on a connection while one of its cursors is open,
 * so such a cursor must never sit on the connection the proxy records through.
 */
export function openStoreReader(dataDir: string): Store {
  const sqlite = new Database(path.join(dataDir, STORE_FILE), { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  return { db: drizzle(sqlite, { schema }), close: () => sqlite.close() };
}
