import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import pg from "pg";
import postgres from "postgres";
import { writeCancelRequest } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { RESOURCES, withProxy } from "./setup";

const env = withProxy();

describe("cancel", () => {
  test("a CancelRequest from another connection stops a running pg_sleep (PostgreSQL)", async () => {
    const sql = postgres(await env().harness.url("pg"), { max: 1 });
    const admin = new pg.Client({ connectionString: env().postgres.url });
    await admin.connect();
    try {
      // Connected first: postgres.js cancelling a query whose connection is still being made leaves
      // that connection stuck for good (its queued queries never run), which hung this test under load.
      await sql`select 1`;
      const started = Date.now();
      const sleeping = sql`select pg_sleep(30)`.execute();
      // Cancelled once PostgreSQL is running it, not after a guessed delay.
      while ((await admin.query("select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'")).rows[0].n === 0) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await sleeping.cancel();
      await assert.rejects(sleeping, (err: { code?: string }) => err.code === "57014");
      assert.ok(Date.now() - started < 10_000, "cancelled long before the sleep ended");
      const [{ ok }] = await sql`select 'usable' as ok`;
      assert.equal(ok, "usable");
    } finally {
      await admin.end();
      await sql.end();
    }
  });

  test("a cancel key the proxy never issued reaches nothing", async () => {
    const sql = postgres(await env().harness.url("pg"), { max: 1 });
    try {
      const sleeping = sql`select pg_sleep(1) as slept`;
      await new Promise((r) => setTimeout(r, 200));
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      raw.socket.write(writeCancelRequest(12345, 67890));
      assert.equal(await raw.next(), undefined, "the proxy closes without an answer, as PostgreSQL does");
      const [row] = await sleeping;
      assert.ok("slept" in row, "the statement ran to its end");
    } finally {
      await sql.end();
    }
  });
});

for (const { resource, kind } of RESOURCES) {
  describe(`a session on ${kind}`, () => {
    test("ends at its next statement once the agent's token expires", async () => {
      const { idp, proxy } = env().harness;
      // The resource warmed first (PGlite's start, the catalog), so the short token's life is all the session's.
      const warm = new pg.Client({ connectionString: await env().harness.url(resource) });
      await warm.connect();
      await warm.end();
      const { token, expiresAt } = await idp.shortLivedToken("reporting-agent", 8);
      const client = new pg.Client({ host: "127.0.0.1", port: proxy.port, user: "reporting-agent", password: token, database: resource });
      client.on("error", () => undefined);
      await client.connect();
      assert.equal((await client.query("select 1 as n")).rows[0].n, 1);
      await new Promise((r) => setTimeout(r, expiresAt * 1000 - Date.now() + 500));
      await assert.rejects(client.query("select 2"), (err: { code?: string; severity?: string; message: string }) => {
        assert.equal(err.code, "28P01");
        assert.equal(err.severity, "FATAL");
        assert.match(err.message, /token expired/);
        return true;
      });
    });

    test("notices reach the agent", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        const notices: string[] = [];
        client.on("notice", (n) => notices.push(n.message ?? ""));
        await client.query("do $$ begin raise notice 'hello from the database'; end $$");
        assert.deepEqual(notices, ["hello from the database"]);
      } finally {
        await client.end();
      }
    });

    test("every statement is recorded with its outcome, rows and parameters", async () => {
      const { harness } = env();
      const client = new pg.Client({ connectionString: await harness.url(resource), application_name: "record-test" });
      await client.connect();
      await client.query("select g from generate_series(1, 5) g");
      await client.query("select $1::int + 1 as n", [41]);
      await client.query("select * from no_such_table").catch(() => undefined);
      await client.end();
      await new Promise((r) => setTimeout(r, 100));
      await harness.recorder.flush();

      const { db, tables: { agentSessions, statements } } = harness.store;
      const session = (await db.select().from(agentSessions)).find((s) => s.applicationName === "record-test" && s.resource === resource);
      assert.ok(session, "the session is recorded");
      assert.equal(session.agentId, "reporting-agent");
      assert.deepEqual(session.groups, ["agents", "analytics"]);
      assert.equal(session.clientAddress, "127.0.0.1");
      assert.ok(session.endedAt, "and its end");
      const rows = await db.select().from(statements).where(eq(statements.sessionId, session.id)).orderBy(statements.id);
      assert.deepEqual(
        rows.map((r) => [r.text, r.protocol, r.outcome, r.rows, r.params]),
        [
          ["select g from generate_series(1, 5) g", "simple", "ok", 5, null],
          ["select $1::int + 1 as n", "extended", "ok", 1, ["41"]],
          ["select * from no_such_table", "simple", "error", 0, null],
        ],
      );
      assert.equal(rows[2].errorCode, "42P01");
      assert.ok(rows.every((r) => r.durationMs >= 0));
    });
  });
}

test("LISTEN/NOTIFY between agents (PostgreSQL)", async () => {
  const listener = new pg.Client({ connectionString: await env().harness.url("pg") });
  const notifier = new pg.Client({ connectionString: await env().harness.url("pg", "ops-agent") });
  await listener.connect();
  await notifier.connect();
  try {
    await listener.query("listen airlock_test");
    const received = new Promise<string | undefined>((resolve) => listener.on("notification", (n) => resolve(n.payload)));
    await notifier.query("notify airlock_test, 'ping'");
    assert.equal(await received, "ping");
  } finally {
    await listener.end();
    await notifier.end();
  }
});
