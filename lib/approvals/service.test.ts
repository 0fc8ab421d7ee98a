import { after, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir } from "../../test/support/temp-dir";
import { openStore, type Store } from "../db/client";
import { EventBus } from "../events/bus";
import { accessScope, ALL_TABLES } from "./grant-scope";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService, type NewRequest } from "./service";
import { heldUpdate } from "./testing";

const dir = makeTempDir("approvals");
let store: Store;
let grants: GrantStore;
let service: ApprovalService;
let n = 0;
after(() => {
  service?.close();
  store?.close();
  dir.remove();
});
beforeEach(() => {
  service?.close();
  store?.close();
  store = openStore(`${dir.path}/${n++}`, "drizzle");
  const bus = new EventBus();
  grants = new GrantStore(store.db, bus);
  service = new ApprovalService(store.db, grants, bus);
});

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers", "engineering"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };
const carol: Decider = { email: "carol@example.com", groups: ["engineering"], role: "viewer" };
const dora: Decider = { email: "dora@example.com", groups: ["finance-approvers"], role: "approver" };

function request(overrides: Partial<NewRequest> = {}) {
  return service.open(heldUpdate(overrides));
}

test("one approval releases a count-1 request; whoever waits hears it", async () => {
  const r = request();
  const outcome = service.outcome(r.id);
  const result = service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
  assert.ok(result.ok && result.finished);
  assert.deepEqual(await outcome, { status: "approved", grantId: null, by: ["alice@example.com"] });
  assert.equal(service.get(r.id)!.status, "approved");
});

test("a denial ends it, with who and why", async () => {
  const r = request({ requiredApprovals: 2 });
  service.decide({ requestId: r.id, person: bob, action: "approve", via: "web" });
  service.decide({ requestId: r.id, person: alice, action: "deny", reason: "not during the freeze", via: "web" });
  assert.deepEqual(await service.outcome(r.id), { status: "denied", by: "alice@example.com", reason: "not during the freeze" });
});

test("count 2: one approver is not enough, nor the same one twice; a second approver releases it", () => {
  const r = request({ requiredApprovals: 2 });
  const first = service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
  assert.ok(first.ok && !first.finished);
  const again = service.decide({ requestId: r.id, person: alice, action: "approve", via: "slack" });
  assert.equal(!again.ok && again.code, "duplicate");
  assert.equal(service.get(r.id)!.status, "pending");
  const second = service.decide({ requestId: r.id, person: bob, action: "approve", via: "slack" });
  assert.ok(second.ok && second.finished);
  assert.equal(service.get(r.id)!.status, "approved");
  assert.deepEqual(service.decisions(r.id).map((d) => [d.personEmail, d.via]), [["alice@example.com", "web"], ["bob@example.com", "slack"]]);
});

test("viewers and people outside the approver groups cannot decide; nothing changes", () => {
  const r = request();
  for (const person of [carol, dora, { ...carol, groups: ["db-approvers"] }]) {
    const result = service.decide({ requestId: r.id, person, action: "approve", via: "web" });
    assert.equal(!result.ok && result.code, "forbidden", person.email);
  }
  assert.equal(service.get(r.id)!.status, "pending");
  assert.deepEqual(service.decisions(r.id), []);
});

test("a decided request stays decided: the second decision is told who decided", () => {
  const r = request();
  service.decide({ requestId: r.id, person: bob, action: "approve", via: "web" });
  const late = service.decide({ requestId: r.id, person: alice, action: "deny", via: "web" });
  assert.ok(!late.ok);
  assert.equal(late.code, "already_decided");
  assert.match(late.message, /already approved by bob@example\.com at \d{4}-/);
});

test("concurrent approve and deny yield exactly one outcome", async () => {
  const r = request();
  const results = await Promise.all([
    Promise.resolve().then(() => service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" })),
    Promise.resolve().then(() => service.decide({ requestId: r.id, person: bob, action: "deny", via: "slack" })),
  ]);
  assert.equal(results.filter((x) => x.ok).length, 1);
  assert.equal(results.filter((x) => !x.ok && x.code === "already_decided").length, 1);
  assert.equal(service.decisions(r.id).length, 1);
});

test("approving for a duration creates a grant that covers the same scope, and only it", () => {
  const r = request();
  assert.equal(!service.decide({ requestId: r.id, person: alice, action: "approve", grant: 42, via: "web" }).ok && "invalid", "invalid");
  const result = service.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" });
  assert.ok(result.ok);
  const grant = grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] });
  assert.ok(grant);
  assert.equal(grant.id, service.get(r.id)!.grantId);
  assert.ok(Math.abs(grant.expiresAt.getTime() - Date.now() - 900_000) < 5_000);
  assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "delete", table: "public.orders" }] }), undefined);
  assert.equal(grants.covering({ agentId: "ops-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] }), undefined);
  assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.customers" }] }), undefined);
  grants.revoke(grant.id, "alice@example.com");
  assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] }), undefined);
});

test("with a quorum, the shortest choice wins: anyone choosing once means once", () => {
  const r = request({ requiredApprovals: 2 });
  service.decide({ requestId: r.id, person: alice, action: "approve", grant: 3_600_000, via: "web" });
  service.decide({ requestId: r.id, person: bob, action: "approve", grant: "once", via: "web" });
  assert.equal(service.get(r.id)!.grantId, null);
});

test("a request expires at its timeout, and a late decision is told so", async () => {
  const r = request({ timeoutMs: 50 });
  assert.deepEqual(await service.outcome(r.id), { status: "expired" });
  const late = service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
  assert.ok(!late.ok && /already expired/.test(late.message));
});

test("cancelled requests and orphans after a restart end as cancelled, with the reason", async () => {
  const a = request();
  const b = request();
  service.cancel(a.id, "the agent disconnected");
  assert.deepEqual(await service.outcome(a.id), { status: "cancelled", reason: "the agent disconnected" });
  assert.equal(service.cancelOrphans(), 1);
  assert.equal(service.get(b.id)!.status, "cancelled");
  assert.match(service.get(b.id)!.outcomeReason!, /restarted/);
});

test("access asked for is approved for its length or shorter, never longer nor once; the grant's clock starts at approval", () => {
  const ask = () => request({ kind: "access", statements: [], durationMs: 15 * 60_000, reason: "fix orders", scope: accessScope(["select", "update"], [ALL_TABLES]), grantOptions: [15 * 60_000], sessionId: null });
  const r = ask();
  const longer = service.decide({ requestId: r.id, person: alice, action: "approve", grant: 20 * 60_000, via: "web" });
  assert.equal(!longer.ok && longer.code, "invalid");
  const once = service.decide({ requestId: r.id, person: alice, action: "approve", grant: "once", via: "web" });
  assert.equal(!once.ok && once.code, "invalid");
  const before = Date.now();
  assert.ok(service.decide({ requestId: r.id, person: alice, action: "approve", grant: 10 * 60_000, via: "web" }).ok);
  const grant = grants.get(service.get(r.id)!.grantId!)!;
  assert.deepEqual(grant.scope, [
    { kind: "select", table: "*" },
    { kind: "update", table: "*" },
  ]);
  assert.ok(grant.expiresAt.getTime() >= before + 10 * 60_000 && grant.expiresAt.getTime() <= Date.now() + 10 * 60_000);
  assert.ok(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.anything" }] }), "all tables");
  assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "delete", table: null }] }), undefined, "not other kinds");
  assert.equal(grants.active(new Date(), "ops-agent").length, 0);
});

test("a wait given up leaves no waiter behind and resolves undefined", async () => {
  const r = request();
  const controller = new AbortController();
  const waiting = service.outcome(r.id, controller.signal);
  controller.abort();
  assert.equal(await waiting, undefined);
  const next = service.outcome(r.id);
  service.decide({ requestId: r.id, person: alice, action: "deny", reason: "no", via: "web" });
  assert.equal((await next).status, "denied");
});

test("a restart cancels held statements but leaves access asked for up front pending, its expiry kept", async () => {
  const held = request();
  const asked = request({ kind: "access", statements: [], sessionId: null, durationMs: 60_000, grantOptions: [60_000], timeoutMs: 200 });
  service.close(); // as after a restart: no timers
  service = new ApprovalService(store.db, grants);
  assert.equal(service.cancelOrphans(), 1);
  assert.equal(service.get(held.id)!.status, "cancelled");
  assert.equal(service.get(asked.id)!.status, "pending");
  assert.equal((await service.outcome(asked.id)).status, "expired", "its expiry was re-armed");
});

test("a held statement approved while it waited is marked run, so return mode cannot run it again", () => {
  const r = request();
  service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
  service.markConsumed(r.id);
  assert.equal(service.consumeApproved("reporting-agent", "demo", r.statements), undefined);
});
