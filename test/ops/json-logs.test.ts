/**
 * AIRLOCK_LOG_FORMAT=json on a real Airlock run through the flows that log: logins good and bad,
 * masked reads, refusals, a held statement quoting a customer's email, the agent API with good and
 * bad bearers, a shutdown. Every line is one JSON object, and none carries an agent token or a
 * seeded customer's email, phone, card number or SSN.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { demoData } from "../../lib/demo/seed-data";
import { startAirlock } from "../support/airlock-server";
import { agentToken, proxyPort } from "../support/server-agent";

test("JSON logs: every line an object with a level; no token, password or unmasked value anywhere", { timeout: 110_000 }, async () => {
  const airlock = await startAirlock({ env: { AIRLOCK_LOG_FORMAT: "json", AIRLOCK_LOG_LEVEL: "debug", AIRLOCK_DRAIN_SECONDS: "2" } });
  let stopped = false;
  try {
    const port = await proxyPort(airlock);
    const reporting = await agentToken(airlock, "reporting-agent");
    const ops = await agentToken(airlock, "ops-agent");
    const customer = demoData().customers[7];
    const connect = async (user: string, password: string, applicationName?: string) => {
      const c = new pg.Client({ host: "127.0.0.1", port, user, password, database: "demo", application_name: applicationName });
      c.on("error", () => undefined);
      await c.connect();
      return c;
    };

    // Logins refused: another agent's token, a token cut short, an unknown resource.
    await assert.rejects(connect("reporting-agent", ops), { code: "28P01" });
    await assert.rejects(connect("reporting-agent", reporting.slice(0, -4)), { code: "28P01" });
    await assert.rejects(
      new pg.Client({ host: "127.0.0.1", port, user: "reporting-agent", password: reporting, database: "nowhere" }).connect(),
      (err: Error & { code?: string }) => /^(3D000|28000|08006)$/.test(err.code ?? ""),
    );

    // Reads (masked), a refusal, and a statement held in return mode that quotes a customer's email.
    const agent = await connect("reporting-agent", reporting, "airlock-mode=return");
    const masked = await agent.query("select email, phone, card_number, ssn from customers where id = $1", [customer.id]);
    assert.notEqual(masked.rows[0].email, customer.email);
    await assert.rejects(agent.query("select pg_read_file('/etc/passwd')"), { code: "42501" });
    await assert.rejects(agent.query(`update customers set country = 'NL' where email = '${customer.email}'`), { code: "42501" });
    await agent.end();

    // The agent API: a good bearer and a bad one.
    const api = (bearer: string, method = "GET", path = "/api/v1/grants", body?: object) =>
      fetch(`${airlock.url}${path}`, { method, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" }, body: body && JSON.stringify(body) });
    assert.equal((await api(ops)).status, 200);
    assert.equal((await api(`${ops}x`)).status, 401);
    assert.equal((await api(ops, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "15m", reason: `fix ${customer.email}` })).status, 201);

    await airlock.stop();
    stopped = true;

    const lines = airlock.output().split("\n").filter((l) => l.trim() !== "");
    assert.ok(lines.length > 5, airlock.output());
    for (const line of lines) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`not a JSON line: ${line}`);
      }
      assert.ok(["debug", "info", "warn", "error"].includes(String(entry.level)), line);
      assert.equal(typeof entry.msg, "string", line);
    }
    assert.ok(lines.some((l) => l.includes("SIGTERM: shutting down")));

    const output = airlock.output();
    for (const token of [reporting, ops]) {
      assert.ok(!output.includes(token), "an agent token is in the logs");
      // A token's signature alone is as good as leaked.
      assert.ok(!output.includes(token.split(".")[2]), "an agent token's signature is in the logs");
    }
    for (const c of demoData().customers) {
      for (const secret of [c.email, c.phone, c.card_number, c.ssn]) assert.ok(!output.includes(secret), `customer ${c.id}'s ${secret} is in the logs`);
    }
  } finally {
    if (!stopped) await airlock.stop();
  }
});
