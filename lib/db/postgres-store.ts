import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import * as pgSchema from "./schema-pg";
import * as schema from "./schema";
import { numberedParams } from "./sql-text";
import type { Db, Sql, SqlValue, Store, Transaction } from "./store";

/** Held while migrating, so instances starting at once migrate one after another (the later ones find nothing to do). */
const MIGRATION_LOCK = 0x41_69_72_6c; // "Airl"
const POOL_SIZE = 10;
/**
 * A store that stops answering (a black-holed network, a hung server) must fail what waits on it,
 * not hang it: a connection is given this long to open, a query this long to answer. Failures are
 * handled where they land (the recorder keeps its batch, a hold is refused, /api/ready says so).
 */
export const STORE_CONNECT_TIMEOUT_MS = 5_000;
export const STORE_QUERY_TIMEOUT_MS = 30_000;

const INT8 = 20;
const NUMERIC = 1700;
/**
 * Bigints come back as numbers, as SQLite gives them: they are epoch milliseconds, counts and
 * ids, all far below 2^53. Only this pool's connections parse so, not every pg client in the process.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => (oid === INT8 || oid === NUMERIC ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Opens a PostgreSQL database as the store (AIRLOCK_STORE_URL); with a migrations folder, brings its schema up to date first. */
export async function openPostgresStore(url: string, migrationsFolder?: string): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    types,
    application_name: "airlock",
    connectionTimeoutMillis: STORE_CONNECT_TIMEOUT_MS,
    query_timeout: STORE_QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection that breaks (the server restarts) is dropped by the pool; without a listener it would crash the process.
  pool.on("error", (err) => console.error("[store] an idle store connection failed:", err.message));
  try {
    await pool.query("select 1");
    if (migrationsFolder) await migrateLocked(pool, migrationsFolder);
  } catch (err) {
    await pool.end();
    throw new Error(`the store at ${redacted(url)} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  const store = postgresStore(pool, url);
  return store;
}

async function migrateLocked(pool: pg.Pool, migrationsFolder: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await migrate(drizzle(client), { migrationsFolder });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

function postgresStore(pool: pg.Pool, url: string): Store {
  const scope = (client: pg.Pool | pg.PoolClient) => ({
    dialect: "postgres" as const,
    // The tables and rows are schema.ts's in shape (see schema-pg.ts): the one typing serves both.
    db: drizzle(client, { schema: pgSchema }) as unknown as Db,
    sql: postgresSql(client),
    tables: pgSchema as unknown as typeof schema,
  });
  const store: Store = {
    ...scope(pool),
    location: redacted(url),
    address: { url },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const tx: Transaction = {
          ...scope(client),
          lock: async (key) => {
            await client.query("select pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
          },
        };
        const result = await fn(tx);
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    // A cursor here blocks nobody's writes: the pool serves long reads too.
    reader: async () => ({ ...store, close: async () => {} }),
    close: () => pool.end(),
  };
  return store;
}

function postgresSql(client: pg.Pool | pg.PoolClient): Sql {
  const query = (text: string, params: readonly SqlValue[]) => client.query(numberedParams(text), params as SqlValue[]);
  return {
    all: async <T>(text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rows as T[],
    get: async <T>(text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rows[0] as T | undefined,
    run: async (text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rowCount ?? 0,
  };
}

/** The URL without its password, for messages and logs. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unreadable store URL)";
  }
}
