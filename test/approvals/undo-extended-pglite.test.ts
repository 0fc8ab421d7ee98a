import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { askRevert } from "../../lib/approvals/undo/revert";
import { undoOf } from "../../lib/approvals/undo/store";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, session] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], undo: 7d }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };

/** Undo through the extended protocol (proxy/undo/execute-undo.ts) on the shared embedded database. */

let harness: ProxyHarness;

before(async () => {
  harness = await startProxyHarness({ demo: "pglite://demo" }, { rules: RULES });
});
after(async () => {
  await harness?.close();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out waiting");
}

test("on the shared embedded PGlite: an approved UPDATE with bound parameters (extended protocol) is captured and reverted exactly", async () => {
  const client = new pg.Client({ connectionString: await harness.url("demo") });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const rows = async () => (await client.query("select id, status from orders where id in (3, 4) order by id")).rows;
    const before = await rows();
    const text = "update orders set status = $1 where id = any($2::int[])";
    const running = client.query(text, ["cancelled", [3, 4]]);
    const request = await pendingRequest(harness.approvals, text);
    assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
    assert.equal((await running).rowCount, 2);
    const undo = await until(() => undoOf(harness.store, request.id), (u) => u !== undefined);
    assert.equal(undo!.unavailable, null);
    assert.equal(undo!.rowCount, 2);
    const asked = await askRevert(harness.store, harness.approvals, request.id, alice);
    assert.ok(asked.ok, asked.ok ? "" : asked.message);
    assert.ok((await harness.approvals.decide({ requestId: asked.request.id, person: bob, action: "approve", via: "web" })).ok);
    const done = await until(() => undoOf(harness.store, request.id), (u) => !!u?.revertOutcome);
    assert.equal(done!.revertOutcome, "restored 2 rows");
    assert.deepEqual(await rows(), before);
  } finally {
    await client.end();
  }
});
