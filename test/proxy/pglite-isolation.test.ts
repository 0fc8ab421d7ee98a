import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { SYNC, writeParse, writeQuery } from "../../proxy/protocol/writer";
import { answersUntilReady, errorsOf, writeBind, writeExecute } from "../policy/wire";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

/**
 * Two agents on one shared PGlite engine (pglite://demo): each keeps its own prepared statements,
 * settings and LISTENs across the other's turns, and sees none of the other's.
 */
const HOLD_TIMEOUT_MS = 1500;
let harness: ProxyHarness;

before(async () => {
  harness = await startProxyHarness({ demo: "pglite://demo" }, { env: { AIRLOCK_PGLITE_IDLE_IN_TRANSACTION_TIMEOUT: String(HOLD_TIMEOUT_MS / 1000) } });
  // The engine and its catalog start with the first connection; hand-written logins wait only 5 s.
  const warm = await client(A);
  await warm.end();
});
after(() => harness.close());

const A = "reporting-agent";
const B = "ops-agent";

async function client(agent: string, options: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: await harness.url("demo", agent), ...options });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

async function raw(agent: string): Promise<RawWireClient> {
  const c = await RawWireClient.connect(harness.proxy.port);
  await c.login(agent, "demo", await harness.idp.token(agent));
  return c;
}

async function exchange(c: RawWireClient, messages: Buffer[], syncs = 1) {
  c.socket.write(Buffer.concat(messages));
  return answersUntilReady(c, syncs);
}

const value = async (c: pg.Client, sql: string): Promise<unknown> => Object.values((await c.query(sql)).rows[0] as object)[0];

describe("sessions on a shared PGlite are isolated", () => {
  test("a statement another agent planted under a name is neither bindable nor run", async () => {
    const ops = await raw(B);
    assert.deepEqual(errorsOf(await exchange(ops, [writeParse("z1", "DROP TABLE refunds"), SYNC])), []);
    ops.close();
    const reporting = await raw(A);
    try {
      const bound = await exchange(reporting, [writeBind("", "z1"), writeExecute(""), SYNC]);
      assert.equal(errorsOf(bound)[0]?.code, "26000", JSON.stringify(bound));
      assert.match(errorsOf(bound)[0].message ?? "", /prepared statement "z1" does not exist/);
      const own = await exchange(reporting, [writeParse("z1", "SELECT 1"), SYNC, writeBind("", "z1"), writeExecute(""), SYNC], 2);
      assert.deepEqual(errorsOf(own), []);
      assert.ok(own.some((a) => a.type === "D"), "its own z1 ran");
    } finally {
      reporting.close();
    }
    const check = await client(A);
    assert.equal(await value(check, "select to_regclass('public.refunds') is not null"), true, "refunds was never dropped");
    await check.end();
  });

  test("a named statement of one agent is not bindable by the other, and still the first's after", async () => {
    const a = await raw(A);
    const b = await raw(B);
    try {
      assert.deepEqual(errorsOf(await exchange(a, [writeParse("mine", "SELECT 'from A' AS who"), SYNC])), []);
      const stolen = await exchange(b, [writeBind("", "mine"), writeExecute(""), SYNC]);
      assert.equal(errorsOf(stolen)[0]?.code, "26000");
      assert.ok(!stolen.some((x) => x.type === "D"), "no row of A's statement reached B");
      const again = await exchange(a, [writeBind("", "mine"), writeExecute(""), SYNC]);
      assert.deepEqual(errorsOf(again), []);
      assert.ok(again.some((x) => x.type === "D"));
    } finally {
      a.close();
      b.close();
    }
  });

  test("the unnamed statement does not cross to the other agent", async () => {
    const a = await raw(A);
    const b = await raw(B);
    try {
      assert.deepEqual(errorsOf(await exchange(a, [writeParse("", "SELECT 'A unnamed' AS who"), SYNC])), []);
      const stolen = await exchange(b, [writeBind("", ""), writeExecute(""), SYNC]);
      assert.equal(errorsOf(stolen)[0]?.code, "26000", JSON.stringify(stolen));
      assert.ok(!stolen.some((x) => x.type === "D"));
    } finally {
      a.close();
      b.close();
    }
  });

  test("pg_prepared_statements shows an agent none of the other's SQL", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      await a.query({ name: "a_protocol", text: "select 'A protocol secret' as s" });
      await a.query("PREPARE a_sql AS SELECT 'A sql secret' AS s");
      const seen = (await b.query("select name, statement from pg_prepared_statements")).rows as Array<{ name: string; statement: string }>;
      assert.deepEqual(seen.filter((r) => /A (protocol|sql) secret|a_protocol|a_sql/.test(r.name + r.statement)), []);
      const own = (await a.query("select name from pg_prepared_statements order by name")).rows.map((r: { name: string }) => r.name);
      assert.deepEqual(own, ["a_protocol", "a_sql"]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("one agent's DEALLOCATE ALL and DISCARD ALL leave the other's statements working", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      await a.query({ name: "_pg3_0", text: "select $1::int * 2 as n", values: [1] });
      await a.query("PREPARE doubled(int) AS SELECT $1 * 2 AS n");
      await b.query({ name: "_pg3_0", text: "select 'B' as who" });
      await b.query("DEALLOCATE ALL");
      await b.query("DISCARD ALL");
      assert.equal((await a.query({ name: "_pg3_0", text: "select $1::int * 2 as n", values: [21] })).rows[0].n, 42);
      assert.equal(await value(a, "EXECUTE doubled(4)"), 8);
      await assert.rejects(b.query({ name: "_pg3_0", text: "select 'B' as who" }), /does not exist/, "B's own DEALLOCATE ALL did drop B's");
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("a SQL-level PREPARE survives the other's turn, and the rest of its string is not run again", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      await a.query("create table if not exists isolation_log(n int)");
      await a.query("PREPARE p1 AS SELECT 1 AS n; INSERT INTO isolation_log VALUES (1); PREPARE p2(int) AS SELECT $1 + 1 AS n");
      for (let i = 0; i < 3; i++) {
        await b.query("select 1");
        assert.equal(await value(a, "EXECUTE p2(41)"), 42);
        assert.equal(await value(a, "EXECUTE p1"), 1);
      }
      assert.equal(await value(a, "select count(*)::int from isolation_log"), 1);
      const from = (await a.query("select name, statement, from_sql from pg_prepared_statements where name = 'p2'")).rows[0];
      assert.deepEqual(from, { name: "p2", statement: "PREPARE p2(int) AS SELECT $1 + 1 AS n", from_sql: true });
    } finally {
      await a.query("drop table isolation_log");
      await a.end();
      await b.end();
    }
  });

  test("a statement whose table is dropped meanwhile is gone; the rest of the session is restored", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      await a.query("create table doomed(n int)");
      await a.query({ name: "reads_doomed", text: "select count(*) from doomed" });
      await a.query({ name: "survives", text: "select 7 as n" });
      await a.query("SET statement_timeout = '41s'");
      await b.query("drop table doomed");
      assert.equal((await a.query({ name: "survives", text: "select 7 as n" })).rows[0].n, 7);
      assert.equal(await value(a, "show statement_timeout"), "41s");
      const names = (await a.query("select name from pg_prepared_statements")).rows.map((r: { name: string }) => r.name);
      assert.deepEqual(names, ["survives"]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("settings stay with the agent that made them", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      const defaultPath = await value(b, "show search_path");
      await a.query("SET search_path = pg_catalog, public");
      await a.query("SET statement_timeout = '42s'");
      await a.query("SELECT set_config('airlock_test.who', 'A', false)");
      assert.equal(await value(b, "show search_path"), defaultPath);
      assert.equal(await value(b, "show statement_timeout"), "0");
      // A custom variable, once defined, stays defined (empty) in the one backend: its value does not.
      assert.ok(["", null].includes((await value(b, "select current_setting('airlock_test.who', true)")) as string));
      await b.query("SET statement_timeout = '7s'");
      assert.equal(await value(a, "show search_path"), "pg_catalog, public");
      assert.equal(await value(a, "show statement_timeout"), "42s");
      assert.equal(await value(b, "show statement_timeout"), "7s");
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("startup parameters apply to the agent's own session", async () => {
    const a = await client(A, { application_name: "agent-a", statement_timeout: 11_000 });
    const b = await client(B, { application_name: "agent-b" });
    try {
      assert.equal(await value(a, "show application_name"), "agent-a");
      assert.equal(await value(b, "show application_name"), "agent-b");
      assert.equal(await value(b, "show statement_timeout"), "0");
      assert.equal(await value(a, "show statement_timeout"), "11s");
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("LISTEN stays with the agent that listens", async () => {
    const a = await client(A);
    const b = await client(B);
    try {
      await a.query("LISTEN a_channel");
      assert.equal((await b.query("select pg_listening_channels()")).rowCount, 0);
      assert.deepEqual((await a.query("select pg_listening_channels() as c")).rows, [{ c: "a_channel" }]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("postgres.js with named prepared statements on two connections, alternating", async () => {
    const a = postgres(await harness.url("demo", A), { max: 1, prepare: true });
    const b = postgres(await harness.url("demo", B), { max: 1, prepare: true });
    try {
      for (let i = 0; i < 20; i++) {
        const [ra] = await a`select ${i}::int as n, 'a' as who`;
        const [rb] = await b`select ${i}::int + 1 as n, 'b' as who`;
        assert.deepEqual([ra, rb], [
          { n: i, who: "a" },
          { n: i + 1, who: "b" },
        ]);
        const [{ count }] = await a`select count(*)::int as count from customers where id > ${i}`;
        assert.ok(count > 0);
      }
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe("no agent can stop the shared engine", () => {
  test("COPY FROM STDIN through the extended protocol is refused (0A000), and the other agent's session goes on", async () => {
    const other = await client(B);
    const a = await raw(A);
    try {
      await other.query("create table if not exists copy_target (n int)");
      const answers = await exchange(a, [writeParse("", "copy copy_target from stdin"), writeBind("", ""), writeExecute(""), SYNC]);
      assert.equal(errorsOf(answers)[0]?.code, "0A000", JSON.stringify(answers));
      assert.match(errorsOf(answers)[0].message ?? "", /COPY FROM STDIN runs only as a simple Query/);
      assert.deepEqual(errorsOf(await exchange(a, [writeQuery("select 1")])), [], "the agent's own session goes on");
      assert.equal(await value(other, "select count(*)::int from copy_target"), 0, "and the other's, on the same engine");
      await other.query("drop table copy_target");
    } finally {
      a.close();
      await other.end();
    }
  });
});

describe("the engine is never held for long", () => {
  test("an agent idle in a transaction is ended with 25P03, rolled back, and the other runs", async () => {
    const a = await client(A);
    const b = await client(B);
    const ended = new Promise<Error & { code?: string; severity?: string }>((resolve) => a.on("error", resolve));
    try {
      await a.query("create table if not exists idle_tx(n int)");
      await a.query("begin");
      await a.query("insert into idle_tx values (1)");
      const started = Date.now();
      assert.equal(await value(b, "select count(*)::int from idle_tx"), 0);
      const waited = Date.now() - started;
      assert.ok(waited >= HOLD_TIMEOUT_MS - 200 && waited < HOLD_TIMEOUT_MS + 3000, `B waited ${waited} ms`);
      const err = await ended;
      assert.equal(err.code, "25P03");
      assert.equal(err.severity, "FATAL");
      assert.match(err.message, /terminating connection due to idle-in-transaction timeout/);
      await b.query("drop table idle_tx");
    } finally {
      await a.end().catch(() => undefined);
      await b.end();
    }
  });

  test("an agent with a temporary table keeps the engine while idle, until another has waited too long", async () => {
    const a = await client(A);
    const b = await client(B);
    const ended = new Promise<Error & { code?: string }>((resolve) => a.on("error", resolve));
    try {
      await a.query("create temp table scratch(n int)");
      await a.query("insert into scratch values (1)");
      assert.equal(await value(a, "select count(*)::int from scratch"), 1, "A's turn again: nothing was reset");
      const started = Date.now();
      assert.equal(await value(b, "select to_regclass('pg_temp.scratch') is null"), true, "B does not see A's temporary table");
      assert.ok(Date.now() - started >= HOLD_TIMEOUT_MS - 200);
      assert.equal((await ended).code, "57P05");
    } finally {
      await a.end().catch(() => undefined);
      await b.end();
    }
  });
});

describe("cost of a change of hands", () => {
  test("measured: the same agent again, and two agents alternating", async (t) => {
    const a = await raw(A);
    const b = await raw(B);
    try {
      for (const c of [a, b]) await exchange(c, [writeQuery("SET statement_timeout = '5s'"), writeParse("s1", "select 1"), SYNC]);
      const rounds = 200;
      const time = async (clients: RawWireClient[]) => {
        const started = process.hrtime.bigint();
        for (let i = 0; i < rounds; i++) for (const c of clients) await exchange(c, [writeBind("", "s1"), writeExecute(""), SYNC]);
        return Number(process.hrtime.bigint() - started) / 1000 / (rounds * clients.length);
      };
      await time([a, b]); // warm up
      const same = await time([a, a]);
      const alternating = await time([a, b]);
      t.diagnostic(`per statement: same agent ${same.toFixed(0)} µs, alternating ${alternating.toFixed(0)} µs; a change of hands costs about ${(alternating - same).toFixed(0)} µs`);
      assert.ok(alternating - same < 20_000, "a change of hands stays well under 20 ms");
    } finally {
      a.close();
      b.close();
    }
  });
});
