import path from "node:path";
import { openPostgresStore } from "./postgres-store";
import { openSqliteStore } from "./sqlite-store";
import type { Store, StoreAddress } from "./store";

export type { Db, Dialect, Sql, SqlValue, Store, StoreAddress, StoreScope, Tables, Transaction } from "./store";
export { STORE_FILE } from "./sqlite-store";

export interface StoreOptions {
  /** Where the embedded SQLite store lives (unless `url`). */
  dataDir: string;
  /** AIRLOCK_STORE_URL: a PostgreSQL database as the store, shared by every instance on it. */
  url?: string;
  /** The migrations' root (`drizzle/`; PostgreSQL's are in its `postgres/`): applied at open when given. */
  migrationsFolder?: string;
}

/** Opens Airlock's store: PostgreSQL when a URL is given, else the SQLite file in the data dir. */
export function openStore({ dataDir, url, migrationsFolder }: StoreOptions): Promise<Store> {
  if (url) return openPostgresStore(url, migrationsFolder && path.join(migrationsFolder, "postgres"));
  return Promise.resolve(openSqliteStore(dataDir, migrationsFolder));
}

/** Opens a store that is open already (migrated) once more, on connections of its own: for another thread. */
export async function reopenStore(address: StoreAddress): Promise<Store> {
  return "url" in address ? openPostgresStore(address.url) : openSqliteStore(address.dataDir);
}
