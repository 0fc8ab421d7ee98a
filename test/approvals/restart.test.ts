import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import pg from "pg";
import { startAirlock } from "../support/airlock-server";
import { makeTempDir } from "../support/temp-dir";

const dataDir = makeTempDir("restart");
after(() => dataDir.remove());

function token(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/airlock.mjs", "token", "reporting-agent"], { env: { ...process.env, AIRLOCK_DATA_DIR: dataDir.path, AIRLOCK_PORT: String(port) } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`airlock token exited ${code}`))));
  });
}

test("a request pending when Airlock dies is cancelled at the next start, with why", async () => {
  const first = await startAirlock({ dataDir: dataDir.path });
  const health = (await (await fetch(`${first.url}/api/health`)).json()) as { proxy: { port: number } };
  const agent = new pg.Client({ host: "127.0.0.1", port: health.proxy.port, user: "reporting-agent", password: await token(first.port), database: "demo" });
  agent.on("error", () => undefined);
  await agent.connect();
  const held = agent.query("update orders set status = 'paid' where id = 5");
  held.catch(() => undefined);
  const db = new Database(`${dataDir.path}/airlock.db`, { readonly: true });
  try {
    for (let i = 0; i < 100 && !db.prepare("select 1 from access_requests where status = 'pending'").get(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(db.prepare("select 1 from access_requests where status = 'pending'").get(), "the UPDATE is held");

    // A crash: nothing is cancelled on the way out; the waiting connection is gone with the process.
    await first.stop("SIGKILL");
    const second = await startAirlock({ dataDir: dataDir.path });
    try {
      const row = db.prepare("select status, outcome_reason as reason from access_requests").get() as { status: string; reason: string };
      assert.equal(row.status, "cancelled");
      assert.match(row.reason, /restarted/);
    } finally {
      await second.stop();
    }
  } finally {
    db.close();
    await agent.end().catch(() => undefined);
  }
});
