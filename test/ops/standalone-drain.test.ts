/**
 * `npm run proxy` shuts down as `npm start` does: on SIGTERM a running statement finishes, a held
 * one ends with the reason, a new agent is refused with 57P01, and it exits 0. Its metrics are on
 * a port of its own.
 */
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { startAirlock } from "../support/airlock-server";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken } from "../support/server-agent";
import { startStandaloneProxy } from "../support/standalone-proxy";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, until, untilRunning, writeDrainPolicy } from "./support";

let server: TestPostgres;
const dir = makeTempDir("standalone-drain");
const policy = path.join(dir.path, "airlock.policy.yaml");

before(async () => {
  server = await startPostgres();
  const sql = postgres(server.url, { onnotice: () => undefined });
  await sql`create table drain_items (n int)`;
  await sql.end();
  writeDrainPolicy(policy, server.url);
});
after(async () => {
  await server.stop();
  dir.remove();
});

test("npm run proxy drains on SIGTERM and serves /metrics on AIRLOCK_METRICS_PORT", { timeout: 110_000 }, async () => {
  const dataDir = path.join(dir.path, "data");
  const airlock = await startAirlock({ dataDir, env: { AIRLOCK_POLICY: policy } });
  try {
    const proxy = await startStandaloneProxy(dataDir, { AIRLOCK_POLICY: policy, AIRLOCK_DRAIN_SECONDS: "6", AIRLOCK_METRICS_PORT: "0" });
    const token = await agentToken(airlock);

    const holder = await connectAgent(proxy.port, token);
    const held = holder.client.query("insert into drain_items values (1)").then(
      () => assert.fail("a held statement must not run at shutdown"),
      (err: Error & { code?: string }) => err,
    );
    await until(() => holder.notices.some((n) => n.includes("held for approval")), "the hold notice");
    const sleeper = await connectAgent(proxy.port, token);
    const sleeping = sleeper.client.query("select pg_sleep(2), 'standalone-sleep' as m");
    await untilRunning(server.url, "select pg_sleep(2)");

    const metricsUrl = /metrics on (http:\/\/\S+\/metrics)/.exec(proxy.output())?.[1];
    assert.ok(metricsUrl, proxy.output());
    const scraped = await (await fetch(metricsUrl)).text();
    assert.match(scraped, /^airlock_agent_connections 2$/m);

    const signalled = Date.now();
    const stopping = proxy.stop("SIGTERM");
    const heldError = await held;
    assert.equal(heldError.code, "57014");
    assert.match(heldError.message, /cancelled: Airlock is shutting down/);
    const refused = await connectAgent(proxy.port, token).then(
      () => assert.fail("a new connection must be refused while draining"),
      (err: Error & { code?: string }) => err,
    );
    assert.equal(refused.code, "57P01");
    assert.equal((await sleeping).rows[0].m, "standalone-sleep");
    await stopping;
    assert.equal(await proxy.exited, 0, proxy.output());
    assert.ok(Date.now() - signalled < 6000, `exited ${Date.now() - signalled} ms after SIGTERM`);
    for (const c of [holder, sleeper]) c.client.end().catch(() => undefined);

    // The dashboard's Airlock is untouched and still ready.
    assert.equal((await fetch(`${airlock.url}/api/ready`)).status, 200);
  } finally {
    await airlock.stop();
  }
});
