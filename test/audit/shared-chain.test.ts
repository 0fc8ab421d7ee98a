/**
 * One audit chain for many instances: three Airlock processes' stores (three pools) on one
 * PostgreSQL database append at once, and the chain comes out whole — ids gapless, every row
 * following the one before, each batch in one piece, a thing with a source recorded once.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AuditLog, type AuditEntry } from "../../lib/audit/log";
import { verifyChain } from "../../lib/audit/verify";
import { openStore, type Store } from "../../lib/db/client";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { openTestPostgresStore, type TestStore } from "../support/store";

const INSTANCES = 3;
const APPENDERS = 4; // concurrent appenders in each instance
const BATCHES = 10;
const BATCH_ROWS = 50;

let server: TestPostgres;
let first: TestStore;
let stores: Store[];

before(async () => {
  server = await startPostgres();
  first = await openTestPostgresStore(server);
  const others = await Promise.all(Array.from({ length: INSTANCES - 1 }, () => openStore({ dataDir: first.dataDir, url: first.url })));
  stores = [first.store, ...others];
});
after(async () => {
  for (const store of stores.slice(1)) await store.close();
  await first.close();
  await server.stop();
});

const entry = (instance: number, appender: number, batch: number, i: number): AuditEntry => ({
  at: new Date(),
  type: "statement",
  agentId: `agent-${instance}`,
  sessionId: `s_${instance}_${appender}`,
  sql: `select ${batch * BATCH_ROWS + i}`,
  data: { batch },
});

test(`${INSTANCES} instances × ${APPENDERS} appenders, interleaved batches: one gapless chain that verifies`, async () => {
  await Promise.all(
    stores.flatMap((store, instance) => {
      const log = new AuditLog(store);
      return Array.from({ length: APPENDERS }, async (_, appender) => {
        for (let batch = 0; batch < BATCHES; batch++) {
          const entries = Array.from({ length: BATCH_ROWS }, (_, i) => entry(instance, appender, batch, i));
          // Half as the recorder does (inside a transaction of its own work), half on their own.
          if (batch % 2) await store.transaction((tx) => log.appendWithin(tx, entries));
          else await log.append(entries);
          // The same thing, seen by every instance at once: recorded once.
          await log.append([{ at: new Date(), type: "grant.expired", grantId: `g_${batch}`, source: `grant:g_${batch}:expired` }]);
        }
      });
    }),
  );

  const total = INSTANCES * APPENDERS * BATCHES * BATCH_ROWS + BATCHES;
  const verdict = await verifyChain(stores[2]);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.deepEqual([verdict.rows, verdict.head?.id], [total, total], "ids 1…n, none missing, none twice");
  assert.equal((await stores[1].sql.get<{ n: number }>("select count(distinct source) as n from audit_log where source is not null"))?.n, BATCHES);

  // Each batch went in as one piece: its rows have consecutive ids.
  const spans = await stores[0].sql.all<{ session: string; batch: string; low: number; high: number }>(
    `select session_id as "session", data as "batch", min(id) as "low", max(id) as "high" from audit_log where type = 'statement' group by session_id, data`,
  );
  assert.equal(spans.length, INSTANCES * APPENDERS * BATCHES);
  for (const s of spans) assert.equal(s.high - s.low, BATCH_ROWS - 1, `${s.session} ${s.batch}`);
});
