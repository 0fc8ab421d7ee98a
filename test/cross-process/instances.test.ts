/**
 * Issue 16: two `npm start` instances, A and B, on one PostgreSQL store. A statement held on A is
 * queued and decided on B; grants made and revoked on B rule A's statements; B's Sessions page
 * lists A's connections by name; a cancel sent to B stops A's statement; both append to one audit
 * chain; and when A is killed, its agents' holds end with a reason instead of staying in B's
 * queue. People sign in on each instance's own development IdP (their keys are shared through the
 * store); agents use A's issuer everywhere, as they would one external issuer.
 */
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { ApprovalService } from "../../lib/approvals/service";
import { GrantStore } from "../../lib/approvals/grants";
import { verifyChain } from "../../lib/audit/verify";
import { openStore, type Store } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { writeCancelRequest } from "../../proxy/protocol/writer";
import { pendingRequest } from "../support/pending-request";
import { adminQuery, startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken, proxyPort } from "../support/server-agent";
import { RawWireClient } from "../support/raw-wire-client";
import { createStoreDatabase } from "../support/store";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "../web/http-session";
import { agentOnProxy, denyThenApproveRounds, percentile, personOn } from "./people-and-agents";

const ROUNDS = 20;

let server: TestPostgres;
let a: RunningAirlock;
let b: RunningAirlock;
let store: Store;
/** Reads only (this test's view of the store); every decision is B's. */
let approvals: ApprovalService;
let aliceOnB: ReturnType<typeof personOn>;
const dir = makeTempDir("instances");

before(async () => {
  server = await startPostgres();
  await adminQuery(server, "create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 100) g");
  await adminQuery(server, "create table contacts (id int primary key, email text); insert into contacts values (1, 'dana@example.com')");
  const policy = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(
    policy,
    [
      "resources:",
      `  pg: { type: postgres, url: "${server.url}" }`,
      "rules:",
      "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow, mask: { columns: [\"*.email\"], strategy: hash } }",
      "  - name: agents-write",
      "    match: { groups: [agents], kinds: [update, delete] }",
      "    action: review",
      "    review: { approvers: [db-approvers], grants: [once, 15m], timeout: 2m }",
      "    access: { max: 1h }",
      "",
    ].join("\n"),
  );
  const shared = { AIRLOCK_POLICY: policy, AIRLOCK_STORE_URL: await createStoreDatabase(server) };
  a = await startAirlock({ dataDir: path.join(dir.path, "a"), env: { ...shared, AIRLOCK_INSTANCE_NAME: "instance-a" } });
  b = await startAirlock({
    dataDir: path.join(dir.path, "b"),
    env: { ...shared, AIRLOCK_INSTANCE_NAME: "instance-b", AGENT_OIDC_ISSUER: `${a.url}/oidc`, AGENT_CLIENT_IDS: "reporting-agent,ops-agent" },
  });
  store = await openStore({ dataDir: dir.path, url: shared.AIRLOCK_STORE_URL });
  approvals = new ApprovalService(store, new GrantStore(store));
  aliceOnB = personOn(b, await signInOverHttp(b.url, "alice@example.com"));
});
after(async () => {
  await store?.close();
  await a?.stop();
  await b?.stop();
  await server?.stop();
  dir.remove();
});

/** An agent on an instance's proxy with a token from A's issuer, with the notices it is sent. */
async function agentOn(instance: RunningAirlock) {
  return agentOnProxy(await proxyPort(instance), await agentToken(a));
}

test("held on A, queued on B, decided on B: A releases or refuses it", async () => {
  const { client } = await agentOn(a);
  try {
    const latencies = await denyThenApproveRounds("decision on B → A's agent has its result", client, approvals, aliceOnB, ROUNDS);
    assert.ok(percentile(latencies, 99) < 1000, `p99 ${percentile(latencies, 99)} ms`);
  } finally {
    await client.end();
  }
});

test("a grant approved on B covers A's statements; revoked on B, A's next one is held and its session told", async () => {
  const { client, notices } = await agentOn(a);
  try {
    const sql = "update counters set n = n + 1 where id = 50";
    const first = client.query(sql);
    const request = await pendingRequest(approvals, sql);
    assert.match(await aliceOnB.decide(request.id, "approve:900000"), /Request approved/);
    await first;
    const grantId = (await approvals.get(request.id))!.grantId!;
    assert.ok(grantId, "a grant was made");
    assert.equal((await client.query(sql)).rowCount, 1, "the grant covers the next one on A, unheld");

    await aliceOnB.revoke(grantId);
    for (let i = 0; i < 100 && !notices.some((n) => n.includes(grantId)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(notices.some((n) => n.includes(grantId) && n.includes("revoked by alice@example.com")), notices.join("\n"));
    const held = client.query(sql);
    const again = await pendingRequest(approvals, sql);
    assert.notEqual(again.id, request.id, "held again after the revocation");
    assert.match(await aliceOnB.decide(again.id, "approve:once"), /Request approved/);
    await held;
  } finally {
    await client.end();
  }
});

test("access asked for on A's agent API, waited on at B's, approved on B: the wait ends approved and the grant covers A's statements", async () => {
  const token = await agentToken(a);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const asked = await fetch(`${a.url}/api/v1/access-requests`, { method: "POST", headers, body: JSON.stringify({ resource: "pg", kinds: ["update"], tables: ["counters"], duration: "10m", reason: "cross-instance backfill" }) });
  const request = (await asked.json()) as { id: string; status: string };
  assert.ok(asked.ok && request.status === "pending", JSON.stringify(request));
  const waited = fetch(`${b.url}/api/v1/access-requests/${request.id}?wait=20`, { headers }).then(async (res) => ({ ok: res.ok, body: (await res.json()) as { status: string }, at: Date.now() }));
  await new Promise((r) => setTimeout(r, 300)); // the long-poll is waiting on B
  assert.match(await aliceOnB.decide(request.id, "approve:600000"), /Request approved/);
  const { ok, body } = await waited;
  assert.ok(ok);
  assert.equal(body.status, "approved");
  const { client } = await agentOn(a);
  try {
    assert.equal((await client.query("update counters set n = n + 1 where id = 77")).rowCount, 1, "covered on A without a hold");
  } finally {
    await client.end();
  }
});

test("B's Sessions page lists A's agent connections under A's name", async () => {
  const { client } = await agentOn(a);
  try {
    let html = "";
    for (let i = 0; i < 60 && !html.includes("instance-a"); i++) {
      html = await aliceOnB.page("/sessions");
      if (!html.includes("instance-a")) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(html.includes("instance-a") && html.includes("reporting-agent"), "A's session with A's name");
  } finally {
    await client.end();
  }
});

test("what must agree is shared: a hash mask gives one value on both, and a session signed in on A is good on B", async () => {
  const masked = async (instance: RunningAirlock) => {
    const { client } = await agentOn(instance);
    try {
      return (await client.query("select email from contacts where id = 1")).rows[0].email as string;
    } finally {
      await client.end();
    }
  };
  const [onA, onB] = [await masked(a), await masked(b)];
  assert.notEqual(onA, "dana@example.com", "masked");
  assert.equal(onA, onB, "one masking key for both instances");
  const fromA = personOn(b, await signInOverHttp(a.url, "bob@example.com"));
  assert.match(await fromA.page("/grants"), /bob@example\.com/, "B reads the session A made (one session secret)");
});

test("a CancelRequest that a load balancer takes to B stops the statement running on A", async () => {
  const { client } = await agentOn(a);
  const portOfB = await proxyPort(b);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    // A read that runs for minutes without filling memory or disk (the policy lets agents read; pg_sleep would be a call).
    let settled = false;
    const running = client.query("select count(*) from counters a, counters b, counters c, counters d, counters e /* cancel-across */").catch((err: { code?: string }) => err);
    const sleeping = running.finally(() => (settled = true));
    while (!settled && (await admin.query("select count(*)::int as n from pg_stat_activity where query like '%cancel-across%' and state = 'active' and pid <> pg_backend_pid()")).rows[0].n === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (settled) assert.fail(`the statement ended before it was cancelled: ${JSON.stringify(await sleeping)}`);
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    const raw = await RawWireClient.connect(portOfB);
    raw.socket.write(writeCancelRequest(processID, secretKey));
    assert.equal(await raw.next(), undefined, "B closes without an answer, as PostgreSQL does");
    assert.equal(((await sleeping) as { code?: string }).code, "57014", "cancelled on A");
    assert.equal((await client.query("select 1 as n")).rows[0].n, 1, "A's session goes on");
  } finally {
    await admin.end();
    await client.end();
  }
});

test("both instances append to one audit chain, and it verifies", async () => {
  const verdict = await verifyChain(store);
  assert.equal(verdict.ok, true, JSON.stringify(verdict));
});

test("A killed with an agent waiting: B cancels its hold with the reason, and the agent carries on at B", async () => {
  // Its token first: A's development IdP issued it, and A is about to go (B has A's keys cached).
  const token = await agentToken(a);
  const { client } = await agentOn(a);
  // A delete: the update grant made above does not cover it.
  const sql = "delete from counters where id = 99";
  const gone = client.query(sql).catch((err: Error) => err);
  const request = await pendingRequest(approvals, sql);
  await a.stop("SIGKILL");
  assert.ok((await gone) instanceof Error, "A's agent lost its connection");
  let ended = await approvals.get(request.id);
  for (let i = 0; i < 100 && ended?.status === "pending"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ended = await approvals.get(request.id);
  }
  assert.equal(ended?.status, "cancelled");
  assert.match(ended?.outcomeReason ?? "", /stopped|gone/i);
  assert.match(await aliceOnB.page(`/requests/${request.id}`), /stopped while the agent was waiting/, "the request page says why it ended");
  // The agent reconnects to B, with the same token, and carries on.
  const again = await agentOnProxy(await proxyPort(b), token);
  try {
    assert.equal((await again.client.query("select n from counters where id = 1")).rowCount, 1);
  } finally {
    await again.client.end();
  }
  assert.ok(!(await aliceOnB.page("/")).includes(`href="/requests/${request.id}"`) || (await approvals.pendingCount()) === 0, "no ghost in B's queue");
});
