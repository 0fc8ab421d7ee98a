import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], timeout: 10m }`;

let harness: ProxyHarness;
before(async () => {
  harness = await startProxyHarness({ demo: "pglite://demo" }, { rules: RULES, env: { AIRLOCK_MAX_PENDING_PER_AGENT: "2" } });
});
after(() => harness?.close());

/** An agent in return mode: a held statement is refused at once, its request left pending. */
async function connect(agent: string) {
  const client = new pg.Client({ connectionString: await harness.url("demo", agent), application_name: "cap-test airlock-mode=return" });
  await client.connect();
  return client;
}

async function refusal(client: pg.Client, sql: string): Promise<{ code?: string; message: string }> {
  const err = await client.query(sql).then(
    () => assert.fail(`${sql} ran`),
    (e: unknown) => e as pg.DatabaseError,
  );
  return { code: err.code, message: err.message };
}

test("an agent at its cap of pending requests is refused with 53400 and a clear airlock: message; other agents are not; the session goes on", async () => {
  const ops = await connect("ops-agent");
  const reporting = await connect("reporting-agent");
  try {
    for (const id of [1, 2]) {
      const held = await refusal(ops, `update orders set status = 'held' where id = ${id}`);
      assert.equal(held.code, "42501");
      assert.match(held.message, /request r_[0-9a-f]+/);
    }
    const over = await refusal(ops, "update orders set status = 'held' where id = 3");
    assert.equal(over.code, "53400");
    assert.match(over.message, /^airlock: ops-agent already has 2 requests waiting for approval, the most allowed \(AIRLOCK_MAX_PENDING_PER_AGENT\)/);
    assert.equal(await harness.approvals.pendingCount({ agentId: "ops-agent" }), 2, "nothing was opened for the refused one");
    assert.equal((await ops.query("select 1 as one")).rows[0].one, 1, "the connection stays usable");

    const other = await refusal(reporting, "update orders set status = 'held' where id = 4");
    assert.equal(other.code, "42501", "another agent's request still opens");

    await harness.approvals.cancel((await harness.approvals.list("pending", 1, { agentId: "ops-agent" }))[0].id, "withdrawn");
    assert.equal((await refusal(ops, "update orders set status = 'held' where id = 3")).code, "42501", "a slot freed opens the next");
  } finally {
    await ops.end();
    await reporting.end();
  }
});
