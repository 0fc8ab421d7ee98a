import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pg from "pg";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { callServerAction } from "../support/server-actions";
import { proxyPort } from "../support/server-agent";
import { STAND_IN_SIGNING_SECRET } from "../support/slack-interactions";
import { STAND_IN_BOT_TOKEN, startSlackStandIn, succeeded, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { KEY, until } from "../webhooks/setup";
import { signInOverHttp } from "../web/http-session";
import { agentToken, api } from "./setup";

// Break-glass as users run it (server.ts beside the last build): ops-agent's group may take access
// without approval for at most 1h with a reason; a deny rule on deleting customers still refuses.
const policy = (webhookUrl: string) => `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: never-delete-customers
    match: { kinds: [delete], tables: [customers] }
    action: deny
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], timeout: 10m }
break_glass: { groups: [ops], max: 1h, reason: required }
notify:
  webhooks:
    - url: "${webhookUrl}"
      secret: { env: AIRLOCK_HOOK_SECRET }
      events: [break_glass.used, break_glass.reviewed]
`;

const dir = makeTempDir("break-glass");
let slack: SlackStandIn;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let airlock: RunningAirlock;

before(async () => {
  slack = await startSlackStandIn();
  receiver = await startWebhookReceiver(KEY);
  const file = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(file, policy(receiver.url));
  airlock = await startAirlock({
    dataDir: path.join(dir.path, "data"),
    // server.ts itself, with the dashboard as last built (as test/webhooks/server.test.ts does).
    command: [process.execPath, "--import", "tsx", "server.ts"],
    env: {
      AIRLOCK_POLICY: file,
      AIRLOCK_HOOK_SECRET: `whsec_${KEY.toString("base64")}`,
      SLACK_BOT_TOKEN: STAND_IN_BOT_TOKEN,
      SLACK_SIGNING_SECRET: STAND_IN_SIGNING_SECRET,
      SLACK_CHANNEL: "#db-approvals",
      SLACK_API_URL: slack.apiUrl,
    },
  });
});
after(async () => {
  await airlock?.stop();
  await receiver?.close();
  await slack?.close();
  dir.remove();
});

type Grant = { id: string; resource: string; status: string; kinds: string[]; tables: string[]; expires_at: string; approved_by: string[] };
type Refusal = { error: { code: string; message: string } };

const events = () => receiver.received.filter((r) => r.signed).map((r) => JSON.parse(r.body) as { type: string; subject: string; data: { breakGlass: { agent: string; reason: string; review: { by: string; note: string } | null } } });
const auditRows = (sql: string, ...params: unknown[]) => {
  const db = new Database(path.join(airlock.dataDir, "airlock.db"), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, string>>;
  } finally {
    db.close();
  }
};

/** ops-agent on the proxy in return mode: a statement that would wait for people is refused at once instead. */
async function connectOps(): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port: await proxyPort(airlock), user: "ops-agent", password: await agentToken(airlock, "ops-agent"), database: "demo", application_name: "break-glass-test airlock-mode=return" });
  await client.connect();
  return client;
}

function airlockCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/airlock.mjs", ...args], { env: { ...process.env, AIRLOCK_DATA_DIR: airlock.dataDir, AIRLOCK_PORT: String(airlock.port), AIRLOCK_TOKEN: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("break-glass", () => {
  test("refused for an agent not in break_glass.groups, without a reason, over max, or on an unknown resource", async () => {
    const reporting = await agentToken(airlock, "reporting-agent");
    const ops = await agentToken(airlock, "ops-agent");
    const cases: Array<[string, string, Record<string, unknown>, number, string]> = [
      ["not in the groups", reporting, { resource: "demo", duration: "30m", reason: "incident 42" }, 403, "not_allowed"],
      ["no reason", ops, { resource: "demo", duration: "30m" }, 400, "reason_required"],
      ["blank reason", ops, { resource: "demo", duration: "30m", reason: "   " }, 400, "reason_required"],
      ["over max", ops, { resource: "demo", duration: "2h", reason: "incident 42" }, 403, "duration_too_long"],
      ["unknown resource", ops, { resource: "prod", duration: "30m", reason: "incident 42" }, 404, "not_found"],
      ["not a duration", ops, { resource: "demo", duration: "soon", reason: "incident 42" }, 400, "invalid_request"],
    ];
    for (const [name, token, body, status, code] of cases) {
      const answer = await api<Refusal>(airlock, token, "POST", "/api/v1/break-glass", body);
      assert.deepEqual([answer.status, answer.body.error.code], [status, code], name);
    }
    assert.equal((await api<Refusal>(airlock, undefined, "POST", "/api/v1/break-glass", {})).status, 401, "no token");
    assert.equal(auditRows("select id from break_glass_uses").length, 0, "nothing was granted");
  });

  test("over the API: a grant at once; Slack and the webhook hear of it; writes run under it, flagged; the deny rule still refuses", async () => {
    const granted = await api<Grant>(airlock, await agentToken(airlock, "ops-agent"), "POST", "/api/v1/break-glass", { resource: "demo", duration: "30m", reason: "incident 42: orders stuck" });
    assert.equal(granted.status, 201, JSON.stringify(granted.body));
    const grant = granted.body;
    assert.match(grant.id, /^bg_[0-9a-f]+$/);
    assert.deepEqual([grant.status, grant.resource, grant.tables, grant.approved_by], ["active", "demo", ["*"], []]);
    const minutes = (Date.parse(grant.expires_at) - Date.now()) / 60_000;
    assert.ok(minutes > 29 && minutes <= 30, `bounded by the 30m asked (${minutes})`);

    const alert = await slack.waitFor("chat.postMessage", succeeded(grant.id));
    assert.equal(alert.args.channel, "#db-approvals");
    assert.match(String(alert.args.text), /Break-glass: ops-agent took emergency access to demo for 30m.*incident 42: orders stuck/);
    await until(() => events().some((e) => e.subject === grant.id), "the webhook event is accepted", 30_000);
    const used = events().find((e) => e.subject === grant.id)!;
    assert.deepEqual([used.type, used.data.breakGlass.agent, used.data.breakGlass.reason, used.data.breakGlass.review], ["dev.airlock.break_glass.used", "ops-agent", "incident 42: orders stuck", null]);

    const client = await connectOps();
    try {
      const updated = await client.query("update orders set status = status where id = 1");
      assert.equal(updated.rowCount, 1, "a write that waits for review runs at once under break-glass");
      await assert.rejects(client.query("delete from customers where id = 1"), (err: pg.DatabaseError) => err.code === "42501" && /never-delete-customers/.test(err.message), "deny still refuses");
    } finally {
      await client.end();
    }
    // The writer records in batches: both statements, the run and the refused one, before either is read.
    await until(() => auditRows("select id from audit_log where type = 'statement' and (sql like 'update orders%' or sql like 'delete from customers%')").length === 2, "the statements are in the audit trail", 15_000);
    const [statement] = auditRows("select grant_id as grantId, data from audit_log where type = 'statement' and sql like 'update orders%'");
    assert.equal(statement.grantId, grant.id);
    assert.equal(JSON.parse(statement.data).breakGlass, true, "flagged in the audit trail");
    const [refused] = auditRows("select grant_id as grantId, decision, data from audit_log where type = 'statement' and sql like 'delete from customers%'");
    assert.equal(refused.grantId, null, "the refused delete ran under nothing");
    assert.deepEqual(auditRows("select type, decision from audit_log where grant_id = ? and type like 'break_glass.%'", grant.id), [{ type: "break_glass.used", decision: "break_glass" }]);
  });

  test("the needs-review item stays until a person reviews it with a note; the review is audited and sent", async () => {
    const [use] = auditRows("select id from break_glass_uses where reviewed_at is null order by created_at");
    assert.ok(use, "an unreviewed use from the test before");
    const cookie = await signInOverHttp(airlock.url, "alice@example.com");
    const queue = async () => (await fetch(`${airlock.url}/`, { headers: { cookie } })).text();
    assert.match(await queue(), new RegExp(`break-glass ${use.id}`), "on the queue");
    assert.match(await callServerAction(airlock, cookie, "reviewBreakGlass", "/", { id: use.id, note: "  " }), /write a note/, "not without a note");
    assert.match(await queue(), new RegExp(`break-glass ${use.id}`), "still on the queue");
    const carol = await signInOverHttp(airlock.url, "carol@example.com");
    assert.match(await callServerAction(airlock, carol, "reviewBreakGlass", "/", { id: use.id, note: "looked" }), /your role does not allow this/, "a viewer may not review");
    assert.match(await callServerAction(airlock, cookie, "reviewBreakGlass", "/", { id: use.id, note: "Checked: one no-op update during incident 42." }), /Reviewed\./);
    assert.doesNotMatch(await queue(), new RegExp(`break-glass ${use.id}`), "off the queue");
    assert.match(await callServerAction(airlock, cookie, "reviewBreakGlass", "/", { id: use.id, note: "again" }), /already reviewed/);
    await until(() => auditRows("select id from audit_log where type = 'break_glass.reviewed' and grant_id = ?", use.id).length === 1, "the review is audited", 15_000);
    const [reviewed] = auditRows("select person, data from audit_log where type = 'break_glass.reviewed' and grant_id = ?", use.id);
    assert.deepEqual([reviewed.person, JSON.parse(reviewed.data).note], ["alice@example.com", "Checked: one no-op update during incident 42."]);
    await until(() => events().some((e) => e.type === "dev.airlock.break_glass.reviewed"), "the review's webhook event is accepted", 30_000);
    assert.deepEqual(events().find((e) => e.type === "dev.airlock.break_glass.reviewed")!.data.breakGlass.review?.by, "alice@example.com");
  });

  test("airlock break-glass: the grant on stdout (exit 0); without a reason exit 1 saying so", async () => {
    const run = await airlockCli(["break-glass", "--agent", "ops-agent", "--resource", "demo", "--for", "15m", "--reason", "cli incident"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^bg_[0-9a-f]+ {2}demo /);
    assert.match(run.stderr, /people have been alerted/);
    const refused = await airlockCli(["break-glass", "--agent", "ops-agent", "--resource", "demo", "--for", "15m"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /requires a reason.*\(reason_required\)/);
    assert.equal((await airlockCli(["break-glass", "--agent", "ops-agent"])).code, 2, "usage");
  });

  test("the MCP break_glass tool: ops-agent gets a grant; reporting-agent is refused", async () => {
    const call = async (agent: string, args: Record<string, unknown>) => {
      const mcp = new Client({ name: "break-glass-test", version: "1.0.0" });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`${airlock.url}/api/mcp`), { requestInit: { headers: { authorization: `Bearer ${await agentToken(airlock, agent)}` } } }));
      try {
        const result = await mcp.callTool({ name: "break_glass", arguments: args });
        return { isError: result.isError === true, value: result.structuredContent as Record<string, unknown> };
      } finally {
        await mcp.close();
      }
    };
    const ok = await call("ops-agent", { resource: "demo", duration: "10m", reason: "mcp incident" });
    assert.equal(ok.isError, false, JSON.stringify(ok.value));
    assert.match(String(ok.value.id), /^bg_/);
    const no = await call("reporting-agent", { resource: "demo", duration: "10m", reason: "mcp incident" });
    assert.deepEqual([no.isError, no.value.code], [true, "not_allowed"]);
  });
});
