/**
 * Runs one embedded PGlite database in a worker thread, so its single-threaded engine never
 * blocks the proxy or the dashboard. Seeds the demo shop on first start. Messages:
 * in `{ id, bytes }` (protocol bytes); out `{ id, data }` chunks, then `{ id, done: true }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { demoInsertSql, demoSchemaSql } from "../../lib/demo/seed-sql";

export interface PgliteWorkerData {
  dataDir: string;
  seedDemo: boolean;
}

export type ToWorker = { id: number; bytes: Uint8Array };
export type FromWorker =
  | { type: "ready"; parameters: Record<string, string> }
  | { type: "failed"; message: string }
  | { type: "data"; id: number; data: Uint8Array }
  | { type: "done"; id: number; error?: string; stopped?: boolean };

const port = parentPort!;
const { dataDir, seedDemo } = workerData as PgliteWorkerData;

// Settings a PostgreSQL server reports at startup; drivers read several of them.
const REPORTED = ["server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "integer_datetimes", "standard_conforming_strings"];

async function start(): Promise<PGlite> {
  const db = await PGlite.create(dataDir);
  if (seedDemo) {
    const { rows } = await db.query<{ seeded: boolean }>("select to_regclass('public.customers') is not null as seeded");
    if (!rows[0].seeded) {
      await db.transaction(async (tx) => {
        await tx.exec(demoSchemaSql());
        for (const sql of demoInsertSql()) await tx.exec(sql);
      });
    }
  }
  const { rows } = await db.query<{ name: string; setting: string }>(
    `select name, current_setting(name) as setting from pg_settings where name = any($1)`,
    [REPORTED],
  );
  port.postMessage({ type: "ready", parameters: Object.fromEntries(rows.map((r) => [r.name, r.setting])) } satisfies FromWorker);
  return db;
}

const ready = start().catch((err: unknown) => {
  port.postMessage({ type: "failed", message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
  throw err;
});

// One batch at a time: the engine is a single session.
let queue: Promise<void> = Promise.resolve();
port.on("message", (message: ToWorker) => {
  queue = queue.then(() => run(message));
});

async function run({ id, bytes }: ToWorker): Promise<void> {
  const db = await ready;
  try {
    await db.execProtocolRawStream(bytes, {
      onRawData: (chunk) => {
        // The chunk is a view into the engine's memory: copy before handing it over.
        const data = chunk.slice();
        port.postMessage({ type: "data", id, data } satisfies FromWorker, [data.buffer]);
      },
    });
    port.postMessage({ type: "done", id } satisfies FromWorker);
  } catch (err) {
    // Protocol errors come back as ErrorResponse; a throw is PGlite itself gone (a FATAL ends its
    // one process). The engine is past use: the worker ends, and the host starts another.
    port.postMessage({ type: "done", id, error: err instanceof Error ? err.message : JSON.stringify(err), stopped: true } satisfies FromWorker);
    process.exit(1);
  }
}
