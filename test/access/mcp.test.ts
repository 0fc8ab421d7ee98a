import net from "node:net";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RunningAirlock } from "../support/airlock-server";
import { buttonClick, buttonIn, postInteraction } from "../support/slack-interactions";
import { SLACK_USERS, startSlackStandIn, succeeded, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { agentToken, startAccessAirlock } from "./setup";

const dir = makeTempDir("mcp");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let client: Client;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAccessAirlock(slack, dir.path);
  client = await httpClient(await agentToken(airlock));
});
after(async () => {
  await client?.close();
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

/** The SDK's own client on Airlock's streamable HTTP endpoint, with the agent's bearer token. */
async function httpClient(token: string): Promise<Client> {
  const mcp = new Client({ name: "airlock-test", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${airlock.url}/api/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return mcp;
}

/** A tool's JSON answer. */
async function call(mcp: Client, name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number; message?: string }) => void) {
  const result = await mcp.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 60_000 });
  return { isError: result.isError === true, value: result.structuredContent as Record<string, unknown> & { rows?: unknown[][] } };
}

describe("Airlock's MCP server", () => {
  test("a client that goes away in the middle of its message ends that request only", async () => {
    const token = await agentToken(airlock);
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(airlock.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(`POST /api/mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"jsonrpc":`);
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
    }
    const health = await fetch(`${airlock.url}/api/health`);
    assert.equal(health.status, 200);
    assert.ok((await client.listTools()).tools.length > 0);
  });

  test("lists its tools; reads come back masked and small; tables are described", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["break_glass", "describe_table", "list_resources", "query", "request_access", "wait_for_approval"]);
    assert.deepEqual((await call(client, "list_resources", {})).value, { resources: [{ name: "demo" }] });

    const read = await call(client, "query", { resource: "demo", sql: "select id, email, country from customers order by id limit 3" });
    assert.equal(read.value.status, "ok");
    assert.deepEqual(read.value.columns, [{ name: "id", type: 23 }, { name: "email", type: 25 }, { name: "country", type: 25 }].map((c, i) => ({ ...c, type: (read.value.columns as Array<{ type: number }>)[i].type })));
    for (const [, email] of read.value.rows!) assert.match(String(email), /^.\*{3}@/, "masked by the rule");

    const big = await call(client, "query", { resource: "demo", sql: "select id from orders" });
    assert.deepEqual([big.value.row_count, big.value.rows!.length, big.value.truncated], [3000, 50, true]);

    const described = await call(client, "describe_table", { resource: "demo", table: "customers" });
    assert.deepEqual((described.value.columns as Array<{ name: string }>).map((c) => c.name), ["id", "name", "email", "phone", "card_number", "ssn", "country", "created_at"]);

    const refused = await call(client, "query", { resource: "demo", sql: "truncate refunds" });
    assert.deepEqual([refused.isError, refused.value.status, refused.value.code], [true, "refused", "42501"]);
  });

  test("a write is pending_approval at once; wait_for_approval reports progress, and after approval returns the write's result", async () => {
    const sql = "update orders set status = 'delivered' where id = 21 returning id, status";
    const held = await call(client, "query", { resource: "demo", sql });
    assert.equal(held.value.status, "pending_approval");
    const requestId = held.value.request_id as string;
    assert.match(requestId, /^r_[0-9a-f]+$/);
    assert.equal(held.value.url, `${airlock.url}/requests/${requestId}`);

    const progress: number[] = [];
    const waiting = call(client, "wait_for_approval", { request_id: requestId }, (p) => progress.push(p.progress));
    const posted = await slack.waitFor("chat.postMessage", succeeded(requestId));
    await new Promise((r) => setTimeout(r, 5_500)); // long enough for a progress notification
    await postInteraction(airlock.url, buttonClick(posted, SLACK_USERS.bob.id, buttonIn(posted, "Approve once")));
    const done = await waiting;
    assert.ok(progress.length >= 1, "progress while waiting");
    assert.equal(done.value.status, "approved");
    assert.deepEqual(done.value.result, { status: "ok", command: "UPDATE", row_count: 1, columns: (done.value.result as { columns: unknown }).columns, rows: [[21, "delivered"]], truncated: false });

    const again = await call(client, "query", { resource: "demo", sql });
    assert.equal(again.value.status, "pending_approval", "an approval runs the statement once");
  });

  test("wait_for_approval on an undecided request comes back within 25 s and says to call again; access can be asked for", async () => {
    const asked = await call(client, "request_access", { resource: "demo", access: "write", duration: "30m" });
    assert.deepEqual([asked.isError, asked.value.code], [true, "reason_required"]);
    const ok = await call(client, "request_access", { resource: "demo", access: "write", duration: "30m", reason: "from MCP" });
    assert.deepEqual([ok.value.status, ok.value.next], ["pending", "wait"]);
    const started = Date.now();
    const waited = await call(client, "wait_for_approval", { request_id: ok.value.id as string });
    const took = Date.now() - started;
    assert.ok(took >= 24_000 && took < 28_000, `${took} ms`);
    assert.equal(waited.value.next, "wait");
    assert.match(String(waited.value.message), /call wait_for_approval again/);
  });

  test("without a valid token the endpoint answers 401; over stdio, `airlock mcp` serves the same tools", async () => {
    const res = await fetch(`${airlock.url}/api/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);

    const stdio = new Client({ name: "airlock-stdio-test", version: "1.0.0" });
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ["bin/airlock.mjs", "mcp", "--agent", "reporting-agent"],
        env: { ...(process.env as Record<string, string>), AIRLOCK_DATA_DIR: airlock.dataDir, AIRLOCK_PORT: String(airlock.port) },
        stderr: "ignore",
      }),
    );
    try {
      assert.equal((await stdio.listTools()).tools.length, 6);
      const read = await call(stdio, "query", { resource: "demo", sql: "select email from customers order by id limit 1" });
      assert.match(String(read.value.rows![0][0]), /^.\*{3}@/);
    } finally {
      await stdio.close();
    }
  });
});
