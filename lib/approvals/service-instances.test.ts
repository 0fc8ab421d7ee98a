import { after, afterEach, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { startPostgres, type TestPostgres } from "../../test/support/postgres";
import { openTestPostgresStore, type TestStore } from "../../test/support/store";
import { openStore, type Store } from "../db/client";
import { EventBus, type AirlockEvent } from "../events/bus";
import { GrantStore } from "./grants";
import { TooManyPendingError } from "./pending-cap";
import type { Decider } from "./people";
import { ApprovalService, WAITS_RECHECKED_MS, type ApprovalOptions } from "./service";
import { heldUpdate } from "./testing";

// Instances of Airlock sharing one PostgreSQL store: each its own Store (its own pool), as two
// processes on two machines have. What one store connection cannot show: the store itself
// keeping them to one outcome.

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };
const orders = { agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] } as const;

interface Instance {
  store: Store;
  bus: EventBus;
  grants: GrantStore;
  approvals: ApprovalService;
  /** Everything published on this instance's bus. */
  heard: AirlockEvent[];
}

let server: TestPostgres;
let shared: TestStore;
let opened: Instance[] = [];
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());
beforeEach(async () => {
  shared = await openTestPostgresStore(server);
});
afterEach(async () => {
  for (const i of opened) {
    i.approvals.close();
    i.grants.close();
    await i.store.close();
  }
  opened = [];
  await shared.close();
});

/** Another instance on the test's database: its own pool; its own bus unless given one to share. */
async function instance(options: ApprovalOptions & { bus?: EventBus } = {}): Promise<Instance> {
  const store = await openStore({ dataDir: shared.dataDir, url: shared.url });
  const bus = options.bus ?? new EventBus();
  const heard: AirlockEvent[] = [];
  bus.subscribe((event) => heard.push(event));
  const grants = new GrantStore(store, bus);
  await grants.load();
  const i = { store, bus, grants, approvals: new ApprovalService(store, grants, bus, options), heard };
  opened.push(i);
  return i;
}

test("two approvers deciding one request at the same moment on two instances: exactly one outcome", async () => {
  const [a, b] = [await instance(), await instance()];
  for (let round = 0; round < 10; round++) {
    const r = await a.approvals.open(heldUpdate({ sessionId: `s${round}` }));
    const deny = round % 2 === 1;
    const results = await Promise.all([
      a.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" }),
      b.approvals.decide({ requestId: r.id, person: bob, action: deny ? "deny" : "approve", grant: 900_000, via: "slack" }),
    ]);
    assert.equal(results.filter((x) => x.ok && x.finished).length, 1, `round ${round}: one decided it`);
    assert.equal(results.filter((x) => !x.ok && x.code === "already_decided").length, 1, `round ${round}: the other was told it was decided`);
    assert.equal((await a.approvals.decisions(r.id)).length, 1, `round ${round}: one decision recorded`);
    const stored = (await b.approvals.get(r.id))!;
    const approvedBy = results.findIndex((x) => x.ok && x.request.status === "approved");
    assert.equal(stored.status, approvedBy >= 0 ? "approved" : "denied");
    const grants = await shared.store.sql.all<{ id: string }>("select id from grants where request_id = ?", [r.id]);
    assert.equal(grants.length, approvedBy >= 0 ? 1 : 0, `round ${round}: a grant only for an approval, and one`);
    assert.equal(stored.grantId, grants[0]?.id ?? null);
  }
});

test("a quorum of two reached on two instances at once: both approvals count, one grant", async () => {
  const [a, b] = [await instance(), await instance()];
  for (let round = 0; round < 5; round++) {
    const r = await a.approvals.open(heldUpdate({ requiredApprovals: 2, sessionId: `s${round}` }));
    const results = await Promise.all([
      a.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" }),
      b.approvals.decide({ requestId: r.id, person: bob, action: "approve", grant: 3_600_000, via: "slack" }),
    ]);
    assert.ok(results.every((x) => x.ok));
    assert.equal(results.filter((x) => x.ok && x.finished).length, 1, "the second one finished it");
    const stored = (await a.approvals.get(r.id))!;
    assert.equal(stored.status, "approved");
    const grants = await shared.store.sql.all<{ id: string }>("select id from grants where request_id = ?", [r.id]);
    assert.deepEqual(grants.map((g) => g.id), [stored.grantId]);
  }
});

test("a decision and an expiry on two instances at once: one of them ends the request, and it says so", async () => {
  const [a, b] = [await instance(), await instance()];
  for (let round = 0; round < 20; round++) {
    const r = await a.approvals.open(heldUpdate({ sessionId: `s${round}` }));
    const [decided] = await Promise.all([a.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" }), b.approvals.expire(r.id)]);
    const stored = (await a.approvals.get(r.id))!;
    const grants = await shared.store.sql.all<{ id: string }>("select id from grants where request_id = ?", [r.id]);
    if (decided.ok) {
      assert.equal(stored.status, "approved", `round ${round}: the approval that succeeded is what the store says`);
      assert.equal(grants.length, 1);
    } else {
      assert.equal(decided.code, "already_decided", `round ${round}`);
      assert.equal(stored.status, "expired");
      assert.equal(grants.length, 0, `round ${round}: no grant for an expired request`);
      assert.notEqual(a.grants.covering(orders)?.requestId, r.id);
    }
  }
});

test("two instances opening requests for one agent at once never pass its cap", async () => {
  const [a, b] = [await instance({ maxPendingPerAgent: 3 }), await instance({ maxPendingPerAgent: 3 })];
  const opened = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => (n % 2 ? a : b).approvals.open(heldUpdate({ agentId: "ops-agent", sessionId: `s${n}` }))));
  assert.equal(opened.filter((o) => o.status === "fulfilled").length, 3);
  for (const o of opened) if (o.status === "rejected") assert.ok(o.reason instanceof TooManyPendingError, String(o.reason));
  assert.equal(await a.approvals.pendingCount({ agentId: "ops-agent" }), 3);
  assert.equal(await b.approvals.pendingCount({ agentId: "ops-agent" }), 3);
  assert.ok(await a.approvals.open(heldUpdate({ agentId: "reporting-agent" })), "another agent's requests are not held back");
});

test("an expiry armed on two instances ends the request once: one request.changed across both", async () => {
  const [a, b] = [await instance(), await instance()];
  const r = await a.approvals.open(heldUpdate({ kind: "access", statements: [], sessionId: null, durationMs: 60_000, grantOptions: [60_000], timeoutMs: 200 }));
  await b.approvals.cancelOrphans(); // re-arms the access request's expiry in b as well
  const [inA, inB] = await Promise.all([a.approvals.outcome(r.id), b.approvals.outcome(r.id)]);
  assert.deepEqual(inA, { status: "expired" });
  assert.deepEqual(inB, { status: "expired" });
  await new Promise((resolve) => setTimeout(resolve, 100)); // both timers have fired by now
  const ended = [...a.heard, ...b.heard].filter((e) => e.type === "request.changed" && e.requestId === r.id && e.status !== "pending");
  assert.deepEqual(ended, [{ type: "request.changed", requestId: r.id, status: "expired" }]);
});

test("an approved statement resent on two instances at once runs once", async () => {
  const [a, b] = [await instance(), await instance()];
  for (let round = 0; round < 10; round++) {
    const r = await a.approvals.open(heldUpdate({ sessionId: `s${round}` }));
    assert.ok((await a.approvals.decide({ requestId: r.id, person: alice, action: "approve", via: "web" })).ok);
    const used = await Promise.all([a.approvals.consumeApproved(r.agentId, r.resource, r.statements, r.scope), b.approvals.consumeApproved(r.agentId, r.resource, r.statements, r.scope)]);
    assert.equal(used.filter((u) => u?.id === r.id).length, 1, `round ${round}`);
    assert.equal(used.filter((u) => u === undefined).length, 1, `round ${round}`);
  }
});

test("a grant made on one instance covers on another once its bus hears; revoked there, it stops here", async () => {
  const bus = new EventBus(); // as a transport between them would: every event reaches both
  const [a, b] = [await instance({ bus }), await instance({ bus })];
  const r = await a.approvals.open(heldUpdate());
  const decided = await a.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" });
  assert.ok(decided.ok);
  const grantId = decided.request.grantId!;
  assert.equal(a.grants.covering(orders)?.id, grantId, "at once where it was made");
  await until(() => b.grants.covering(orders)?.id === grantId, "b learns of the grant");
  assert.ok(await b.grants.revoke(grantId, "bob@example.com"));
  assert.equal(b.grants.covering(orders), undefined, "at once where it was revoked");
  await until(() => a.grants.covering(orders) === undefined, "a learns of the revocation");
});

test("with no bus between them, an instance learns of grants and revocations by reading them again", async () => {
  const [a, b] = [await instance(), await instance()];
  const r = await a.approvals.open(heldUpdate());
  const decided = await a.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" });
  assert.ok(decided.ok);
  assert.equal(b.grants.covering(orders), undefined, "b has not heard yet");
  await b.grants.load();
  assert.equal(b.grants.covering(orders)?.id, decided.request.grantId);
  await b.grants.revoke(decided.request.grantId!, "bob@example.com");
  assert.ok(a.grants.covering(orders), "a has not heard yet");
  await a.grants.load();
  assert.equal(a.grants.covering(orders), undefined);
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), what);
}

test("an event lost between instances (separate buses here) delays no one for long: what is waited on is read again", async () => {
  const [a, b] = [await instance(), await instance()];
  const r = await a.approvals.open(heldUpdate({ sessionId: "lost-event" }));
  const started = Date.now();
  const outcome = a.approvals.outcome(r.id);
  await b.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: "once", via: "web" });
  assert.equal((await outcome).status, "approved");
  const waited = Date.now() - started;
  assert.ok(waited <= WAITS_RECHECKED_MS + 2_000, `heard after ${waited} ms`);
});
