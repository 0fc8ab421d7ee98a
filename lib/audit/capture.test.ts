import assert from "node:assert/strict";
import { after, test } from "node:test";
import { makeTempDir } from "../../test/support/temp-dir";
import { GrantStore } from "../approvals/grants";
import { openStore } from "../db/client";
import { EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import { AuditCapture } from "./capture";
import { AuditLog } from "./log";
import { verifyChain } from "./verify";

const dir = makeTempDir("capture");
const store = openStore(dir.path, "drizzle");
after(() => {
  store.close();
  dir.remove();
});

const rows = () => store.db.$client.prepare("select type, person, grant_id as grantId, decision, data from audit_log order by id").all() as Array<{ type: string; person: string | null; grantId: string | null; decision: string | null; data: string }>;

test("policy loads (with their hash) and rejected edits, sign-ins, grants that ran out: each recorded once", () => {
  const bus = new EventBus();
  let status: PolicyStatus = { file: "/etc/airlock.policy.yaml", loadedAt: new Date(1000), hash: "aa".repeat(32), text: "" };
  const capture = new AuditCapture(store.db, new AuditLog(store.db), bus, () => status);
  bus.publish({ type: "person.signed_in", email: "alice@example.com", role: "approver", at: new Date(2000).toISOString() });
  status = { ...status, error: { message: "rules.0.action: invalid", at: new Date(3000) } };
  bus.publish({ type: "policy.changed", ok: false });
  bus.publish({ type: "policy.changed", ok: false }); // the same state again: nothing new

  const grants = new GrantStore(store.db, bus);
  const grant = grants.create({ agentId: "ops-agent", resource: "demo", scope: [{ kind: "update", table: "public.orders" }], rule: "agents-write", requestId: "r_1", approvedBy: ["alice@example.com"], createdAt: new Date(Date.now() - 60_000), expiresAt: new Date(Date.now() - 1) });
  capture.catchUp();
  capture.catchUp();
  capture.close();

  assert.deepEqual(
    rows().map((r) => [r.type, r.person ?? r.grantId ?? JSON.parse(r.data).hash ?? JSON.parse(r.data).error]),
    [
      ["policy.loaded", "aa".repeat(32)],
      ["person.signed_in", "alice@example.com"],
      ["policy.rejected", "rules.0.action: invalid"],
      ["grant.created", grant.id],
      ["grant.expired", grant.id],
    ],
  );
  assert.ok(verifyChain(store.db).ok);
});
