import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { openStore } from "../../lib/db/client";
import { agentToken, api } from "../access/setup";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { makeTempDir } from "../support/temp-dir";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { KEY, until } from "./setup";

// Airlock as it runs (server.ts): the policy file's webhook, its secret from the environment, an
// agent's access request through the HTTP API, the event at the receiver, the try in /metrics;
// then a broken edit of the webhook, which changes nothing.

const METRICS_TOKEN = "webhook-test-metrics-token";
const policy = (url: string, secret: string) => `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers] }
    access: { max: 1h }
notify:
  webhooks:
    - name: siem
      url: "${url}"
      secret: ${secret}
      events: [request.opened]
`;

let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let airlock: RunningAirlock;
let file: string;
const dir = makeTempDir("webhook-server");

before(async () => {
  receiver = await startWebhookReceiver(KEY);
  file = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(file, policy(receiver.url, "{ env: AIRLOCK_SIEM_SECRET }"));
  airlock = await startAirlock({
    dataDir: path.join(dir.path, "data"),
    // server.ts itself, with the dashboard as last built: what is tested here runs beside Next.js, not in its bundle.
    command: [process.execPath, "--import", "tsx", "server.ts"],
    env: { AIRLOCK_POLICY: file, AIRLOCK_SIEM_SECRET: `whsec_${KEY.toString("base64")}`, AIRLOCK_METRICS_TOKEN: METRICS_TOKEN },
  });
});

after(async () => {
  await airlock?.stop();
  await receiver?.close();
  dir.remove();
});

test("an agent's access request reaches the policy's webhook, signed, once; /metrics counts the try", async () => {
  const token = await agentToken(airlock);
  const asked = await api<{ id: string }>(airlock, token, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "30m", reason: "fix order 7" });
  assert.equal(asked.status, 201);
  await until(() => receiver.accepted().size === 1, "the event is accepted", 30_000);
  const event = JSON.parse(receiver.received[0].body) as { type: string; source: string; subject: string; data: { request: { kind: string; agent: string; access: { reason: string } } } };
  assert.equal(event.type, "dev.airlock.request.opened");
  assert.equal(event.source, airlock.url);
  assert.equal(event.subject, asked.body.id);
  assert.deepEqual([event.data.request.kind, event.data.request.agent, event.data.request.access.reason], ["access", "reporting-agent", "fix order 7"]);

  let metrics = "";
  await until(async () => {
    metrics = await (await fetch(`${airlock.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    return metrics.includes('airlock_webhook_tries_total{webhook="siem",event="request.opened",outcome="delivered"} 1');
  }, "the delivery is counted");
});

test("an edit that breaks the webhook is refused with its line and field; the webhook in force goes on", async () => {
  fs.writeFileSync(file, policy(receiver.url, "{ env: AIRLOCK_UNSET_SECRET }"));
  await until(() => airlock.output().includes("airlock.policy.yaml:13: notify.webhooks.0.secret: environment variable AIRLOCK_UNSET_SECRET is not set"), "the edit is refused", 30_000);
  const token = await agentToken(airlock, "ops-agent");
  const asked = await api<{ id: string }>(airlock, token, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "30m" });
  assert.equal(asked.status, 201);
  await until(() => receiver.received.some((r) => r.signed && (JSON.parse(r.body) as { subject: string }).subject === asked.body.id), "the next event is delivered as before", 30_000);
});

test("SIGTERM with a delivery still being retried: a clean shutdown, and the delivery stays in the store for the next start", async () => {
  receiver.answer([503]);
  const token = await agentToken(airlock);
  const asked = await api<{ id: string }>(airlock, token, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "15m" });
  assert.equal(asked.status, 201);
  await until(() => receiver.received.some((r) => r.answer === 503), "the receiver refused a try", 30_000);
  await airlock.stop();
  assert.equal(await airlock.exited, 0, airlock.output());
  assert.match(airlock.output(), /\[airlock\] shut down/);
  const store = await openStore({ dataDir: airlock.dataDir });
  try {
    const rows = await store.sql.all<{ state: string; last_error: string }>("select state, last_error from webhook_deliveries where state <> 'delivered'");
    assert.deepEqual(rows, [{ state: "pending", last_error: "HTTP 503" }]);
  } finally {
    await store.close();
  }
});
