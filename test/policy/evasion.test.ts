import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import pg from "pg";
import { makeTempDir } from "../support/temp-dir";
import { databaseState, type DatabaseState } from "./database-state";
import { evasionCorpus } from "./evasion-corpus";
import { BASE_FIXTURE, failure, HOSTILE_FIXTURE, openAgent, PROTOCOLS, READ_ONLY_RULES, SHADOW_FIXTURE, withPolicyProxy, type AgentSession, type Protocol } from "./setup";

/**
 * A read-only rule against an evasion corpus, over both protocols: every statement is refused with
 * 42501, and PostgreSQL, checked directly as superuser after each one, is exactly as it was.
 */

// A directory the database server could write to, were a COPY or lo_export let through.
const files = makeTempDir("evasion-files");
fs.chmodSync(files.path, 0o777);
fs.writeFileSync(path.join(files.path, "in.tsv"), "900\tfrom a server file\n", { mode: 0o644 });
const corpus = evasionCorpus(files.path);

const sessions = new Map<Protocol, AgentSession>();
const notifications: string[] = [];
let listener: pg.Client | undefined;
let victim: pg.Client | undefined;
let baseline: DatabaseState;

const env = withPolicyProxy({
  rules: READ_ONLY_RULES,
  fixture: BASE_FIXTURE + HOSTILE_FIXTURE + SHADOW_FIXTURE,
  async setUp({ postgres, harness, admin }) {
    listener = new pg.Client({ connectionString: postgres.url });
    await listener.connect();
    listener.on("notification", (n) => notifications.push(`${n.channel}: ${n.payload}`));
    await listener.query("LISTEN evasion");
    victim = new pg.Client({ connectionString: postgres.url, application_name: "evasion-victim" });
    victim.on("error", () => undefined);
    await victim.connect();
    baseline = await databaseState(admin);
    for (const protocol of PROTOCOLS) sessions.set(protocol, await openAgent(await harness.url("pg"), protocol));
  },
  async tearDown() {
    for (const session of sessions.values()) await session.close().catch(() => undefined);
    await listener?.end();
    await victim?.end().catch(() => undefined);
    files.remove();
  },
});

const session = (protocol: Protocol) => sessions.get(protocol)!;
const writtenFiles = () => fs.readdirSync(files.path).filter((f) => f !== "in.tsv");

test("the extended runner really sends Parse: PostgreSQL refuses two statements in one", async () => {
  const err = await failure(session("extended").query("SELECT 1; SELECT 2"));
  assert.equal(err?.code, "42601", err?.message);
  assert.match(err?.message ?? "", /cannot insert multiple commands into a prepared statement/);
});

test(`the corpus has ${corpus.length} statements`, () => assert.ok(corpus.length >= 65));

for (const protocol of PROTOCOLS) {
  describe(`refused over the ${protocol} protocol`, () => {
    for (const { sql, parseFails } of corpus) {
      const name = sql.length > 100 ? `${sql.slice(0, 60)}…${sql.slice(-30)}` : sql;
      test(name, { timeout: 15_000 }, async (t) => {
        const { admin } = env();
        const before = await databaseState(admin);
        const err = await failure(session(protocol).query(sql));
        const after = await databaseState(admin);

        assert.ok(err, `SECURITY: allowed through over the ${protocol} protocol: ${sql}`);
        if (protocol === "extended" && parseFails && err.code === "42601") {
          // Parse goes upstream and fails there, before Airlock's verdict at Execute: nothing ran.
          assert.match(err.message ?? "", /cannot insert multiple commands into a prepared statement|syntax error/);
          t.diagnostic(`refused by PostgreSQL at Parse (42601: ${err.message}), not by Airlock`);
        } else {
          assert.equal(err.code, "42501", `expected Airlock's refusal, got ${err.code}: ${err.message}`);
          assert.match(err.message ?? "", /^airlock: /);
        }
        assert.deepEqual(after, before, `SECURITY: the database changed after ${protocol}: ${sql}`);
        assert.deepEqual(writtenFiles(), [], `SECURITY: a file was written after ${protocol}: ${sql}`);
      });
    }
  });
}

describe("after the whole corpus", () => {
  test("the database is exactly as it was", async () => {
    assert.deepEqual(await databaseState(env().admin), baseline);
  });

  test("no file was written on the server", () => {
    assert.deepEqual(writtenFiles(), []);
  });

  test("no notification was sent", async () => {
    await env().admin.query("NOTIFY evasion, 'marker'"); // delivered after anything sent earlier
    for (let i = 0; i < 50 && !notifications.includes("evasion: marker"); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(notifications, ["evasion: marker"]);
  });

  test("the session named for pg_terminate_backend is alive", async () => {
    assert.deepEqual((await victim!.query("SELECT 1 AS ok")).rows, [{ ok: 1 }]);
  });

  for (const protocol of PROTOCOLS) {
    test(`the agent's ${protocol} session still has its own role and settings`, async () => {
      const rows = await session(protocol).query(
        "SELECT current_user AS role, session_user AS session, current_setting('session_replication_role') AS replication, current_setting('work_mem') AS work_mem",
      );
      assert.deepEqual(rows, [{ role: env().postgres.user, session: env().postgres.user, replication: "origin", work_mem: "4MB" }]);
    });
  }
});
