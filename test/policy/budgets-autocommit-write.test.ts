import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { withPolicyProxy } from "./setup";

/**
 * A write with RETURNING in autocommit (simple protocol) that goes over max_rows: the agent gets
 * the budget's error, so nothing of the write may stay committed (PostgreSQL never reports an
 * error for a statement it committed). Under the limit, it commits as usual.
 */
const RULES = `rules:
  - name: capped-writes
    match: { groups: [agents], kinds: [select, insert, update], tables: [public.w] }
    action: allow
    limits: { max_rows: 100 }`;

const FIXTURE = `
  CREATE TABLE public.w (id int PRIMARY KEY, v text);
  INSERT INTO public.w SELECT g, 'row ' || g FROM generate_series(1, 500) g;
`;

const env = withPolicyProxy({ rules: RULES, fixture: FIXTURE });

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await env().harness.url("pg") });
  await client.connect();
  return client;
}

async function count(where: string): Promise<number> {
  return Number((await env().admin.query(`SELECT count(*) AS n FROM w WHERE ${where}`)).rows[0].n);
}

test("INSERT … RETURNING over max_rows in autocommit: the error, and nothing inserted", async () => {
  const client = await agent();
  try {
    const err = await client.query("INSERT INTO w SELECT g, 'new' FROM generate_series(1001, 1200) g RETURNING id").then(
      () => undefined,
      (e: pg.DatabaseError) => e,
    );
    assert.equal(err?.code, "54000");
    assert.equal(await count("id > 1000"), 0);
    const ok = await client.query("INSERT INTO w SELECT g, 'new' FROM generate_series(2001, 2005) g RETURNING id");
    assert.equal(ok.rows.length, 5);
    assert.equal(await count("id > 2000"), 5);
  } finally {
    await client.end();
  }
});

test("UPDATE … RETURNING over max_rows in autocommit: the error, and no row changed", async () => {
  const client = await agent();
  try {
    const err = await client.query("UPDATE w SET v = 'changed' WHERE id <= 300 RETURNING id").then(
      () => undefined,
      (e: pg.DatabaseError) => e,
    );
    assert.equal(err?.code, "54000");
    assert.equal(await count("v = 'changed'"), 0);
    assert.equal((await client.query("SELECT count(*) AS n FROM w WHERE id <= 10")).rows[0].n, "10");
  } finally {
    await client.end();
  }
});
