import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { recentStatements } from "../../lib/activity/queries";
import { readFields, readCommandTag } from "../../proxy/protocol/reader";
import { SYNC, writeParse, writeQuery } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { withPolicyProxy } from "./setup";
import { writeBind, writeExecute } from "./wire";

/**
 * Budgets (`limits:` on rules) through real clients, over both protocols, against PostgreSQL and
 * the embedded PGlite: each limit is hit and reported (SQLSTATE, message, hint, the audit row),
 * and the session's transaction state afterwards is PostgreSQL's after an error.
 */
const RULES = `rules:
  - name: ops-setup
    match: { agents: [ops-agent], kinds: [ddl, insert, select] }
    action: allow
  - name: capped-rows
    match: { groups: [agents], kinds: [select, insert], tables: [public.big] }
    action: allow
    limits: { max_rows: 100 }
  - name: truncated-rows
    match: { groups: [agents], kinds: [select], tables: [public.trunc] }
    action: allow
    limits: { max_rows: 100, on_limit: truncate }
  - name: capped-bytes
    match: { groups: [agents], kinds: [select], tables: [public.wide] }
    action: allow
    limits: { max_result_bytes: 10kB }
  - name: rated
    match: { groups: [agents], kinds: [select], tables: [public.rated] }
    action: allow
    limits: { statements_per_minute: 3 }
  - name: slow
    match: { groups: [agents], kinds: [select, call], tables: [public.sleepy] }
    action: allow
    limits: { statement_timeout: 1s }`;

const FIXTURE = `
  CREATE TABLE public.big (id int PRIMARY KEY, v text);
  INSERT INTO public.big SELECT g, 'row ' || g FROM generate_series(1, 500) g;
  CREATE TABLE public.trunc (id int PRIMARY KEY, v text);
  INSERT INTO public.trunc SELECT g, 'row ' || g FROM generate_series(1, 500) g;
  CREATE TABLE public.wide (id int PRIMARY KEY, v text);
  INSERT INTO public.wide SELECT g, repeat('x', 1000) FROM generate_series(1, 50) g;
  CREATE TABLE public.rated (id int);
  CREATE TABLE public.sleepy (id int);
  INSERT INTO public.sleepy VALUES (1);
`;

const env = withPolicyProxy({
  rules: RULES,
  fixture: FIXTURE,
  demo: true,
  async setUp({ harness }) {
    const client = new pg.Client({ connectionString: await harness.url("demo", "ops-agent") });
    await client.connect();
    await client.query(FIXTURE).finally(() => client.end());
  },
});

const RESOURCES = ["pg", "demo"] as const;
const MODES = ["simple", "extended"] as const;
type Mode = (typeof MODES)[number];

async function agent(resource: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await env().harness.url(resource) });
  await client.connect();
  return client;
}

function run(client: pg.Client, mode: Mode, text: string): Promise<pg.QueryResult> {
  return client.query(mode === "simple" ? text : { text, queryMode: "extended" } as pg.QueryConfig);
}

async function failure(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error, "the statement should fail");
  return err as pg.DatabaseError;
}

/** The big table's row count as it really is (PostgreSQL directly; PGlite through the set-up agent). */
async function bigCount(resource: string): Promise<number> {
  if (resource === "pg") return Number((await env().admin.query("SELECT count(*) AS n FROM big")).rows[0].n);
  const client = new pg.Client({ connectionString: await env().harness.url("demo", "ops-agent") });
  await client.connect();
  try {
    return Number((await client.query("SELECT count(*) AS n FROM big")).rows[0].n);
  } finally {
    await client.end();
  }
}

for (const resource of RESOURCES) {
  describe(`budgets on ${resource}`, () => {
    for (const mode of MODES) {
      test(`max_rows in error mode fails the statement (${mode}); the session goes on`, async () => {
        const client = await agent(resource);
        try {
          const err = await failure(run(client, mode, "SELECT id, v FROM big ORDER BY id"));
          assert.equal(err.code, "54000");
          assert.match(err.message, /^airlock: max_rows 100 of rule capped-rows reached/);
          assert.match(err.hint ?? "", /LIMIT/);
          const ok = await run(client, mode, "SELECT id FROM big ORDER BY id LIMIT 100");
          assert.equal(ok.rows.length, 100);
        } finally {
          await client.end();
        }
      });

      test(`max_rows inside BEGIN aborts the transaction (${mode}); ROLLBACK ends it and nothing is kept`, async () => {
        const before = await bigCount(resource);
        const client = await agent(resource);
        try {
          await client.query("BEGIN");
          const err = await failure(run(client, mode, "INSERT INTO big SELECT g, 'new' FROM generate_series(10001, 10200) g RETURNING id"));
          assert.equal(err.code, "54000");
          const aborted = await failure(run(client, mode, "SELECT 1 FROM big LIMIT 1"));
          assert.equal(aborted.code, "25P02", aborted.message);
          await client.query("COMMIT"); // in an aborted transaction, COMMIT rolls back
          assert.equal(await bigCount(resource), before);
          assert.equal((await run(client, mode, "SELECT id FROM big WHERE id > 10000")).rows.length, 0);
        } finally {
          await client.end();
        }
      });

      test(`on_limit: truncate gives the rows so far, a notice, and a normal completion (${mode})`, async () => {
        const client = await agent(resource);
        const notices: Array<{ message?: string }> = [];
        client.on("notice", (n) => notices.push(n));
        try {
          const result = await run(client, mode, "SELECT id FROM trunc ORDER BY id");
          assert.equal(result.rows.length, 100);
          assert.equal(result.rowCount, 100);
          assert.deepEqual(result.rows.at(-1), { id: 100 });
          assert.equal(notices.length, 1);
          assert.match(notices[0].message ?? "", /^airlock: max_rows 100 of rule truncated-rows reached; the result is truncated/);
          await client.query("BEGIN");
          assert.equal((await run(client, mode, "SELECT id FROM trunc")).rows.length, 100);
          assert.equal((await run(client, mode, "SELECT 1 AS one FROM trunc LIMIT 1")).rows.length, 1, "the transaction is not aborted");
          await client.query("COMMIT");
        } finally {
          await client.end();
        }
      });

      test(`max_result_bytes fails the statement (${mode})`, async () => {
        const client = await agent(resource);
        try {
          const err = await failure(run(client, mode, "SELECT id, v FROM wide"));
          assert.equal(err.code, "54000");
          assert.match(err.message, /^airlock: max_result_bytes 10kB of rule capped-bytes reached/);
          assert.match(err.hint ?? "", /fewer columns/);
          assert.equal((await run(client, mode, "SELECT id FROM wide")).rows.length, 50, "narrower rows fit");
        } finally {
          await client.end();
        }
      });

      test(`statement_timeout cancels the statement with 57014 (${mode})`, async () => {
        const client = await agent(resource);
        try {
          const started = Date.now();
          const err = await failure(run(client, mode, "SELECT pg_sleep(2.5) FROM sleepy"));
          assert.equal(err.code, "57014");
          assert.match(err.message, /^airlock: canceling statement due to statement_timeout 1s of rule slow/);
          assert.ok(err.hint);
          // PostgreSQL is cancelled at the limit; the embedded database cannot be, and fails once done.
          if (resource === "pg") assert.ok(Date.now() - started < 2000, `cancelled after ${Date.now() - started} ms`);
          assert.equal((await run(client, mode, "SELECT id FROM sleepy")).rows.length, 1);
        } finally {
          await client.end();
        }
      });
    }

    test("a refusal by policy says what to do instead (HINT), over both protocols", async () => {
      const client = await agent(resource);
      try {
        for (const mode of MODES) {
          const err = await failure(run(client, mode, "DELETE FROM big WHERE id = 1"));
          assert.equal(err.code, "42501");
          assert.match(err.message, /^airlock: no rule allows delete on public\.big/);
          assert.match(err.hint ?? "", /airlock policy explain/);
        }
      } finally {
        await client.end();
      }
    });

    test("statements_per_minute refuses the next with when to retry, counted over the agent's sessions", async () => {
      const [a, b] = [await agent(resource), await agent(resource)];
      try {
        await a.query("SELECT id FROM rated");
        await b.query({ text: "SELECT id FROM rated", queryMode: "extended" } as pg.QueryConfig);
        await a.query("SELECT id FROM rated");
        const err = await failure(b.query("SELECT id FROM rated"));
        assert.equal(err.code, "53400");
        assert.match(err.message, /^airlock: statements_per_minute 3 reached under rule rated; retry in \d+s/);
        assert.match(err.hint ?? "", /^Wait \d+ seconds/);
        // Other rules' statements still run, and a refusal is not counted.
        assert.equal((await b.query("SELECT id FROM big LIMIT 1")).rows.length, 1);
      } finally {
        await a.end();
        await b.end();
      }
    });
  });
}

describe("the wire after a budget error (PostgreSQL)", () => {
  async function raw(): Promise<RawWireClient> {
    const token = await env().harness.idp.token("reporting-agent");
    const client = await RawWireClient.connect(env().harness.proxy.port);
    await client.login("reporting-agent", "pg", token);
    return client;
  }

  /** Messages until ReadyForQuery: type letters, errors with their fields, and the status. */
  async function untilReady(client: RawWireClient): Promise<{ types: string; error?: Map<string, string>; status: string; tag?: string }> {
    let types = "";
    let error: Map<string, string> | undefined;
    let tag: string | undefined;
    for (;;) {
      const m = await client.next(10_000);
      assert.ok(m, "the connection closed");
      const type = String.fromCharCode(m.type);
      if (type !== "D" || !types.endsWith("D")) types += type;
      if (type === "E") error = readFields(m.body);
      if (type === "C") tag = readCommandTag(m.body);
      if (type === "Z") return { types, error, status: String.fromCharCode(m.body[0]), tag };
    }
  }

  test("a huge result is cancelled upstream: rows, then one error, then ReadyForQuery I (or E inside BEGIN)", async () => {
    const client = await raw();
    try {
      const started = Date.now();
      client.socket.write(writeQuery("SELECT g, b.v FROM big b, generate_series(1, 100000) g"));
      const outside = await untilReady(client);
      assert.equal(outside.types, "TDEZ");
      assert.equal(outside.error?.get("C"), "54000");
      assert.ok(outside.error?.get("H"), "a hint");
      assert.equal(outside.status, "I");
      assert.ok(Date.now() - started < 5000, "cancelled, not run to the end");

      client.socket.write(writeQuery("BEGIN"));
      assert.equal((await untilReady(client)).status, "T");
      client.socket.write(Buffer.concat([writeParse("", "SELECT g, b.v FROM big b, generate_series(1, 100000) g"), writeBind("", ""), writeExecute(""), SYNC]));
      const inside = await untilReady(client);
      assert.equal(inside.types, "12DEZ");
      assert.equal(inside.error?.get("C"), "54000");
      assert.equal(inside.status, "E");
      client.socket.write(writeQuery("ROLLBACK"));
      assert.equal((await untilReady(client)).status, "I");
    } finally {
      client.close();
    }
  });

  test("a small result over the limit that the server completed: the agent still reads E inside BEGIN, I outside (extended: the group undone)", async () => {
    const before = await bigCount("pg");
    const client = await raw();
    try {
      client.socket.write(Buffer.concat([writeParse("", "INSERT INTO big SELECT g, 'x' FROM generate_series(20001, 20200) g RETURNING id"), writeBind("", ""), writeExecute(""), SYNC]));
      const extended = await untilReady(client);
      assert.equal(extended.types, "12DEZ");
      assert.equal(extended.status, "I");
      assert.equal(await bigCount("pg"), before, "the group's implicit transaction was rolled back");

      client.socket.write(writeQuery("BEGIN"));
      await untilReady(client);
      client.socket.write(writeQuery("SELECT id FROM big"));
      const simple = await untilReady(client);
      assert.equal(simple.types, "TDEZ");
      assert.equal(simple.status, "E");
      client.socket.write(writeQuery("SELECT 1"));
      assert.equal((await untilReady(client)).error?.get("C"), "25P02");
      client.socket.write(writeQuery("ROLLBACK"));
      assert.equal((await untilReady(client)).status, "I");
    } finally {
      client.close();
    }
  });
});

test("the audit trail and the statements table record each limit hit", async () => {
  const { harness } = env();
  await harness.recorder.flush();
  await new Promise((r) => setTimeout(r, 200));
  const rows = (await harness.store.sql.all("SELECT outcome, error_code, error_message, rows FROM statements WHERE error_message LIKE 'airlock: max_rows%' OR error_message LIKE 'airlock: canceling statement due to statement_timeout%'")) as Array<{ outcome: string; error_code: string | null; rows: number }>;
  assert.ok(rows.some((r) => r.outcome === "error" && r.error_code === "54000" && Number(r.rows) === 100), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.outcome === "ok" && r.error_code === null), "the truncated result ran, with its notice kept");
  assert.ok(rows.some((r) => r.error_code === "57014"));
  const audit = (await harness.store.sql.all("SELECT data FROM audit_log WHERE type = 'statement'")) as Array<{ data: string }>;
  const limits = audit.map((a) => (typeof a.data === "string" ? JSON.parse(a.data) : a.data).limit).filter(Boolean);
  for (const name of ["max_rows", "max_result_bytes", "statement_timeout"]) assert.ok(limits.some((l: { name: string }) => l.name === name), `${name} in ${JSON.stringify(limits)}`);
  assert.ok(limits.some((l: { mode: string; rule: string }) => l.mode === "truncate" && l.rule === "truncated-rows"));
  // The Sessions page's recent statements show each hit on its statement.
  const recent = await recentStatements(harness.store, 500);
  assert.ok(recent.some((r) => r.limit === "max_rows 100" && r.outcome === "error" && r.errorCode === "54000"));
  assert.ok(recent.some((r) => r.limit === "max_rows 100 (truncated)" && r.outcome === "ok"));
  assert.ok(recent.some((r) => r.limit === "statement_timeout 1s" && r.errorCode === "57014"));
  assert.ok(recent.some((r) => r.limit === "statements_per_minute 3" && r.outcome === "refused"));
});
