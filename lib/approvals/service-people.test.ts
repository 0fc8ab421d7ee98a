import { after, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect, type TestStore } from "../../test/support/store";
import { GrantStore } from "./grants";
import { TooManyPendingError } from "./pending-cap";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";

const AGENT_ISSUER = "https://login.example.com";

const approver = (email: string, identity?: Decider["identity"]): Decider => ({ email, groups: ["db-approvers"], role: "approver", identity });

for (const d of eachDialect()) {
  describe(`approvals and people on ${d.dialect}`, () => {
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
      service = new ApprovalService(t.store, grants, undefined, { maxPendingPerAgent: 3, agentIssuer: AGENT_ISSUER });
    });

    test("one decision per person, whatever the case of their email in the web or in Slack", async () => {
      const r = await service.open(heldUpdate({ requiredApprovals: 2 }));
      assert.ok((await service.decide({ requestId: r.id, person: approver("Bob@Example.com"), action: "approve", via: "web" })).ok);
      const again = await service.decide({ requestId: r.id, person: approver("bob@example.com "), action: "approve", via: "slack" });
      assert.deepEqual(again.ok ? "decided" : again.code, "duplicate");
      assert.equal((await service.refusal(r.id, approver("BOB@example.com")))?.code, "duplicate");
      assert.equal((await service.get(r.id))!.status, "pending");
    });

    test("the requester never approves: an agent named by the person's email in another case", async () => {
      const r = await service.open(heldUpdate({ agentId: "alice@example.com" }));
      const result = await service.decide({ requestId: r.id, person: approver("Alice@Example.COM"), action: "approve", via: "web" });
      assert.deepEqual(result.ok ? "decided" : result.code, "forbidden");
    });

    test("the requester never approves: the same identity (issuer and subject) under an email that differs", async () => {
      const r = await service.open(heldUpdate({ agentId: "00u1a2b3c4" }));
      const sameSubjectElsewhere = approver("alice@example.com", { issuer: "https://other.example.com", subject: "00u1a2b3c4" });
      assert.equal(await service.refusal(r.id, sameSubjectElsewhere), undefined, "a subject at another issuer is someone else");
      const result = await service.decide({ requestId: r.id, person: approver("alice@example.com", { issuer: AGENT_ISSUER, subject: "00u1a2b3c4" }), action: "approve", via: "web" });
      assert.deepEqual(result.ok ? "decided" : [result.code, result.message], ["forbidden", "the requester cannot decide its own request"]);
    });

    test("an agent has at most its cap of pending requests; others' and decided ones do not count; the count is true", async () => {
      const mine = [];
      for (let i = 0; i < 3; i++) mine.push(await service.open(heldUpdate({ agentId: "ops-agent" })));
      await assert.rejects(service.open(heldUpdate({ agentId: "ops-agent" })), (err: unknown) => err instanceof TooManyPendingError && err.limit === 3 && /^airlock: ops-agent already has 3 requests/.test(err.message));
      assert.ok(await service.open(heldUpdate({ agentId: "reporting-agent" })), "another agent still opens its requests");
      assert.equal(await service.pendingCount({ agentId: "ops-agent" }), 3);
      assert.equal(await service.pendingCount(), 4);
      await service.cancel(mine[0].id, "withdrawn");
      assert.ok(await service.open(heldUpdate({ agentId: "ops-agent" })), "a slot is free again once one ends");
      assert.equal((await service.list("pending", 2, { offset: 2 })).length, 2, "pages of the queue");
    });

    test("opened at once, an agent's requests still stop at its cap", async () => {
      const opened = await Promise.allSettled(Array.from({ length: 6 }, () => service.open(heldUpdate({ agentId: "ops-agent" }))));
      assert.equal(opened.filter((o) => o.status === "fulfilled").length, 3);
      assert.ok(opened.every((o) => o.status === "fulfilled" || o.reason instanceof TooManyPendingError));
      assert.equal(await service.pendingCount({ agentId: "ops-agent" }), 3);
    });

    test("one whose time ran out no longer counts, even before its timer marks it", async () => {
      for (let i = 0; i < 3; i++) await service.open(heldUpdate({ agentId: "ops-agent", timeoutMs: 0 }));
      assert.equal(await service.pendingCount({ agentId: "ops-agent" }), 0);
      assert.ok(await service.open(heldUpdate({ agentId: "ops-agent" })));
    });
  });
}
