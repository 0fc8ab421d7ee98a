import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import postgres from "postgres";
import type { Decider } from "../../lib/approvals/people";
import { previewOf } from "../../lib/approvals/preview/store";
import type { ImpactPreview } from "../../lib/approvals/preview/types";
import type { AccessRequest } from "../../lib/db/schema";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

// An approval is bound to the search_path the held statement's names were judged on: the same
// text on another path writes another table.
const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-ddl
    match: { groups: [agents], kinds: [ddl] }
    action: allow
  - name: returned-updates
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], mode: return, preview: count }
  - name: held-deletes
    match: { groups: [agents], kinds: [delete] }
    action: review
    review: { approvers: [db-approvers] }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const UPDATE = "UPDATE accounts SET balance = 0";

let server: TestPostgres;
let harness: ProxyHarness;
let admin: pg.Client;

before(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create schema decoy; create table decoy.accounts (id int primary key, balance numeric not null); create table public.accounts (id int primary key, balance numeric not null)");
  harness = await startProxyHarness({ pg: server.url }, { rules: RULES });
});
beforeEach(async () => {
  await admin.query("truncate decoy.accounts, public.accounts; insert into decoy.accounts select g, 5 from generate_series(1, 3) g; insert into public.accounts select g, 100 from generate_series(1, 40) g; analyze decoy.accounts, public.accounts");
});
after(async () => {
  await admin.end();
  await harness.close();
  await server.stop();
});

async function agent(options?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await harness.url("pg"), application_name: "held-path-test", ...(options ? { options } : {}) });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Balances left at 0 in each schema: which table the UPDATE reached. */
async function zeroed(): Promise<{ decoy: number; public: number }> {
  const count = async (table: string) => Number((await admin.query(`select count(*) as n from ${table} where balance = 0`)).rows[0].n);
  return { decoy: await count("decoy.accounts"), public: await count("public.accounts") };
}

async function refusedForApproval(client: pg.Client, text: string): Promise<void> {
  await assert.rejects(client.query(text), (err: { code?: string; message: string }) => {
    assert.equal(err.code, "42501");
    assert.match(err.message, /approval required/);
    return true;
  });
}

/** The request the refusal opened, approved. */
async function approvedDecoyUpdate(): Promise<AccessRequest> {
  const request = await pendingRequest(harness.approvals, UPDATE);
  assert.deepEqual(request.statements[0].path, ["decoy", "public"]);
  assert.deepEqual(request.scope, [{ kind: "update", table: "decoy.accounts" }], "approvers are shown a write of decoy.accounts");
  assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
  return request;
}

async function cancelPending(): Promise<void> {
  for (const r of await harness.approvals.list("pending", 100, {})) await harness.approvals.cancel(r.id, "test over");
}

describe("an approval holds only on the search_path it was judged on", () => {
  test("return mode: the approved UPDATE resent after SET search_path = public opens a new request; on the approved path it runs, on decoy", async () => {
    const client = await agent();
    try {
      await client.query("SET search_path = decoy, public");
      await refusedForApproval(client, UPDATE);
      const approved = await approvedDecoyUpdate();

      await client.query("SET search_path = public");
      await refusedForApproval(client, UPDATE);
      const fresh = await pendingRequest(harness.approvals, UPDATE);
      assert.notEqual(fresh.id, approved.id, "a new request, about the other table");
      assert.deepEqual(fresh.statements[0].path, ["public"]);
      assert.deepEqual(fresh.scope, [{ kind: "update", table: "public.accounts" }]);
      assert.deepEqual(await zeroed(), { decoy: 0, public: 0 }, "nothing ran");
      assert.equal((await harness.approvals.get(approved.id))!.consumedAt, null, "the approval is not used up by the swap");

      await client.query("SET search_path = decoy, public");
      assert.equal((await client.query(UPDATE)).rowCount, 3);
      assert.deepEqual(await zeroed(), { decoy: 3, public: 0 });
    } finally {
      await client.end();
      await cancelPending();
    }
  });

  test("return mode: a reconnect with another startup search_path (options=-c) does not match; one with the same path does", async () => {
    const first = await agent("-c search_path=decoy,public");
    try {
      await refusedForApproval(first, UPDATE);
    } finally {
      await first.end();
    }
    await approvedDecoyUpdate();
    const swapped = await agent("-c search_path=public");
    try {
      await refusedForApproval(swapped, UPDATE);
      assert.deepEqual(await zeroed(), { decoy: 0, public: 0 });
    } finally {
      await swapped.end();
    }
    const same = await agent("-c search_path=decoy,public");
    try {
      assert.equal((await same.query(UPDATE)).rowCount, 3);
      assert.deepEqual(await zeroed(), { decoy: 3, public: 0 });
    } finally {
      await same.end();
      await cancelPending();
    }
  });

  test("return mode: on the same path, a name that reaches another table than approved (the session's temporary table) does not match", async () => {
    const first = await agent();
    let approved: AccessRequest;
    try {
      await first.query("CREATE TEMP TABLE accounts (id int primary key, balance numeric not null)");
      await refusedForApproval(first, UPDATE);
      approved = await pendingRequest(harness.approvals, UPDATE);
      assert.deepEqual(approved.scope.map((p) => p.table), ["pg_temp.accounts"]);
      assert.ok((await harness.approvals.decide({ requestId: approved.id, person: alice, action: "approve", via: "web" })).ok);
    } finally {
      await first.end();
    }
    const second = await agent();
    try {
      await refusedForApproval(second, UPDATE);
      assert.deepEqual(await zeroed(), { decoy: 0, public: 0 }, "public.accounts untouched");
      assert.equal((await harness.approvals.get(approved.id))!.consumedAt, null);
    } finally {
      await second.end();
      await cancelPending();
    }
  });

  test("the impact preview counts the rows of the table on the recorded path", async () => {
    const client = await agent();
    try {
      await client.query("SET search_path = decoy, public");
      await refusedForApproval(client, UPDATE);
      const request = await pendingRequest(harness.approvals, UPDATE);
      let preview: ImpactPreview | undefined;
      for (let i = 0; i < 200 && !preview; i++) {
        preview = await previewOf(harness.store, request.id);
        if (!preview) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(preview, "a preview was made");
      const [s] = preview.statements;
      assert.deepEqual(s.dryRun && "rows" in s.dryRun ? s.dryRun.rows : s.dryRun, 3, "decoy.accounts' 3 rows, not public's 40");
      assert.deepEqual(s.estimate, { rows: 3 });
      assert.deepEqual(await zeroed(), { decoy: 0, public: 0 }, "the dry run left nothing");
    } finally {
      await client.end();
      await cancelPending();
    }
  });

  test("wait mode: a SET search_path pipelined behind the held statement waits; the statement runs on the path it was judged on", async () => {
    const sql = postgres(await harness.url("pg"), { max: 1, prepare: false, onnotice: () => undefined, connection: { application_name: "held-path-test", search_path: "decoy, public" } });
    try {
      const text = "DELETE FROM accounts WHERE id = 1";
      // Sent together, each with its own Sync: the SET is the next group, behind the held DELETE.
      const held = sql.unsafe(text);
      const set = sql.unsafe("SET search_path = public");
      const failed: unknown[] = [];
      held.catch((err: unknown) => failed.push(err));
      set.catch((err: unknown) => failed.push(err));
      const request = await pendingRequest(harness.approvals, text).catch((err: Error) => assert.fail(`${err.message}; the client's errors: ${failed.map(String).join("; ")}`));
      assert.deepEqual(request.statements[0].path, ["decoy", "public"]);
      assert.deepEqual(request.scope, [{ kind: "delete", table: "decoy.accounts" }]);
      assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
      assert.equal((await held).count, 1);
      await set;
      assert.equal((await admin.query("select count(*) as n from decoy.accounts")).rows[0].n, "2", "the decoy row went");
      assert.equal((await admin.query("select count(*) as n from public.accounts")).rows[0].n, "40", "public.accounts untouched");
      assert.equal((await sql.unsafe("show search_path"))[0].search_path, "public", "the SET ran after it");
    } finally {
      await sql.end();
      await cancelPending();
    }
  });
});
