import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { psql } from "../proxy/setup";
import { BASE_FIXTURE, HOSTILE_FIXTURE, openAgent, PROTOCOLS, READ_ONLY_RULES, withPolicyProxy, type Row } from "./setup";

/**
 * What a read-only rule must let through, on both protocols, against PostgreSQL (with writing
 * user functions present, unused) and the embedded demo database: reads of every shape, session
 * statements, and the transactions drivers open on their own.
 */
const env = withPolicyProxy({ rules: READ_ONLY_RULES, fixture: BASE_FIXTURE + HOSTILE_FIXTURE, demo: true });

interface ReadCase {
  resource: "pg" | "demo";
  sql: string;
  /** The exact rows, or a check of them; by default, the statement just has to succeed. */
  expect?: Row[] | ((rows: Row[]) => void);
}

const someRows = (rows: Row[]) => assert.ok(rows.length > 0, "no rows");

const READS: ReadCase[] = [
  { resource: "pg", sql: "SELECT t.id, t.v, t_ok.note FROM t JOIN t_ok ON t_ok.id = t.id ORDER BY t.id", expect: [{ id: 1, v: "one", note: "ok" }] },
  { resource: "pg", sql: "SELECT count(*)::int AS n FROM t LEFT JOIN t_ok USING (id)", expect: [{ n: 3 }] },
  { resource: "pg", sql: "WITH big AS (SELECT * FROM t WHERE id > 1) SELECT count(*)::int AS n FROM big", expect: [{ n: 2 }] },
  { resource: "pg", sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n)::int AS s FROM r", expect: [{ s: 15 }] },
  { resource: "pg", sql: "SELECT count(*)::int AS n, max(id) AS top, string_agg(v, ',' ORDER BY id) AS vs FROM t", expect: [{ n: 3, top: 3, vs: "one,two,three" }] },
  {
    resource: "pg",
    sql: "SELECT id, row_number() OVER (ORDER BY id DESC)::int AS rn, sum(id) OVER ()::int AS total FROM t ORDER BY id",
    expect: [{ id: 1, rn: 3, total: 6 }, { id: 2, rn: 2, total: 6 }, { id: 3, rn: 1, total: 6 }],
  },
  { resource: "pg", sql: "SELECT v FROM t WHERE id IN (SELECT id FROM t_ok)", expect: [{ v: "one" }] },
  { resource: "pg", sql: "SELECT (SELECT max(id) FROM t) AS m, EXISTS (SELECT 1 FROM t_ok WHERE id = 1) AS e", expect: [{ m: 3, e: true }] },
  { resource: "pg", sql: "SELECT s.id FROM (SELECT id FROM t) s WHERE s.id > (SELECT min(id) FROM t_ok) ORDER BY 1", expect: [{ id: 2 }, { id: 3 }] },
  { resource: "pg", sql: "TABLE t", expect: (rows) => assert.equal(rows.length, 3) },
  { resource: "pg", sql: "VALUES (1)", expect: [{ column1: 1 }] },
  { resource: "pg", sql: "SELECT $$; DELETE FROM t; $$ AS s", expect: [{ s: "; DELETE FROM t; " }] },
  { resource: "pg", sql: "SELECT '; DROP TABLE t; --' AS s", expect: [{ s: "; DROP TABLE t; --" }] },
  { resource: "pg", sql: "/* DELETE FROM t; */ SELECT 1 AS one -- ; TRUNCATE t", expect: [{ one: 1 }] },
  {
    resource: "pg",
    sql: "SELECT now() IS NOT NULL AS a, random() < 1 AS b, gen_random_uuid() IS NOT NULL AS c, lower(v) AS l FROM t WHERE id = 1",
    expect: [{ a: true, b: true, c: true, l: "one" }],
  },
  { resource: "pg", sql: "SELECT jsonb_build_object('id', id)::text AS j, upper(v) || '!' AS u FROM t WHERE id = 2", expect: [{ j: '{"id": 2}', u: "TWO!" }] },
  { resource: "pg", sql: "SELECT count(*)::int AS n FROM generate_series(1, 10) g WHERE g % 2 = 0", expect: [{ n: 5 }] },
  { resource: "pg", sql: "SELECT relname FROM pg_catalog.pg_class WHERE relname = 't'", expect: [{ relname: "t" }] },
  { resource: "pg", sql: "SELECT last_value::int AS last, is_called FROM s", expect: [{ last: 1, is_called: false }] },
  { resource: "pg", sql: "EXPLAIN SELECT * FROM t WHERE id = 1", expect: someRows },
  { resource: "pg", sql: "EXPLAIN (COSTS OFF, FORMAT TEXT) SELECT count(*) FROM t JOIN t_ok USING (id)", expect: someRows },
  { resource: "pg", sql: "SHOW work_mem", expect: [{ work_mem: "4MB" }] },
  { resource: "pg", sql: "SELECT current_setting('work_mem') AS w", expect: [{ w: "4MB" }] },
  { resource: "pg", sql: "SELECT * FROM v_plain ORDER BY id", expect: [{ id: 1, v: "one" }, { id: 2, v: "two" }, { id: 3, v: "three" }] },
  { resource: "pg", sql: "SET application_name = 'airlock-reads'" },
  {
    resource: "demo",
    sql: "SELECT c.country, count(*)::int AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.country ORDER BY 2 DESC, 1 LIMIT 3",
    expect: (rows) => assert.equal(rows.length, 3),
  },
  { resource: "demo", sql: "SELECT id, rank() OVER (PARTITION BY customer_id ORDER BY total_cents DESC)::int AS r FROM orders ORDER BY id LIMIT 5", expect: someRows },
  {
    resource: "demo",
    sql: "WITH refunded AS (SELECT DISTINCT order_id FROM refunds) SELECT count(*)::int AS n FROM orders WHERE id IN (SELECT order_id FROM refunded)",
    expect: someRows,
  },
  { resource: "demo", sql: "SELECT category, avg(price_cents)::int AS avg FROM products GROUP BY category ORDER BY category", expect: someRows },
  { resource: "demo", sql: "SELECT p.name FROM products p WHERE EXISTS (SELECT 1 FROM orders o WHERE o.product_id = p.id AND o.quantity > 1) LIMIT 3", expect: someRows },
  { resource: "demo", sql: "TABLE products", expect: someRows },
  { resource: "demo", sql: "VALUES (1), (2)", expect: [{ column1: 1 }, { column1: 2 }] },
  { resource: "demo", sql: "SELECT $$; DELETE FROM refunds; $$ AS s", expect: [{ s: "; DELETE FROM refunds; " }] },
  {
    resource: "demo",
    sql: "SELECT lower(name) AS l, now() IS NOT NULL AS a, random() < 1 AS b, gen_random_uuid() IS NOT NULL AS c FROM customers ORDER BY id LIMIT 1",
    expect: (rows) => assert.deepEqual({ ...rows[0], l: typeof rows[0].l }, { l: "string", a: true, b: true, c: true }),
  },
  { resource: "demo", sql: "EXPLAIN SELECT * FROM orders WHERE customer_id = 1", expect: someRows },
  { resource: "demo", sql: "SHOW work_mem", expect: someRows },
  { resource: "demo", sql: "SET application_name = 'airlock-reads'" },
];

for (const protocol of PROTOCOLS) {
  describe(`reads allowed over the ${protocol} protocol`, () => {
    for (const { resource, sql, expect } of READS) {
      test(`${resource}: ${sql}`, { timeout: 15_000 }, async () => {
        const agent = await openAgent(await env().harness.url(resource), protocol);
        try {
          const rows = await agent.query(sql);
          if (typeof expect === "function") expect(rows);
          else if (expect) assert.deepEqual(rows, expect);
        } finally {
          await agent.close();
        }
      });
    }
  });
}

/** A count that each resource answers, for the transaction tests. */
const COUNT = { pg: { sql: "select count(*)::int as n from t", n: 3 }, demo: { sql: "select count(*)::int as n from products", n: undefined } } as const;

for (const resource of ["pg", "demo"] as const) {
  describe(`drivers' own transactions around reads (${resource})`, () => {
    test("postgres.js sql.begin, and sql.begin('read only')", async () => {
      const sql = postgres(await env().harness.url(resource), { max: 1, onnotice: () => undefined });
      try {
        const [first, second] = await sql.begin(async (tx) => [await tx.unsafe(COUNT[resource].sql), await tx`select ${1}::int as one`]);
        if (COUNT[resource].n !== undefined) assert.equal(first[0].n, COUNT[resource].n);
        assert.deepEqual([...second], [{ one: 1 }]);
        const [row] = await sql.begin("read only", async (tx) => tx`select ${"x"}::text as x`);
        assert.deepEqual(row, { x: "x" });
      } finally {
        await sql.end();
      }
    });

    test("node-postgres BEGIN, parameterized and named reads, COMMIT", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        assert.equal((await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ")).command, "BEGIN");
        await client.query(COUNT[resource].sql);
        assert.deepEqual((await client.query("select $1::int + 1 as n", [41])).rows, [{ n: 42 }]);
        assert.deepEqual((await client.query({ name: `named-${resource}`, text: "select $1::text as s", values: ["named"] })).rows, [{ s: "named" }]);
        assert.equal((await client.query("COMMIT")).command, "COMMIT");
      } finally {
        await client.end();
      }
    });

    test("savepoints inside a transaction", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        for (const sql of ["BEGIN", "SAVEPOINT sp", "SELECT 1", "ROLLBACK TO SAVEPOINT sp", "RELEASE SAVEPOINT sp", "COMMIT"]) await client.query(sql);
      } finally {
        await client.end();
      }
    });

    test("psql: a script of BEGIN, reads, COMMIT", async () => {
      const out = await psql(await env().harness.url(resource), [], `BEGIN;\n${COUNT[resource].sql};\nSELECT 'done';\nCOMMIT;\n`);
      assert.equal(out.status, 0, out.stderr);
      const lines = out.stdout.split("\n");
      assert.deepEqual([lines[0], ...lines.slice(-2)], ["BEGIN", "done", "COMMIT"]);
    });
  });
}
