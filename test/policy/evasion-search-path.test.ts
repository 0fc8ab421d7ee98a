import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { databaseState } from "./database-state";
import { assertRefused, BASE_FIXTURE, HOSTILE_FIXTURE, READ_ONLY_RULES, sequenceTests, SHADOW_FIXTURE, withPolicyProxy, type Sequence } from "./setup";

/**
 * Evasions through name resolution: a schema placed before pg_catalog on the search_path (by SET,
 * which a read rule allows, or at startup) so that a name the agent writes plainly, or an operator
 * it never writes at all (JOIN … USING), resolves to a function that writes.
 */

/** An `=` for integers that writes, in its own schema: first on the search_path, USING picks it. */
const EQUALS_FIXTURE = `
  CREATE SCHEMA eq;
  CREATE FUNCTION eq.int_eq(a int, b int) RETURNS bool LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from eq.=' FROM public.t; RETURN a OPERATOR(pg_catalog.=) b; END $$;
  CREATE OPERATOR eq.= (LEFTARG = int, RIGHTARG = int, FUNCTION = eq.int_eq);
`;

const env = withPolicyProxy({ rules: READ_ONLY_RULES, fixture: BASE_FIXTURE + HOSTILE_FIXTURE + SHADOW_FIXTURE + EQUALS_FIXTURE });

// With a user-defined `=` anywhere, Airlock refuses every unqualified `=`, postgres.js's own
// array-type query at connect included: it is skipped here (fetch_types: false).
const AGENT = { fetchTypes: false };

sequenceTests(
  env,
  [
    {
      // The search_path is not the agent's to change: with evil first, unqualified lower() would reach evil.lower.
      name: "SET search_path = evil, pg_catalog is refused; lower('x') stays pg_catalog's",
      steps: [
        ["SET search_path = evil, pg_catalog", "refused"],
        ["SELECT lower('x')", "refused"], // refused all the same: a user-defined lower() exists and might be reached
        ["SELECT pg_catalog.lower('x') AS l", "ok"],
      ],
    },
    // Each of these has PostgreSQL look up `=` by name without the agent writing it: with the
    // search_path pinned, the lookup reaches pg_catalog's `=` first and nothing is written.
    // (IN writes `=` by name, and a user-defined `=` exists: refused all the same.)
    ...(
      [
        ["SELECT count(*) FROM t JOIN t_ok USING (id)", "ok"],
        ["SELECT count(*) FROM t NATURAL JOIN v_plain", "ok"],
        ["SELECT CASE id WHEN 1 THEN 'one' END FROM t", "ok"],
        ["SELECT count(*) FROM t WHERE id IN (1, 2)", "refused"],
      ] as const
    ).map(
      ([sql, expect]): Sequence => ({
        name: `SET search_path = eq, pg_catalog, public is refused, so ${sql} cannot reach eq.=`,
        steps: [
          ["SET search_path = eq, pg_catalog, public", "refused"],
          ["ROLLBACK", "ok"],
          [sql, expect],
        ],
      }),
    ),
    {
      name: "set_config of search_path is not a session statement",
      steps: [
        ["SELECT set_config('search_path', 'evil, pg_catalog', false)", "refused"],
        ["SELECT current_setting('search_path') AS path", "ok"],
      ],
    },
  ],
  AGENT,
);

describe("startup parameters", () => {
  test("search_path=evil,pg_catalog at startup does not reach the database", async () => {
    const { harness, admin } = env();
    const before = await databaseState(admin);
    const sql = postgres(await harness.url("pg"), { max: 1, onnotice: () => undefined, fetch_types: false, connection: { search_path: "evil, pg_catalog" } });
    try {
      assert.notDeepEqual([...(await sql`SHOW search_path`)], [{ search_path: "evil, pg_catalog" }]);
      await assertRefused(sql.unsafe("SELECT lower('x')"));
      await assertRefused(sql`SELECT lower(${"x"}::text)`);
    } finally {
      await sql.end();
    }
    assert.deepEqual(await databaseState(admin), before);
  });

  test("search_path=eq,pg_catalog,public at startup is dropped: JOIN … USING reaches the built-in =", async () => {
    const { harness, admin } = env();
    const before = await databaseState(admin);
    // postgres.js sends search_path as a startup parameter of its own; the proxy does not pass it on.
    const sql = postgres(await harness.url("pg"), { max: 1, onnotice: () => undefined, fetch_types: false, connection: { search_path: "eq, pg_catalog, public" } });
    try {
      await sql.unsafe("SELECT count(*) FROM t JOIN t_ok USING (id)");
    } finally {
      await sql.end();
    }
    assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
  });

  test("options -c role=… -c session_replication_role=… do not reach the database", async () => {
    const client = new pg.Client({ connectionString: await env().harness.url("pg"), options: "-c role=evil_role -c session_replication_role=replica" });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT current_user AS role, current_setting('session_replication_role') AS replication");
      assert.deepEqual(rows, [{ role: env().postgres.user, replication: "origin" }]);
    } finally {
      await client.end();
    }
  });
});
