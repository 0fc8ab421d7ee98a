import path from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { ensurePrivateDir } from "../data-dir";
import * as schema from "./schema";
import type { Db, Sql, SqlValue, Store, Transaction } from "./store";

export const STORE_FILE = "airlock.db";
const MAX_PREPARED = 256;

/**
 * Opens the embedded store in the data dir: WAL so readers never wait on the writer. The dir is
 * made private here too, for callers (the CLI) that did not prepare it at their start.
 */
export function openSqliteStore(dataDir: string, migrationsFolder?: string): Store {
  ensurePrivateDir(dataDir);
  const file = path.join(dataDir, STORE_FILE);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Statement journals and sorts in memory: a multi-row write otherwise makes (and unlinks) a temp file.
  sqlite.pragma("temp_store = MEMORY");
  const db = drizzle(sqlite, { schema });
  if (migrationsFolder) migrate(db, { migrationsFolder });
  return sqliteStore(sqlite, file);
}

function openReader(file: string): Store {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  return sqliteStore(sqlite, file);
}

function sqliteStore(sqlite: Database.Database, file: string): Store {
  const db: Db = drizzle(sqlite, { schema });
  const sql = sqliteSql(sqlite);
  let queue: Promise<unknown> = Promise.resolve();
  const tx: Transaction = { dialect: "sqlite", db, sql, tables: schema, lock: async () => {} };
  return {
    dialect: "sqlite",
    db,
    sql,
    tables: schema,
    location: file,
    address: { dataDir: path.dirname(file) },
    // One connection: transactions take turns, and IMMEDIATE takes the write lock at once, so a
    // read-then-write is one step also against other processes on the file. A query this process
    // makes outside the transaction while its body awaits joins it (there is no other connection to
    // run on): bodies only touch the store, never wait on anything else, and refuse by returning,
    // so a rollback happens only when the store itself fails.
    transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      const run = async () => {
        sqlite.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(tx);
          sqlite.exec("COMMIT");
          return result;
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw err;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    reader: async () => openReader(file),
    close: async () => {
      sqlite.close();
    },
  };
}

function sqliteSql(sqlite: Database.Database): Sql {
  const prepared = new Map<string, Database.Statement>();
  const statement = (text: string) => {
    let s = prepared.get(text);
    if (!s) {
      s = sqlite.prepare(text);
      // Texts are few and fixed; one built per call (a varying IN list) is not kept.
      if (prepared.size < MAX_PREPARED) prepared.set(text, s);
    }
    return s;
  };
  return {
    // An array binds as its values, without spreading it into arguments (a batch may bind thousands).
    all: async <T>(text: string, params: readonly SqlValue[] = []) => statement(text).all(params) as T[],
    get: async <T>(text: string, params: readonly SqlValue[] = []) => statement(text).get(params) as T | undefined,
    run: async (text: string, params: readonly SqlValue[] = []) => statement(text).run(params).changes,
  };
}
