/**
 * `/metrics` on a real Airlock: behind the bearer token on the dashboard port, or on a port of its
 * own; the series after a few statements of each fate; promtool's lint when Debian's is installed.
 */
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { startAirlock } from "../support/airlock-server";
import { agentToken, proxyPort } from "../support/server-agent";

const TOKEN = "metrics-test-token-0123456789";
const PROMTOOL = "/usr/bin/promtool";

function client(port: number, password: string, applicationName?: string): pg.Client {
  const c = new pg.Client({ host: "127.0.0.1", port, user: "reporting-agent", password, database: "demo", application_name: applicationName });
  c.on("error", () => undefined);
  return c;
}

/** The value of one series, by its exact name and labels as prom-client writes them. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("on the dashboard port behind the token: statements by outcome, connections, holds, audit writes; promtool passes", { timeout: 110_000 }, async (t) => {
  const airlock = await startAirlock({ env: { AIRLOCK_METRICS_TOKEN: TOKEN } });
  const agents: pg.Client[] = [];
  try {
    const url = `${airlock.url}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status, 401);

    const port = await proxyPort(airlock);
    const token = await agentToken(airlock);
    const reader = client(port, token);
    const returner = client(port, token, "airlock-mode=return");
    agents.push(reader, returner);
    await reader.connect();
    await returner.connect();
    await reader.query("select name from customers order by id limit 2");
    await reader.query("select email from customers order by id limit 2");
    await assert.rejects(reader.query("select pg_read_file('/etc/passwd')"), { code: "42501" });
    await assert.rejects(returner.query("update customers set country = 'NL' where id = 1"), { code: "42501" });
    // The recorder writes every 20 ms; its batches are what the audit metrics count.
    await new Promise((r) => setTimeout(r, 200));

    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const statements = (outcome: string, kind: string) => value(text, `airlock_statements_total{outcome="${outcome}",kind="${kind}",resource="demo"}`);
    assert.equal(statements("allowed", "select"), 1, text);
    assert.equal(statements("masked", "select"), 1);
    assert.equal(statements("refused", "admin"), 1);
    assert.equal(statements("held", "update"), 1);
    assert.equal(value(text, "airlock_agent_connections"), 2);
    assert.equal(value(text, "airlock_holds_pending"), 1);
    assert.equal(value(text, "airlock_grants_active"), 0);
    assert.equal(value(text, 'airlock_decisions_total{channel="web",action="approve"}'), 0);
    assert.ok((value(text, "airlock_audit_write_batch_size_count") ?? 0) >= 1);
    assert.ok((value(text, "airlock_audit_write_lag_seconds_count") ?? 0) >= 1);
    // Times of the statements that ran (two selects), not of the refused or held ones.
    assert.equal(value(text, 'airlock_statement_upstream_seconds_count{resource="demo"}'), 2);
    assert.equal(value(text, 'airlock_statement_proxy_seconds_count{resource="demo"}'), 2);
    assert.ok((value(text, 'airlock_statement_upstream_seconds_sum{resource="demo"}') ?? 0) > 0);
    assert.equal(value(text, 'airlock_slack_delivery_failures_total{method="post",outcome="give_up"}'), 0);
    assert.equal(value(text, 'airlock_store_errors_total{operation="readiness"}'), 0);
    assert.ok((value(text, "nodejs_eventloop_lag_seconds") ?? -1) >= 0);
    assert.ok((value(text, "process_resident_memory_bytes") ?? 0) > 0);
    // Bounded labels: no SQL, agent, token or value in any series.
    for (const leak of ["customers", "reporting-agent", "pg_read_file", token.slice(-16), "@"]) assert.ok(!text.includes(leak), `${leak} in the metrics`);

    if (!spawnSync("sh", ["-c", `command -v ${PROMTOOL}`]).stdout.length) {
      t.diagnostic(`promtool check metrics skipped: ${PROMTOOL} is not installed (apt-get install prometheus)`);
    } else {
      const lint = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    }
  } finally {
    await Promise.all(agents.map((c) => c.end().catch(() => undefined)));
    await airlock.stop();
  }
});

test("on a port of its own with AIRLOCK_METRICS_PORT (and then not on the dashboard port)", { timeout: 110_000 }, async () => {
  const airlock = await startAirlock({ env: { AIRLOCK_METRICS_PORT: "0" } });
  try {
    const url = /metrics on (http:\/\/\S+\/metrics)/.exec(airlock.output())?.[1];
    assert.ok(url, airlock.output());
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# TYPE airlock_statements_total counter$/m);
    assert.equal((await fetch(url.replace(/\/metrics$/, "/other"))).status, 404);
    assert.equal((await fetch(`${airlock.url}/metrics`)).status, 404);
  } finally {
    await airlock.stop();
  }
});
