import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { openTestStore } from "../../test/support/store";
import { GrantStore } from "../approvals/grants";
import type { Decider } from "../approvals/people";
import { ApprovalService } from "../approvals/service";
import { heldUpdate } from "../approvals/testing";
import { EventBus } from "../events/bus";
import type { Store } from "../db/client";
import { StoreEventTransport } from "../events/store-transport";
import { AirlockMetrics, serveMetrics } from "./metrics";
import type { PolicyStatus } from "../policy/source";
import { checkReadiness } from "./readiness";
import { statementOutcome } from "./statement-outcome";

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

test("a statement's outcome is read from what the recorder sees", () => {
  const cases: Array<[Parameters<typeof statementOutcome>[0], string]> = [
    [{ outcome: "ok" }, "allowed"],
    [{ outcome: "error", errorMessage: "relation does not exist" }, "allowed"],
    [{ outcome: "ok", masked: { columns: ["email"], values: 3 } }, "masked"],
    [{ outcome: "refused", errorMessage: "airlock: no rule allows admin" }, "refused"],
    [{ outcome: "ok", requestId: "r1" }, "approved"],
    [{ outcome: "refused", requestId: "r1", errorMessage: "airlock: denied by alice@example.com: no" }, "denied"],
    [{ outcome: "refused", requestId: "r1", errorMessage: "airlock: approval timed out" }, "expired"],
    [{ outcome: "refused", requestId: "r1", errorMessage: "airlock: request r1 cancelled: Airlock is shutting down" }, "cancelled"],
    [{ outcome: "refused", requestId: "r1", errorMessage: "airlock: approval required by rule agents-write — request r1: …" }, "held"],
  ];
  for (const [row, outcome] of cases) assert.equal(statementOutcome(row), outcome, JSON.stringify(row));
});

test("decisions by channel, time to decision, holds pending and grants active", async () => {
  const { store, close } = await openTestStore();
  const metrics = new AirlockMetrics();
  const bus = new EventBus();
  const grants = new GrantStore(store, bus);
  const approvals = new ApprovalService(store, grants, bus, { observer: metrics.approvals });
  metrics.gauges({ store, agentConnections: () => 2 });
  try {
    const once = await approvals.open(heldUpdate());
    const granted = await approvals.open(heldUpdate({ sessionId: "s2" }));
    const denied = await approvals.open(heldUpdate({ sessionId: "s3" }));
    await approvals.open(heldUpdate({ sessionId: "s4" }));
    await approvals.decide({ requestId: once.id, person: alice, action: "approve", grant: "once", via: "web" });
    await approvals.decide({ requestId: granted.id, person: alice, action: "approve", grant: 900_000, via: "slack" });
    await approvals.decide({ requestId: denied.id, person: alice, action: "deny", reason: "no", via: "slack" });

    const text = await metrics.registry.metrics();
    assert.match(text, /^airlock_decisions_total\{channel="web",action="approve"\} 1$/m);
    assert.match(text, /^airlock_decisions_total\{channel="slack",action="approve"\} 1$/m);
    assert.match(text, /^airlock_decisions_total\{channel="slack",action="deny"\} 1$/m);
    assert.match(text, /^airlock_decisions_total\{channel="web",action="deny"\} 0$/m);
    assert.match(text, /^airlock_time_to_decision_seconds_count\{outcome="approved"\} 2$/m);
    assert.match(text, /^airlock_time_to_decision_seconds_count\{outcome="denied"\} 1$/m);
    assert.match(text, /^airlock_holds_pending 1$/m);
    assert.match(text, /^airlock_grants_active 1$/m);
    assert.match(text, /^airlock_agent_connections 2$/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.match(text, /^process_resident_memory_bytes /m);
    for (const secret of ["alice", "reporting-agent", "update orders", once.id, granted.id, denied.id]) assert.ok(!text.includes(secret), `${secret} in the metrics`);
  } finally {
    approvals.close();
    grants.close();
    await close();
  }
});

test("the recorder's statements and batches", async () => {
  const metrics = new AirlockMetrics();
  metrics.recorder.statement({ sessionId: "s", text: "select 1", protocol: "simple", outcome: "ok", durationMs: 1, startedAt: new Date(), resource: "demo" });
  metrics.recorder.batch(5, 12, true);
  metrics.recorder.batch(5, 12, false);
  const text = await metrics.registry.metrics();
  assert.match(text, /^airlock_statements_total\{outcome="allowed",kind="unknown",resource="demo"\} 1$/m);
  // Counted between scrapes too: the next scrape adds to the series, a scrape with none since keeps it.
  metrics.recorder.statement({ sessionId: "s", text: "select 1", protocol: "simple", outcome: "ok", durationMs: 1, startedAt: new Date(), resource: "demo" });
  metrics.recorder.statement({ sessionId: "s", text: "select 1", protocol: "simple", outcome: "refused", durationMs: 1, startedAt: new Date(), resource: "demo" });
  for (let scrape = 0; scrape < 2; scrape++) {
    const later = await metrics.registry.metrics();
    assert.match(later, /^airlock_statements_total\{outcome="allowed",kind="unknown",resource="demo"\} 2$/m);
    assert.match(later, /^airlock_statements_total\{outcome="refused",kind="unknown",resource="demo"\} 1$/m);
  }
  assert.match(text, /^airlock_audit_write_batch_size_sum 5$/m);
  assert.match(text, /^airlock_audit_write_lag_seconds_sum 0\.012$/m);
  assert.match(text, /^airlock_audit_write_failures_total 1$/m);
});

test("statement times per resource (timers cached), Slack failures by method and outcome", async () => {
  const metrics = new AirlockMetrics();
  const demo = metrics.statementTimer("demo");
  assert.equal(metrics.statementTimer("demo"), demo, "one timer per resource");
  demo.observe(2, 0.05);
  demo.observe(20, -0.001);
  metrics.slackFailed("post", true);
  metrics.slackFailed("update", false);
  const text = await metrics.registry.metrics();
  assert.match(text, /^airlock_statement_upstream_seconds_count\{resource="demo"\} 2$/m);
  assert.match(text, /^airlock_statement_upstream_seconds_sum\{resource="demo"\} 0\.022$/m);
  assert.match(text, /^airlock_statement_upstream_seconds_bucket\{le="0\.0025",resource="demo"\} 1$/m);
  assert.match(text, /^airlock_statement_upstream_seconds_bucket\{le="0\.025",resource="demo"\} 2$/m);
  assert.match(text, /^airlock_statement_upstream_seconds_bucket\{le="\+Inf",resource="demo"\} 2$/m);
  assert.match(text, /^# TYPE airlock_statement_proxy_seconds histogram$/m);
  // Clock noise never makes a negative time.
  assert.match(text, /^airlock_statement_proxy_seconds_sum\{resource="demo"\} 0\.00005$/m);
  assert.match(text, /^airlock_statement_proxy_seconds_bucket\{le="0\.0001",resource="demo"\} 2$/m);
  assert.match(text, /^airlock_slack_delivery_failures_total\{method="post",outcome="retry"\} 1$/m);
  assert.match(text, /^airlock_slack_delivery_failures_total\{method="update",outcome="give_up"\} 1$/m);
  assert.match(text, /^airlock_slack_delivery_failures_total\{method="post",outcome="give_up"\} 0$/m);
});

test("store errors: zero from the start, counted by the readiness probe and the event bus", async () => {
  const metrics = new AirlockMetrics();
  const down = new Error("the store is down");
  const store = { sql: { get: () => Promise.reject(down), all: () => Promise.reject(down), run: () => Promise.reject(down) } } as unknown as Store;
  assert.match(await metrics.registry.metrics(), /^airlock_store_errors_total\{operation="orphan_sweep"\} 0$/m);

  const readiness = await checkReadiness({ store, policy: () => ({}) as PolicyStatus, proxy: () => ({ listening: true, draining: false }), storeError: metrics.storeError });
  assert.equal(readiness.checks.store, "the store does not answer");
  const transport = new StoreEventTransport(store, { id: "me" }, 5, metrics.storeError);
  const quiet = console.error;
  console.error = () => undefined;
  try {
    transport.start(() => undefined);
    transport.send({ type: "request.changed", requestId: "r1", status: "pending" });
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    transport.close();
    console.error = quiet;
  }
  metrics.storeError("orphan_sweep");
  const text = await metrics.registry.metrics();
  assert.match(text, /^airlock_store_errors_total\{operation="readiness"\} 1$/m);
  assert.match(text, /^airlock_store_errors_total\{operation="events_read"\} 1$/m);
  assert.match(text, /^airlock_store_errors_total\{operation="events_send"\} 1$/m);
  assert.match(text, /^airlock_store_errors_total\{operation="orphan_sweep"\} 1$/m);
  assert.match(text, /^airlock_store_errors_total\{operation="grants_reload"\} 0$/m);
});

test("with a token, only the bearer of it is answered", async () => {
  const metrics = new AirlockMetrics();
  const server = createServer((req, res) => void serveMetrics(metrics.registry, "s3cret-token", req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  try {
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer s3cret" } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Basic s3cret-token" } })).status, 401);
    const ok = await fetch(url, { headers: { authorization: "Bearer s3cret-token" } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.equal((await fetch(url, { method: "POST", headers: { authorization: "Bearer s3cret-token" } })).status, 405);
  } finally {
    server.close();
  }
});
