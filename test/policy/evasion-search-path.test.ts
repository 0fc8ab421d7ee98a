import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { databaseState } from "./database-state";
import { assertRefused, BASE_FIXTURE, failure, HOSTILE_FIXTURE, READ_ONLY_RULES, sequenceTests, SHADOW_FIXTURE, withPolicyProxy, type Sequence } from "./setup";

/**
 * Evasions through name resolution. SET search_path is followed (lib/sql/search-path.ts,
 * proxy/session-path.ts), so every one of these tries to make Airlock judge a name as one thing
 * while PostgreSQL resolves it to another: a schema first on the path whose table, view, function
 * or operator shadows the one the agent seems to name, a change Airlock might believe undone (or
 * not) across COMMIT, ROLLBACK and savepoints, set_config, startup parameters, `"$user"`.
 */

/** An `=` for integers that writes, in its own schema: first on the search_path, USING picks it. */
const EQUALS_FIXTURE = `
  CREATE SCHEMA eq;
  CREATE FUNCTION eq.int_eq(a int, b int) RETURNS bool LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from eq.=' FROM public.t; RETURN a OPERATOR(pg_catalog.=) b; END $$;
  CREATE OPERATOR eq.= (LEFTARG = int, RIGHTARG = int, FUNCTION = eq.int_eq);
`;

/**
 * A schema whose t is a view that writes (public.t is a plain table), and one named like the role
 * Airlock connects as (on the default path as "$user") whose usr_t does the same.
 */
const TABLE_SHADOW_FIXTURE = `
  CREATE SCHEMA shadow;
  CREATE VIEW shadow.t AS SELECT id, public.f()::text AS v FROM public.t;
  CREATE TABLE public.usr_t (id int);
  DO $$ BEGIN EXECUTE format('CREATE SCHEMA %I', current_user); EXECUTE format('CREATE VIEW %I.usr_t AS SELECT public.f() AS id', current_user); END $$;
`;

const env = withPolicyProxy({ rules: READ_ONLY_RULES, fixture: BASE_FIXTURE + HOSTILE_FIXTURE + SHADOW_FIXTURE + EQUALS_FIXTURE + TABLE_SHADOW_FIXTURE });

// With a user-defined `=` anywhere, Airlock refuses every unqualified `=`, postgres.js's own
// array-type query at connect included: it is skipped here (fetch_types: false).
const AGENT = { fetchTypes: false };

const SHADOWED = "SELECT id FROM t ORDER BY 1";

sequenceTests(
  env,
  [
    {
      // evil before pg_catalog, and user-defined operators exist: every statement on that path is a call.
      name: "SET search_path = evil, pg_catalog runs; lower('x') (evil.lower) and all else on that path are refused",
      steps: [
        ["SET search_path = evil, pg_catalog", "ok"],
        ["SELECT lower('x')", "refused"],
        ["SELECT pg_catalog.lower('x') AS l", "refused"],
        ["SET search_path = pg_catalog, evil", "ok"],
        ["SELECT lower('x')", "refused"], // a user lower() exists: it might be reached
        ["SELECT pg_catalog.lower('x') AS l", "ok"],
      ],
    },
    // Each of these has PostgreSQL look up `=` by name without the agent writing it: with eq before
    // pg_catalog, the lookup would reach eq.=, so every statement on that path is a call.
    ...["SELECT count(*) FROM t JOIN t_ok USING (id)", "SELECT count(*) FROM t NATURAL JOIN v_plain", "SELECT CASE id WHEN 1 THEN 'one' END FROM t", "SELECT count(*) FROM t WHERE id IN (1, 2)"].map(
      (sql): Sequence => ({
        name: `with eq before pg_catalog, ${sql} cannot reach eq.=`,
        steps: [
          ["SET search_path = eq, pg_catalog, public", "ok"],
          [sql, "refused"],
          ["RESET search_path", "ok"],
          ["SELECT count(*) FROM t JOIN t_ok USING (id)", "ok"],
        ],
      }),
    ),
    { name: "a schema first on the path shadows a table with a view that writes: refused", steps: [["SET search_path = shadow, public", "ok"], [SHADOWED, "refused"], ["SELECT id FROM public.t", "ok"]] },
    { name: "SET SESSION, then the shadowing name", steps: [["SET SESSION search_path TO shadow, public", "ok"], [SHADOWED, "refused"]] },
    { name: "identifiers fold as PostgreSQL folds them: Shadow is shadow, \"SHADOW\" is not", steps: [["SET search_path = \"SHADOW\", public", "ok"], [SHADOWED, "ok"], ["SET search_path = Shadow, public", "ok"], [SHADOWED, "refused"]] },
    { name: "a schema named with a dot is one schema, not two", steps: [["SET search_path = \"shadow.x\", public", "ok"], [SHADOWED, "ok"], ["SET search_path = \"public\", \"shadow\"", "ok"], [SHADOWED, "ok"]] },
    { name: "SET LOCAL lasts until COMMIT", steps: [["BEGIN", "ok"], ["SET LOCAL search_path = shadow, public", "ok"], [SHADOWED, "refused"], ["ROLLBACK", "ok"], ["BEGIN", "ok"], ["SET LOCAL search_path = shadow, public", "ok"], ["COMMIT", "ok"], [SHADOWED, "ok"]] },
    { name: "SET inside a transaction survives COMMIT", steps: [["BEGIN", "ok"], ["SET search_path = shadow, public", "ok"], ["COMMIT", "ok"], [SHADOWED, "refused"]] },
    { name: "SET inside a rolled back transaction is undone", steps: [["BEGIN", "ok"], ["SET search_path = shadow, public", "ok"], ["ROLLBACK", "ok"], [SHADOWED, "ok"]] },
    { name: "SET undone by the transaction's failure (COMMIT of a failed transaction rolls back)", steps: [["BEGIN", "ok"], ["SET search_path = shadow, public", "ok"], ["SELECT public.f()", "refused"], ["COMMIT", "ok"], [SHADOWED, "ok"]] },
    {
      name: "savepoints: ROLLBACK TO undoes, RELEASE keeps",
      steps: [
        ["BEGIN", "ok"],
        ["SAVEPOINT a", "ok"],
        ["SET search_path = shadow, public", "ok"],
        [SHADOWED, "refused"],
        ["ROLLBACK TO SAVEPOINT a", "ok"],
        [SHADOWED, "ok"],
        ["SAVEPOINT b", "ok"],
        ["SET LOCAL search_path = shadow, public", "ok"],
        ["RELEASE SAVEPOINT b", "ok"],
        [SHADOWED, "refused"],
        ["COMMIT", "ok"],
        [SHADOWED, "ok"],
      ],
    },
    { name: "set_config(…, false) sets the session's path", steps: [["SELECT set_config('search_path', 'shadow, public', false)", "ok"], [SHADOWED, "refused"]] },
    { name: "set_config(…, true) lasts until the transaction ends", steps: [["SELECT set_config('search_path', 'shadow, public', true)", "ok"], [SHADOWED, "ok"], ["BEGIN", "ok"], ["SELECT pg_catalog.set_config('search_path', 'shadow, public', true)", "ok"], [SHADOWED, "refused"], ["ROLLBACK", "ok"], [SHADOWED, "ok"]] },
    {
      name: "set_config that Airlock cannot follow exactly is refused",
      steps: [
        ["SELECT set_config('search_path', 'shadow, ' || 'public', false)", "refused"],
        ["SELECT set_config('search_path', 'shadow, public', false) FROM t_ok", "refused"],
        ["SELECT set_config('SEARCH_PATH', v, false) FROM t", "refused"],
        [SHADOWED, "ok"],
      ],
    },
    { name: "RESET, SET … TO DEFAULT, RESET ALL and DISCARD ALL restore the path", steps: [["SET search_path = shadow, public", "ok"], ["RESET search_path", "ok"], [SHADOWED, "ok"], ["SET search_path = shadow, public", "ok"], ["SET search_path TO DEFAULT", "ok"], [SHADOWED, "ok"], ["SET search_path = shadow, public", "ok"], ["RESET ALL", "ok"], [SHADOWED, "ok"], ["SET search_path = shadow, public", "ok"], ["DISCARD ALL", "ok"], [SHADOWED, "ok"]] },
    { name: "\"$user\" on the default path reaches the schema named like Airlock's role", steps: [["SELECT id FROM usr_t", "refused"], ["SET search_path = public", "ok"], ["SELECT id FROM usr_t", "ok"], ["SET search_path = \"$user\", public", "ok"], ["SELECT id FROM usr_t", "refused"]] },
    { name: "pg_catalog placed last (user-defined operators exist): every statement on that path is refused", steps: [["SET search_path = public, pg_catalog", "ok"], ["SELECT count(*) FROM pg_class", "refused"], ["SELECT id FROM public.t", "refused"], ["RESET search_path", "ok"], ["SELECT id FROM public.t", "ok"]] },
  ],
  AGENT,
);

describe("several statements in one Query (simple protocol)", () => {
  for (const [text, after] of [
    [`SET search_path = shadow, public; ${SHADOWED}`, "refused"],
    [`BEGIN; SET LOCAL search_path = shadow, public; COMMIT; ${SHADOWED}`, "ok"],
    [`BEGIN; SET search_path = shadow, public; ROLLBACK; ${SHADOWED}`, "ok"],
  ] as const) {
    test(`${text}: ${after}`, async () => {
      const { admin, harness } = env();
      const before = await databaseState(admin);
      const client = new pg.Client({ connectionString: await harness.url("pg") });
      await client.connect();
      try {
        if (after === "refused") await assertRefused(client.query(text));
        else await client.query(text);
      } finally {
        await client.end();
      }
      assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
    });
  }

  test("a SET undone by its implicit transaction's failure is undone for Airlock too", async () => {
    const client = new pg.Client({ connectionString: await env().harness.url("pg") });
    await client.connect();
    try {
      assert.ok(await failure(client.query("SET search_path = shadow, public; SELECT 1/0")));
      assert.deepEqual((await client.query(SHADOWED)).rows.length, 3);
      assert.equal((await client.query("SHOW search_path")).rows[0].search_path, '"$user", public');
    } finally {
      await client.end();
    }
  });
});

describe("startup parameters", () => {
  test("node-postgres options -c search_path=app,public (an ORM's connect) connects and reads", async () => {
    const client = new pg.Client({ connectionString: await env().harness.url("pg"), options: "-c search_path=app,public" });
    await client.connect();
    try {
      assert.match((await client.query("SHOW search_path")).rows[0].search_path, /^app, ?public$/);
      assert.equal((await client.query(SHADOWED)).rows.length, 3);
    } finally {
      await client.end();
    }
  });

  test("options -c search_path=shadow,public: the shadowing name is refused, RESET returns to it", async () => {
    const { admin, harness } = env();
    const before = await databaseState(admin);
    const client = new pg.Client({ connectionString: await harness.url("pg"), options: "-c search_path=shadow,public" });
    await client.connect();
    try {
      await assertRefused(client.query(SHADOWED));
      await client.query("SET search_path = public");
      await client.query(SHADOWED);
      await client.query("RESET search_path");
      await assertRefused(client.query(SHADOWED));
    } finally {
      await client.end();
    }
    assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
  });

  test("postgres.js's search_path startup parameter (extended protocol): followed", async () => {
    const { admin, harness } = env();
    const before = await databaseState(admin);
    const sql = postgres(await harness.url("pg"), { max: 1, onnotice: () => undefined, fetch_types: false, connection: { search_path: "shadow, public" } });
    try {
      await assertRefused(sql.unsafe(SHADOWED, [], { prepare: false }));
      assert.equal((await sql.unsafe("SELECT id FROM public.t", [], { prepare: false })).length, 3);
    } finally {
      await sql.end({ timeout: 5 });
    }
    assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
  });

  test("an unreadable search_path at startup is refused in words", async () => {
    const client = new pg.Client({ connectionString: await env().harness.url("pg"), options: '-c search_path="unclosed' });
    client.on("error", () => undefined);
    const err = await failure(client.connect());
    assert.ok(err);
    assert.match(err.message ?? "", /search_path/);
    await client.end().catch(() => undefined);
  });

  for (const options of ["-c role=evil_role -c session_replication_role=replica", "--session-replication-role=replica"]) {
    test(`options ${options} is refused, not dropped`, async () => {
      const { admin } = env();
      const before = await databaseState(admin);
      const client = new pg.Client({ connectionString: await env().harness.url("pg"), options });
      client.on("error", () => undefined);
      const err = await failure(client.connect());
      assert.ok(err, "SECURITY: a session started with it");
      assert.equal(err.code, "42501", `${err.code}: ${err.message}`);
      assert.match(err.message ?? "", new RegExp(`^airlock: the startup parameter ${options.includes("role=evil") ? "role" : "session_replication_role"} is not allowed`));
      assert.deepEqual(await databaseState(admin), before);
      await client.end().catch(() => undefined);
    });
  }
});

describe("drivers' connect sequences", () => {
  const sequences: Record<string, string[]> = {
    SQLAlchemy: ["select pg_catalog.version()", "select current_schema()", "show transaction isolation level", "show standard_conforming_strings"],
    JDBC: ["SET extra_float_digits = 3", "SET application_name = 'PostgreSQL JDBC Driver'"],
    psycopg: ["SET search_path TO app, public", "SHOW search_path", "BEGIN", "SELECT 1", "COMMIT"],
  };
  for (const [driver, statements] of Object.entries(sequences)) {
    test(`${driver}'s connect statements run, over both protocols`, async () => {
      const url = await env().harness.url("pg");
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const sql = postgres(url, { max: 1, onnotice: () => undefined, fetch_types: false });
      try {
        for (const statement of statements) {
          await client.query(statement);
          await sql.unsafe(statement, [], { prepare: true });
        }
      } finally {
        await client.end();
        await sql.end({ timeout: 5 });
      }
    });
  }
});
