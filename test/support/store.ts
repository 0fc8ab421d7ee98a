import { openStore, type Dialect, type Store } from "../../lib/db/client";
import { adminQuery, startPostgres, type TestPostgres } from "./postgres";
import { makeTempDir } from "./temp-dir";

export interface TestStore {
  store: Store;
  /** The data dir (SQLite's file lives here; on PostgreSQL it holds nothing). */
  dataDir: string;
  /** AIRLOCK_STORE_URL for other processes on the same store (PostgreSQL), else undefined. */
  url: string | undefined;
  close(): Promise<void>;
}

/** A fresh, migrated SQLite store in a temp dir. */
export async function openTestStore(): Promise<TestStore> {
  const dir = makeTempDir("store");
  const store = await openStore({ dataDir: dir.path, migrationsFolder: "drizzle" });
  return {
    store,
    dataDir: dir.path,
    url: undefined,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}

let databases = 0;

/** A fresh, migrated store in a new database on `server`: each test its own, one server for the file. */
export async function openTestPostgresStore(server: TestPostgres): Promise<TestStore> {
  const url = await createStoreDatabase(server);
  const dir = makeTempDir("store");
  const store = await openStore({ dataDir: dir.path, url, migrationsFolder: "drizzle" });
  return {
    store,
    dataDir: dir.path,
    url,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}

/** A new, empty database on `server` (AIRLOCK_STORE_URL for Airlock processes to share and migrate): its URL. */
export async function createStoreDatabase(server: TestPostgres): Promise<string> {
  const name = `airlock_store_${process.pid}_${++databases}`;
  await adminQuery(server, `create database ${name}`);
  return storeUrl(server, name);
}

export function storeUrl(server: TestPostgres, database: string): string {
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs a suite once per store dialect: `open` gives a fresh store of that dialect. The PostgreSQL
 * server is started on first use and stopped after the file's tests.
 */
export function eachDialect(): Array<{ dialect: Dialect; open(): Promise<TestStore>; stop(): Promise<void> }> {
  let server: Promise<TestPostgres> | undefined;
  return [
    { dialect: "sqlite", open: openTestStore, stop: async () => {} },
    {
      dialect: "postgres",
      open: async () => openTestPostgresStore(await (server ??= startPostgres())),
      stop: async () => {
        if (server) await (await server).stop();
      },
    },
  ];
}
