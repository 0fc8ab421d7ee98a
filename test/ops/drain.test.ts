/**
 * Readiness and a graceful shutdown, with Airlock started as users start it and a real
 * PostgreSQL behind it (PGlite is one shared session: a sleep there would stall every other one).
 */
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { openStore } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken, proxyPort } from "../support/server-agent";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, until, untilRunning, writeDrainPolicy } from "./support";

const DRAIN_SECONDS = 6;
let server: TestPostgres;
const dir = makeTempDir("drain");

before(async () => {
  server = await startPostgres();
  const sql = postgres(server.url, { onnotice: () => undefined });
  await sql`create table drain_items (n int)`;
  await sql.end();
  writeDrainPolicy(path.join(dir.path, "airlock.policy.yaml"), server.url);
});
after(async () => {
  await server.stop();
  dir.remove();
});

function start(): Promise<RunningAirlock> {
  // node itself rather than npm, so the exit code is the server's own.
  return startAirlock({
    dataDir: path.join(dir.path, "data"),
    command: [process.execPath, "--import", "tsx", "scripts/start.ts"],
    env: { AIRLOCK_POLICY: path.join(dir.path, "airlock.policy.yaml"), AIRLOCK_DRAIN_SECONDS: String(DRAIN_SECONDS) },
  });
}

test("ready when up; on SIGTERM running statements finish, held ones end with the reason, new agents are refused, exit 0, nothing lost", { timeout: 110_000 }, async () => {
  const airlock = await start();
  const ready = await fetch(`${airlock.url}/api/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, checks: { store: "ok", policy: "ok", proxy: "ok" }, missing: [] });
  // Neither AIRLOCK_METRICS_TOKEN nor AIRLOCK_METRICS_PORT: no metrics anywhere.
  assert.equal((await fetch(`${airlock.url}/metrics`)).status, 404);

  const port = await proxyPort(airlock);
  const token = await agentToken(airlock);
  const idle = await connectAgent(port, token);
  await idle.client.query("select 'drain-marker-idle' as m");

  const holder = await connectAgent(port, token);
  const held = holder.client.query("insert into drain_items values (1)").then(
    () => assert.fail("a held statement must not run at shutdown"),
    (err: Error & { code?: string }) => err,
  );
  await until(() => holder.notices.some((n) => n.includes("held for approval")), "the hold notice");

  const sleeper = await connectAgent(port, token);
  const sleeping = sleeper.client.query("select pg_sleep(2), 'drain-marker-sleep' as m");
  await untilRunning(server.url, "select pg_sleep(2)");

  const signalled = Date.now();
  const stopping = airlock.stop("SIGTERM");

  // The held statement ends at once, in words, and its request is cancelled.
  const heldError = await held;
  assert.equal(heldError.code, "57014");
  assert.match(heldError.message, /cancelled: Airlock is shutting down/);

  // New HTTP requests are refused while draining; readiness with them.
  const during = await fetch(`${airlock.url}/api/ready`);
  assert.equal(during.status, 503);
  assert.deepEqual(await during.json(), { error: { code: "shutting_down", message: "Airlock is shutting down" } });

  // A new agent is refused as PostgreSQL refuses one during its shutdown.
  const refused = await connectAgent(port, token).then(
    () => assert.fail("a new connection must be refused while draining"),
    (err: Error & { code?: string }) => err,
  );
  assert.equal(refused.code, "57P01");
  assert.match(refused.message, /shutting down/);

  // The running statement completes; the idle session was ended with 57P01.
  const slept = await sleeping;
  assert.equal(slept.rows[0].m, "drain-marker-sleep");
  await until(() => idle.errors.length > 0, "the idle session's end");
  assert.equal(idle.errors[0].code, "57P01");

  await stopping;
  assert.equal(await airlock.exited, 0, airlock.output());
  assert.ok(Date.now() - signalled < DRAIN_SECONDS * 1000, `exited ${Date.now() - signalled} ms after SIGTERM`);
  assert.match(airlock.output(), /SIGTERM: shutting down/);
  for (const c of [idle, holder, sleeper]) c.client.end().catch(() => undefined);

  // Restarted on the same data dir: every statement and the cancelled request are there.
  const again = await start();
  try {
    assert.equal((await fetch(`${again.url}/api/ready`)).status, 200);
    const store = await openStore({ dataDir: again.dataDir });
    try {
      const rows = await store.sql.all("select text, outcome from statements where text like '%drain-marker%' or text like 'insert into drain_items%' order by text");
      assert.deepEqual(rows, [
        { text: "insert into drain_items values (1)", outcome: "refused" },
        { text: "select 'drain-marker-idle' as m", outcome: "ok" },
        { text: "select pg_sleep(2), 'drain-marker-sleep' as m", outcome: "ok" },
      ]);
      const request = await store.sql.get("select status, outcome_reason as reason from access_requests");
      assert.deepEqual(request, { status: "cancelled", reason: "Airlock is shutting down" });
    } finally {
      await store.close();
    }
  } finally {
    await again.stop();
  }
});

test("/api/ready is 503 with what is missing when the policy file is broken", { timeout: 110_000 }, async () => {
  const policy = path.join(dir.path, "airlock.policy.yaml");
  const good = fs.readFileSync(policy, "utf8");
  const airlock = await start();
  try {
    fs.writeFileSync(policy, "rules: [ { name: broken\n");
    // The file watcher sees the edit shortly.
    let res = await fetch(`${airlock.url}/api/ready`);
    for (const end = Date.now() + 15_000; res.status !== 503 && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${airlock.url}/api/ready`);
    }
    assert.equal(res.status, 503);
    const body = (await res.json()) as { ready: boolean; missing: string[]; checks: Record<string, string> };
    assert.equal(body.ready, false);
    assert.deepEqual(body.missing, ["policy"]);
    assert.match(body.checks.policy, /invalid/);
  } finally {
    fs.writeFileSync(policy, good);
    await airlock.stop();
  }
});
