import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SYNC, writeParse } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { databaseState } from "./database-state";
import { BASE_FIXTURE, HOSTILE_FIXTURE, READ_ONLY_RULES, sequenceTests, withPolicyProxy } from "./setup";
import { answersUntilReady, errorsOf, writeBind, writeClose, writeExecute, writeFunctionCall } from "./wire";

/**
 * Evasions through names: SQL-level PREPARE/EXECUTE/DEALLOCATE, and the extended protocol's
 * statements and portals, re-used, closed and pipelined by hand-built messages.
 */
const env = withPolicyProxy({ rules: READ_ONLY_RULES, fixture: BASE_FIXTURE + HOSTILE_FIXTURE });

sequenceTests(env, [
  {
    name: "PREPARE under a name, DEALLOCATE, PREPARE a write under the same name, EXECUTE",
    steps: [
      ["PREPARE q AS SELECT 1 AS one", "ok"],
      ["EXECUTE q", "ok"],
      ["DEALLOCATE q", "ok"],
      ["PREPARE q AS DELETE FROM t", "refused"],
      ["EXECUTE q", "refused"],
    ],
  },
  {
    name: "a refused PREPARE leaves no name to EXECUTE, nor to EXPLAIN ANALYZE",
    steps: [
      ["PREPARE w AS UPDATE t SET v = 'pwned'", "refused"],
      ["EXECUTE w", "refused"],
      ["EXPLAIN ANALYZE EXECUTE w", "refused"],
    ],
  },
  {
    name: "PREPARE of a read, DISCARD ALL, EXECUTE",
    steps: [
      ["PREPARE d AS SELECT 1 AS one", "ok"],
      ["DISCARD ALL", "ok"],
      ["EXECUTE d", "refused"],
    ],
  },
  {
    name: "PREPARE of a read that calls a writing function: refused, and so is its EXECUTE",
    steps: [
      ["PREPARE r AS SELECT * FROM t WHERE id = g()", "refused"],
      ["EXECUTE r", "refused"],
    ],
  },
]);

describe("extended-protocol names and pipelining (hand-built messages)", () => {
  async function raw(): Promise<RawWireClient> {
    const { harness } = env();
    const client = await RawWireClient.connect(harness.proxy.port);
    await client.login("reporting-agent", "pg", await harness.idp.token("reporting-agent"));
    return client;
  }

  /** Sends `messages` in one write, reads through `syncs` ReadyForQuery, and checks nothing changed. */
  async function attempt(messages: Buffer[], syncs: number) {
    const { admin } = env();
    const before = await databaseState(admin);
    const client = await raw();
    try {
      client.socket.write(Buffer.concat(messages));
      const answers = await answersUntilReady(client, syncs);
      assert.deepEqual(await databaseState(admin), before, `SECURITY: the database changed; answers: ${JSON.stringify(answers)}`);
      return answers;
    } finally {
      client.close();
    }
  }

  test("Parse(s1, a failing read) Sync Parse(s1, delete) Bind Execute Sync, pipelined: the delete is refused", async () => {
    const answers = await attempt(
      [writeParse("s1", "select * from missing_table"), SYNC, writeParse("s1", "delete from t"), writeBind("", "s1"), writeExecute(""), SYNC],
      2,
    );
    const errors = errorsOf(answers);
    assert.equal(errors[0]?.code, "42P01", JSON.stringify(answers));
    assert.equal(errors[1]?.code, "42501", JSON.stringify(answers));
    assert.match(errors[1]?.message ?? "", /^airlock: /);
  });

  test("Parse(a, select) Bind(p, a) Sync, then Close(a) Parse(a, delete) Bind(q, a) Execute(q) Sync: q is refused", async () => {
    const { admin } = env();
    const before = await databaseState(admin);
    const client = await raw();
    try {
      client.socket.write(Buffer.concat([writeParse("a", "select 1"), writeBind("p", "a"), SYNC]));
      assert.deepEqual(errorsOf(await answersUntilReady(client)), []);
      client.socket.write(Buffer.concat([writeClose("statement", "a"), writeParse("a", "delete from t"), writeBind("q", "a"), writeExecute("q"), SYNC]));
      const answers = await answersUntilReady(client);
      assert.deepEqual(errorsOf(answers).map((e) => e.code), ["42501"], JSON.stringify(answers));
      assert.match(errorsOf(answers)[0].message ?? "", /^airlock: /);
    } finally {
      client.close();
    }
    assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
  });

  test("a name re-prepared across three pipelined Sync groups: Execute is judged by the strictest", async () => {
    const answers = await attempt(
      [writeParse("n", "select 1"), SYNC, writeClose("statement", "n"), writeParse("n", "delete from t"), SYNC, writeBind("pp", "n"), writeExecute("pp"), SYNC],
      3,
    );
    assert.deepEqual(errorsOf(answers).map((e) => e.code), ["42501"], JSON.stringify(answers));
  });

  // Bind plans an unnamed statement: the planner folds IMMUTABLE calls and evaluates STABLE
  // ones to estimate selectivity, before any Execute reaches Airlock's decision.
  for (const sql of ["select h()", "select k()", "select * from t where id = g()"]) {
    test(`Parse/Bind of "${sql}" with no Execute runs nothing`, async () => {
      await attempt([writeParse("", sql), writeBind("", ""), SYNC], 1);
    });
    test(`Parse/Bind/Execute of "${sql}" is refused and runs nothing`, async () => {
      const answers = await attempt([writeParse("", sql), writeBind("", ""), writeExecute(""), SYNC], 1);
      assert.deepEqual(errorsOf(answers).map((e) => e.code), ["42501"], JSON.stringify(answers));
    });
  }

  test("the fast-path FunctionCall of f() is refused, judged as the SQL call of f", async () => {
    const { rows } = await env().admin.query<{ oid: number }>("SELECT 'public.f()'::regprocedure::oid::int AS oid");
    const answers = await attempt([writeFunctionCall(rows[0].oid)], 1);
    assert.deepEqual(errorsOf(answers).map((e) => e.code), ["42501"], JSON.stringify(answers));
    assert.match(errorsOf(answers)[0].message ?? "", /f\(\)/);
  });

  test("a fast-path call of a function that only reads runs, as in SQL; one of an OID no catalog knows is refused", async () => {
    const { rows } = await env().admin.query<{ oid: number }>("SELECT 'pg_catalog.pg_backend_pid()'::regprocedure::oid::int AS oid");
    assert.deepEqual((await attempt([writeFunctionCall(rows[0].oid)], 1)).map((a) => a.type), ["V", "Z"]);
    assert.deepEqual(errorsOf(await attempt([writeFunctionCall(999_999_999)], 1)).map((e) => e.code), ["42501"]);
  });
});
