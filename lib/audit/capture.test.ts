import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eachDialect } from "../../test/support/store";
import { GrantStore } from "../approvals/grants";
import { EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import { AuditCapture } from "./capture";
import { AuditLog } from "./log";
import { verifyChain } from "./verify";

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    after(() => d.stop());

    test("policy loads (with their hash) and rejected edits, sign-ins, grants that ran out: each recorded once, in order", async () => {
      const { store, close } = await d.open();
      const rows = () => store.sql.all<{ type: string; person: string | null; grantId: string | null; data: string }>(`select type, person, grant_id as "grantId", data from audit_log order by id`);
      const bus = new EventBus();
      let status: PolicyStatus = { file: "/etc/airlock.policy.yaml", loadedAt: new Date(1000), hash: "aa".repeat(32), text: "" };
      const capture = new AuditCapture(store, new AuditLog(store), bus, () => status);
      await capture.catchUp(); // what it records at start is in, before anything happens
      bus.publish({ type: "person.signed_in", email: "alice@example.com", role: "approver", at: new Date(2000).toISOString() });
      status = { ...status, error: { message: "rules.0.action: invalid", at: new Date(3000) } };
      bus.publish({ type: "policy.changed", ok: false });
      bus.publish({ type: "policy.changed", ok: false }); // the same state again: nothing new

      const grants = new GrantStore(store, bus);
      const grant = await grants.create({ agentId: "ops-agent", resource: "demo", scope: [{ kind: "update", table: "public.orders" }], rule: "agents-write", requestId: "r_1", approvedBy: ["alice@example.com"], createdAt: new Date(Date.now() - 60_000), expiresAt: new Date(Date.now() - 1) });
      await capture.catchUp();
      await capture.catchUp();
      await capture.close();
      grants.close();

      assert.deepEqual(
        (await rows()).map((r) => [r.type, r.person ?? r.grantId ?? JSON.parse(r.data).hash ?? JSON.parse(r.data).error]),
        [
          ["policy.loaded", "aa".repeat(32)],
          ["person.signed_in", "alice@example.com"],
          ["policy.rejected", "rules.0.action: invalid"],
          ["grant.created", grant.id],
          ["grant.expired", grant.id],
        ],
      );
      assert.ok((await verifyChain(store)).ok);
      await close();
    });

    test("instances catching up and hearing the same events at once record each thing once", async () => {
      const { store, close } = await d.open();
      const grants = new GrantStore(store);
      await grants.create({ agentId: "ops-agent", resource: "demo", scope: [{ kind: "select", table: "public.orders" }], rule: "r", requestId: "r_2", approvedBy: ["bob@example.com"], createdAt: new Date(Date.now() - 60_000), expiresAt: new Date(Date.now() - 1) });
      // Three instances, each hearing every event (as the store's bus delivers it to each).
      const bus = new EventBus();
      const captures = [0, 1, 2].map(() => new AuditCapture(store, new AuditLog(store), bus));
      bus.publish({ type: "person.signed_in", email: "bob@example.com", role: "approver", at: new Date(5000).toISOString() });
      await Promise.all(captures.map((c) => c.catchUp()));
      await Promise.all(captures.map((c) => c.close()));
      grants.close();
      const types = await store.sql.all<{ type: string }>("select type from audit_log order by id");
      assert.deepEqual(types.map((t) => t.type).sort(), ["grant.created", "grant.expired", "person.signed_in"]);
      await close();
    });
  });
}
