import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminQuery, startPostgres, type TestPostgres } from "../../test/support/postgres";
import { openTestPostgresStore, type TestStore } from "../../test/support/store";
import { EventBus, type AirlockEvent } from "./bus";
import { currentInstance } from "./instances";
import { EVENTS_APPLICATION_NAME, EVENTS_CHANNEL, MAX_NOTIFY_BYTES, PostgresEventTransport } from "./postgres-transport";

let server: TestPostgres;
let store: TestStore;

before(async () => {
  server = await startPostgres();
  store = await openTestPostgresStore(server);
});
after(async () => {
  await store?.close();
  await server?.stop();
});

/** An instance's bus on the store, listening. */
async function instance() {
  const transport = new PostgresEventTransport(store.url!, currentInstance());
  const bus = new EventBus(transport);
  const heard: AirlockEvent[] = [];
  bus.subscribe((e) => heard.push(e));
  await transport.listening();
  return { transport, bus, heard, close: () => bus.close() };
}

async function until(check: () => boolean, what = "the condition"): Promise<void> {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Runs `sql` on the server's own database, as an operator would. */
const admin = (sql: string) => adminQuery(server, sql);

test("two instances on one database hear each other's events, in order, and not their own again", async () => {
  const a = await instance();
  const b = await instance();
  try {
    const first: AirlockEvent = { type: "grant.changed", grantId: "g_1" };
    const second: AirlockEvent = { type: "request.changed", requestId: "r_1", status: "approved" };
    a.bus.publish(first);
    a.bus.publish(second);
    b.bus.publish({ type: "slack.changed", requestId: "r_2" });
    await until(() => b.heard.length === 3 && a.heard.length === 3);
    assert.deepEqual(b.heard.filter((e) => e.type !== "slack.changed"), [first, second], "another's events, in the order published");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(a.heard, [first, second, { type: "slack.changed", requestId: "r_2" }], "the publisher hears its own once, at once");
    assert.equal(b.heard.length, 3);
  } finally {
    a.close();
    b.close();
  }
});

test(`an event over ${MAX_NOTIFY_BYTES} bytes crosses by the events table, its id notified`, async () => {
  const a = await instance();
  const b = await instance();
  try {
    const large: AirlockEvent = { type: "request.changed", requestId: "r_large", status: "x".repeat(10_000) };
    a.bus.publish(large);
    a.bus.publish({ type: "grant.changed", grantId: "g_after" });
    await until(() => b.heard.length === 2);
    assert.deepEqual(b.heard, [large, { type: "grant.changed", grantId: "g_after" }], "read back, in its place");
    const rows = await store.store.sql.all<{ payload: string }>("select payload from events");
    assert.deepEqual(rows.map((r) => JSON.parse(r.payload) as AirlockEvent), [large], "only the large one is in the table");
  } finally {
    a.close();
    b.close();
  }
});

test("after the server ends its connection, a transport reconnects with backoff, logs the outage once, and delivers only what is sent after", async () => {
  const a = await instance();
  const b = await instance();
  const errors: string[] = [];
  const logError = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.map(String).join(" "));
  const database = new URL(store.url!).pathname.slice(1);
  try {
    // Refused while down, so it takes several attempts to come back.
    await admin(`alter database ${database} allow_connections false`);
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${EVENTS_APPLICATION_NAME}' and datname = '${database}'`);
    await until(() => errors.filter((e) => e.includes("lost the connection")).length === 2, "both to notice");
    b.bus.publish({ type: "grant.changed", grantId: "g_during" });
    await new Promise((r) => setTimeout(r, 800));
    await admin(`alter database ${database} allow_connections true`);
    await Promise.all([a.transport.listening(), b.transport.listening()]);
    assert.equal(errors.filter((e) => e.includes("lost the connection")).length, 2, `one line per outage and transport, however many attempts: ${errors.join("\n")}`);

    b.bus.publish({ type: "grant.changed", grantId: "g_after" });
    await until(() => a.heard.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(a.heard, [{ type: "grant.changed", grantId: "g_after" }], "nothing from the outage, then what was sent after");
  } finally {
    console.error = logError;
    await admin(`alter database ${database} allow_connections true`);
    a.close();
    b.close();
  }
});

test("notices that are not Airlock's (anyone on the store may NOTIFY the channel) are ignored, and the bus carries on", async () => {
  const a = await instance();
  const b = await instance();
  try {
    for (const forged of ["null", "42", '"text"', "not json", '{"origin":"x"}', '{"origin":"x","id":"1"}', '{"origin":"x","event":null}', '{"origin":7,"event":{"type":"grant.changed"}}']) {
      await store.store.sql.all("select pg_notify(?, ?)", [EVENTS_CHANNEL, forged]);
    }
    const real: AirlockEvent = { type: "grant.changed", grantId: "g_after_forgeries" };
    a.bus.publish(real);
    await until(() => b.heard.length > 0, "the real event after the forged ones");
    assert.deepEqual(b.heard, [real]);
  } finally {
    a.close();
    b.close();
  }
});
