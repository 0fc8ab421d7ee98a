import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eachDialect } from "../../test/support/store";
import type { WebhookDelivery } from "../db/schema";
import { parsePolicy } from "../policy/policy-file";
import { webhookStatus } from "./delivery-status";

const policy = parsePolicy(
  `resources: {}
notify:
  webhooks:
    - { name: siem, url: "https://siem.example.com", secret: { env: S }, events: [request.opened, request.decided] }
    - { name: pager, url: "https://pager.example.com", secret: { env: S }, events: [grant.created] }
`,
  { S: `whsec_${Buffer.alloc(32, 1).toString("base64")}` },
);

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    after(() => d.stop());

    test("per webhook of the policy: waiting (and retrying), delivered and given up in the last day; the newest given up", async () => {
      const { store, close } = await d.open();
      const now = new Date(Date.UTC(2026, 11, 7, 12));
      const ago = (h: number) => new Date(now.getTime() - h * 3600_000);
      let n = 0;
      const row = (webhook: string, state: WebhookDelivery["state"], extra: Partial<WebhookDelivery> = {}) => ({ eventId: `evt_${++n}`, type: "request.opened", webhook, body: "{}", state, attempts: 1, nextAttemptAt: now, createdAt: ago(30), ...extra });
      await store.db.insert(store.tables.webhookDeliveries).values([
        row("siem", "pending"),
        row("siem", "pending", { lastError: "HTTP 503" }),
        row("siem", "delivered", { endedAt: ago(1) }),
        row("siem", "delivered", { endedAt: ago(25) }), // before the last day
        row("siem", "failed", { endedAt: ago(2), lastError: "HTTP 400 (not retried)" }),
        row("pager", "failed", { endedAt: ago(1), lastError: "HTTP 410 (not retried)", type: "grant.created" }),
        row("gone", "pending"), // a webhook no longer in the policy is not listed
      ]);
      const status = await webhookStatus(store, policy.notify.webhooks, now);
      assert.deepEqual(status.webhooks, [
        { name: "siem", events: ["request.opened", "request.decided"], waiting: 2, retrying: 1, deliveredLastDay: 1, failedLastDay: 1 },
        { name: "pager", events: ["grant.created"], waiting: 0, retrying: 0, deliveredLastDay: 0, failedLastDay: 1 },
      ]);
      assert.deepEqual(status.recentFailures, [
        { webhook: "pager", type: "grant.created", eventId: "evt_6", error: "HTTP 410 (not retried)", at: ago(1) },
        { webhook: "siem", type: "request.opened", eventId: "evt_5", error: "HTTP 400 (not retried)", at: ago(2) },
      ]);
      await close();
    });
  });
}
