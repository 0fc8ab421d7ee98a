import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { undoOf } from "../../lib/approvals/undo/store";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";

/**
 * Undo captures one table's rows: a write that also changes rows elsewhere (a cascading foreign
 * key, a trigger, a rule) has no undo, since a revert would restore only part of it; and a WHERE
 * with a volatile function is not evaluated a second time by the capture (it would change what the
 * approved statement itself does).
 */
const RULES = `rules:
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, select] }
    action: review
    review: { approvers: [db-approvers], undo: 7d }
    limits: { statement_timeout: 1s }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES);
});
after(() => db.stop());

async function approvedUndo(text: string): Promise<{ result: pg.QueryResult; unavailable: string | null }> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const running = client.query(text);
    const request = await pendingRequest(db.harness.approvals, text);
    assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
    const result = await running;
    for (let i = 0; i < 250; i++) {
      const found = await undoOf(db.harness.store, request.id);
      if (found) return { result, unavailable: found.unavailable };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("no undo was kept");
  } finally {
    await client.end();
  }
}

test("DELETE of rows a cascading foreign key follows: no undo (a revert would not bring the children back)", async () => {
  await db.admin.query("create table parent (id int primary key); create table child (id int primary key, p int references parent on delete cascade); insert into parent values (1), (2); insert into child values (10, 1), (20, 2)");
  const { result, unavailable } = await approvedUndo("delete from parent where id = 1");
  assert.equal(result.rowCount, 1);
  assert.match(unavailable ?? "", /trigger|rule|foreign key/);
  // A table that only references another (its own FK checks) keeps its undo.
  const plain = await approvedUndo("update child set id = id where id = 20");
  assert.equal(plain.unavailable, null);
});

test("a table with a trigger of its own: no undo", async () => {
  await db.admin.query(`create table audited (id int primary key, n int); create table audit_log (n int);
    create function audit_it() returns trigger language plpgsql as $$ begin insert into audit_log values (new.n); return new; end $$;
    create trigger audited_t after update on audited for each row execute function audit_it();
    insert into audited values (1, 1)`);
  const { result, unavailable } = await approvedUndo("update audited set n = 2 where id = 1");
  assert.equal(result.rowCount, 1);
  assert.match(unavailable ?? "", /trigger|rule|foreign key/);
});

test("a WHERE with a volatile function runs once: the statement does what it would without Airlock", async () => {
  await db.admin.query("create sequence vs; create table vt (id int primary key, n int); insert into vt select g, 0 from generate_series(1, 5) g");
  // Without a capture: nextval per row gives 1..5, matching every row.
  const { result, unavailable } = await approvedUndo("update vt set n = 1 where id = nextval('vs')");
  assert.equal(result.rowCount, 5);
  assert.equal((await db.admin.query("select count(*)::int as n from vt where n = 1")).rows[0].n, 5);
  assert.match(unavailable ?? "", /volatile/);
});

test("an approved write captured for undo still runs under its rule's budget (statement_timeout)", async () => {
  await db.admin.query("create table slowt (id int primary key, n int); insert into slowt values (1, 0)");
  const text = "update slowt set n = 1 where id = 1 and (select pg_sleep(3)) is not null";
  const client = new pg.Client({ connectionString: await db.harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const running = client.query(text).then(
      () => undefined,
      (e: pg.DatabaseError) => e,
    );
    const request = await pendingRequest(db.harness.approvals, text);
    assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
    const err = await running;
    assert.equal(err?.code, "57014");
    assert.match(err?.message ?? "", /statement_timeout/);
    assert.equal((await db.admin.query("select n from slowt where id = 1")).rows[0].n, 0);
  } finally {
    await client.end();
  }
});
