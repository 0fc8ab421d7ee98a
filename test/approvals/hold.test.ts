import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import postgres from "postgres";
import type { Decider } from "../../lib/approvals/people";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: quick
    match: { groups: [agents], tables: [quick] }
    action: review
    review: { approvers: [db-approvers], timeout: 1s }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m] }
  - name: schema-changes
    match: { groups: [agents], kinds: [ddl, truncate] }
    action: review
    review: { approvers: [db-approvers], count: 2 }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };

let server: TestPostgres;
let harness: ProxyHarness;
let admin: pg.Client;

before(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table orders (id int primary key, status text); insert into orders select g, 'new' from generate_series(1, 20) g; create table quick (id int); create table archive (id int)");
  harness = await startProxyHarness({ pg: server.url }, { rules: RULES });
});
after(async () => {
  await admin.end();
  await harness.close();
  await server.stop();
});

async function agent(applicationName = "hold-test") {
  const client = new pg.Client({ connectionString: await harness.url("pg"), application_name: applicationName });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  client.on("error", () => undefined);
  await client.connect();
  return { client, notices };
}


async function status(id: number): Promise<string> {
  return (await admin.query("select status from orders where id = $1", [id])).rows[0].status;
}

describe("holding a statement until people decide", () => {
  test("the agent is told at once; on approval the statement runs", async () => {
    const { client, notices } = await agent();
    try {
      const running = client.query("update orders set status = 'shipped' where id = 1");
      const request = await pendingRequest(harness.approvals, "update orders set status = 'shipped' where id = 1");
      await new Promise((r) => setTimeout(r, 50));
      assert.match(notices.join("\n"), new RegExp(`airlock: held for approval — request ${request.id}: http://airlock.test/requests/${request.id}`));
      assert.equal(await status(1), "new", "nothing runs before approval");
      assert.equal(request.rule, "agents-write");
      assert.deepEqual(request.scope, [{ kind: "update", table: "public.orders" }]);
      assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
      const result = await running;
      assert.equal(result.rowCount, 1);
      assert.equal(await status(1), "shipped");
      assert.equal((await client.query("select 1 as n")).rows[0].n, 1, "the session goes on");
    } finally {
      await client.end();
    }
  });

  test("a denial reaches the agent with who and why; nothing changes", async () => {
    const { client } = await agent();
    try {
      const running = client.query("update orders set status = 'gone' where id = 2");
      const request = await pendingRequest(harness.approvals, "update orders set status = 'gone' where id = 2");
      await harness.approvals.decide({ requestId: request.id, person: alice, action: "deny", reason: "not before the audit", via: "web" });
      await assert.rejects(running, (err: { code?: string; message: string }) => {
        assert.equal(err.code, "42501");
        assert.equal(err.message, "airlock: denied by alice@example.com: not before the audit");
        return true;
      });
      assert.equal(await status(2), "new");
    } finally {
      await client.end();
    }
  });

  test("count 2: one approver is not enough; a second releases it", async () => {
    const { client } = await agent();
    try {
      const running = client.query("truncate archive");
      const request = await pendingRequest(harness.approvals, "truncate archive");
      await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
      const again = await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
      assert.equal(!again.ok && again.code, "duplicate");
      assert.equal((await harness.approvals.get(request.id))!.status, "pending");
      await harness.approvals.decide({ requestId: request.id, person: bob, action: "approve", via: "slack" });
      await running;
    } finally {
      await client.end();
    }
  });

  test("an unanswered request times out with 57014", async () => {
    const { client } = await agent();
    try {
      await assert.rejects(client.query("insert into quick values (1)"), (err: { code?: string; message: string }) => {
        assert.equal(err.code, "57014");
        assert.equal(err.message, "airlock: approval timed out");
        return true;
      });
      assert.equal((await harness.approvals.list("expired")).length >= 1, true);
      assert.equal((await admin.query("select count(*)::int as n from quick")).rows[0].n, 0);
    } finally {
      await client.end();
    }
  });

  test("the agent's cancel cancels the request; a disconnect does too", async () => {
    const sql = postgres(await harness.url("pg"), { max: 1, onnotice: () => undefined });
    const held = sql`update orders set status = 'cancelled?' where id = 3`;
    held.catch(() => undefined);
    const request = await pendingRequest(harness.approvals, "update orders set status = 'cancelled?' where id = 3");
    await held.cancel();
    await assert.rejects(held, (err: { code?: string }) => err.code === "57014");
    assert.equal((await harness.approvals.get(request.id))!.status, "cancelled");
    await sql.end();

    const { client } = await agent();
    client.query("update orders set status = 'left' where id = 4").catch(() => undefined);
    const second = await pendingRequest(harness.approvals, "update orders set status = 'left' where id = 4");
    await client.end();
    for (let i = 0; i < 50 && (await harness.approvals.get(second.id))!.status === "pending"; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await harness.approvals.get(second.id))!.status, "cancelled");
    assert.match((await harness.approvals.get(second.id))!.outcomeReason!, /disconnected/);
    assert.equal(await status(3), "new");
    assert.equal(await status(4), "new");
  });

  test("approved for 15 minutes: the next matching statement runs at once; after revocation it is held again", async () => {
    const { client } = await agent();
    try {
      const first = client.query("update orders set status = 'a' where id = 5");
      const request = await pendingRequest(harness.approvals, "update orders set status = 'a' where id = 5");
      await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: 15 * 60_000, via: "web" });
      await first;
      const grantId = (await harness.approvals.get(request.id))!.grantId!;
      assert.ok(grantId);
      await client.query("update orders set status = 'b' where id = 6");
      assert.equal((await harness.approvals.list("pending")).length, 0, "no new request");
      assert.equal(await status(6), "b");
      await harness.grants.revoke(grantId, "alice@example.com");
      const held = client.query("update orders set status = 'c' where id = 7");
      const again = await pendingRequest(harness.approvals, "update orders set status = 'c' where id = 7");
      await harness.approvals.decide({ requestId: again.id, person: bob, action: "deny", via: "web" });
      await assert.rejects(held, /denied by bob@example\.com/);
    } finally {
      await client.end();
    }
  });

  test("return mode: refused at once with the request; after approval the same statement runs exactly once", async () => {
    const { client } = await agent("my-bot airlock-mode=return");
    try {
      const text = "update orders set status = 'returned' where id = $1";
      await assert.rejects(client.query(text, [8]), (err: { code?: string; message: string }) => {
        assert.equal(err.code, "42501");
        assert.match(err.message, /request r_[0-9a-f]+: http:\/\/airlock\.test\/requests\/r_/);
        return true;
      });
      const request = await pendingRequest(harness.approvals, text);
      await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
      await assert.rejects(client.query(text, [9]), /approval required/, "other parameters are another statement");
      assert.equal((await client.query(text, [8])).rowCount, 1);
      assert.equal(await status(8), "returned");
      await assert.rejects(client.query(text, [8]), /approval required/, "it ran once");
    } finally {
      await client.end();
    }
  });

  test("inside a transaction the held statement waits, runs, and the transaction commits", async () => {
    const { client } = await agent();
    try {
      await client.query("begin");
      await client.query("select count(*) from orders");
      const held = client.query("update orders set status = 'tx' where id = 10");
      const request = await pendingRequest(harness.approvals, "update orders set status = 'tx' where id = 10");
      await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
      await held;
      await client.query("commit");
      assert.equal(await status(10), "tx");
    } finally {
      await client.end();
    }
  });

  test("a statement approved after the agent's token expired does not run: the session ends with 28P01", async () => {
    const { token, expiresAt } = await harness.idp.shortLivedToken("reporting-agent", 6);
    const client = new pg.Client({ host: "127.0.0.1", port: harness.proxy.port, user: "reporting-agent", password: token, database: "pg" });
    client.on("error", () => undefined);
    await client.connect();
    try {
      const held = client.query("update orders set status = 'late' where id = 11");
      const request = await pendingRequest(harness.approvals, "update orders set status = 'late' where id = 11");
      await new Promise((r) => setTimeout(r, expiresAt * 1000 - Date.now() + 500));
      assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
      await assert.rejects(held, (err: { code?: string; severity?: string }) => err.code === "28P01" && err.severity === "FATAL");
      assert.equal(await status(11), "new", "SECURITY: it ran for an identity that had expired");
    } finally {
      await client.end().catch(() => undefined);
    }
  });
});
