import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type * as schema from "./schema";

export type Dialect = "sqlite" | "postgres";

/**
 * The query builder, typed by schema.ts whichever the dialect: the PostgreSQL tables
 * (schema-pg.ts) have the same columns and value types, so one query is written once. Awaited,
 * a query gives the same rows on both; `.all()`, `.get()` and `.run()` are SQLite's only.
 */
export type Db = Omit<BetterSQLite3Database<typeof schema>, "$client" | "transaction">;

export type Tables = typeof schema;

export type SqlValue = string | number | null;

/** The SQLite file's data dir, or the PostgreSQL database's URL (with its password). */
export type StoreAddress = { dataDir: string } | { url: string };

/** Plain SQL, for hot paths and what the builder cannot say; `?` marks parameters in both dialects. */
export interface Sql {
  all<T>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(text: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A write: how many rows it changed. */
  run(text: string, params?: readonly SqlValue[]): Promise<number>;
}

/** What queries run on: the store itself, or one transaction of it. */
export interface StoreScope {
  readonly dialect: Dialect;
  readonly db: Db;
  readonly sql: Sql;
  readonly tables: Tables;
}

export interface Transaction extends StoreScope {
  /**
   * Waits for the named lock, held until the transaction ends: two instances doing the same
   * thing (deciding one request, extending the audit chain) take turns. On SQLite, where a
   * transaction already holds the only write lock, there is nothing more to wait for.
   */
  lock(key: string): Promise<void>;
}

/**
 * Airlock's store: the embedded SQLite file (the default) or a PostgreSQL database shared by
 * many instances (AIRLOCK_STORE_URL). See docs/deployment.md.
 */
export interface Store extends StoreScope {
  /** Runs `fn` in one transaction, committed when it resolves and rolled back when it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * A connection for long reads (an export streamed to a slow client), closed by whoever asked:
   * on SQLite a cursor blocks writes on its connection, so it must not be the one the proxy
   * records through.
   */
  reader(): Promise<Store>;
  /** Where it is, for messages: the file, or the database URL without its password. */
  readonly location: string;
  /** How another thread opens this same store on a connection of its own (`reopenStore`). */
  readonly address: StoreAddress;
  close(): Promise<void>;
}
