import { describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import postgres from "postgres";
import { psql, RESOURCES, withProxy } from "./setup";

const env = withProxy();

for (const { resource, kind } of RESOURCES) {
  describe(`real clients through the proxy to ${kind}`, () => {
    const table = `clients_${resource}`;

    test("psql: select, several statements in one string, an error", async () => {
      const url = await env().harness.url(resource);
      const ok = await psql(url, ["-c", "select 40 + 2", "-c", "select count(*) from generate_series(1, 1000); select 'two'"]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(ok.stdout.split("\n"), ["42", "1000", "two"]);
      const bad = await psql(url, ["-c", "select * from no_such_table"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /relation "no_such_table" does not exist/);
    });

    test("pg (extended protocol): parameters, a transaction rolled back, a server error mid-transaction", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        await client.query(`create table if not exists ${table} (id int primary key, note text)`);
        assert.deepEqual((await client.query("select $1::int + $2::int as sum", [40, 2])).rows, [{ sum: 42 }]);

        await client.query("begin");
        await client.query(`insert into ${table} values ($1, $2)`, [1, "inserted"]);
        await client.query(`update ${table} set note = $1 where id = $2`, ["updated", 1]);
        assert.deepEqual((await client.query(`select note from ${table} where id = 1`)).rows, [{ note: "updated" }]);
        await client.query("rollback");
        assert.equal((await client.query(`select count(*)::int as n from ${table}`)).rows[0].n, 0);

        await client.query("begin");
        await client.query(`insert into ${table} values (2, 'doomed')`);
        await assert.rejects(client.query("select 1 / 0"), (err: { code?: string }) => err.code === "22012");
        await assert.rejects(client.query("select 1"), (err: { code?: string }) => err.code === "25P02");
        await client.query("rollback");
        assert.equal((await client.query(`select count(*)::int as n from ${table} where id = 2`)).rows[0].n, 0);

        await client.query("begin");
        await client.query(`insert into ${table} values (3, 'kept')`);
        await client.query("commit");
        assert.deepEqual((await client.query(`select note from ${table} where id = 3`)).rows, [{ note: "kept" }]);
      } finally {
        await client.end();
      }
    });

    test("pg: named prepared statements and binary results", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        for (const n of [1, 2, 3]) {
          const { rows } = await client.query({ name: `double_${resource}`, text: "select $1::int * 2 as doubled", values: [n] });
          assert.equal(rows[0].doubled, n * 2);
        }
        // pg asks for binary results with `binary` (missing from its type definitions).
        const binary = await client.query({ text: "select 7::int4 as n, 'abc'::text as s, true as b", binary: true } as pg.QueryConfig);
        assert.deepEqual(binary.rows, [{ n: 7, s: "abc", b: true }]);
      } finally {
        await client.end();
      }
    });

    test("postgres.js: pipelined queries on one connection, a transaction", async () => {
      const sql = postgres(await env().harness.url(resource), { max: 1, onnotice: () => undefined });
      try {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sql`select ${i}::int as i, ${"x".repeat(i)}::text as s`));
        results.forEach((rows, i) => assert.deepEqual([...rows], [{ i, s: "x".repeat(i) }]));
        await sql.begin(async (tx) => {
          await tx`create table if not exists ${tx(table + "_js")} (id int primary key)`;
          await tx`insert into ${tx(table + "_js")} values (${1}) on conflict do nothing`;
        });
        const [{ n }] = await sql`select count(*)::int as n from ${sql(table + "_js")}`;
        assert.equal(n, 1);
      } finally {
        await sql.end();
      }
    });

    test("a 10 MB result arrives whole", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        const { rows } = await client.query("select g, repeat(md5(g::text), 32) as filler from generate_series(1, 10000) g");
        assert.equal(rows.length, 10000);
        assert.equal(rows[9999].filler.length, 1024);
        const big = await client.query("select repeat('x', 5 * 1024 * 1024) as a, repeat('y', 5 * 1024 * 1024) as b");
        assert.equal(big.rows[0].a.length + big.rows[0].b.length, 10 * 1024 * 1024);
      } finally {
        await client.end();
      }
    });

    test("COPY to stdout and from stdin", async () => {
      const url = await env().harness.url(resource);
      const out = await psql(url, ["-c", "copy (select g, 'row ' || g from generate_series(1, 500) g) to stdout with (format csv)"]);
      assert.equal(out.status, 0, out.stderr);
      const lines = out.stdout.split("\n");
      assert.equal(lines.length, 500);
      assert.equal(lines[499], '500,row 500');

      const copyTable = `copy_${resource}`;
      const setup = await psql(url, ["-c", `create table if not exists ${copyTable} (id int, note text)`, "-c", `truncate ${copyTable}`]);
      assert.equal(setup.status, 0, setup.stderr);
      const data = Array.from({ length: 300 }, (_, i) => `${i}\tnote ${i}`).join("\n") + "\n";
      const copyIn = await psql(url, ["-c", `copy ${copyTable} from stdin`], data);
      assert.equal(copyIn.status, 0, copyIn.stderr);
      assert.equal((await psql(url, ["-c", `select count(*), max(id) from ${copyTable}`])).stdout, "300|299");
    });

    test("an idle connection closed by the client ends its session", async () => {
      const { harness } = env();
      const before = harness.live.size;
      const client = new pg.Client({ connectionString: await harness.url(resource) });
      await client.connect();
      assert.equal(harness.live.size, before + 1);
      await client.end();
      for (let i = 0; i < 50 && harness.live.size > before; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(harness.live.size, before);
    });
  });
}
