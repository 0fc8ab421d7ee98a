import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], grants: [once, 2s, 15m], mode: return }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

let server: TestPostgres;
let harness: ProxyHarness;

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 10) g");
  await admin.end();
  harness = await startProxyHarness({ pg: server.url }, { rules: RULES });
});
after(async () => {
  await harness.close();
  await server.stop();
});

/** An agent whose held statements are refused at once (return mode), with the notices it hears. */
async function agent() {
  const client = new pg.Client({ connectionString: await harness.url("pg"), application_name: "notices airlock-mode=return" });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  await client.connect();
  return { client, notices };
}

/** Holds `sql` and approves it with a grant of `grantMs`: returns the grant. */
async function grantFor(client: pg.Client, sql: string, grantMs: number) {
  await assert.rejects(client.query(sql), /approval required/);
  const request = (await harness.approvals.list("pending")).find((r) => r.statements[0].text === sql)!;
  assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: grantMs, via: "web" })).ok);
  await client.query(sql); // the approved statement itself, once
  return (await harness.grants.get((await harness.approvals.get(request.id))!.grantId!))!;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out");
  }
}

describe("a session working under a grant is told when it ends", () => {
  test("at expiry: a NoticeResponse between statements; the next write is held again", async () => {
    const { client, notices } = await agent();
    try {
      const grant = await grantFor(client, "update counters set n = n + 1 where id = 1", 2000);
      await client.query("update counters set n = n + 1 where id = 2"); // runs under the grant
      assert.equal(notices.length, 0);
      await until(() => notices.length > 0);
      const told = Date.now() - grant.expiresAt.getTime();
      assert.match(notices[0], new RegExp(`^airlock: grant ${grant.id} \\(update counters on pg\\) has expired; from now on policy alone decides`));
      assert.ok(told < 500, `told ${told} ms after expiry`);
      await assert.rejects(client.query("update counters set n = n + 1 where id = 3"), /approval required/);
      assert.equal((await client.query("select 1 as one")).rows[0].one, 1, "the session goes on");
    } finally {
      await client.end();
    }
  });

  test("at revocation: told at once, even while idle; sessions that never used the grant are not", async () => {
    const { client, notices } = await agent();
    const bystander = await agent();
    try {
      const grant = await grantFor(client, "update counters set n = n + 1 where id = 4", 15 * 60_000);
      await client.query("update counters set n = n + 1 where id = 5");
      const revokedAt = Date.now();
      await harness.grants.revoke(grant.id, "alice@example.com");
      await until(() => notices.length > 0, 1000); // idle: nothing asked, yet it hears
      assert.ok(Date.now() - revokedAt < 200, `told ${Date.now() - revokedAt} ms after the revocation`);
      assert.match(notices.join("\n"), new RegExp(`grant ${grant.id} \\(update counters on pg\\) was revoked by alice@example.com`));
      await assert.rejects(client.query("update counters set n = n + 1 where id = 6"), /approval required/);
      await bystander.client.query("select 1");
      assert.deepEqual(bystander.notices, []);
    } finally {
      await client.end();
      await bystander.client.end();
    }
  });
});
