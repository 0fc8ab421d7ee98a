import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { databaseState } from "./database-state";
import { BASE_FIXTURE, failure, HOSTILE_FIXTURE, READ_ONLY_RULES, sequenceTests, SHADOW_FIXTURE, withPolicyProxy, type Sequence } from "./setup";

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

/** A startup parameter that would change privileges or name resolution is refused at login, in words, never dropped. */
async function assertStartupRefused(connect: () => Promise<unknown>, parameter: string): Promise<void> {
  const { admin } = env();
  const before = await databaseState(admin);
  const err = await failure(connect());
  assert.ok(err, `SECURITY: a session started with ${parameter} set`);
  assert.equal(err.code, "42501", `${err.code}: ${err.message}`);
  assert.match(err.message ?? "", new RegExp(`^airlock: the startup parameter ${parameter} is not allowed`));
  assert.deepEqual(await databaseState(admin), before);
}

describe("startup parameters", () => {
  test("search_path=evil,pg_catalog at startup (postgres.js sends it as its own parameter) is refused", async () => {
    const url = await env().harness.url("pg");
    await assertStartupRefused(async () => {
      const sql = postgres(url, { max: 1, onnotice: () => undefined, fetch_types: false, connection: { search_path: "evil, pg_catalog" } });
      try {
        await sql`SELECT lower('x')`;
      } finally {
        await sql.end();
      }
    }, "search_path");
  });

  for (const options of ["-c role=evil_role -c session_replication_role=replica", "--session-replication-role=replica", "-csearch_path=evil"]) {
    test(`options ${options} is refused, not dropped`, async () => {
      const client = new pg.Client({ connectionString: await env().harness.url("pg"), options });
      client.on("error", () => undefined);
      await assertStartupRefused(() => client.connect(), options.includes("role=evil") ? "role" : options.includes("search_path") ? "search_path" : "session_replication_role");
      await client.end().catch(() => undefined);
    });
  }
});
