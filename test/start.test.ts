import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { createAgentTokenVerifier } from "../lib/identity/agent-token";
import { startAirlock, type RunningAirlock } from "./support/airlock-server";
import { makeTempDir } from "./support/temp-dir";

const dataDir = makeTempDir("start");
after(() => dataDir.remove());

function airlockCli(server: RunningAirlock, ...args: string[]) {
  return spawnSync(process.execPath, ["bin/airlock.mjs", ...args], {
    encoding: "utf8",
    env: { ...process.env, AIRLOCK_DATA_DIR: server.dataDir, AIRLOCK_PORT: String(server.port) },
  });
}

let firstToken = "";
let firstKeys = "";

test("npm start comes up on a free port, says which, and answers /api/health", async () => {
  const server = await startAirlock({ dataDir: dataDir.path });
  try {
    assert.notEqual(server.port, 0);
    assert.match(server.output(), new RegExp(`http://localhost:${server.port}`));
    assert.match(server.output(), /alice@example\.com/);
    assert.match(server.output(), /airlock-dev/);

    const res = await fetch(`${server.url}/api/health`);
    assert.equal(res.status, 200);
    const health = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(health).sort(), ["issuer", "ok", "proxy", "version"]);
    assert.equal(health.ok, true);
    assert.equal(health.issuer, `${server.url}/oidc`);
    assert.equal(typeof (health.proxy as { port: unknown }).port, "number");
    assert.equal((health.proxy as { host: unknown }).host, "127.0.0.1");
    assert.match(String(health.version), /^\d+\.\d+\.\d+/);

    const token = airlockCli(server, "token", "reporting-agent");
    assert.equal(token.status, 0, token.stderr);
    firstToken = token.stdout.trim();
    const identity = await createAgentTokenVerifier({ issuer: `${server.url}/oidc`, audience: "airlock" })(firstToken);
    assert.equal(identity.agentId, "reporting-agent");
    assert.deepEqual(identity.groups, ["agents", "analytics"]);
    firstKeys = fs.readFileSync(path.join(dataDir.path, "idp-secrets.json"), "utf8");
  } finally {
    await server.stop();
  }
});

test("a second start reuses the data dir and keys: earlier tokens still verify", async () => {
  assert.ok(firstToken, "needs the first start");
  const server = await startAirlock({ dataDir: dataDir.path });
  try {
    assert.equal(fs.readFileSync(path.join(dataDir.path, "idp-secrets.json"), "utf8"), firstKeys);
    // The issuer URL carries the port, which changed; the signing key did not.
    const jwks = (await (await fetch(`${server.url}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const kid = JSON.parse(Buffer.from(firstToken.split(".")[0], "base64url").toString()).kid;
    assert.ok(jwks.keys.some((k) => k.kid === kid), "the key that signed the first token is still published");
  } finally {
    await server.stop();
  }
});

test("the airlock command explains itself and fails clearly", async () => {
  const help = spawnSync(process.execPath, ["bin/airlock.mjs", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /airlock token <agent>/);

  const unknown = spawnSync(process.execPath, ["bin/airlock.mjs", "launch-rockets"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command/);

  const down = spawnSync(process.execPath, ["bin/airlock.mjs", "token", "reporting-agent"], {
    encoding: "utf8",
    env: { ...process.env, AIRLOCK_DATA_DIR: dataDir.path, AIRLOCK_PUBLIC_URL: "http://127.0.0.1:9" },
  });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot reach/);
});

test("the live websocket refuses a browser without a session", async () => {
  const server = await startAirlock();
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://localhost:${server.port}/api/live`, { origin: server.url });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("opened without a session")));
      ws.on("error", () => undefined);
    });
    assert.equal(status, 401);
  } finally {
    await server.stop();
  }
});
