import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { psql } from "../proxy/setup";
import { assertRefused, BASE_FIXTURE, failure, openAgent, PROTOCOLS, withPolicyProxy, type Row } from "./setup";

/**
 * What an agent sees after a refusal, through psql, node-postgres and postgres.js, against
 * PostgreSQL and PGlite: the connection stays usable; inside a transaction, PostgreSQL's own
 * aborted-transaction behaviour; and never a partial commit, even of the statements that were
 * allowed (here: inserts into t_ok).
 */
const RULES = `rules:
  - name: no-truncate
    match: { kinds: [truncate] }
    action: deny
  - name: ops-setup
    match: { agents: [ops-agent], kinds: [ddl, insert, select] }
    action: allow
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-insert-t-ok
    match: { groups: [agents], kinds: [insert], tables: [t_ok] }
    action: allow`;

const RESOURCES = ["pg", "demo"] as const;
type Resource = (typeof RESOURCES)[number];

const env = withPolicyProxy({
  rules: RULES,
  fixture: BASE_FIXTURE,
  demo: true,
  // PGlite has no superuser door: ops-agent sets it up, and reads it back, through the proxy.
  async setUp({ harness }) {
    const client = new pg.Client({ connectionString: await harness.url("demo", "ops-agent") });
    await client.connect();
    await client.query(BASE_FIXTURE).finally(() => client.end());
  },
});

/** t and t_ok as they really are: straight from PostgreSQL, or from PGlite as another agent. */
async function contents(resource: Resource): Promise<{ t: Row[]; t_ok: Row[] }> {
  const read = async (query: (sql: string) => Promise<Row[]>) => ({
    t: await query("SELECT id, v FROM t ORDER BY id"),
    t_ok: await query("SELECT id, note FROM t_ok ORDER BY id"),
  });
  if (resource === "pg") return read(async (sql) => (await env().admin.query(sql)).rows as Row[]);
  const client = new pg.Client({ connectionString: await env().harness.url("demo", "ops-agent") });
  await client.connect();
  try {
    return await read(async (sql) => (await client.query(sql)).rows as Row[]);
  } finally {
    await client.end();
  }
}

const code = (expected: string) => (err: { code?: string; message?: string }) => {
  assert.equal(err.code, expected, err.message);
  return true;
};

for (const resource of RESOURCES) {
  describe(`after a refusal (${resource})`, () => {
    const url = () => env().harness.url(resource);

    for (const protocol of PROTOCOLS) {
      const MESSAGES: Array<{ sql: string; message: RegExp }> = [
        { sql: "TRUNCATE t", message: /^airlock: denied by rule no-truncate: / },
        { sql: "DELETE FROM t", message: /^airlock: no rule allows delete/ },
        { sql: "INSERT INTO t VALUES (9, 'x')", message: /^airlock: no rule allows insert/ },
        { sql: "INSERT INTO t_ok SELECT id, v FROM t", message: /^airlock: no rule allows / },
      ];
      for (const { sql, message } of MESSAGES) {
        test(`${protocol}: "${sql}" is refused naming why (${message.source}), then the connection works`, async () => {
          const was = await contents(resource);
          const agent = await openAgent(await url(), protocol);
          try {
            await assertRefused(agent.query(sql), message);
            assert.deepEqual(await agent.query("SELECT 40 + 2 AS n"), [{ n: 42 }]);
          } finally {
            await agent.close();
          }
          assert.deepEqual(await contents(resource), was);
        });
      }
    }

    test("psql: a refused -c, then the next -c runs", async () => {
      const out = await psql(await url(), ["-v", "ON_ERROR_STOP=0", "-c", "DELETE FROM t", "-c", "SELECT count(*) FROM t"]);
      assert.match(out.stderr, /ERROR: {2}airlock: no rule allows delete/);
      assert.equal(out.stdout, "3");
    });

    test("psql: BEGIN; allowed INSERT; refused DELETE; SELECT; COMMIT shows ROLLBACK, nothing committed", async () => {
      const was = await contents(resource);
      const script = "BEGIN;\nINSERT INTO t_ok VALUES (10, 'psql');\nDELETE FROM t;\nSELECT 1;\nCOMMIT;\nSELECT count(*) FROM t_ok;\n";
      const out = await psql(await url(), ["-v", "ON_ERROR_STOP=0"], script);
      assert.match(out.stderr, /ERROR: {2}airlock: no rule allows delete/);
      assert.match(out.stderr, /current transaction is aborted, commands ignored until end of transaction block/);
      assert.deepEqual(out.stdout.split("\n"), ["BEGIN", "INSERT 0 1", "ROLLBACK", String(was.t_ok.length)]);
      assert.deepEqual(await contents(resource), was);
    });

    for (const params of [false, true]) {
      const how = params ? "with parameters (extended)" : "simple";
      test(`node-postgres ${how}: BEGIN; allowed INSERT; refused DELETE → 42501, then 25P02, COMMIT answers ROLLBACK`, async () => {
        const was = await contents(resource);
        const client = new pg.Client({ connectionString: await url() });
        await client.connect();
        const run = (sql: string, values: unknown[]) => (params ? client.query(sql, values) : client.query(sql.replace(/\$1/g, String(values[0]))));
        try {
          await assertRefused(run("DELETE FROM t WHERE id = $1", [1]));
          assert.deepEqual((await run("SELECT $1::int AS n", [1])).rows, [{ n: 1 }], "usable outside a transaction");

          assert.equal((await client.query("BEGIN")).command, "BEGIN");
          assert.equal((await run("INSERT INTO t_ok VALUES ($1, 'pg')", [11])).rowCount, 1);
          await assertRefused(run("DELETE FROM t WHERE id > $1", [0]));
          await assert.rejects(run("SELECT $1::int AS n", [2]), code("25P02"));
          assert.equal((await client.query("COMMIT")).command, "ROLLBACK");
          assert.deepEqual((await run("SELECT $1::int AS n", [3])).rows, [{ n: 3 }], "usable after the transaction");
        } finally {
          await client.end();
        }
        assert.deepEqual(await contents(resource), was);
      });
    }

    test("node-postgres: BEGIN; INSERT; DELETE; COMMIT in one simple Query is refused whole", async () => {
      const was = await contents(resource);
      const client = new pg.Client({ connectionString: await url() });
      await client.connect();
      try {
        await assertRefused(client.query("BEGIN; INSERT INTO t_ok VALUES (12, 'multi'); DELETE FROM t; COMMIT"));
        assert.deepEqual((await client.query("SELECT 1 AS n")).rows, [{ n: 1 }]);
      } finally {
        await client.end();
      }
      assert.deepEqual(await contents(resource), was);
    });

    test("postgres.js: refused over both protocols outside a transaction, the connection works on", async () => {
      const sql = postgres(await url(), { max: 1, onnotice: () => undefined });
      try {
        await assertRefused(sql`delete from t where id = ${1}`);
        assert.deepEqual([...(await sql`select ${1}::int as n`)], [{ n: 1 }]);
        await assertRefused(sql.unsafe("delete from t"));
        assert.deepEqual([...(await sql.unsafe("select 2 as n"))], [{ n: 2 }]);
      } finally {
        await sql.end();
      }
    });

    test("postgres.js sql.begin: allowed INSERT, refused DELETE → rejects with 42501, rolled back", async () => {
      const was = await contents(resource);
      const sql = postgres(await url(), { max: 1, onnotice: () => undefined });
      try {
        await assertRefused(
          sql.begin(async (tx) => {
            await tx`insert into t_ok values (${13}, 'js')`;
            await tx`delete from t`;
          }),
        );
        assert.deepEqual([...(await sql`select ${1}::int as n`)], [{ n: 1 }]);
      } finally {
        await sql.end();
      }
      assert.deepEqual(await contents(resource), was);
    });

    test("postgres.js sql.begin that catches the refusal and goes on: 25P02, rolled back", async () => {
      const was = await contents(resource);
      const sql = postgres(await url(), { max: 1, onnotice: () => undefined });
      try {
        const seen: Array<string | undefined> = [];
        const err = await failure(
          sql.begin(async (tx) => {
            await tx`insert into t_ok values (${14}, 'js')`;
            seen.push((await failure(tx`delete from t`))?.code);
            seen.push((await failure(tx`select 1`))?.code);
          }),
        );
        assert.deepEqual(seen, ["42501", "25P02"]);
        // postgres.js rolls back and reports the transaction's first error, not the 25P02 after it.
        assert.equal(err?.code, "42501", err?.message);
        assert.deepEqual([...(await sql`select ${1}::int as n`)], [{ n: 1 }]);
      } finally {
        await sql.end();
      }
      assert.deepEqual(await contents(resource), was);
    });
  });
}
