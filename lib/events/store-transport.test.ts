import { after, test } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir } from "../../test/support/temp-dir";
import { openStore } from "../db/client";
import { EventBus, type AirlockEvent } from "./bus";
import { currentInstance } from "./instances";
import { EVENT_KEEP_MS, StoreEventTransport } from "./store-transport";

const dir = makeTempDir("events");
after(() => dir.remove());

/** A process's bus on the shared store: its own connection, its own instance. */
async function processOnStore() {
  const store = await openStore({ dataDir: dir.path, migrationsFolder: "drizzle" });
  const transport = new StoreEventTransport(store, currentInstance(), 10);
  const bus = new EventBus(transport);
  const heard: AirlockEvent[] = [];
  bus.subscribe((e) => heard.push(e));
  // Listening starts at the newest row, read as it starts: let that read happen first.
  await new Promise((r) => setTimeout(r, 5));
  return { store, bus, heard, close: () => (bus.close(), store.close()) };
}

async function until(check: () => boolean): Promise<void> {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() - start > 2000) throw new Error("timed out");
  }
}

test("an event published in one process reaches the other once, in order, and its own process once", async () => {
  const a = await processOnStore();
  const b = await processOnStore();
  try {
    const first: AirlockEvent = { type: "grant.changed", grantId: "g_1" };
    const second: AirlockEvent = { type: "request.changed", requestId: "r_1", status: "approved" };
    a.bus.publish(first);
    a.bus.publish(second);
    await until(() => b.heard.length === 2);
    assert.deepEqual(b.heard, [first, second]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(a.heard, [first, second], "the publisher hears its own at once, never again from the table");
    assert.equal(b.heard.length, 2);
  } finally {
    await a.close();
    await b.close();
  }
});

test("a process that starts later hears only what is published after; old rows are pruned", async () => {
  const a = await processOnStore();
  a.bus.publish({ type: "policy.changed", ok: true });
  const b = await processOnStore();
  try {
    a.bus.publish({ type: "slack.changed", requestId: "r_2" });
    await until(() => b.heard.length === 1);
    assert.deepEqual(b.heard, [{ type: "slack.changed", requestId: "r_2" }]);

    await a.store.sql.run("update events set at = ?", [Date.now() - EVENT_KEEP_MS - 1]);
    const c = await processOnStore(); // its first poll prunes
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
    assert.equal((await a.store.sql.all("select id from events")).length, 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test("activity counts cross to other processes at most once a second, the last of a burst included", async () => {
  const a = await processOnStore();
  const b = await processOnStore();
  try {
    for (let i = 1; i <= 50; i++) a.bus.publish({ type: "activity.recorded", sessions: 0, statements: i });
    assert.equal(a.heard.length, 50, "the publisher's own process hears every one");
    await until(() => b.heard.some((e) => e.type === "activity.recorded" && e.statements === 50));
    const crossed = b.heard.filter((e) => e.type === "activity.recorded");
    assert.deepEqual(crossed.map((e) => (e.type === "activity.recorded" ? e.statements : 0)), [1, 50]);
  } finally {
    await a.close();
    await b.close();
  }
});
