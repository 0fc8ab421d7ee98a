import { after, test } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir } from "../../test/support/temp-dir";
import { openStore } from "../db/client";
import { events, instances } from "../db/schema";
import { EventBus } from "../events/bus";
import { currentInstance, InstanceRegistry } from "../events/instances";
import { StoreEventTransport } from "../events/store-transport";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";

const dir = makeTempDir("approvals-shared");
after(() => dir.remove());
const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

/** The approvals service of one process on the shared store (the proxy's, or the dashboard's). */
function processOnStore(name: string) {
  const store = openStore(`${dir.path}/${name.split("-")[0]}`, "drizzle");
  const instance = currentInstance(name);
  const bus = new EventBus(new StoreEventTransport(store.db, instance, 10));
  const approvals = new ApprovalService(store.db, new GrantStore(store.db, bus), bus, { instanceId: instance.id });
  return { store, approvals, instance, close: () => (approvals.close(), bus.close(), store.close()) };
}

test("a statement held in one process is released by a decision made in another", async () => {
  const proxy = processOnStore("one-proxy");
  const dashboard = processOnStore("one-dashboard");
  try {
    const request = proxy.approvals.open(heldUpdate());
    assert.equal(request.heldBy, proxy.instance.id);
    const outcome = proxy.approvals.outcome(request.id);
    assert.ok(dashboard.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" }).ok);
    const start = performance.now();
    assert.deepEqual(await outcome, { status: "approved", grantId: null, by: [alice.email] });
    assert.ok(performance.now() - start < 1000);
  } finally {
    proxy.close();
    dashboard.close();
  }
});

test("an expiry armed in two processes ends the request once; both processes' waiters hear it", async () => {
  const a = processOnStore("two-a");
  const b = processOnStore("two-b");
  try {
    const request = a.approvals.open(heldUpdate({ kind: "access", durationMs: 60_000, timeoutMs: 150 }));
    b.approvals.cancelOrphans(); // re-arms the access request's expiry in b as well
    const [inA, inB] = await Promise.all([a.approvals.outcome(request.id), b.approvals.outcome(request.id)]);
    assert.deepEqual(inA, { status: "expired" });
    assert.deepEqual(inB, { status: "expired" });
    await new Promise((r) => setTimeout(r, 100));
    const ended = a.store.db.select().from(events).all().filter((e) => e.payload.includes(request.id) && e.payload.includes('"expired"'));
    assert.equal(ended.length, 1, "one request.changed for the expiry");
  } finally {
    a.close();
    b.close();
  }
});

test("at start, a process cancels only the held statements of instances that are gone", () => {
  const a = processOnStore("three-a");
  const b = processOnStore("three-b");
  const registry = new InstanceRegistry(b.store.db, b.instance, { list: () => [] }, new EventBus());
  try {
    new InstanceRegistry(a.store.db, a.instance, { list: () => [] }, new EventBus()).close();
    const ofUnknown = a.approvals.open(heldUpdate());
    a.store.db.$client.prepare("update access_requests set held_by = 'i_unknown' where id = ?").run(ofUnknown.id);
    const ofB = b.approvals.open(heldUpdate({ sessionId: "s3" }));
    // a's row as a killed process leaves it: beating until a moment ago, under a pid no longer running.
    a.store.db.insert(instances).values({ id: a.instance.id, name: "killed", host: a.instance.host, pid: 2 ** 22 + 1, startedAt: new Date(), seenAt: new Date() }).run();
    const ofKilled = a.approvals.open(heldUpdate({ sessionId: "s2" }));
    const live = registry.liveIds();
    assert.deepEqual([...live], [b.instance.id]);
    assert.equal(b.approvals.cancelOrphans(undefined, (r) => !r.heldBy || !live.has(r.heldBy)), 2);
    assert.equal(a.approvals.get(ofKilled.id)?.status, "cancelled");
    assert.equal(a.approvals.get(ofUnknown.id)?.status, "cancelled");
    assert.equal(a.approvals.get(ofB.id)?.status, "pending", "a running instance's agent still waits");
  } finally {
    registry.close();
    a.close();
    b.close();
  }
});
