import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { heldUpdate } from "../../lib/approvals/testing";
import { openStore } from "../../lib/db/client";
import { EventBus } from "../../lib/events/bus";
import { WebhookOutbox } from "../../lib/webhooks/outbox";
import { startWebhooks } from "../../lib/webhooks/start";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { openTestPostgresStore } from "../support/store";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { alice, deliveries, FAST, KEY, until, webhookInstance, webhookPolicy } from "./setup";

// Two instances on one PostgreSQL store, as two machines are: each its own pool, approvals, audit
// capture and dispatcher; one bus that both hear, as the store's bus delivers every event to each.
// (Two SQLite connections in one process would wait on each other's write lock with the event loop
// blocked; processes on one SQLite file claim deliveries the same way, by one conditional update.)

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

test("events made on either instance reach the receiver once each, whichever records and delivers them", async () => {
  const receiver = await startWebhookReceiver(KEY);
  const t = await openTestPostgresStore(server);
  const policy = webhookPolicy(receiver.url, { events: ["request.opened", "request.decided", "grant.created"] });
  const bus = new EventBus();
  const stores = [await openStore({ dataDir: t.dataDir, url: t.url }), await openStore({ dataDir: t.dataDir, url: t.url })];
  const [a, b] = [await webhookInstance(stores[0], () => policy, { bus }), await webhookInstance(stores[1], () => policy, { bus })];
  try {
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
      const [opener, decider] = i % 2 ? [a, b] : [b, a];
      const r = await opener.approvals.open(heldUpdate({ sessionId: `s${i}` }));
      await decider.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: i % 3 === 0 ? 900_000 : "once", via: "web" });
    }
    const expected = rounds * 2 + Math.ceil(rounds / 3);
    await until(() => receiver.accepted().size === expected, `${expected} events are accepted`);
    await until(async () => (await deliveries(t.store)).every((x) => x.state === "delivered"), "every delivery is recorded");
    // A moment more: a second delivery of anything would show now.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.received.length, expected, "no event was sent twice");
    assert.ok([...receiver.accepted().values()].every((n) => n === 1));
    const rows = await deliveries(t.store);
    assert.equal(rows.length, expected, "one delivery per event, though both instances heard each");
    assert.ok(rows.every((x) => x.attempts === 1));
  } finally {
    await a.close();
    await b.close();
    for (const s of stores) await s.close();
    await t.close();
    await receiver.close();
  }
});

test("two dispatchers starting at once on a backlog of 60 claim each delivery once", async () => {
  const receiver = await startWebhookReceiver(KEY);
  const t = await openTestPostgresStore(server);
  const policy = webhookPolicy(receiver.url);
  const backlog = Array.from({ length: 60 }, (_, i) => ({ eventId: `evt_${i}`, type: "request.opened", webhook: "siem", body: JSON.stringify({ n: i }) }));
  await new WebhookOutbox(t.store).enqueue(t.store, backlog);
  const stores = [await openStore({ dataDir: t.dataDir, url: t.url }), await openStore({ dataDir: t.dataDir, url: t.url })];
  const running = stores.map((store) => startWebhooks({ store, policy: () => policy, publicUrl: "https://airlock.example.com", timing: FAST }));
  try {
    await until(() => receiver.accepted().size === 60, "all 60 are accepted");
    await until(async () => (await deliveries(t.store)).every((x) => x.state === "delivered"), "every delivery is recorded");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.received.length, 60, "none was sent twice");
    assert.ok((await deliveries(t.store)).every((x) => x.attempts === 1));
  } finally {
    for (const w of running) await w.close();
    for (const s of stores) await s.close();
    await t.close();
    await receiver.close();
  }
});
