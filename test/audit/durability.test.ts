/**
 * The audit trail under load and under a crash, with Airlock run as users run it: 100,000
 * statements leave 100,000 statement rows; a `kill -9` in the middle of a stream loses at most
 * the last unwritten batch, and what is there still verifies.
 */
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { FLUSH_INTERVAL_MS } from "../../lib/activity/recorder";
import { verifyChain } from "../../lib/audit/verify";
import { openStore } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken, proxyPort } from "../support/server-agent";
import { makeTempDir } from "../support/temp-dir";

let server: TestPostgres;
const dirs: Array<{ path: string; remove(): void }> = [];

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
  for (const d of dirs) d.remove();
});

async function airlock(): Promise<RunningAirlock> {
  const dir = makeTempDir("audit-load");
  dirs.push(dir);
  const policy = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(policy, `resources:\n  pg: { type: postgres, url: "${server.url}" }\nrules:\n  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }\n`);
  return startAirlock({ dataDir: dir.path, env: { AIRLOCK_POLICY: policy } });
}

/** postgres.js pipelines queries on its connections: the proxy sees statements back to back. */
async function agent(a: RunningAirlock) {
  return postgres({ host: "127.0.0.1", port: await proxyPort(a), user: "reporting-agent", password: await agentToken(a), database: "pg", max: 4, onnotice: () => undefined });
}

async function statementRows(dataDir: string, marker: string): Promise<number> {
  const store = await openStore({ dataDir });
  try {
    const counted = await store.sql.get<{ n: number }>("select count(*) as n from audit_log where type = 'statement' and sql like ?", [`%${marker}%`]);
    const verdict = await verifyChain(store);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    return counted?.n ?? 0;
  } finally {
    await store.close();
  }
}

test("100,000 statements leave 100,000 statement rows, and the chain verifies", { timeout: 600_000 }, async () => {
  const a = await airlock();
  const sql = await agent(a);
  const total = 100_000;
  for (let sent = 0; sent < total; sent += 2_000) {
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => sql`select ${sent + i}::int as n /* load-marker */`));
  }
  await sql.end();
  await a.stop("SIGTERM"); // a clean shutdown writes everything pending
  assert.equal(await statementRows(a.dataDir, "load-marker"), total);
});

test("kill -9 mid-stream: at most the last batch is missing, and what is there verifies", { timeout: 300_000 }, async () => {
  const a = await airlock();
  const sql = await agent(a);
  const acked: number[] = [];
  let stop = false;
  const streams = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        await sql`select 1 as n /* crash-marker */`;
        acked.push(performance.now());
      } catch {
        return; // the server is gone
      }
    }
  });
  // Kill after a count of statements, not after a time: a slow machine runs fewer per second.
  let ended = false;
  void Promise.all(streams).then(() => (ended = true));
  while (acked.length < 2_000 && !ended) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!ended, `the streams ended by themselves after ${acked.length} statements`);
  const killedAt = performance.now();
  stop = true;
  await a.stop("SIGKILL");
  await Promise.all(streams);
  await sql.end({ timeout: 1 }).catch(() => undefined);

  const recorded = await statementRows(a.dataDir, "crash-marker");
  // The last batch is what arrived since the last write: one flush interval, stretched by a busy loop.
  const lastBatch = acked.filter((t) => t > killedAt - Math.max(10 * FLUSH_INTERVAL_MS, 250)).length;
  assert.ok(recorded >= acked.length - lastBatch, `${recorded} recorded of ${acked.length} acknowledged (last batch ${lastBatch})`);
  assert.ok(recorded <= acked.length + 4, `${recorded} recorded but ${acked.length} acknowledged`);
});
