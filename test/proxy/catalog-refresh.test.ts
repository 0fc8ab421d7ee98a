import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { withPolicyProxy } from "../policy/setup";

/**
 * The catalog after DDL through Airlock (issue 15): read again once the DDL's session is idle, so
 * new sessions trace a new view's columns; never while the DDL's locks are held, and never a
 * deadlock with agents' own DDL.
 */
const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["*.email"] }
  - name: agents-ddl
    match: { groups: [agents], kinds: [ddl] }
    action: allow`;

const EMAILS = ["ada@example.com", "bo@example.com"];

const env = withPolicyProxy({ rules: RULES, fixture: "create table customers (id int primary key, email text); insert into customers values (1, 'ada@example.com'), (2, 'bo@example.com')" });

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await env().harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** A new session's view of the rows: traced columns keep their values, what cannot be traced is masked whole. */
async function readAsNewSession(sql: string): Promise<Array<Record<string, unknown>>> {
  const client = await agent();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test("a view made through Airlock is traced by sessions that start after it: its email column masked, its id not", async () => {
  const a = await agent();
  try {
    await a.query("create view contacts as select id, email as contact from customers");
  } finally {
    await a.end();
  }
  const rows = await readAsNewSession("select id, contact from contacts order by id");
  assert.deepEqual(rows.map((r) => r.id), [1, 2], "the id is traced to customers.id, not masked as unknown");
  assert.ok(rows.every((r) => !EMAILS.includes(String(r.contact))), `SECURITY: emails in clear: ${JSON.stringify(rows)}`);
});

test("DDL inside a transaction: the catalog is read once it commits, not while its locks are held", async () => {
  const a = await agent();
  try {
    await a.query("begin");
    await a.query("create view contacts_tx as select id, email from customers");
    // Meanwhile another session works: nothing of Airlock's waits on the uncommitted view.
    const started = Date.now();
    assert.equal((await readAsNewSession("select count(*)::int as n from customers"))[0].n, 2);
    assert.ok(Date.now() - started < 5000, "a new session did not wait behind the open transaction");
    await a.query("commit");
  } finally {
    await a.end();
  }
  const rows = await readAsNewSession("select id, email from contacts_tx order by id");
  assert.deepEqual(rows.map((r) => r.id), [1, 2]);
  assert.ok(rows.every((r) => !EMAILS.includes(String(r.email))), `SECURITY: emails in clear: ${JSON.stringify(rows)}`);
});

test("two sessions replacing and dropping views in a loop: no deadlock, no error caused by Airlock", async () => {
  const [a, b] = [await agent(), await agent()];
  const loop = async (client: pg.Client, name: string) => {
    for (let i = 0; i < 25; i++) {
      await client.query("begin");
      await client.query(`create or replace view ${name}_${i} as select id, email from customers`);
      if (i > 0) await client.query(`drop view ${name}_${i - 1}`);
      await client.query(`create or replace view ${name}_shared_${i % 2} as select id from customers`);
      await client.query("commit");
    }
  };
  try {
    const results = await Promise.allSettled([loop(a, "va"), loop(b, "vb")]);
    const failures = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as { code?: string; message?: string })] : []));
    // The two sessions may wait on each other's views (PostgreSQL's own locking, the same directly): never on Airlock's reads.
    assert.deepEqual(failures.filter((f) => f.code === "40P01" || /catalog/.test(f.message ?? "")), [], JSON.stringify(failures));
  } finally {
    await a.end();
    await b.end();
  }
});
