import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { askRevert } from "../../lib/approvals/undo/revert";
import { undoOf } from "../../lib/approvals/undo/store";
import type { RequestUndo } from "../../lib/db/schema";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";
import { RawWireClient } from "../support/raw-wire-client";
import { writeBind, writeDescribePortal, writeExecute, writeParse } from "../../proxy/protocol/writer";
import { readFields } from "../../proxy/protocol/reader";

/** Undo of approved writes sent through the extended protocol with bound parameters (proxy/undo/execute-undo.ts). */

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, session] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], undo: 1d }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const bob: Decider = { email: "bob@example.com", groups: ["db-approvers"], role: "approver" };
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES);
});
after(() => db.stop());

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "undo-extended-test" });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function snapshot(table: string): Promise<unknown[]> {
  return (await db.admin.query(`select to_jsonb(t.*) as row from ${table} t order by 1`)).rows.map((r) => r.row);
}

async function until<T>(read: () => Promise<T | undefined>, done: (value: T | undefined) => boolean): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = await read();
    if (done(value)) return value as T;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out waiting");
}

async function approve(text: string): Promise<string> {
  const request = await pendingRequest(db.harness.approvals, text);
  assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
  return request.id;
}

/** The agent runs `text` with `values` (Parse/Bind/Execute), alice approves; its result and undo. */
async function approvedWrite(client: pg.Client, text: string, values: unknown[]): Promise<{ result: pg.QueryResult; undo: RequestUndo }> {
  const running = client.query(text, values);
  const id = await approve(text);
  const result = await running;
  return { result, undo: await until(() => undoOf(db.harness.store, id), (u) => u !== undefined) };
}

async function reverted(undo: RequestUndo): Promise<RequestUndo> {
  const asked = await askRevert(db.harness.store, db.harness.approvals, undo.requestId, alice);
  assert.ok(asked.ok, asked.ok ? "" : asked.message);
  assert.ok((await db.harness.approvals.decide({ requestId: asked.request.id, person: bob, action: "approve", via: "web" })).ok);
  return until(() => undoOf(db.harness.store, undo.requestId), (u) => !!u?.revertOutcome);
}

describe("undo of approved writes with bound parameters (extended protocol)", () => {
  test("UPDATE: captured with the agent's values, reverted exactly; the agent's answer and state unchanged", async () => {
    await db.admin.query("create table x_up (id int primary key, name text, n numeric, tags text[]); insert into x_up select g, 'p' || g, g + 0.5, array['a'] from generate_series(1, 6) g");
    const before = await snapshot("x_up");
    const client = await agent();
    try {
      const { result, undo } = await approvedWrite(client, "update x_up set name = $1, n = n * $2 where id > $3 and name <> $4", ["new", 10, 2, "p5"]);
      assert.equal(result.command, "UPDATE");
      assert.equal(result.rowCount, 3);
      assert.equal(undo.unavailable, null);
      assert.equal(undo.kind, "update");
      assert.deepEqual(undo.rows?.map((r) => r.before?.id).sort(), [3, 4, 6]);
      assert.deepEqual(undo.rows?.map((r) => r.after?.name), ["new", "new", "new"]);
      // The session goes on as PostgreSQL's would: out of any transaction, the write committed.
      assert.deepEqual((await client.query("select n from x_up where id = $1", [3])).rows, [{ n: "35.0" }]);
      assert.deepEqual((await db.admin.query("select count(*)::int as c from x_up where name = 'new'")).rows, [{ c: 3 }]);
      assert.equal((await reverted(undo)).revertOutcome, "restored 3 rows");
      assert.deepEqual(await snapshot("x_up"), before);
    } finally {
      await client.end();
    }
  });

  test("DELETE and INSERT … RETURNING: captured and reverted exactly", async () => {
    await db.admin.query("create table x_del (id int primary key, v text); insert into x_del select g, 'v' || g from generate_series(1, 5) g");
    await db.admin.query("create table x_ins (id serial primary key, v text); insert into x_ins (v) values ('old')");
    const beforeDel = await snapshot("x_del");
    const beforeIns = await snapshot("x_ins");
    const client = await agent();
    try {
      const del = await approvedWrite(client, "delete from x_del where id = any($1::int[])", [[2, 4]]);
      assert.equal(del.result.rowCount, 2);
      assert.equal(del.undo.kind, "delete");
      assert.equal(del.undo.rows?.length, 2);
      const ins = await approvedWrite(client, "insert into x_ins (v) values ($1), ($2) returning id, v", ["a", "b"]);
      assert.deepEqual(ins.result.rows, [{ id: 2, v: "a" }, { id: 3, v: "b" }], "the agent's RETURNING rows, untouched");
      assert.deepEqual(ins.undo.rows, [{ after: { id: 2, v: "a" } }, { after: { id: 3, v: "b" } }]);
      assert.equal((await reverted(del.undo)).revertOutcome, "restored 2 rows");
      assert.equal((await reverted(ins.undo)).revertOutcome, "restored 2 rows");
      assert.deepEqual(await snapshot("x_del"), beforeDel);
      assert.deepEqual(await snapshot("x_ins"), beforeIns);
    } finally {
      await client.end();
    }
  });

  test("a binary-format parameter: bound as the agent sent it; the agent reads exactly PostgreSQL's answers", async () => {
    await db.admin.query("create table x_bin (id int primary key, v text); insert into x_bin select g, 'v' || g from generate_series(1, 4) g");
    const before = await snapshot("x_bin");
    const raw = await RawWireClient.connect(db.harness.proxy.port);
    try {
      await raw.login("reporting-agent", "pg", decodeURIComponent(new URL(await db.harness.url("pg")).password));
      const text = "update x_bin set v = $1 where id >= $2";
      const three = Buffer.alloc(4);
      three.writeInt32BE(3);
      raw.socket.write(Buffer.concat([writeParse("", text), writeBind("", "", [Buffer.from("bin"), three], [0, 1]), writeDescribePortal(""), writeExecute(""), SYNC]));
      const id = await approve(text);
      const answers: string[] = [];
      for (let m = await raw.next(); ; m = await raw.next()) {
        assert.ok(m);
        if (m.type === 0x4e) continue; // Airlock's notice that the statement waits for approval
        answers.push(m.type === 0x43 ? `C ${m.body.toString("utf8", 0, m.body.length - 1)}` : m.type === 0x5a ? `Z ${String.fromCharCode(m.body[0])}` : String.fromCharCode(m.type));
        if (m.type === 0x5a) break;
      }
      assert.deepEqual(answers, ["1", "2", "n", "C UPDATE 2", "Z I"]);
      const undo = await until(() => undoOf(db.harness.store, id), (u) => u !== undefined);
      assert.equal(undo.unavailable, null);
      assert.deepEqual(undo.rows?.map((r) => [r.before, r.after]), [
        [{ id: 3, v: "v3" }, { id: 3, v: "bin" }],
        [{ id: 4, v: "v4" }, { id: 4, v: "bin" }],
      ]);
      assert.equal((await reverted(undo)).revertOutcome, "restored 2 rows");
      assert.deepEqual(await snapshot("x_bin"), before);
    } finally {
      raw.close();
    }
  });

  test("another statement in its group after it: no undo, and the group runs as PostgreSQL runs it", async () => {
    await db.admin.query("create table x_grp (id int primary key, v text); insert into x_grp values (1, 'a'), (2, 'b')");
    const raw = await RawWireClient.connect(db.harness.proxy.port);
    try {
      await raw.login("reporting-agent", "pg", decodeURIComponent(new URL(await db.harness.url("pg")).password));
      const text = "update x_grp set v = $1 where id = $2";
      raw.socket.write(Buffer.concat([writeParse("", text), writeBind("", "", [Buffer.from("z"), Buffer.from("1")]), writeExecute(""), writeParse("", "select v from x_grp where id = $1"), writeBind("", "", [Buffer.from("1")]), writeExecute(""), SYNC]));
      const id = await approve(text);
      const answers: string[] = [];
      for (let m = await raw.next(); ; m = await raw.next()) {
        assert.ok(m);
        if (m.type === 0x4e) continue; // Airlock's notice that the statement waits for approval
        answers.push(m.type === 0x45 ? `E ${readFields(m.body).get("M")}` : String.fromCharCode(m.type));
        if (m.type === 0x5a) break;
      }
      assert.deepEqual(answers, ["1", "2", "C", "1", "2", "D", "C", "Z"]);
      const undo = await until(() => undoOf(db.harness.store, id), (u) => u !== undefined);
      assert.match(undo.unavailable ?? "", /another statement ran in its extended-protocol group/);
      assert.deepEqual((await db.admin.query("select v from x_grp order by id")).rows, [{ v: "z" }, { v: "b" }]);
    } finally {
      raw.close();
    }
  });

  test("inside the agent's own transaction: no undo, and the transaction is the agent's to end", async () => {
    await db.admin.query("create table x_tx (id int primary key, v text); insert into x_tx values (1, 'a')");
    const client = await agent();
    try {
      await client.query("begin");
      const { result, undo } = await approvedWrite(client, "update x_tx set v = $1 where id = $2", ["b", 1]);
      assert.equal(result.rowCount, 1);
      assert.match(undo.unavailable ?? "", /agent's own transaction/);
      assert.equal((await client.query("select v from x_tx")).rows[0].v, "b");
      await client.query("rollback");
      assert.equal((await db.admin.query("select v from x_tx")).rows[0].v, "a");
    } finally {
      await client.end();
    }
  });

  test("a capture query that fails (a lock timeout) fails the statement, which did not run; the session goes on", async () => {
    await db.admin.query("create table x_lock (id int primary key, v text); insert into x_lock values (1, 'a'), (2, 'b')");
    const locker = new pg.Client({ connectionString: db.server.url });
    await locker.connect();
    const client = await agent();
    try {
      await client.query("set lock_timeout = '300ms'");
      await locker.query("begin");
      await locker.query("select * from x_lock where id = 1 for update");
      const text = "update x_lock set v = $1 where id = $2";
      const running = client.query(text, ["z", 1]).then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      );
      const id = await approve(text);
      const err = await running;
      assert.match(err?.message ?? "", /capturing its rows failed \(canceling statement due to lock timeout\); the statement did not run/);
      await locker.query("rollback");
      const undo = await until(() => undoOf(db.harness.store, id), (u) => u !== undefined);
      assert.match(undo.unavailable ?? "", /the capture failed/);
      assert.deepEqual((await client.query("select v from x_lock where id = $1", [1])).rows, [{ v: "a" }], "nothing changed; the session is out of any transaction");
    } finally {
      await client.end();
      await locker.end();
    }
  });
});
