import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eachDialect } from "../../test/support/store";
import { GrantStore } from "../approvals/grants";
import { AuditCapture } from "../audit/capture";
import { AuditLog } from "../audit/log";
import { verifyChain } from "../audit/verify";
import { decide } from "../decision/decide";
import { EventBus } from "../events/bus";
import type { AgentIdentity } from "../identity/agent-token";
import { parsePolicy } from "../policy/policy-file";
import { classify } from "../sql/classify";
import { loadSqlParser } from "../sql/parser";
import { TEST_CATALOG } from "../sql/testing";
import { BreakGlassService } from "./break-glass";
import { isBreakGlass } from "./break-glass-id";

const policy = parsePolicy(`resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: never-truncate
    match: { kinds: [truncate] }
    action: deny
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers] }
break_glass: { groups: [ops], max: 1h }
`);
const ops = { agentId: "ops-agent", groups: ["agents", "ops"] } as AgentIdentity;

for (const d of eachDialect()) {
  describe(`break-glass on ${d.dialect}`, () => {
    after(() => d.stop());

    before(() => loadSqlParser());

    test("a use is a grant at once (bg_ id) that stands in for review, never for a deny rule; used and reviewed each recorded once, in the chain", async () => {
      const { store, close } = await d.open();
      const bus = new EventBus();
      const grants = new GrantStore(store, bus);
      const alerts: string[] = [];
      const service = new BreakGlassService({ store, grants, bus, policy: () => policy, alert: async (use) => void alerts.push(use.id) });
      const capture = new AuditCapture(store, new AuditLog(store), bus);
      try {
        const taken = await service.invoke(ops, { resource: "demo", duration: "20m", reason: "incident 7" });
        assert.ok(taken.ok);
        const id = taken.value.id;
        assert.ok(isBreakGlass(id), id);
        assert.deepEqual(alerts, [id], "alerted once, at once");
        assert.deepEqual((await service.unreviewed()).map((u) => [u.id, u.reason, u.durationMs]), [[id, "incident 7", 1_200_000]]);

        const session = { sessionId: "s1", agentId: "ops-agent", groups: ops.groups, resource: "demo" };
        const run = (text: string) => decide(policy, session, { text, protocol: "simple", classification: classify(text, TEST_CATALOG) }, grants);
        const update = run("update orders set status = 'x' where id = 1");
        assert.deepEqual([update.action, update.action === "allow" && update.grantId], ["allow", id], "a held update runs under it");
        const truncate = run("truncate orders");
        assert.deepEqual([truncate.action, truncate.action === "refuse" && truncate.message], ["refuse", "airlock: denied by rule never-truncate: truncate on public.orders"], "the deny rule still refuses");

        assert.deepEqual(await service.review(id, "alice@example.com", " "), { ok: false, message: "write a note: what was done under break-glass, and whether it was right" });
        assert.equal((await service.unreviewed()).length, 1, "still waiting");
        assert.deepEqual(await service.review(id, "alice@example.com", "fine"), { ok: true });
        assert.deepEqual(await service.review(id, "bob@example.com", "again"), { ok: false, message: "already reviewed" });
        assert.deepEqual(await service.review("bg_000000000000", "bob@example.com", "x"), { ok: false, message: "no such break-glass use" });
        assert.equal((await service.unreviewed()).length, 0);

        await capture.catchUp();
        await capture.catchUp();
        const rows = await store.sql.all<{ type: string; person: string | null; data: string }>(`select type, person, data from audit_log where type like 'break_glass.%' order by id`);
        assert.deepEqual(
          rows.map((r) => [r.type, r.person, JSON.parse(r.data).reason ?? JSON.parse(r.data).note]),
          [
            ["break_glass.used", null, "incident 7"],
            ["break_glass.reviewed", "alice@example.com", "fine"],
          ],
        );
        assert.equal((await verifyChain(store)).ok, true);
      } finally {
        await capture.close();
        grants.close();
        await close();
      }
    });
  });
}
