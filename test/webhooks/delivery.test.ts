import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { heldUpdate } from "../../lib/approvals/testing";
import { parsePolicy, type Policy } from "../../lib/policy/policy-file";
import { MAX_IN_FLIGHT_PER_WEBHOOK } from "../../lib/webhooks/dispatcher";
import { WebhookOutbox } from "../../lib/webhooks/outbox";
import { openTestStore, type TestStore } from "../support/store";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { alice, deliveries, FAST, KEY, PUBLIC_URL, tries, until, webhookInstance, webhookPolicy, type WebhookInstance } from "./setup";

// Webhooks end to end on the embedded store: the approvals service and grants make things happen,
// the audit capture records them and queues their events, the dispatcher delivers them to a
// receiver on loopback that checks signatures as the Standard Webhooks specification says.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setUp(policy: Policy | ((url: string) => Policy), answers: Parameters<typeof startWebhookReceiver>[1] = [], timing = FAST) {
  const receiver = await startWebhookReceiver(KEY, answers);
  cleanup.push(() => receiver.close());
  const t: TestStore = await openTestStore();
  cleanup.push(() => t.close());
  const current = typeof policy === "function" ? policy(receiver.url) : policy;
  const airlock: WebhookInstance = await webhookInstance(t.store, () => current, { timing });
  cleanup.push(() => airlock.close());
  return { receiver, airlock, store: t.store };
}

/** The parts of an event these tests read. */
interface EventBody {
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  specversion: string;
  datacontenttype: string;
  data: {
    request: { url: string; agent: string; statements?: unknown[]; approvers: unknown };
    status?: string;
    reason?: string;
    grantId?: string;
    decisions: Array<Record<string, unknown>>;
    grant: { approvedBy: string[] };
    revokedBy?: string;
    uses?: number;
  };
}

const parsed = (body: string) => JSON.parse(body) as EventBody;

test("a request approved for a time: opened, decided and its grant, each delivered once, signed, as CloudEvents, without parameter values", async () => {
  const { receiver, airlock } = await setUp((url) => webhookPolicy(url));
  const r = await airlock.approvals.open(heldUpdate({ statements: [{ text: "update orders set status = $1 where id = $2", params: ["a-secret-value", "42"] }] }));
  const decided = await airlock.approvals.decide({ requestId: r.id, person: alice, action: "approve", grant: 900_000, via: "slack", reason: "ticket OPS-1" });
  assert.ok(decided.ok);
  await until(() => receiver.accepted().size === 3, "three events are accepted");

  assert.ok(receiver.received.every((x) => x.signed && x.contentType === "application/cloudevents+json; charset=utf-8"));
  assert.deepEqual([...receiver.accepted().values()], [1, 1, 1], "each once");
  const events = receiver.received.map((x) => ({ ...parsed(x.body), header: x.id }));
  assert.deepEqual(events.map((e) => e.type).sort(), ["dev.airlock.grant.created", "dev.airlock.request.decided", "dev.airlock.request.opened"]);
  for (const e of events) {
    assert.equal(e.specversion, "1.0");
    assert.equal(e.source, PUBLIC_URL);
    assert.equal(e.datacontenttype, "application/json");
    assert.equal(e.id, e.header, "the CloudEvents id is the webhook-id");
    assert.match(e.id, /^evt_[0-9a-f]{32}$/);
    assert.ok(!Number.isNaN(Date.parse(e.time)));
  }
  const opened = events.find((e) => e.type.endsWith("request.opened"))!;
  assert.equal(opened.subject, r.id);
  assert.equal(opened.data.request.url, `${PUBLIC_URL}/requests/${r.id}`);
  assert.equal(opened.data.request.agent, "reporting-agent");
  assert.deepEqual(opened.data.request.statements, [{ text: "update orders set status = $1 where id = $2", parameterCount: 2 }]);
  assert.deepEqual(opened.data.request.approvers, { groups: ["db-approvers"], required: 1 });
  const decision = events.find((e) => e.type.endsWith("request.decided"))!;
  const grantId = (await airlock.approvals.get(r.id))!.grantId;
  assert.equal(decision.data.status, "approved");
  assert.equal(decision.data.grantId, grantId);
  assert.deepEqual(decision.data.decisions.map((d) => [d.by, d.decision, d.via, d.grant, d.reason]), [["alice@example.com", "approve", "slack", 900_000, "ticket OPS-1"]]);
  const grant = events.find((e) => e.type.endsWith("grant.created"))!;
  assert.equal(grant.subject, grantId);
  assert.deepEqual(grant.data.grant.approvedBy, ["alice@example.com"]);
  assert.ok(receiver.received.every((x) => !x.body.includes("a-secret-value")), "no parameter's value in any event");

  // The grant revoked: grant.ended, with who and how often it was used.
  await airlock.grants.revoke(grantId!, "bob@example.com");
  await until(() => receiver.accepted().size === 4, "grant.ended is accepted");
  const ended = parsed(receiver.received.at(-1)!.body);
  assert.equal(ended.type, "dev.airlock.grant.ended");
  assert.deepEqual([ended.data.reason, ended.data.revokedBy, ended.data.uses], ["revoked", "bob@example.com", 0]);

  // The receiver answers before the dispatcher records it.
  await until(async () => (await deliveries(airlock.store)).every((d) => d.state === "delivered"), "every delivery is recorded");
  assert.ok((await deliveries(airlock.store)).every((d) => d.attempts === 1));
  assert.equal(await tries(airlock.metrics, "request.opened", "delivered"), 1);
});

test("only the events a webhook names reach it; include_sql: false leaves out the statements' text; a denial says who and where", async () => {
  const { receiver, airlock } = await setUp((url) => webhookPolicy(url, { events: ["request.decided"], extra: "      include_sql: false\n" }));
  const r = await airlock.approvals.open(heldUpdate());
  await airlock.approvals.decide({ requestId: r.id, person: alice, action: "deny", reason: "not during the freeze", via: "web" });
  const expired = await airlock.approvals.open(heldUpdate({ sessionId: "s2", statements: [{ text: "delete from orders", params: null }] }));
  await airlock.approvals.expire(expired.id);
  await until(() => receiver.accepted().size === 2, "the two decisions are accepted");
  const events = receiver.received.map((x) => parsed(x.body));
  assert.deepEqual(events.map((e) => [e.subject, e.data.status]).sort(), [[r.id, "denied"], [expired.id, "expired"]].sort());
  const denial = events.find((e) => e.data.status === "denied")!;
  assert.equal(denial.data.reason, "not during the freeze");
  assert.deepEqual(denial.data.decisions.map((d) => [d.by, d.decision, d.via]), [["alice@example.com", "deny", "web"]]);
  assert.ok(receiver.received.every((x) => !x.body.includes("orders set") && !x.body.includes("delete from")), "no statement text");
});

test("500s and a hang are retried with backoff until the receiver answers; the event is then accepted once", async () => {
  const { receiver, airlock } = await setUp((url) => webhookPolicy(url, { events: ["request.opened"] }), [500, 503, "hang", 200]);
  await airlock.approvals.open(heldUpdate());
  await until(() => receiver.accepted().size === 1, "the event is accepted after the failures");
  assert.deepEqual(receiver.received.map((x) => x.answer), [500, 503, "hang", 200]);
  assert.equal(new Set(receiver.received.map((x) => x.id)).size, 1, "every try carries the same webhook-id");
  const gaps = receiver.received.slice(1).map((x, i) => x.at - receiver.received[i].at);
  assert.ok(gaps[0] >= 100 && gaps[1] >= 200, `the waits grow (${gaps.join(", ")} ms)`);
  assert.ok(gaps[2] >= 500, `the hang took its try's timeout first (${gaps[2]} ms)`);
  const [row] = await deliveries(airlock.store);
  await until(async () => (await deliveries(airlock.store))[0].state === "delivered", "the delivery is recorded");
  assert.deepEqual([(await deliveries(airlock.store))[0].attempts, (await deliveries(airlock.store))[0].lastError], [4, null]);
  assert.equal(row.type, "request.opened");
  assert.equal(await tries(airlock.metrics, "request.opened", "retry"), 3);
  assert.equal(await tries(airlock.metrics, "request.opened", "delivered"), 1);
});

test("a 400, or a refusal of the signature (another key), is not retried: given up at once, counted and logged", async () => {
  const wrongKey = Buffer.alloc(32, 1);
  for (const [policy, answers, error] of [
    [(url: string) => webhookPolicy(url, { events: ["request.opened"] }), [400], "HTTP 400 (not retried)"],
    [(url: string) => webhookPolicy(url, { events: ["request.opened"], key: wrongKey }), [], "HTTP 401 (not retried)"],
  ] as const) {
    const { receiver, airlock } = await setUp(policy, [...answers]);
    const logged = teeStderr();
    await airlock.approvals.open(heldUpdate());
    await until(async () => (await deliveries(airlock.store))[0]?.state === "failed", "the delivery is given up");
    logged.stop();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.received.length, 1, "one try only");
    assert.equal(receiver.accepted().size, 0);
    const [row] = await deliveries(airlock.store);
    assert.deepEqual([row.attempts, row.lastError], [1, error]);
    assert.equal(await tries(airlock.metrics, "request.opened", "give_up"), 1);
    assert.ok(logged.lines.some((l) => l.includes(`[webhooks] gave up a delivery: ${error} webhook=siem type=request.opened event=${row.eventId} tries=1`)), logged.lines.join(""));
    for (const fn of cleanup.splice(0).reverse()) await fn();
  }
});

test("a receiver that hangs delays neither the decision nor the held agent, nor the events after it", async () => {
  const hangs = Array.from({ length: 40 }, () => "hang" as const);
  // Tries enough that none is given up before the receiver answers again, however slow this machine;
  // each hang lasts 3 s, so a decision that waited for it would take seconds, not a loaded machine's few hundred ms.
  const hangMs = 3_000;
  const { receiver, airlock } = await setUp((url) => webhookPolicy(url, { events: ["request.opened", "request.decided"] }), hangs, { ...FAST, tryTimeoutMs: hangMs, holdMs: 3 * hangMs, maxTries: 100 });
  for (let i = 0; i < 5; i++) {
    const r = await airlock.approvals.open(heldUpdate({ sessionId: `s${i}` }));
    const waiting = airlock.approvals.outcome(r.id);
    await until(() => receiver.received.some((x) => parsed(x.body).subject === r.id), "the receiver holds this request's event");
    const began = performance.now();
    const decided = await airlock.approvals.decide({ requestId: r.id, person: alice, action: "approve", via: "web" });
    const outcome = await waiting;
    const took = performance.now() - began;
    assert.ok(decided.ok);
    assert.equal(outcome.status, "approved");
    assert.ok(took < hangMs / 2, `decided and released in ${took.toFixed(1)} ms while the receiver hangs`);
  }
  // The audit went on recording meanwhile, and every event is queued for when the receiver answers.
  await until(async () => (await deliveries(airlock.store)).length === 10, "all ten events are queued");
  receiver.answer([]);
  await until(() => receiver.accepted().size === 10, "all ten are accepted once the receiver answers", 30_000);
});

/** Copies what is written to stderr (the log's warnings) while still writing it. */
function teeStderr(): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return { lines, stop: () => void (process.stderr.write = original) };
}

test("a webhook taken out of the policy gets nothing more: what waited for it is given up, and logged", async () => {
  const receiver = await startWebhookReceiver(KEY, [503]);
  cleanup.push(() => receiver.close());
  const t = await openTestStore();
  cleanup.push(() => t.close());
  let current = webhookPolicy(receiver.url, { events: ["request.opened"] });
  // The retry after the 503 comes in a second: the policy changes before it.
  const airlock = await webhookInstance(t.store, () => current, { timing: { ...FAST, retry: { baseMs: 1_000, maxMs: 1_000 } } });
  cleanup.push(() => airlock.close());
  await airlock.approvals.open(heldUpdate());
  await until(async () => (await deliveries(t.store))[0]?.lastError === "HTTP 503", "the first try failed");
  current = { ...current, notify: { webhooks: [] } };
  await until(async () => (await deliveries(t.store))[0].state === "failed", "the delivery is given up");
  assert.equal((await deliveries(t.store))[0].lastError, 'no webhook named "siem" in the policy any more');
  assert.equal(receiver.received.length, 1);
});

test("a hanging receiver's backlog does not hold up another webhook's events", async () => {
  const stuck = await startWebhookReceiver(KEY, Array.from({ length: 1000 }, () => "hang" as const));
  const healthy = await startWebhookReceiver(KEY);
  cleanup.push(() => stuck.close(), () => healthy.close());
  const t = await openTestStore();
  cleanup.push(() => t.close());
  const policy = parsePolicy(
    `resources: {}
notify:
  webhooks:
    - { name: stuck, url: "${stuck.url}", secret: { env: S }, events: [request.opened] }
    - { name: pager, url: "${healthy.url}", secret: { env: S }, events: [request.opened] }
`,
    { S: `whsec_${KEY.toString("base64")}` },
  );
  // 200 events waiting for the stuck receiver since before the one that matters.
  const backlog = Array.from({ length: 200 }, (_, i) => ({ eventId: `evt_old_${i}`, type: "request.opened", webhook: "stuck", body: "{}" }));
  await new WebhookOutbox(t.store).enqueue(t.store, backlog, new Date(Date.now() - 60_000));
  const airlock = await webhookInstance(t.store, () => policy);
  cleanup.push(() => airlock.close());
  await until(() => stuck.received.length >= MAX_IN_FLIGHT_PER_WEBHOOK, "the stuck receiver holds its share of tries");
  const opened = performance.now();
  await airlock.approvals.open(heldUpdate());
  // Behind the stuck receiver's 200 (four at a time, each its 500 ms try) the event would wait about 30 s.
  await until(() => healthy.accepted().size === 1, "the other webhook gets the event", 10_000);
  assert.ok(performance.now() - opened < 10_000, `within ${(performance.now() - opened).toFixed(0)} ms`);
});
