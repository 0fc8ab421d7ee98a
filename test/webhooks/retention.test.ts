import assert from "node:assert/strict";
import { test } from "node:test";
import { eq } from "drizzle-orm";
import { heldUpdate } from "../../lib/approvals/testing";
import { pruneAudit } from "../../lib/audit/retention";
import { WebhookOutbox } from "../../lib/webhooks/outbox";
import { DELIVERY_RETENTION_MS, startWebhooks } from "../../lib/webhooks/start";
import { openTestStore } from "../support/store";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { alice, deliveries, FAST, KEY, PUBLIC_URL, until, webhookInstance, webhookPolicy } from "./setup";

test("deliveries ended longer ago than the retention are removed from the start, not only after an hour up; the rest are kept", async () => {
  const t = await openTestStore();
  try {
    const { webhookDeliveries: d } = t.store.tables;
    const long = new Date(Date.now() - DELIVERY_RETENTION_MS - 60_000);
    const rows = ["evt_old_delivered", "evt_old_failed", "evt_recent", "evt_waiting"].map((eventId) => ({ eventId, type: "request.opened", webhook: "gone", body: "{}" }));
    await new WebhookOutbox(t.store).enqueue(t.store, rows, long);
    await t.store.db.update(d).set({ state: "delivered", endedAt: long }).where(eq(d.eventId, "evt_old_delivered"));
    await t.store.db.update(d).set({ state: "failed", endedAt: long }).where(eq(d.eventId, "evt_old_failed"));
    await t.store.db.update(d).set({ state: "delivered", endedAt: new Date() }).where(eq(d.eventId, "evt_recent"));
    // A waiting delivery's webhook is one the policy still has, so it stays waiting (due in an hour).
    await t.store.db.update(d).set({ webhook: "siem", nextAttemptAt: new Date(Date.now() + 3_600_000) }).where(eq(d.eventId, "evt_waiting"));
    const policy = webhookPolicy("https://siem.example.com/hook");
    const webhooks = startWebhooks({ store: t.store, policy: () => policy, publicUrl: PUBLIC_URL, timing: FAST });
    try {
      await until(async () => (await deliveries(t.store)).length === 2, "the old deliveries are removed");
      assert.deepEqual((await deliveries(t.store)).map((x) => x.eventId), ["evt_recent", "evt_waiting"]);
    } finally {
      await webhooks.close();
    }
  } finally {
    await t.close();
  }
});

test("what the audit's retention pruned is not recorded again, nor sent again to webhooks, when the audit catches up", async () => {
  const receiver = await startWebhookReceiver(KEY);
  const t = await openTestStore();
  const airlock = await webhookInstance(t.store, () => webhookPolicy(receiver.url, { events: ["request.opened", "request.decided"] }), { auditDays: 1 });
  try {
    const r = await airlock.approvals.open(heldUpdate());
    await airlock.approvals.decide({ requestId: r.id, person: alice, action: "deny", reason: "no", via: "web" });
    await until(() => receiver.accepted().size === 2, "both events are accepted");
    await until(async () => (await deliveries(t.store)).every((x) => x.state === "delivered"), "the deliveries are recorded");
    // Two days on: the request and its audit rows are older than the one day kept, and the rows are
    // pruned; so are the deliveries (kept 7 days, the audit's retention is far longer in practice).
    const twoDays = 2 * 86_400_000;
    await t.store.sql.run("update access_requests set created_at = created_at - ?, decided_at = decided_at - ?, expires_at = expires_at - ?", [twoDays, twoDays, twoDays]);
    await t.store.sql.run("update request_decisions set at = at - ?", [twoDays]);
    assert.equal(await pruneAudit(t.store, 1, new Date(Date.now() + twoDays)), 3);
    await t.store.sql.run("delete from webhook_deliveries");
    await airlock.capture.catchUp();
    assert.deepEqual(await t.store.sql.all("select type from audit_log"), [], "nothing pruned is recorded again");
    assert.deepEqual(await deliveries(t.store), [], "nor queued for the webhook again");
    assert.equal(receiver.received.length, 2);
  } finally {
    await airlock.close();
    await t.close();
    await receiver.close();
  }
});
