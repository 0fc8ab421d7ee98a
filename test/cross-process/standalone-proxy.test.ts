/**
 * Issue 16, first step: the dashboard (`npm start`) and `npm run proxy` as two real processes on
 * one data dir hear each other through the store's event bus. Statements held on the standalone
 * proxy are decided in the dashboard (its server action, as a signed-in approver's browser posts
 * it), grants made and revoked there take effect on the standalone proxy, and the Sessions page
 * lists the standalone proxy's connections with its instance name.
 */
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { GrantStore } from "../../lib/approvals/grants";
import { ApprovalService } from "../../lib/approvals/service";
import { openStore, type Store } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { pendingRequest } from "../support/pending-request";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken } from "../support/server-agent";
import { startStandaloneProxy, type StandaloneProxy } from "../support/standalone-proxy";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "../web/http-session";
import { agentOnProxy, denyThenApproveRounds, percentile, personOn } from "./people-and-agents";

const INSTANCE = "proxy-b";
const ROUNDS = 20;

let server: TestPostgres;
let airlock: RunningAirlock;
let proxy: StandaloneProxy;
let store: Store;
/** Reads only (this test's view of the store); every decision is the dashboard's. */
let approvals: ApprovalService;
let grants: GrantStore;
let alice: ReturnType<typeof personOn>;
let policy: string;
const dir = makeTempDir("cross-process");

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 100) g");
  await admin.end();
  policy = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(
    policy,
    [
      "resources:",
      `  pg: { type: postgres, url: "${server.url}" }`,
      "rules:",
      "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }",
      "  - name: agents-write",
      "    match: { groups: [agents], kinds: [update] }",
      "    action: review",
      "    review: { approvers: [db-approvers], grants: [once, 15m] }",
      "    access: { max: 1h, timeout: 20s }",
      "",
    ].join("\n"),
  );
  airlock = await startAirlock({ dataDir: path.join(dir.path, "data"), env: { AIRLOCK_POLICY: policy } });
  proxy = await startStandaloneProxy(airlock.dataDir, { AIRLOCK_POLICY: policy, AIRLOCK_INSTANCE_NAME: INSTANCE });
  store = await openStore({ dataDir: airlock.dataDir });
  grants = new GrantStore(store);
  approvals = new ApprovalService(store, grants);
  alice = personOn(airlock, await signInOverHttp(airlock.url, "alice@example.com"));
});
after(async () => {
  await store?.close();
  await proxy?.stop();
  await airlock?.stop();
  await server?.stop();
  dir.remove();
});

/** An agent on the standalone proxy, with the notices it is sent. */
async function agentOnStandalone() {
  return agentOnProxy(proxy.port, await agentToken(airlock));
}

test("held on the standalone proxy, queued on the dashboard, approved or denied there: released or refused", async () => {
  const { client } = await agentOnStandalone();
  try {
    const latencies = await denyThenApproveRounds("dashboard decision → standalone proxy's agent has its result", client, approvals, alice, ROUNDS);
    assert.ok(percentile(latencies, 99) < 1000, `p99 ${percentile(latencies, 99)} ms`);
  } finally {
    await client.end();
  }
});

test("a grant approved on the dashboard covers the standalone proxy's statements; revoked there, the next one is held and the session is told", async () => {
  const { client, notices } = await agentOnStandalone();
  try {
    const sql = "update counters set n = n + 1 where id = 50";
    const first = client.query(sql);
    const request = await pendingRequest(approvals, sql);
    assert.match(await alice.decide(request.id, "approve:900000"), /Request approved/);
    await first;
    const grantId = (await approvals.get(request.id))!.grantId!;
    assert.ok(grantId);
    assert.equal((await client.query("update counters set n = n + 1 where id = 51")).rowCount, 1, "covered by the grant, not held");

    await alice.revoke(grantId);
    for (let i = 0; i < 100 && !notices.some((n) => n.includes(grantId)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(notices.some((n) => n.includes(`grant ${grantId}`) && n.includes("was revoked by alice@example.com")), notices.join("\n"));
    const refused = assert.rejects(client.query("update counters set n = n + 1 where id = 52"), /revoked/);
    const heldAgain = await pendingRequest(approvals, "update counters set n = n + 1 where id = 52");
    assert.match(await alice.decide(heldAgain.id, "deny", "revoked"), /Request denied/);
    await refused;
  } finally {
    await client.end();
  }
});

test("the Sessions page lists the standalone proxy's connections with its instance name", async () => {
  const { client } = await agentOnStandalone();
  try {
    let html = "";
    for (let i = 0; i < 50 && !html.includes(INSTANCE); i++) {
      html = await alice.page("/sessions");
      if (!html.includes(INSTANCE)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(html.includes(INSTANCE), "the instance's name is shown");
    assert.ok(html.includes("reporting-agent"));
  } finally {
    await client.end();
  }
  let html = await alice.page("/sessions");
  for (let i = 0; i < 50 && html.includes(INSTANCE); i++) {
    await new Promise((r) => setTimeout(r, 100));
    html = await alice.page("/sessions");
  }
  assert.ok(!html.includes(INSTANCE), "gone once the connection ends");
});

test("access asked for, whose expiry the dashboard and a second standalone proxy both watch, expires once", async () => {
  const res = await fetch(new URL("/api/v1/access-requests", airlock.url), {
    method: "POST",
    headers: { authorization: `Bearer ${await agentToken(airlock)}`, "content-type": "application/json" },
    body: JSON.stringify({ resource: "pg", kinds: ["update"], tables: ["counters"], duration: "10m" }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  // Starting, it re-arms the expiry of access still asked for (the dashboard armed it when it opened it).
  const second = await startStandaloneProxy(airlock.dataDir, { AIRLOCK_POLICY: policy, AIRLOCK_INSTANCE_NAME: "proxy-c" });
  try {
    assert.equal((await approvals.get(id))?.status, "pending", "both processes watch it");
    for (let i = 0; i < 300 && (await approvals.get(id))?.status === "pending"; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await approvals.get(id))?.status, "expired");
    await new Promise((r) => setTimeout(r, 500)); // the other timer has fired by now as well
    const told = (await store.db.select().from(store.tables.events)).filter((e) => e.payload.includes(id) && e.payload.includes('"status":"expired"'));
    assert.equal(told.length, 1, "one request.changed for the expiry");
    const audited = (await store.db.select().from(store.tables.auditLog)).filter((r) => r.requestId === id && r.type.includes("expired"));
    assert.equal(audited.length, 1, JSON.stringify(audited.map((r) => r.type)));
  } finally {
    await second.stop();
  }
});

test("a standalone proxy killed while its agent waits: the dashboard cancels the hold, with why, within seconds", async () => {
  const doomed = await startStandaloneProxy(airlock.dataDir, { AIRLOCK_POLICY: policy, AIRLOCK_INSTANCE_NAME: "proxy-d" });
  const client = new pg.Client({ host: "127.0.0.1", port: doomed.port, user: "reporting-agent", password: await agentToken(airlock), database: "pg" });
  client.on("error", () => undefined);
  await client.connect();
  const sql = "update counters set n = n + 1 where id = 60";
  client.query(sql).catch(() => undefined);
  try {
    const request = await pendingRequest(approvals, sql);
    await doomed.stop("SIGKILL");
    for (let i = 0; i < 100 && (await approvals.get(request.id))?.status === "pending"; i++) await new Promise((r) => setTimeout(r, 100));
    const ended = await approvals.get(request.id);
    assert.equal(ended?.status, "cancelled");
    assert.match(ended?.outcomeReason ?? "", /instance holding it stopped/);
  } finally {
    await client.end().catch(() => undefined);
  }
});
