import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { CORPUS, OUTSIDE, ROW_FILTER_FIXTURE, ROW_FILTER_RULES, type Case } from "./row-filter-corpus";
import { failure, PROTOCOLS, withPolicyProxy, type Protocol, type PolicyTestEnv } from "./setup";

/**
 * Row filters against a real PostgreSQL, over both protocols (node-postgres: a Query, or
 * Parse/Bind/Execute with queryMode "extended"): the corpus's attempts to see or change rows
 * outside a filter all fail, and filtered reads return exactly what the filter's WHERE returns
 * straight on the database. COPY over the wire: row-filters-copy.test.ts; the embedded PGlite:
 * row-filters-pglite.test.ts.
 */
const env = withPolicyProxy({ rules: ROW_FILTER_RULES, fixture: ROW_FILTER_FIXTURE });

type Row = Record<string, unknown>;

async function agentClient(e: PolicyTestEnv): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await e.harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

function rowsOf(result: pg.QueryResult | pg.QueryResult[]): Row[] {
  return (Array.isArray(result) ? result : [result]).flatMap((r) => r.rows as Row[]);
}

/** Rows in a stable order, to compare results whose order SQL does not fix. */
function sorted(rows: Row[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

async function outside(admin: pg.Client): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [name, sql] of Object.entries(OUTSIDE)) out[name] = (await admin.query(sql)).rows as Row[];
  return out;
}

export async function runCase(client: pg.Client, protocol: Protocol, c: Case): Promise<Row[]> {
  let rows: Row[] = [];
  for (const text of c.sql) rows = rowsOf(protocol === "simple" ? await client.query(text) : await client.query({ text, queryMode: "extended" } as pg.QueryConfig));
  return rows;
}

for (const protocol of PROTOCOLS) {
  describe(`row-filter corpus over the ${protocol} protocol`, () => {
    for (const c of CORPUS) {
      if (c.simpleOnly && protocol !== "simple") continue;
      test(c.name, async () => {
        const e = env();
        const before = await outside(e.admin);
        const client = await agentClient(e);
        try {
          const run = runCase(client, protocol, c);
          const { expect } = c;
          if ("same" in expect) {
            const rows = await run;
            const direct = rowsOf(await e.admin.query(expect.same));
            assert.deepEqual(sorted(rows), sorted(direct), `${c.sql.join("; ")}: not the rows the filter's WHERE gives`);
          } else if ("refused" in expect) {
            const err = await failure(run);
            assert.ok(err, "SECURITY: the statement ran");
            assert.equal(err.code, "42501", `expected a refusal, got ${err.code}: ${err.message}`);
            assert.match(err.message ?? "", expect.refused === true ? /^airlock: / : expect.refused);
          } else if ("fails" in expect) {
            assert.ok(await failure(run), "the statement returned rows");
          } else {
            await failure(run); // it may run or fail; what matters is what it left
            if (expect.check) {
              const [a, b] = await Promise.all(expect.check.map((q) => e.admin.query(q)));
              assert.deepEqual(a.rows[0], b.rows[0]);
            }
          }
        } finally {
          await client.end();
        }
        assert.deepEqual(await outside(e.admin), before, "SECURITY: a row outside the filter changed");
      });
    }
  });
}

describe("extended protocol: parameters stay aligned with the rewrite", () => {
  for (const [params, ids] of [
    [[1, "us"], []],
    [[3, "x"], [3]],
    [[0, "eu"], [3, 6, 9, 12, 15, 18, 21, 24]],
  ] as const) {
    test(`$1 = ${params[0]}, $2 = ${params[1]}`, async () => {
      const e = env();
      const client = await agentClient(e);
      try {
        const { rows } = await client.query({ name: `q${params[0]}`, text: "SELECT id FROM orders WHERE (id = $1 OR region = $2::text) AND id < 25 ORDER BY id", values: [...params] });
        assert.deepEqual(rows.map((r: Row) => r.id), ids);
      } finally {
        await client.end();
      }
    });
  }
});

describe("the corpus", () => {
  test("has at least 40 statements trying to see or change rows outside a filter", () => {
    const attempts = CORPUS.filter((c) => !("same" in c.expect) || /<>|OR|us|hidden|EXISTS|EXCEPT|probe/i.test(c.name + c.sql.join(" ")));
    assert.ok(CORPUS.length >= 60, `only ${CORPUS.length} cases`);
    assert.ok(attempts.length >= 40, `only ${attempts.length} attempts`);
  });
});
