import { after, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect, type TestStore } from "../../test/support/store";
import { GrantStore } from "./grants";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";
import { askRevert } from "./undo/revert";
import { saveUndo } from "./undo/store";

/**
 * A revert of a write whose rule asks for step-up (review.step_up) changes the same rows again:
 * it asks the same fresh sign-in, so a Slack click or an old session cannot decide it.
 */
const STEP_UP_MS = 5 * 60_000;

for (const d of eachDialect()) {
  describe(`the revert of a step-up request on ${d.dialect}`, () => {
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
      grants = new GrantStore(t.store);
      await grants.load();
      service = new ApprovalService(t.store, grants);
    });

    const person = (email: string, signIn?: Decider["signIn"]): Decider => ({ email, groups: ["db-approvers"], role: "approver", ...(signIn ? { signIn } : {}) });
    const fresh = (email: string) => person(email, { method: "oidc", at: new Date(Date.now() - 1_000) });

    test("keeps the original's step-up: a Slack click and a stale sign-in do not count, a fresh one does", async () => {
      const original = await service.open(heldUpdate({ stepUpMs: STEP_UP_MS }));
      assert.ok((await service.decide({ requestId: original.id, person: fresh("alice@example.com"), action: "approve", via: "web" })).ok);
      const target = { table: "public.orders", name: "public.orders", key: ["id"], columns: ["id", "status"] };
      await saveUndo(t!.store, undefined, original, { kind: "update", target, rows: [{ before: { id: 1, status: "a" }, after: { id: 1, status: "x" } }] }, 3_600_000);

      const asked = await askRevert(t!.store, service, original.id, fresh("alice@example.com"));
      assert.ok(asked.ok, asked.ok ? "" : asked.message);
      assert.equal(asked.request.stepUpMs, STEP_UP_MS, "the revert request asks the original's step-up");
      for (const [bob, via] of [[person("bob@example.com"), "slack"], [person("bob@example.com", { method: "oidc", at: new Date(Date.now() - STEP_UP_MS - 60_000) }), "web"]] as const) {
        const refused = await service.decide({ requestId: asked.request.id, person: bob, action: "approve", via });
        assert.ok(!refused.ok && refused.code === "step_up", `SECURITY: the revert was decided without a fresh sign-in: ${JSON.stringify(refused)}`);
      }
      assert.equal((await service.get(asked.request.id))!.status, "pending");
      assert.ok((await service.decide({ requestId: asked.request.id, person: fresh("bob@example.com"), action: "approve", via: "web" })).ok);
      assert.equal((await service.get(asked.request.id))!.status, "approved");
    });
  });
}
