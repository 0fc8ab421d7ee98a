import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect, type TestStore } from "../../test/support/store";
import { openStore } from "../db/client";
import { EventBus, type AirlockEvent } from "../events/bus";
import { currentInstance, InstanceRegistry } from "../events/instances";
import { eventTransport } from "../events/transport";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

/** The approvals service of one process on the shared store (the proxy's, or the dashboard's). */
async function processOnStore(shared: TestStore, name: string) {
  const store = await openStore({ dataDir: shared.dataDir, url: shared.url });
  const instance = currentInstance(name);
  const bus = new EventBus(eventTransport(store, instance, shared.url));
  const heard: AirlockEvent[] = [];
  bus.subscribe((event) => heard.push(event));
  const grants = new GrantStore(store, bus);
  await grants.load();
  const approvals = new ApprovalService(store, grants, bus, { instanceId: instance.id });
  const close = async () => {
    approvals.close();
    grants.close();
    bus.close();
    await store.close();
  };
  return { store, approvals, instance, heard, close };
}

for (const d of eachDialect()) {
  describe(`approvals shared by processes on ${d.dialect}`, () => {
    after(() => d.stop());

    test("a statement held in one process is released by a decision made in another", async () => {
      const shared = await d.open();
      const proxy = await processOnStore(shared, "one-proxy");
      const dashboard = await processOnStore(shared, "one-dashboard");
      try {
        const request = await proxy.approvals.open(heldUpdate());
        assert.equal(request.heldBy, proxy.instance.id);
        const outcome = proxy.approvals.outcome(request.id);
        assert.ok((await dashboard.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
        const start = performance.now();
        assert.deepEqual(await outcome, { status: "approved", grantId: null, by: [alice.email], maxRows: null });
        assert.ok(performance.now() - start < 1000);
      } finally {
        await proxy.close();
        await dashboard.close();
        await shared.close();
      }
    });

    test("an expiry armed in two processes ends the request once; both processes' waiters hear it", async () => {
      const shared = await d.open();
      const a = await processOnStore(shared, "two-a");
      const b = await processOnStore(shared, "two-b");
      try {
        const request = await a.approvals.open(heldUpdate({ kind: "access", durationMs: 60_000, timeoutMs: 150 }));
        await b.approvals.cancelOrphans(); // re-arms the access request's expiry in b as well
        const [inA, inB] = await Promise.all([a.approvals.outcome(request.id), b.approvals.outcome(request.id)]);
        assert.deepEqual(inA, { status: "expired" });
        assert.deepEqual(inB, { status: "expired" });
        await new Promise((r) => setTimeout(r, 200));
        // Each process hears every request.changed once, its own or the other's: one each means one was sent.
        const expired = (heard: AirlockEvent[]) => heard.filter((e) => e.type === "request.changed" && e.requestId === request.id && e.status === "expired");
        assert.equal(expired(a.heard).length, 1, "one request.changed for the expiry");
        assert.equal(expired(b.heard).length, 1, "one request.changed for the expiry");
        if (d.dialect === "sqlite") {
          const rows = await a.store.sql.all<{ payload: string }>("select payload from events");
          assert.equal(rows.filter((e) => e.payload.includes(request.id) && e.payload.includes('"expired"')).length, 1, "one row in the events table");
        }
      } finally {
        await a.close();
        await b.close();
        await shared.close();
      }
    });

    test("at start, a process cancels only the held statements of instances that are gone", async () => {
      const shared = await d.open();
      const a = await processOnStore(shared, "three-a");
      const b = await processOnStore(shared, "three-b");
      const registry = new InstanceRegistry(b.store, b.instance, { list: () => [] }, new EventBus());
      try {
        await new InstanceRegistry(a.store, a.instance, { list: () => [] }, new EventBus()).close();
        const ofUnknown = await a.approvals.open(heldUpdate());
        await a.store.sql.run("update access_requests set held_by = 'i_unknown' where id = ?", [ofUnknown.id]);
        const ofB = await b.approvals.open(heldUpdate({ sessionId: "s3" }));
        // a's row as a killed process leaves it: beating until a moment ago, under a pid no longer running.
        await a.store.db.insert(a.store.tables.instances).values({ id: a.instance.id, name: "killed", host: a.instance.host, pid: 2 ** 22 + 1, startedAt: new Date(), seenAt: new Date() });
        const ofKilled = await a.approvals.open(heldUpdate({ sessionId: "s2" }));
        const live = await registry.liveIds();
        assert.deepEqual([...live], [b.instance.id]);
        assert.equal(await b.approvals.cancelOrphans(undefined, (r) => !r.heldBy || !live.has(r.heldBy)), 2);
        assert.equal((await a.approvals.get(ofKilled.id))?.status, "cancelled");
        assert.equal((await a.approvals.get(ofUnknown.id))?.status, "cancelled");
        assert.equal((await a.approvals.get(ofB.id))?.status, "pending", "a running instance's agent still waits");
      } finally {
        await registry.close();
        await a.close();
        await b.close();
        await shared.close();
      }
    });
  });
}
