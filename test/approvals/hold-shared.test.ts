import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { writeQuery } from "../../proxy/protocol/writer";
import { readFields } from "../../proxy/protocol/reader";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

/**
 * Holds on the embedded PGlite, one engine shared by every agent (issue 13): a statement waiting
 * for people keeps nothing of the engine, and inside a transaction (which would) it is refused.
 */
const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, session, copy_in] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
let harness: ProxyHarness;

before(async () => {
  harness = await startProxyHarness({ demo: "pglite://demo" }, { rules: RULES });
});
after(async () => {
  await harness?.close();
});

async function agent(name = "reporting-agent"): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await harness.url("demo", name) });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}


test("a statement held outside a transaction keeps nothing of the engine: another agent works meanwhile, then it runs on approval", async () => {
  const [writer, reader] = [await agent(), await agent("ops-agent")];
  try {
    for (const [protocol, status] of [["simple", "shipped"], ["extended", "cancelled"]] as const) {
      const text = `update orders set status = '${status}' where id = 1`;
      const held = protocol === "simple" ? writer.query(text) : writer.query({ text: "update orders set status = $1 where id = 1", values: [status] });
      const request = await pendingRequest(harness.approvals, protocol === "simple" ? text : "update orders set status = $1 where id = 1");
      const started = Date.now();
      assert.equal((await reader.query("select count(*)::int as n from orders")).rows[0].n > 0, true);
      assert.ok(Date.now() - started < 5000, "another agent was not kept waiting by the held statement");
      assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
      await held;
      assert.equal((await reader.query("select status from orders where id = 1")).rows[0].status, status);
    }
  } finally {
    await writer.end();
    await reader.end();
  }
});

test("inside a transaction a statement that needs approval is refused at once, with the reason; the transaction is aborted as after any error", async () => {
  const client = await agent();
  try {
    const before = (await client.query("select status from orders where id = 2")).rows[0].status as string;
    const other = before === "paid" ? "placed" : "paid";
    await client.query("begin");
    await client.query("select 1");
    await assert.rejects(client.query(`update orders set status = '${other}' where id = 2`), (err: { code?: string; message: string }) => {
      assert.equal(err.code, "42501");
      assert.match(err.message, /^airlock: rule agents-write needs approval, and on this shared embedded database a statement cannot wait for approval inside a transaction/);
      return true;
    });
    await assert.rejects(client.query("select 1"), (err: { code?: string }) => err.code === "25P02");
    await client.query("rollback");
    assert.equal((await harness.approvals.list("pending")).length, 0, "no request was opened");
    assert.equal((await client.query("select status from orders where id = 2")).rows[0].status, before, "SECURITY: it ran");
  } finally {
    await client.end();
  }
});

test("a statement that needs approval in the middle of COPY FROM STDIN ends the session as on PostgreSQL (08P01), at once, and the engine serves the others", async () => {
  const raw = await RawWireClient.connect(harness.proxy.port);
  await raw.login("reporting-agent", "demo", await harness.idp.token("reporting-agent"));
  try {
    raw.socket.write(writeQuery("copy refunds (order_id, amount_cents, reason) from stdin"));
    await raw.expect("G");
    // Not CopyData: PostgreSQL fails the COPY and ends the session. The update must not wait for
    // people behind a COPY that never ends, nor reach PGlite, which a FATAL inside would stop.
    raw.socket.write(Buffer.concat([writeQuery("update orders set status = status where id = 3"), writeQuery("select 1")]));
    const first = await raw.expect("E");
    assert.equal(readFields(first.body).get("M"), "unexpected message type 0x51 during COPY from stdin");
    const fatal = await raw.errorThenClose();
    assert.equal(fatal?.get("C"), "08P01");
    assert.equal(fatal?.get("S"), "FATAL");
    const other = await agent("ops-agent");
    assert.deepEqual((await other.query("select 1 as one")).rows, [{ one: 1 }], "the shared engine still serves the others");
    await other.end();
    assert.equal((await harness.approvals.list("pending")).length, 0, "no request was opened");
  } finally {
    raw.close();
  }
});
