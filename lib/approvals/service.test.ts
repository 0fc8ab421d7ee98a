import { after, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect, type TestStore } from "../../test/support/store";
import { EventBus } from "../events/bus";
import { accessScope, ALL_TABLES } from "./grant-scope";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService, type NewRequest } from "./service";
import { heldUpdate } from "./testing";

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers", "engineering"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };
const carol: Decider = { email: "carol@example.com", groups: ["engineering"], role: "viewer" };
const dora: Decider = { email: "dora@example.com", groups: ["finance-approvers"], role: "approver" };

for (const d of eachDialect()) {
  describe(`approvals on ${d.dialect}`, () => {
    let t: TestStore | undefined;
    let grants: GrantStore;
    let service: ApprovalService;
    const closeAll = async () => {
      service?.close();
      grants?.close();
      await t?.close();
    };
    after(async () => {
      await closeAll();
      await d.stop();
    });
    beforeEach(async () => {
      await closeAll();
      t = await d.open();
      const bus = new EventBus();
      grants = new GrantStore(t.store, bus);
      await grants.load();
      service = new ApprovalService(t.store, grants, bus);
    });

    function request(overrides: Partial<NewRequest> = {}) {
      return service.open(heldUpdate(overrides));
    }

    test("one approval releases a count-1 request; whoever waits hears it", async () => {
      const r = await request();
      const outcome = service.outcome(r.id);
      const result = await service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
      assert.ok(result.ok && result.finished);
      assert.deepEqual(await outcome, { status: "approved", grantId: null, by: ["alice@example.com"], maxRows: null });
      assert.equal((await service.get(r.id))!.status, "approved");
    });

    test("a denial ends it, with who and why", async () => {
      const r = await request({ requiredApprovals: 2 });
      await service.decide({ requestId: r.id, person: bob, action: "approve", via: "web" });
      await service.decide({ requestId: r.id, person: alice, action: "deny", reason: "not during the freeze", via: "web" });
      assert.deepEqual(await service.outcome(r.id), { status: "denied", by: "alice@example.com", reason: "not during the freeze" });
    });

    test("count 2: one approver is not enough, nor the same one twice; a second approver releases it", async () => {
      const r = await request({ requiredApprovals: 2 });
      const first = await service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
      assert.ok(first.ok && !first.finished);
      const again = await service.decide({ requestId: r.id, person: alice, action: "approve", via: "slack" });
      assert.equal(!again.ok && again.code, "duplicate");
      assert.equal((await service.get(r.id))!.status, "pending");
      const second = await service.decide({ requestId: r.id, person: bob, action: "approve", via: "slack" });
      assert.ok(second.ok && second.finished);
      assert.equal((await service.get(r.id))!.status, "approved");
      assert.deepEqual((await service.decisions(r.id)).map((x) => [x.personEmail, x.via]), [["alice@example.com", "web"], ["bob@example.com", "slack"]]);
    });

    test("viewers and people outside the approver groups cannot decide; nothing changes", async () => {
      const r = await request();
      for (const person of [carol, dora, { ...carol, groups: ["db-approvers"] }]) {
        const result = await service.decide({ requestId: r.id, person, action: "approve", via: "web" });
        assert.equal(!result.ok && result.code, "forbidden", person.email);
      }
      assert.equal((await service.get(r.id))!.status, "pending");
      assert.deepEqual(await service.decisions(r.id), []);
    });

    test("a decided request stays decided: the second decision is told who decided", async () => {
      const r = await request();
      await service.decide({ requestId: r.id, person: bob, action: "approve", via: "web" });
      const late = await service.decide({ requestId: r.id, person: alice, action: "deny", via: "web" });
      assert.ok(!late.ok);
      assert.equal(late.code, "already_decided");
      assert.match(late.message, /already approved by bob@example\.com at \d{4}-/);
    });

    test("concurrent approve and deny yield exactly one outcome", async () => {
      const r = await request();
      const results = await Promise.all([
        service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" }),
        service.decide({ requestId: r.id, person: bob, action: "deny", via: "slack" }),
      ]);
      assert.equal(results.filter((x) => x.ok).length, 1);
      assert.equal(results.filter((x) => !x.ok && x.code === "already_decided").length, 1);
      assert.equal((await service.decisions(r.id)).length, 1);
    });

    test("a decision and an expiry at once: the request ends one way, and the decision says which", async () => {
      for (let round = 0; round < 10; round++) {
        const r = await request({ sessionId: `s${round}` });
        const [decided] = await Promise.all([service.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" }), service.expire(r.id)]);
        const stored = (await service.get(r.id))!;
        assert.equal(stored.status, decided.ok ? "approved" : "expired", `round ${round}`);
        assert.equal(stored.grantId !== null, decided.ok, `round ${round}: a grant only with the approval`);
        assert.equal((await grants.active()).filter((g) => g.requestId === r.id).length, decided.ok ? 1 : 0, `round ${round}`);
      }
    });

    test("approving for a duration creates a grant that covers the same scope, and only it", async () => {
      const r = await request();
      const invalid = await service.decide({ requestId: r.id, person: alice, action: "approve", grant: 100 * 3_600_000, via: "web" });
      assert.equal(!invalid.ok && invalid.code, "invalid", "longer than the longest the rule offers");
      const result = await service.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "web" });
      assert.ok(result.ok);
      const grant = grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] });
      assert.ok(grant);
      assert.equal(grant.id, (await service.get(r.id))!.grantId);
      assert.ok(Math.abs(grant.expiresAt.getTime() - Date.now() - 900_000) < 5_000);
      assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "delete", table: "public.orders" }] }), undefined);
      assert.equal(grants.covering({ agentId: "ops-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] }), undefined);
      assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.customers" }] }), undefined);
      await grants.revoke(grant.id, "alice@example.com");
      assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.orders" }] }), undefined);
    });

    test("with a quorum, the shortest choice wins: anyone choosing once means once", async () => {
      const r = await request({ requiredApprovals: 2 });
      await service.decide({ requestId: r.id, person: alice, action: "approve", grant: 3_600_000, via: "web" });
      await service.decide({ requestId: r.id, person: bob, action: "approve", grant: "once", via: "web" });
      assert.equal((await service.get(r.id))!.grantId, null);
    });

    test("a request expires at its timeout, and a late decision is told so", async () => {
      const r = await request({ timeoutMs: 50 });
      assert.deepEqual(await service.outcome(r.id), { status: "expired" });
      const late = await service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
      assert.ok(!late.ok && /already expired/.test(late.message));
    });

    test("cancelled requests and orphans after a restart end as cancelled, with the reason", async () => {
      const a = await request();
      const b = await request();
      await service.cancel(a.id, "the agent disconnected");
      assert.deepEqual(await service.outcome(a.id), { status: "cancelled", reason: "the agent disconnected" });
      assert.equal(await service.cancelOrphans(), 1);
      assert.equal((await service.get(b.id))!.status, "cancelled");
      assert.match((await service.get(b.id))!.outcomeReason!, /restarted/);
    });

    test("access asked for is approved for its length or shorter, never longer nor once; the grant's clock starts at approval", async () => {
      const ask = () => request({ kind: "access", statements: [], durationMs: 15 * 60_000, reason: "fix orders", scope: accessScope(["select", "update"], [ALL_TABLES]), grantOptions: [15 * 60_000], sessionId: null });
      const r = await ask();
      const longer = await service.decide({ requestId: r.id, person: alice, action: "approve", grant: 20 * 60_000, via: "web" });
      assert.equal(!longer.ok && longer.code, "invalid");
      const once = await service.decide({ requestId: r.id, person: alice, action: "approve", grant: "once", via: "web" });
      assert.equal(!once.ok && once.code, "invalid");
      const before = Date.now();
      assert.ok((await service.decide({ requestId: r.id, person: alice, action: "approve", grant: 10 * 60_000, via: "web" })).ok);
      const grant = (await grants.get((await service.get(r.id))!.grantId!))!;
      assert.deepEqual(grant.scope, [
        { kind: "select", table: "*" },
        { kind: "update", table: "*" },
      ]);
      assert.ok(grant.expiresAt.getTime() >= before + 10 * 60_000 && grant.expiresAt.getTime() <= Date.now() + 10 * 60_000);
      assert.ok(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "update", table: "public.anything" }] }), "all tables");
      assert.equal(grants.covering({ agentId: "reporting-agent", resource: "demo", pairs: [{ kind: "delete", table: null }] }), undefined, "not other kinds");
      assert.equal((await grants.active(new Date(), "ops-agent")).length, 0);
    });

    test("a wait given up leaves no waiter behind and resolves undefined", async () => {
      const r = await request();
      const controller = new AbortController();
      const waiting = service.outcome(r.id, controller.signal);
      controller.abort();
      assert.equal(await waiting, undefined);
      const next = service.outcome(r.id);
      await service.decide({ requestId: r.id, person: alice, action: "deny", reason: "no", via: "web" });
      assert.equal((await next).status, "denied");
    });

    test("a restart cancels held statements but leaves access asked for up front pending, its expiry kept", async () => {
      const held = await request();
      const asked = await request({ kind: "access", statements: [], sessionId: null, durationMs: 60_000, grantOptions: [60_000], timeoutMs: 200 });
      service.close(); // as after a restart: no timers
      service = new ApprovalService(t!.store, grants);
      assert.equal(await service.cancelOrphans(), 1);
      assert.equal((await service.get(held.id))!.status, "cancelled");
      assert.equal((await service.get(asked.id))!.status, "pending");
      assert.equal((await service.outcome(asked.id)).status, "expired", "its expiry was re-armed");
    });

    test("a held statement approved while it waited is marked run, so return mode cannot run it again", async () => {
      const r = await request();
      await service.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
      await service.markConsumed(r.id);
      assert.equal(await service.consumeApproved("reporting-agent", "demo", r.statements, r.scope), undefined);
    });
  });
}
