import assert from "node:assert/strict";
import { test } from "node:test";
import { eq } from "drizzle-orm";
import { WebhookOutbox } from "../../lib/webhooks/outbox";
import { DELIVERY_RETENTION_MS, startWebhooks } from "../../lib/webhooks/start";
import { openTestStore } from "../support/store";
import { deliveries, FAST, PUBLIC_URL, until, webhookPolicy } from "./setup";

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
