import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { undoOf } from "../../lib/approvals/undo/store";
import type { RequestUndo } from "../../lib/db/schema";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";
import { RawWireClient } from "../support/raw-wire-client";
import { writeQuery } from "../../proxy/protocol/writer";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, session] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, copy_in] }
    action: review
    review: { approvers: [db-approvers], undo: 7d }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES);
});
after(() => db.stop());

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "undo-test" });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Runs `text` as the agent (with `values`: extended protocol), alice approves it, and returns the request id once it ran. */
export async function approved(client: pg.Client, text: string, values?: unknown[]): Promise<{ id: string; result: pg.QueryResult }> {
  const running = values ? client.query(text, values) : client.query(text);
  const request = await pendingRequest(db.harness.approvals, text);
  assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
  return { id: request.id, result: await running };
}

/** The request's undo, once kept (it is kept after the statement committed). */
async function undo(id: string): Promise<RequestUndo> {
  for (let i = 0; i < 250; i++) {
    const found = await undoOf(db.harness.store, id);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no undo was kept for ${id}`);
}

describe("undo: what an approved write changed is captured exactly, in its own transaction", () => {
  test("UPDATE: each row changed, before and after, by primary key; the agent sees its usual answer", async () => {
    await db.admin.query("create table up (id int primary key, name text, n int, doubled int generated always as (n * 2) stored); insert into up (id, name, n) select g, 'p' || g, g from generate_series(1, 5) g");
    const client = await agent();
    try {
      const { id, result } = await approved(client, "update up set n = n + 100 where id in (2, 4)");
      assert.equal(result.command, "UPDATE");
      assert.equal(result.rowCount, 2);
      const kept = await undo(id);
      assert.equal(kept.unavailable, null);
      assert.equal(kept.kind, "update");
      assert.deepEqual(kept.target, { table: "public.up", name: "public.up", key: ["id"], columns: ["id", "name", "n"] });
      assert.deepEqual(kept.rows?.map((r) => [r.before, r.after]).sort((a, b) => Number(a[0]!.id) - Number(b[0]!.id)), [
        [{ id: 2, name: "p2", n: 2, doubled: 4 }, { id: 2, name: "p2", n: 102, doubled: 204 }],
        [{ id: 4, name: "p4", n: 4, doubled: 8 }, { id: 4, name: "p4", n: 104, doubled: 208 }],
      ]);
      assert.ok(kept.expiresAt.getTime() - kept.capturedAt.getTime() === 7 * 86_400_000, "kept as long as the rule says");
      assert.equal((await db.admin.query("select n from up where id = 2")).rows[0].n, 102, "committed");
    } finally {
      await client.end();
    }
  });

  test("DELETE: the rows it deleted, whole", async () => {
    await db.admin.query("create table del (a int, b text, v text, primary key (a, b)); insert into del values (1, 'x', 'one'), (2, 'y', 'two'), (3, 'z', 'three')");
    const client = await agent();
    try {
      const { id } = await approved(client, "delete from del d where d.a >= 2");
      const kept = await undo(id);
      assert.equal(kept.kind, "delete");
      assert.deepEqual(kept.target?.key, ["a", "b"]);
      assert.deepEqual(kept.rows?.map((r) => r.before).sort((x, y) => Number(x!.a) - Number(y!.a)), [{ a: 2, b: "y", v: "two" }, { a: 3, b: "z", v: "three" }]);
    } finally {
      await client.end();
    }
  });

  test("INSERT: the new rows (their keys and values)", async () => {
    await db.admin.query("create table ins (id serial primary key, v text)");
    const client = await agent();
    try {
      const { id, result } = await approved(client, "insert into ins (v) values ('a'), ('b') returning id");
      assert.deepEqual(result.rows, [{ id: 1 }, { id: 2 }], "the agent's RETURNING is untouched");
      const kept = await undo(id);
      assert.equal(kept.kind, "insert");
      assert.deepEqual(kept.rows, [{ after: { id: 1, v: "a" } }, { after: { id: 2, v: "b" } }]);
    } finally {
      await client.end();
    }
  });

  test("no undo, with the reason, where it cannot be exact; the statement runs all the same", async () => {
    await db.admin.query("create table nokey (v text); insert into nokey values ('a'); create table keyed (id int primary key, v text); insert into keyed values (1, 'a'), (2, 'b')");
    const client = await agent();
    try {
      const cases: Array<[string, unknown[] | undefined, RegExp]> = [
        ["update nokey set v = 'b'", undefined, /^table has no primary key$/],
        ["update keyed set id = id + $1 where id = $2", [10, 1], /primary key/],
        ["update keyed set id = id + 10 where id = 2", undefined, /primary key/],
      ];
      for (const [text, values, why] of cases) {
        const { id } = await approved(client, text, values);
        const kept = await undo(id);
        assert.match(kept.unavailable ?? "", why, text);
        assert.equal(kept.rows, null);
      }
      assert.deepEqual((await db.admin.query("select v from nokey")).rows, [{ v: "b" }], "it ran");
      assert.deepEqual((await db.admin.query("select id, v from keyed order by id")).rows, [{ id: 11, v: "a" }, { id: 12, v: "b" }]);
    } finally {
      await client.end();
    }
  });

  test("inside the agent's own transaction: no undo (its commit is the agent's), and the transaction goes on", async () => {
    await db.admin.query("create table intx (id int primary key, v text); insert into intx values (1, 'a')");
    const client = await agent();
    try {
      await client.query("begin");
      const { id } = await approved(client, "update intx set v = 'b' where id = 1");
      assert.match((await undo(id)).unavailable ?? "", /agent's own transaction/);
      assert.equal((await client.query("select v from intx")).rows[0].v, "b");
      await client.query("rollback");
      assert.equal((await db.admin.query("select v from intx")).rows[0].v, "a");
    } finally {
      await client.end();
    }
  });

  test("COPY FROM STDIN: no undo, and it runs as approved — the agent's data reaches the server", async () => {
    await db.admin.query("create table copied (id int primary key, v text)");
    const raw = await RawWireClient.connect(db.harness.proxy.port);
    try {
      await raw.login("reporting-agent", "pg", decodeURIComponent(new URL(await db.harness.url("pg")).password));
      const text = "copy copied from stdin";
      raw.socket.write(writeQuery(text));
      const request = await pendingRequest(db.harness.approvals, text);
      assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
      for (let m = await raw.next(); m?.type !== 0x47; m = await raw.next()) assert.ok(m, "CopyInResponse"); // 'G'
      const data = Buffer.from("1\tone\n2\ttwo\n");
      const copyData = Buffer.alloc(5 + data.length);
      copyData[0] = 0x64;
      copyData.writeInt32BE(4 + data.length, 1);
      data.copy(copyData, 5);
      raw.socket.write(Buffer.concat([copyData, Buffer.from([0x63, 0, 0, 0, 4])]));
      const answers: string[] = [];
      for (let m = await raw.next(); m && m.type !== 0x5a; m = await raw.next()) answers.push(String.fromCharCode(m.type));
      assert.deepEqual(answers, ["C"]);
      assert.deepEqual((await db.admin.query("select id, v from copied order by id")).rows, [{ id: 1, v: "one" }, { id: 2, v: "two" }]);
      assert.match((await undo(request.id)).unavailable ?? "", /only a single INSERT, UPDATE or DELETE/);
    } finally {
      raw.close();
    }
  });
});
