import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Store } from "../../db/client";
import { EventBus, type AirlockEvent } from "../../events/bus";
import { startPostgres, type TestPostgres } from "../../../test/support/postgres";
import { openTestPostgresStore, openTestStore, type TestStore } from "../../../test/support/store";
import { previewOf, previewsOf, savePreview } from "./store";
import type { ImpactPreview } from "./types";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
});

const preview = (rows: number): ImpactPreview => ({ at: new Date(Date.UTC(2026, 0, 1)).toISOString(), tookMs: 12, statements: [{ text: "update t set a = $1", kind: "update", estimate: { rows }, dryRun: { rows, columns: ["a"], sample: [{ before: ["1"], after: ["2"] }] } }] });

async function openRequest(store: Store, id: string): Promise<void> {
  const now = new Date();
  await store.db.insert(store.tables.accessRequests).values({ id, agentId: "reporting-agent", groups: ["agents"], resource: "pg", sessionId: null, statements: [{ text: "update t set a = $1", params: ["2"] }], scope: [{ kind: "update", table: "public.t" }], rule: "agents-write", why: "writes", approverGroups: ["db-approvers"], requiredApprovals: 1, grantOptions: ["once"], status: "pending", createdAt: now, expiresAt: new Date(now.getTime() + 60_000) });
}

for (const [name, open] of [["SQLite", () => openTestStore()], ["PostgreSQL", () => openTestPostgresStore(server)]] as const) {
  describe(`request previews on ${name}`, () => {
    let t: TestStore;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t.close();
    });

    test("kept once per request, read back whole, and announced as a change of the request", async () => {
      await openRequest(t.store, "r_p1");
      const bus = new EventBus();
      const heard: AirlockEvent[] = [];
      bus.subscribe((e) => heard.push(e));
      assert.equal(await previewOf(t.store, "r_p1"), undefined);
      assert.equal(await savePreview(t.store, bus, "r_p1", preview(3)), true);
      assert.equal(await savePreview(t.store, bus, "r_p1", preview(99)), false, "the first preview is the one kept");
      assert.deepEqual(await previewOf(t.store, "r_p1"), preview(3));
      assert.deepEqual([...(await previewsOf(t.store, ["r_p1", "r_none"])).keys()], ["r_p1"]);
      assert.deepEqual(heard, [{ type: "request.changed", requestId: "r_p1", status: "pending" }]);
      bus.close();
    });
  });
}
