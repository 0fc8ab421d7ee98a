import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { eq } from "drizzle-orm";
import { askRevert } from "../../lib/approvals/undo/revert";
import { pruneUndos, undoOf } from "../../lib/approvals/undo/store";
import type { RequestUndo } from "../../lib/db/schema";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";

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

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES);
});
after(() => db.stop());

/** The table as it stands, every column, in key order: what a revert must give back exactly. */
async function snapshot(table: string): Promise<unknown[]> {
  return (await db.admin.query(`select to_jsonb(t.*) as row from ${table} t order by 1`)).rows.map((r) => r.row);
}

/** The agent runs `text`, alice approves it; its undo once kept. */
async function approvedWrite(text: string): Promise<RequestUndo> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "revert-test" });
  await client.connect();
  try {
    const running = client.query(text);
    const request = await pendingRequest(db.harness.approvals, text);
    assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
    await running;
    return await until(() => undoOf(db.harness.store, request.id), (u) => u !== undefined);
  } finally {
    await client.end();
  }
}

async function until<T>(read: () => Promise<T | undefined>, done: (value: T | undefined) => boolean): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = await read();
    if (done(value)) return value as T;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out waiting");
}

/** Alice asks for the revert, she may not approve it herself, bob approves it; its outcome once recorded. */
async function reverted(undo: RequestUndo): Promise<RequestUndo> {
  const asked = await askRevert(db.harness.store, db.harness.approvals, undo.requestId, alice);
  assert.ok(asked.ok, asked.ok ? "" : asked.message);
  const again = await askRevert(db.harness.store, db.harness.approvals, undo.requestId, bob);
  assert.deepEqual(again, { ok: false, message: "a revert was asked for already" });
  const own = await db.harness.approvals.decide({ requestId: asked.request.id, person: alice, action: "approve", via: "web" });
  assert.equal(own.ok ? "" : own.code, "forbidden", "the one who asked does not approve it");
  assert.ok((await db.harness.approvals.decide({ requestId: asked.request.id, person: bob, action: "approve", via: "web" })).ok);
  return until(() => undoOf(db.harness.store, undo.requestId), (u) => !!u?.revertOutcome);
}

describe("reverting an approved write (another approver approves the revert)", () => {
  test("UPDATE: every row is back exactly, and the undo is used up", async () => {
    await db.admin.query("create table r_up (id int primary key, name text, n numeric, at timestamptz, tags text[], doubled numeric generated always as (n * 2) stored); insert into r_up (id, name, n, at, tags) select g, 'p' || g, g + 0.5, '2024-01-01'::timestamptz + g * interval '1 day', array['a', 'b'] from generate_series(1, 6) g");
    const before = await snapshot("r_up");
    const undo = await approvedWrite("update r_up set name = upper(name), n = n * 10, tags = null where id > 2");
    assert.notDeepEqual(await snapshot("r_up"), before);
    const done = await reverted(undo);
    assert.equal(done.revertOutcome, "restored 4 rows");
    assert.ok(done.revertedAt);
    assert.equal(done.rows, null, "the captured values are deleted once used");
    assert.deepEqual(await snapshot("r_up"), before);
    const again = await askRevert(db.harness.store, db.harness.approvals, undo.requestId, bob);
    assert.deepEqual(again, { ok: false, message: "it was reverted already" });
    // The audit trail: the limit-free approval, what was captured (never the values), the revert.
    const { auditLog } = db.harness.store.tables;
    const audited = await until(
      () => db.harness.store.db.select().from(auditLog).where(eq(auditLog.requestId, undo.requestId)),
      (rows) => !!rows?.some((r) => r.type === "request.reverted"),
    );
    const captured = audited.find((r) => r.type === "request.undo_captured");
    assert.deepEqual(JSON.parse(String(captured?.data)), { table: "public.r_up", key: ["id"], kind: "update", rows: 4, expiresAt: undo.expiresAt.toISOString() });
    assert.equal(audited.find((r) => r.type === "request.reverted")?.decision, "restored");
  });

  test("DELETE: the rows are inserted again as they were, identity values included", async () => {
    await db.admin.query("create table r_del (id int generated always as identity primary key, v text, note text default 'x'); insert into r_del (v) select 'v' || g from generate_series(1, 5) g");
    const before = await snapshot("r_del");
    const undo = await approvedWrite("delete from r_del where id in (2, 3, 5)");
    assert.equal((await snapshot("r_del")).length, 2);
    assert.equal((await reverted(undo)).revertOutcome, "restored 3 rows");
    assert.deepEqual(await snapshot("r_del"), before);
  });

  test("INSERT: the rows it added are deleted", async () => {
    await db.admin.query("create table r_ins (id int primary key, v text); insert into r_ins values (1, 'old')");
    const before = await snapshot("r_ins");
    const undo = await approvedWrite("insert into r_ins select g, 'new' from generate_series(2, 4) g");
    assert.equal((await reverted(undo)).revertOutcome, "restored 3 rows");
    assert.deepEqual(await snapshot("r_ins"), before);
  });

  test("a row changed since is named and nothing is restored", async () => {
    await db.admin.query("create table r_conf (id int primary key, v text); insert into r_conf select g, 'a' from generate_series(1, 3) g");
    const undo = await approvedWrite("update r_conf set v = 'b'");
    await db.admin.query("update r_conf set v = 'c' where id = 2");
    const changed = await snapshot("r_conf");
    const done = await reverted(undo);
    assert.equal(done.revertOutcome, "refused: a row changed since — [2] (the row changed since)");
    assert.equal(done.revertedAt, null);
    assert.deepEqual(await snapshot("r_conf"), changed, "all or nothing");
    assert.ok(done.rows, "the undo is kept (its time has not run out)");
  });

  test("retention: captured values past their time are deleted, and the write can no longer be reverted", async () => {
    await db.admin.query("create table r_old (id int primary key, v text); insert into r_old values (1, 'a')");
    const undo = await approvedWrite("update r_old set v = 'b'");
    const { requestUndos } = db.harness.store.tables;
    assert.equal(await pruneUndos(db.harness.store), 0, "not before its time");
    await db.harness.store.db.update(requestUndos).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(requestUndos.requestId, undo.requestId));
    assert.ok((await pruneUndos(db.harness.store)) >= 1);
    assert.equal((await undoOf(db.harness.store, undo.requestId))?.rows, null);
    const asked = await askRevert(db.harness.store, db.harness.approvals, undo.requestId, alice);
    assert.deepEqual(asked, { ok: false, message: "its undo has expired (the captured rows were deleted)" });
  });
});
