/**
 * Every path through Airlock leaves its audit rows, and the chain stays intact: a statement
 * allowed, masked, refused; held and approved (via the web and via Slack), denied, expired,
 * cancelled when the agent leaves; run under a grant; a grant revoked; sessions opening and ending.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import type { AuditRow } from "../../lib/db/schema";
import { verifyChain } from "../../lib/audit/verify";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - name: no-deletes
    match: { kinds: [delete] }
    action: deny
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["people.email"] }
  - name: quick
    match: { groups: [agents], tables: [quick] }
    action: review
    review: { approvers: [db-approvers], timeout: 1s }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m] }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };

let server: TestPostgres;
let harness: ProxyHarness;

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table people (id int, email text); insert into people values (1, 'ann@example.com'); create table orders (id int, status text); insert into orders values (1, 'new'), (2, 'new'); create table quick (id int)");
  await admin.end();
  harness = await startProxyHarness({ pg: server.url }, { rules: RULES });
});
after(async () => {
  await harness.close();
  await server.stop();
});

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function pending(text: string) {
  for (let i = 0; i < 200; i++) {
    const request = (await harness.approvals.list("pending")).find((r) => r.statements[0].text === text);
    if (request) return request;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no request for ${text}`);
}

/** The audit rows matching `where`, once the recorder has written its batch. */
async function rows(where: string, ...params: string[]): Promise<AuditRow[]> {
  await harness.recorder.flush();
  return harness.store.sql.all<AuditRow>(
    `select id, type, decision, sql, agent_id as "agentId", person, request_id as "requestId", grant_id as "grantId", data from audit_log where ${where} order by id`,
    params,
  );
}

const data = (row: AuditRow) => JSON.parse(row.data) as Record<string, unknown>;

test("allowed, masked and refused statements, each with its rule, tables and outcome", async () => {
  const client = await agent();
  await client.query("select id from orders where id = $1", [1]);
  await client.query("select email from people");
  await assert.rejects(client.query("delete from orders"));
  await client.end();

  const [allowed] = await rows("type = 'statement' and sql = ?", "select id from orders where id = $1");
  assert.equal(allowed.decision, "allowed");
  assert.deepEqual([data(allowed).rule, data(allowed).params, data(allowed).rows, data(allowed).kinds], ["agents-read", ["1"], 1, ["select"]]);
  const [masked] = await rows("type = 'statement' and sql = 'select email from people'");
  assert.equal(masked.decision, "masked");
  assert.deepEqual(data(masked).masked, { columns: ["email"], values: 1 });
  const [refused] = await rows("type = 'statement' and sql = 'delete from orders'");
  assert.equal(refused.decision, "refused");
  assert.equal(data(refused).rule, "no-deletes");
  assert.match(String((data(refused).error as { message: string }).message), /denied by rule no-deletes/);
  assert.ok((await rows("type = 'session.started' and agent_id = 'reporting-agent'")).length > 0);
  assert.ok((await rows("type = 'session.ended' and agent_id = 'reporting-agent'")).length > 0);
});

test("held then approved from the web, then from Slack: the request, each decision with how, the outcome, the statement", async () => {
  const client = await agent();
  const running = client.query("update orders set status = 'paid' where id = 1");
  const request = await pending("update orders set status = 'paid' where id = 1");
  await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  await running;
  const viaSlack = client.query("update orders set status = 'sent' where id = 1");
  const second = await pending("update orders set status = 'sent' where id = 1");
  await harness.approvals.decide({ requestId: second.id, person: bob, action: "approve", via: "slack" });
  await viaSlack;
  await client.end();

  assert.deepEqual(
    (await rows("request_id = ?", request.id)).map((r) => [r.type, r.decision, r.person]),
    [
      ["request.opened", "pending", null],
      ["request.decision", "approve", "alice@example.com"],
      ["request.approved", "approved", null],
      ["statement", "held", null],
    ],
  );
  const [decision] = await rows("request_id = ? and type = 'request.decision'", second.id);
  assert.deepEqual([decision.person, data(decision).via], ["bob@example.com", "slack"]);
});

test("denied, expired and cancelled requests", async () => {
  const client = await agent();
  const denied = client.query("update orders set status = 'x' where id = 2");
  const request = await pending("update orders set status = 'x' where id = 2");
  await harness.approvals.decide({ requestId: request.id, person: alice, action: "deny", reason: "not now", via: "web" });
  await assert.rejects(denied);
  await assert.rejects(client.query("insert into quick values (1)"), /timed out/);
  await client.end();

  const [decision] = await rows("request_id = ? and type = 'request.decision'", request.id);
  assert.deepEqual([decision.decision, data(decision).reason], ["deny", "not now"]);
  assert.equal((await rows("request_id = ? and type = 'request.denied'", request.id)).length, 1);
  assert.equal((await rows("type = 'request.opened' and sql = 'insert into quick values (1)'")).length, 1);
  const [expired] = await rows("type = 'request.expired'");
  assert.equal(expired.decision, "expired");

  const leaving = await agent();
  void leaving.query("update orders set status = 'y' where id = 2").catch(() => undefined);
  const abandoned = await pending("update orders set status = 'y' where id = 2");
  await leaving.end();
  for (let i = 0; i < 100 && (await harness.approvals.get(abandoned.id))?.status === "pending"; i++) await new Promise((r) => setTimeout(r, 10));
  const [cancelled] = await rows("request_id = ? and type = 'request.cancelled'", abandoned.id);
  assert.equal(data(cancelled).reason, "the agent disconnected");
});

test("a grant: created on approval, used by later statements, revoked", async () => {
  const client = await agent();
  const first = client.query("update orders set status = 'a' where id = 2");
  const request = await pending("update orders set status = 'a' where id = 2");
  await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: 15 * 60_000, via: "web" });
  await first;
  await client.query("update orders set status = 'b' where id = 2");
  const grantId = (await harness.approvals.get(request.id))!.grantId!;
  await harness.grants.revoke(grantId, "alice@example.com");
  await client.end();

  // Rows are chained in the order they are written: the statement's comes with the recorder's next batch.
  assert.deepEqual(
    (await rows("grant_id = ?", grantId))
      .map((r) => [r.type, r.decision, r.sql])
      .sort(),
    [
      ["grant.created", "created", null],
      ["grant.revoked", "revoked", null],
      ["request.approved", "approved", null],
      ["statement", "allowed", "update orders set status = 'b' where id = 2"],
    ],
  );
  const [revoked] = await rows("grant_id = ? and type = 'grant.revoked'", grantId);
  assert.equal(revoked.person, "alice@example.com");
});

test("after all that, the chain verifies", async () => {
  await harness.recorder.flush();
  const verdict = await verifyChain(harness.store);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.ok(verdict.rows > 20);
});
