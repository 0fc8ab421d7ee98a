import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { afterEach, test } from "node:test";
import { GrantStore } from "../../lib/approvals/grants";
import { ApprovalService } from "../../lib/approvals/service";
import { heldUpdate } from "../../lib/approvals/testing";
import { openStore } from "../../lib/db/client";
import { openTestStore } from "../support/store";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { deliveries, FAST, KEY, until, webhookInstance, webhookPolicy } from "./setup";

// The outbox is in the store: what one instance queued, another delivers after a restart or a crash.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setUp(answers: Parameters<typeof startWebhookReceiver>[1]) {
  const receiver = await startWebhookReceiver(KEY, answers);
  cleanup.push(() => receiver.close());
  const t = await openTestStore();
  await t.store.close(); // each instance opens the file itself, as each process does
  cleanup.push(() => t.close().catch(() => undefined));
  return { receiver, dataDir: t.dataDir, policy: webhookPolicy(receiver.url, { events: ["request.opened"] }) };
}

test("an event its receiver refused (503) before a restart is delivered by the instance that runs next", async () => {
  const { receiver, dataDir, policy } = await setUp([503]);
  const first = await openStore({ dataDir });
  // Its retry would come in a minute: it is stopped before then.
  const a = await webhookInstance(first, () => policy, { timing: { ...FAST, retry: { baseMs: 60_000, maxMs: 60_000 } } });
  await a.approvals.open(heldUpdate());
  await until(async () => (await deliveries(first))[0]?.lastError === "HTTP 503", "the first try failed");
  await a.close();
  await first.close();

  const second = await openStore({ dataDir });
  cleanup.push(() => second.close());
  const b = await webhookInstance(second, () => policy, { timing: { ...FAST, retry: { baseMs: 60_000, maxMs: 60_000 } } });
  cleanup.push(() => b.close());
  // Due in a minute: moved up here so that the test need not wait it out (what a restart keeps is the row).
  await second.sql.run("update webhook_deliveries set next_attempt_at = ?", [Date.now()]);
  await until(() => receiver.accepted().size === 1, "the event is accepted");
  assert.deepEqual(receiver.received.map((x) => x.answer), [503, 200]);
  assert.equal(new Set(receiver.received.map((x) => x.id)).size, 1);
});

test("a try cut short by a crash (the process killed while the receiver held it) is made again by another instance once the hold ends", async () => {
  const { receiver, dataDir, policy } = await setUp(["hang"]);
  const holdMs = 3_000;
  const child = spawn(process.execPath, ["--import", "tsx", "test/webhooks/crashing-instance.ts", dataDir, receiver.url, String(holdMs)], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  cleanup.push(async () => {
    child.kill("SIGKILL");
    await exited;
  });
  await until(() => receiver.received.length === 1, "the receiver holds the first try", 30_000);
  child.kill("SIGKILL");
  await exited;
  const killedAt = Date.now();

  const store = await openStore({ dataDir });
  cleanup.push(() => store.close());
  // The dead instance's hold ends here (its claim came before the receiver heard the try, by as
  // long as a fresh process's first request takes): the bounds are on it, not on the try's arrival.
  const holdEnds = (await deliveries(store))[0].nextAttemptAt.getTime();
  const b = await webhookInstance(store, () => policy);
  cleanup.push(() => b.close());
  await until(() => receiver.accepted().size === 1, "the event is accepted from the new instance");
  const second = receiver.received[1];
  assert.equal(second.id, receiver.received[0].id, "the same event, by its webhook-id");
  assert.ok(second.at >= holdEnds, "not before the dead instance's hold ended");
  // Soon after it ended: at a poll, not a retry's backoff later (generous: a loaded machine starts the instance slowly).
  assert.ok(second.at - Math.max(holdEnds, killedAt) < 10_000, "soon after it ended");
  await until(async () => (await deliveries(store))[0].state === "delivered", "the delivery is recorded");
  assert.equal((await deliveries(store))[0].attempts, 2);
});

test("what happened while nothing recorded (a crash before the audit caught it) is queued and delivered at the next start", async () => {
  const { receiver, dataDir, policy } = await setUp([]);
  const first = await openStore({ dataDir });
  const grants = new GrantStore(first);
  // The approvals service alone: the request is in the store, but no capture heard of it.
  const approvals = new ApprovalService(first, grants);
  const request = await approvals.open(heldUpdate());
  approvals.close();
  grants.close();
  await first.close();

  const second = await openStore({ dataDir });
  cleanup.push(() => second.close());
  const b = await webhookInstance(second, () => policy);
  cleanup.push(() => b.close());
  await until(() => receiver.accepted().size === 1, "the event is accepted");
  assert.equal((JSON.parse(receiver.received[0].body) as { subject: string }).subject, request.id);
});
