/**
 * Issue 23, faults of the target: the PostgreSQL behind a `type: postgres` resource restarts while
 * agents are connected, or accepts TCP and never answers. Agents get a clear error in bounded time
 * (never a hang), a statement held for approval ends with the reason, and new connections work
 * once the target is back, with no restart of Airlock. The real proxy in-process, a real server.
 */
import net from "node:net";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { adminQuery, startPostgres, type TestPostgres } from "../support/postgres";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const RULES = `rules:
  - { name: reads, match: { kinds: [select] }, action: allow }
  - name: writes
    match: { kinds: [update] }
    action: review
    review: { approvers: [db-approvers], grants: [once], timeout: 2m }`;
const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
/** The upstream login deadline for this file (AIRLOCK_UPSTREAM_CONNECT_TIMEOUT); the default is 10 s. */
const UPSTREAM_TIMEOUT_S = 2;
/** However the target fails, the agent hears of it within this: no hang. */
const BOUND_MS = 5_000;

let target: TestPostgres;
let blackHole: net.Server;
const swallowed = new Set<net.Socket>();
let harness: ProxyHarness;

before(async () => {
  target = await startPostgres();
  await adminQuery(target, "create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 10) g");
  // Accepts TCP and never answers a byte: a black-holed or hung upstream, without root network tools.
  blackHole = net.createServer((socket) => {
    swallowed.add(socket);
    socket.on("data", () => undefined);
    socket.on("close", () => swallowed.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  const { port } = blackHole.address() as net.AddressInfo;
  harness = await startProxyHarness(
    { pg: target.url, silent: `postgres://postgres:pw@127.0.0.1:${port}/postgres` },
    { rules: RULES, env: { AIRLOCK_UPSTREAM_CONNECT_TIMEOUT: String(UPSTREAM_TIMEOUT_S) } },
  );
});
after(async () => {
  await harness?.close();
  for (const socket of swallowed) socket.destroy();
  blackHole?.close();
  await target?.stop();
});

async function agent(resource = "pg") {
  const client = new pg.Client({ connectionString: await harness.url(resource) });
  const errors: Error[] = [];
  client.on("error", (err) => errors.push(err));
  await client.connect();
  return { client, errors };
}

/** Resolves with how long `promise` took to fail, and its error; fails the test if it takes more than BOUND_MS. */
async function failsWithin<T>(promise: Promise<T>, label: string): Promise<{ err: Error & { code?: string }; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: still waiting after ${BOUND_MS} ms`)), BOUND_MS)));
  try {
    await Promise.race([promise.then(() => assert.fail(`${label}: succeeded`)), bound]);
    throw new Error("unreachable");
  } catch (err) {
    if ((err as Error).message.startsWith(`${label}:`)) throw err;
    return { err: err as Error & { code?: string }, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

test("the target restarts: the idle agent and the held statement end with a reason, and new agents work once it is back", async () => {
  const idle = await agent();
  const waiting = await agent();
  assert.equal((await idle.client.query("select n from counters where id = 1")).rowCount, 1);

  const sql = "update counters set n = n + 1 where id = 2";
  const held = waiting.client.query(sql);
  held.catch(() => undefined);
  const request = await pendingRequest(harness.approvals, sql);

  const down = Date.now();
  await target.shutDown();
  const heldEnd = await failsWithin(held, "the held statement");
  const idleEnd = await failsWithin(idle.client.query("select 1"), "the idle agent's next statement");
  console.log(`target down: held statement failed after ${heldEnd.ms} ms (${heldEnd.err.message}); idle agent's next statement after ${Date.now() - down} ms (${idleEnd.err.message})`);
  // PostgreSQL's own FATAL reaches the agent (57P01, "terminating connection due to administrator command"); 08006 is Airlock's when the socket just drops.
  // An idle client may hear it before its next query is sent: pg then reports it as the connection's error, and the query fails as "not queryable".
  const idleError = idleEnd.err.code === undefined && /not queryable/.test(idleEnd.err.message) ? (idle.errors[0] as Error & { code?: string }) : idleEnd.err;
  for (const err of [heldEnd.err, idleError]) assert.ok(["57P01", "08006"].includes(err?.code ?? ""), `${err?.code}: ${err?.message}`);

  // The hold ended with the reason, on the request itself (its page shows outcomeReason).
  let ended = await harness.approvals.get(request.id);
  for (let i = 0; i < 50 && ended?.status === "pending"; i++) {
    await new Promise((r) => setTimeout(r, 20));
    ended = await harness.approvals.get(request.id);
  }
  assert.equal(ended?.status, "cancelled");
  assert.match(ended?.outcomeReason ?? "", /session ended: .*connection to the database was lost/);

  // While the target is down a new agent is refused at once with 08006, not left waiting.
  const refused = await failsWithin(agent(), "a connection while the target is down");
  assert.equal(refused.err.code, "08006");
  assert.match(refused.err.message, /resource "pg" is unreachable/);

  await target.start();
  // Approving the cancelled request after the target is back runs nothing: it is no longer pending.
  const late = await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  assert.equal(late.ok, false);
  const fresh = await agent();
  try {
    assert.equal((await fresh.client.query("select n from counters where id = 2")).rows[0].n, 0, "the held update never ran");
  } finally {
    await fresh.client.end();
  }
  await idle.client.end().catch(() => undefined);
  await waiting.client.end().catch(() => undefined);
});

test("a target that accepts TCP and never answers: the agent is refused with 08006 once the upstream deadline passes", async () => {
  const { err, ms } = await failsWithin(agent("silent"), "a connection to the black hole");
  console.log(`black-holed target: refused after ${ms} ms (${err.message})`);
  assert.equal(err.code, "08006");
  assert.match(err.message, /resource "silent" is unreachable/);
  assert.ok(ms >= UPSTREAM_TIMEOUT_S * 1000 - 100, `not before the deadline (${ms} ms)`);
  // The proxy let go of the black hole's sockets too (the login's and the catalog's).
  for (let i = 0; i < 50 && swallowed.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(swallowed.size, 0, "no socket to the black hole left open");
});
