import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { Backend } from "../../proxy/protocol/message-codes";
import { SYNC, writeParse as parse, writePasswordMessage, writeQuery as query, writeStartupMessage } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { REFUSED, RESOURCES, WireSession, assertAnswers, count, type Resource } from "./evasion-names-support";
import { withPolicyProxy, type PolicyTestEnv } from "./setup";
import { answersUntilReady, writeBind as bind, writeExecute as execute, writeFunctionCall, type Answer } from "./wire";

/**
 * search_path evasions written on the wire by hand, on PostgreSQL and on the shared PGlite: a change
 * and the statement it would bend in one pipeline (one Sync group, or several sent before any
 * answer), a change its own group's failure undoes, prepared statements run after the path changed,
 * SET LOCAL inside a multi-statement Query; psql with PGOPTIONS. The agents may only read; ops sets
 * up the objects (on PGlite through the proxy, as nothing else reaches it).
 */

const RULES = `rules:
  - name: ops-setup
    match: { groups: [ops] }
    action: allow
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow`;

/** public.sp_t is a plain table; sp_shadow.sp_t a view of it whose every row calls sp_f(), which writes to sp_log. */
const FIXTURE = `
  CREATE TABLE public.sp_t (id int PRIMARY KEY, v text);
  INSERT INTO public.sp_t VALUES (1, 'one'), (2, 'two');
  CREATE TABLE public.sp_log (n int);
  CREATE FUNCTION public.sp_f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.sp_log VALUES (1); RETURN 1; END $$;
  CREATE SCHEMA sp_shadow;
  CREATE VIEW sp_shadow.sp_t AS SELECT id, public.sp_f()::text AS v FROM public.sp_t;
  CREATE FUNCTION public.sp_setpath() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_catalog.set_config('search_path', 'sp_shadow, public', false); RETURN 1; END $$;
`;

const env = withPolicyProxy({
  rules: RULES,
  fixture: FIXTURE,
  demo: true,
  async setUp({ harness }) {
    const ops = new pg.Client({ connectionString: await harness.url("demo", "ops-agent") });
    await ops.connect();
    try {
      await ops.query(FIXTURE);
    } finally {
      await ops.end();
    }
  },
});

const SHADOWED = "SELECT id FROM sp_t ORDER BY 1";
const SHADOW = "SET search_path = sp_shadow, public";
const extended = (sql: string) => [parse("", sql), bind("", ""), execute(""), SYNC];

interface WireCase {
  name: string;
  messages: Buffer[];
  expect: string[][];
}

const CASES: WireCase[] = [
  {
    name: "SET and the shadowed read in one Sync group",
    messages: [parse("", SHADOW), bind("", ""), execute(""), parse("", SHADOWED), bind("", ""), execute(""), SYNC],
    expect: [["1", "2", "C:SET", "1", "2?", REFUSED, "Z"]],
  },
  {
    name: "SET and the shadowed read in two Sync groups sent together: the read waits for the SET's answer",
    messages: [...extended(SHADOW), ...extended(SHADOWED)],
    expect: [["1", "2", "C:SET", "Z"], ["1", "2?", REFUSED, "Z"]],
  },
  {
    name: "a SET its own group's failure rolls back does not count",
    messages: [parse("", SHADOW), bind("", ""), execute(""), parse("", "SELECT 1/0"), bind("", ""), execute(""), SYNC, ...extended(SHADOWED)],
    // 1/0 is folded when planned, at Bind.
    expect: [["1", "2", "C:SET", "1", "2?", "E:22012", "Z"], ["1", "2", "D", "C:SELECT 2", "Z"]],
  },
  {
    name: "a statement prepared on the old path, bound after SET: judged again on the new one",
    messages: [parse("sp1", SHADOWED), SYNC, query(SHADOW), bind("", "sp1"), execute(""), SYNC],
    expect: [["1", "Z"], ["C:SET", "Z"], ["2?", REFUSED, "Z"]],
  },
  {
    name: "SQL PREPARE on the old path, EXECUTE after SET: refused",
    messages: [query(`PREPARE sp2 AS ${SHADOWED}`), query(SHADOW), query("EXECUTE sp2")],
    expect: [["C:PREPARE", "Z"], ["C:SET", "Z"], [REFUSED, "Z"]],
  },
  {
    // The read is judged on the path the SET LOCAL before it in the text sets: the whole text is refused.
    name: "SET LOCAL in a multi-statement Query, then the read in the same Query",
    messages: [query(`BEGIN; SET LOCAL search_path = sp_shadow, public; ${SHADOWED}`), query("ROLLBACK"), query(SHADOWED)],
    expect: [[REFUSED, "Z"], ["N:25P01", "C:ROLLBACK", "Z"], ["T", "D", "C:SELECT 2", "Z"]],
  },
  {
    name: "set_config(…, true) inside a pipelined transaction, then COMMIT: the read after is on the old path",
    messages: [...extended("BEGIN"), ...extended("SELECT set_config('search_path', 'sp_shadow, public', true)"), ...extended(SHADOWED), ...extended("COMMIT"), ...extended(SHADOWED)],
    expect: [["1", "2", "C:BEGIN", "Z"], ["1", "2", "D", "C:SELECT 1", "Z"], ["1", "2?", REFUSED, "Z"], ["1", "2", "C:ROLLBACK", "Z"], ["1", "2", "D", "C:SELECT 2", "Z"]],
  },
];

const logged = (resource: Resource) => count(env(), resource, "SELECT count(*)::int AS n FROM public.sp_log");

for (const resource of RESOURCES) {
  describe(`search_path on the wire (${resource})`, () => {
    for (const c of CASES) {
      test(c.name, async () => {
        const session = await WireSession.open(env(), resource, "evasion-search-path");
        try {
          assertAnswers(await session.send(c.messages), c.expect, c.name);
        } finally {
          session.close();
        }
        assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
      });
    }

    test("node-postgres with options -c search_path=app,public connects and reads; shadowed startup path refused", async () => {
      const ok = new pg.Client({ connectionString: await env().harness.url(resource), options: "-c search_path=app,public" });
      await ok.connect();
      try {
        assert.equal((await ok.query(SHADOWED)).rows.length, 2);
      } finally {
        await ok.end();
      }
      const bent = new pg.Client({ connectionString: await env().harness.url(resource), options: "-c search_path=sp_shadow,public" });
      await bent.connect();
      try {
        const err = await bent.query(SHADOWED).then(() => undefined, (e: { code?: string }) => e);
        assert.equal(err?.code, "42501", "SECURITY: the shadowed read ran");
      } finally {
        await bent.end();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("a function that sets the path (ops may call it): unqualified names are refused for the rest of the session", async () => {
      // ops may run anything Airlock understands: what stops the shadowed read is that the path is not known.
      const ops = await opsClient(resource);
      try {
        await ops.query("SELECT sp_setpath()");
        await assertRefusedWith(ops.query(SHADOWED), /without a schema.*reconnect/);
        assert.equal((await ops.query("SELECT id FROM public.sp_t")).rows.length, 2);
        // The code may also have made relations the session's catalog does not know: RESET is not enough.
        await ops.query("RESET search_path");
        await assertRefusedWith(ops.query(SHADOWED), /reconnect/);
      } finally {
        await ops.end();
      }
      const fresh = await opsClient(resource);
      try {
        assert.equal((await fresh.query(SHADOWED)).rows.length, 2);
      } finally {
        await fresh.end();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("a schema change in the session: the names it touched are refused unqualified (a view made earlier on the path, a temporary view)", async () => {
      const ops = await opsClient(resource);
      try {
        await ops.query("BEGIN");
        await ops.query("CREATE SCHEMA sp_new");
        await ops.query("CREATE VIEW sp_new.sp_t AS SELECT public.sp_f() AS id");
        await ops.query("SET LOCAL search_path = sp_new, public");
        await assertRefusedWith(ops.query(SHADOWED), /reconnect/);
        await ops.query("ROLLBACK");
        await ops.query("CREATE TEMP VIEW sp_t AS SELECT public.sp_f() AS id");
        await assertRefusedWith(ops.query(SHADOWED), /reconnect/);
        assert.equal((await ops.query("SELECT id FROM public.sp_t")).rows.length, 2);
        assert.equal((await ops.query("SELECT count(*)::int AS n FROM public.sp_log")).rows[0].n, 0);
      } finally {
        await ops.end();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("a fast-path call of the function that sets the path (no command tag) leaves the path unknown too", async () => {
      const oid = await count(env(), resource, "SELECT 'public.sp_setpath'::regproc::oid::int AS n");
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      try {
        await raw.login("ops-agent", resource, await env().harness.idp.token("ops-agent"));
        raw.socket.write(Buffer.concat([writeFunctionCall(oid), query(SHADOWED), query("RESET search_path"), query(SHADOWED)]));
        const groups: Answer[][] = [[]];
        for (const answer of await answersUntilReady(raw, 4, 30_000)) {
          groups[groups.length - 1].push(answer);
          if (answer.type === "Z") groups.push([]);
        }
        assertAnswers(groups.slice(0, -1), [["V", "Z"], [REFUSED, "Z"], ["C:RESET", "Z"], [REFUSED, "Z"]]);
      } finally {
        raw.close();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("an Execute suspended at its row count ran the function that sets the path: unknown too", async () => {
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      try {
        await raw.login("ops-agent", resource, await env().harness.idp.token("ops-agent"));
        raw.socket.write(Buffer.concat([parse("", "SELECT sp_setpath() FROM generate_series(1, 3)"), bind("", ""), execute("", 1), SYNC, query(SHADOWED)]));
        const groups: Answer[][] = [[]];
        for (const answer of await answersUntilReady(raw, 2, 30_000)) {
          groups[groups.length - 1].push(answer);
          if (answer.type === "Z") groups.push([]);
        }
        assertAnswers(groups.slice(0, -1), [["1", "2", "D", "s", "Z"], [REFUSED, "Z"]]);
      } finally {
        raw.close();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("a FETCH (or an Execute) of a cursor whose query sets the path leaves it unknown", async () => {
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      const declare = (name: string) => query(`DECLARE ${name} CURSOR FOR SELECT sp_setpath() FROM generate_series(1, 3)`);
      try {
        await raw.login("ops-agent", resource, await env().harness.idp.token("ops-agent"));
        const messages = [query("BEGIN"), declare("spc1"), query("RESET search_path"), query("FETCH 1 FROM spc1"), query(SHADOWED), query("ROLLBACK")];
        messages.push(query("BEGIN"), declare("spc2"), query("RESET search_path"), execute("spc2", 1), SYNC, query(SHADOWED), query("ROLLBACK"));
        raw.socket.write(Buffer.concat(messages));
        const groups: Answer[][] = [[]];
        for (const answer of await answersUntilReady(raw, 12, 30_000)) {
          groups[groups.length - 1].push(answer);
          if (answer.type === "Z") groups.push([]);
        }
        const rest = [["C:RESET", "Z"], ["T", "D", "C:FETCH 1", "Z"], [REFUSED, "Z"], ["C:ROLLBACK", "Z"]];
        assertAnswers(groups.slice(0, -1), [["C:BEGIN", "Z"], ["C:DECLARE CURSOR", "Z"], ...rest.slice(0, 4), ["C:BEGIN", "Z"], ["C:DECLARE CURSOR", "Z"], ["C:RESET", "Z"], ["D", "s", "Z"], [REFUSED, "Z"], ["C:ROLLBACK", "Z"]]);
      } finally {
        raw.close();
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("JDBC's connect with currentSchema (search_path as a startup parameter), then its SETs, over the extended protocol", async () => {
      for (const [schema, read] of [["app, public", ["1", "2", "D", "C:SELECT 2", "Z"]], ["sp_shadow, public", ["1", "2?", REFUSED, "Z"]]] as const) {
        const raw = await RawWireClient.connect(env().harness.proxy.port);
        try {
          raw.socket.write(writeStartupMessage({ user: "reporting-agent", database: resource, client_encoding: "UTF8", DateStyle: "ISO", TimeZone: "UTC", extra_float_digits: "2", search_path: schema }));
          await raw.expect("R");
          raw.socket.write(writePasswordMessage(await env().harness.idp.token("reporting-agent")));
          for (let m = await raw.next(60_000); m?.type !== Backend.ReadyForQuery; m = await raw.next(60_000)) assert.ok(m && m.type !== Backend.ErrorResponse, "login refused");
          raw.socket.write(Buffer.concat([...extended("SET extra_float_digits = 3"), ...extended("SET application_name = 'PostgreSQL JDBC Driver'"), ...extended(SHADOWED)]));
          const answers = await answersUntilReady(raw, 3);
          const groups: Answer[][] = [[]];
          for (const answer of answers) {
            groups[groups.length - 1].push(answer);
            if (answer.type === "Z") groups.push([]);
          }
          assertAnswers(groups.slice(0, -1), [["1", "2", "C:SET", "Z"], ["1", "2", "C:SET", "S?", "Z"], [...read]], schema);
        } finally {
          raw.close();
        }
      }
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });

    test("psql: a SET search_path session reads, PGOPTIONS -c search_path=sp_shadow,public is refused", async () => {
      const ok = await psql(env(), resource, ["-c", "SET search_path = app, public", "-c", "SHOW search_path", "-c", SHADOWED]);
      assert.match(ok.stdout, /app, public[\s\S]*\n2\n?/);
      const bent = await psql(env(), resource, ["-c", SHADOWED], "-c search_path=sp_shadow,public");
      assert.notEqual(bent.code, 0);
      assert.match(bent.stderr, /airlock: /);
      assert.equal(await logged(resource), 0, "SECURITY: sp_f() ran");
    });
  });
}

const run = promisify(execFile);

async function opsClient(resource: Resource): Promise<pg.Client> {
  const ops = new pg.Client({ connectionString: await env().harness.url(resource, "ops-agent") });
  await ops.connect();
  return ops;
}

async function assertRefusedWith(run: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await run.then(() => undefined, (e: { code?: string; message?: string }) => e);
  assert.equal(err?.code, "42501", "SECURITY: the statement ran");
  assert.match(err?.message ?? "", message);
}

async function psql(env: PolicyTestEnv, resource: Resource, args: string[], pgoptions?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const url = new URL(await env.harness.url(resource));
  const environment = { ...process.env, PGPASSWORD: decodeURIComponent(url.password), PGSSLMODE: "disable", PGCONNECT_TIMEOUT: "30", ...(pgoptions ? { PGOPTIONS: pgoptions } : {}) };
  const argv = ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", url.hostname, "-p", url.port, "-U", decodeURIComponent(url.username), "-d", resource, ...args];
  try {
    const { stdout, stderr } = await run("psql", argv, { env: environment, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
