import { after, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect, type TestStore } from "../../test/support/store";
import { EventBus, type AirlockEvent } from "../events/bus";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { signInOfSession, stepUpSignInParams, whyNotSteppedUp } from "./step-up";
import { heldUpdate } from "./testing";

const STEP_UP_MS = 5 * 60_000;
const now = new Date("2026-03-01T10:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

test("whyNotSteppedUp: a request without step-up asks nothing; with it, only a recent sign-in with a time (OIDC or SAML) counts", () => {
  const plain = { stepUpMs: null };
  const stepUp = { stepUpMs: STEP_UP_MS };
  assert.equal(whyNotSteppedUp(plain, undefined, now), undefined, "no step-up: a Slack click decides as before");
  assert.equal(whyNotSteppedUp(stepUp, { method: "oidc", at: ago(STEP_UP_MS) }, now), undefined, "exactly at the limit still counts");
  assert.equal(whyNotSteppedUp(stepUp, { method: "oidc", at: ago(1_000) }, now), undefined);
  assert.match(whyNotSteppedUp(stepUp, { method: "oidc", at: ago(STEP_UP_MS + 1_000) }, now)!, /older than this request allows.*within the last 5m \(step-up\); sign in again/);
  assert.match(whyNotSteppedUp(stepUp, { method: "oidc" }, now)!, /did not say when you signed in/, "no auth_time: fail closed");
  assert.equal(whyNotSteppedUp(stepUp, { method: "saml", at: ago(1_000) }, now), undefined, "SAML: its AuthnInstant counts as auth_time does");
  assert.match(whyNotSteppedUp(stepUp, { method: "saml", at: ago(STEP_UP_MS + 1_000) }, now)!, /older than this request allows/);
  assert.match(whyNotSteppedUp(stepUp, { method: "saml" }, now)!, /did not say when you signed in/);
  assert.match(whyNotSteppedUp(stepUp, undefined, now)!, /decide it on its page/, "a Slack click: sent to the page");
});

test("whyNotSteppedUp: a sign-in dated in the future (the IdP's clock ahead) counts only within a minute's skew, else it would stay fresh past the step-up", () => {
  const stepUp = { stepUpMs: STEP_UP_MS };
  const later = (ms: number) => new Date(now.getTime() + ms);
  assert.equal(whyNotSteppedUp(stepUp, { method: "oidc", at: later(30_000) }, now), undefined, "a little skew is tolerated");
  assert.match(whyNotSteppedUp(stepUp, { method: "oidc", at: later(3_600_000) }, now) ?? "SECURITY: counted", /dated in the future/);
  assert.match(whyNotSteppedUp(stepUp, { method: "saml", at: later(STEP_UP_MS) }, now) ?? "SECURITY: counted", /dated in the future/);
});

test("a session's sign-in: auth_time in seconds becomes a time; none kept (an older session) is a sign-in without one", () => {
  assert.deepEqual(signInOfSession({ method: "oidc", authTime: 1_700_000_000 }), { method: "oidc", at: new Date(1_700_000_000_000) });
  assert.deepEqual(signInOfSession({ method: "saml" }), { method: "saml" });
  assert.deepEqual(signInOfSession(undefined), { method: "oidc" });
  assert.deepEqual(stepUpSignInParams(STEP_UP_MS), { prompt: "login", max_age: "300" });
});

for (const d of eachDialect()) {
  describe(`step-up decisions on ${d.dialect}`, () => {
    let t: TestStore | undefined;
    let grants: GrantStore;
    let service: ApprovalService;
    let events: AirlockEvent[];
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
      events = [];
      bus.subscribe((e) => events.push(e));
      grants = new GrantStore(t.store, bus);
      await grants.load();
      service = new ApprovalService(t.store, grants, bus);
    });

    const approver = (signIn?: Decider["signIn"]): Decider => ({ email: "alice@example.com", groups: ["db-approvers"], role: "approver", ...(signIn ? { signIn } : {}) });
    const fresh = () => approver({ method: "oidc", at: new Date(Date.now() - 1_000) });
    const stale = () => approver({ method: "oidc", at: new Date(Date.now() - STEP_UP_MS - 60_000) });

    test("a stale sign-in, none (Slack) or one without a time is refused and recorded; the request still waits; a fresh one then counts and is kept", async () => {
      const r = await service.open(heldUpdate({ stepUpMs: STEP_UP_MS }));
      assert.equal((await service.get(r.id))!.stepUpMs, STEP_UP_MS, "the rule's step-up is kept on the request as it opened");
      for (const [person, via] of [[stale(), "web"], [approver(), "slack"], [approver({ method: "oidc" }), "web"], [approver({ method: "saml", at: new Date(Date.now() - STEP_UP_MS - 60_000) }), "web"]] as const) {
        const refused = await service.decide({ requestId: r.id, person, action: "approve", via });
        assert.ok(!refused.ok && refused.code === "step_up", JSON.stringify(refused));
      }
      // Denying asks the same: a decision is a decision.
      const denied = await service.decide({ requestId: r.id, person: stale(), action: "deny", reason: "no", via: "web" });
      assert.ok(!denied.ok && denied.code === "step_up");
      assert.equal((await service.get(r.id))!.status, "pending");
      assert.deepEqual(await service.decisions(r.id), [], "nothing that did not count is a decision");
      const recorded = events.filter((e) => e.type === "request.step_up_refused");
      assert.equal(recorded.length, 5);
      assert.deepEqual(
        recorded.map((e) => [e.via, e.action, e.signIn?.method ?? null]),
        [["web", "approve", "oidc"], ["slack", "approve", null], ["web", "approve", "oidc"], ["web", "approve", "saml"], ["web", "deny", "oidc"]],
      );

      const person = fresh();
      const ok = await service.decide({ requestId: r.id, person, action: "approve", via: "web" });
      assert.ok(ok.ok && ok.finished);
      assert.equal((await service.get(r.id))!.status, "approved");
      const [decision] = await service.decisions(r.id);
      assert.equal(decision.authAt?.getTime(), person.signIn!.at!.getTime(), "the sign-in that made it count is kept with the decision");
    });

    test("refusal() (Slack's check before its deny form) says step_up too; it records it only as a decision tried", async () => {
      const r = await service.open(heldUpdate({ stepUpMs: STEP_UP_MS }));
      assert.equal((await service.refusal(r.id, approver()))?.code, "step_up");
      assert.equal(await service.refusal(r.id, fresh()), undefined);
      assert.equal(events.filter((e) => e.type === "request.step_up_refused").length, 0, "a check alone records nothing");
      assert.equal((await service.refusal(r.id, approver(), { action: "deny", via: "slack" }))?.code, "step_up");
      assert.deepEqual(
        events.flatMap((e) => (e.type === "request.step_up_refused" ? [[e.action, e.via, e.signIn]] : [])),
        [["deny", "slack", null]],
      );
      assert.equal((await service.get(r.id))!.status, "pending");
    });

    test("without step-up nothing changes: a click from Slack decides, and no sign-in time is kept", async () => {
      const r = await service.open(heldUpdate());
      assert.equal((await service.get(r.id))!.stepUpMs, null);
      const ok = await service.decide({ requestId: r.id, person: approver(), action: "approve", via: "slack" });
      assert.ok(ok.ok && ok.finished);
      assert.equal((await service.decisions(r.id))[0].authAt, null);
    });
  });
}
