import assert from "node:assert/strict";
import { test } from "node:test";
import { FollowUps } from "../../lib/approvals/follow-ups";
import { heldUpdate } from "../../lib/approvals/testing";
import { openTestStore } from "../support/store";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { KEY, PUBLIC_URL, until, webhookInstance, webhookPolicy } from "./setup";

test("reminders and the escalation reach webhooks that name them, as CloudEvents saying whom they nudged", async () => {
  const receiver = await startWebhookReceiver(KEY);
  const t = await openTestStore();
  const policy = webhookPolicy(receiver.url, { events: ["request.reminded", "request.escalated"] });
  const airlock = await webhookInstance(t.store, () => policy);
  const followUps = new FollowUps({ store: t.store, bus: airlock.bus }).start();
  try {
    const r = await airlock.approvals.open(heldUpdate({ timeoutMs: 5_000, followUp: { remindMs: 400, escalate: { afterMs: 600, to: ["sre-leads"], channel: "#sre" } } }));
    const events = () => receiver.received.map((x) => JSON.parse(x.body) as { type: string; subject: string; data: Record<string, unknown> & { request: { url: string } } });
    // Both kinds, whatever came first: a timer late on a loaded machine sends a second reminder
    // before the escalation, or skips the first interval (missed intervals are not made up).
    await until(() => ["reminded", "escalated"].every((type) => events().some((e) => e.type === `dev.airlock.request.${type}`)), "a reminder and the escalation are accepted");
    followUps.close();
    const reminded = events().find((e) => e.type === "dev.airlock.request.reminded")!;
    assert.deepEqual([reminded.subject, reminded.data.groups, reminded.data.request.url], [r.id, ["db-approvers"], `${PUBLIC_URL}/requests/${r.id}`]);
    assert.ok(Number.isInteger(reminded.data.reminder) && (reminded.data.reminder as number) >= 1, `the interval it stands for (${String(reminded.data.reminder)})`);
    const escalated = events().find((e) => e.type === "dev.airlock.request.escalated")!;
    assert.deepEqual([escalated.subject, escalated.data.groups, escalated.data.channel], [r.id, ["sre-leads"], "#sre"]);
    assert.ok(events().every((e) => e.type !== "dev.airlock.request.opened"), "only the events named");
  } finally {
    followUps.close();
    await airlock.close();
    await t.close();
    await receiver.close();
  }
});
