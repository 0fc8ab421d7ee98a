import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { eq } from "drizzle-orm";
import type { Decider } from "../../lib/approvals/people";
import { writeQuery, writeStartupMessage } from "../../proxy/protocol/writer";
import { answersUntilReady, errorsOf } from "../policy/wire";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { ALLOW_EVERYTHING, startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table orders (id int primary key, status text)");
  await admin.end();
});
after(async () => server.stop());

/** A proxy in front of the test PostgreSQL with these settings, for the tests inside `body`. */
function withHarness(env: Record<string, string>, rules?: string): () => ProxyHarness {
  let harness: ProxyHarness | undefined;
  before(async () => (harness = await startProxyHarness({ pg: server.url }, { env, rules })));
  after(async () => {
    // Sessions end (and are recorded) before the store closes.
    await until("every session ended", () => harness?.live.size === 0);
    await harness?.close();
  });
  return () => harness!;
}

async function loggedIn(harness: ProxyHarness, agent = "reporting-agent"): Promise<RawWireClient> {
  // The token first: the startup clock runs from the connection.
  const token = await harness.idp.token(agent);
  const raw = await RawWireClient.connect(harness.proxy.port);
  await raw.login(agent, "pg", token);
  return raw;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(await check(), what);
}

describe("the startup timeout (AIRLOCK_STARTUP_TIMEOUT)", () => {
  const harness = withHarness({ AIRLOCK_STARTUP_TIMEOUT: "1" });

  test("a connection that never sends its startup packet is closed, its slot given back", async () => {
    const started = Date.now();
    const raw = await RawWireClient.connect(harness().proxy.port);
    await until("counted while it is open", () => harness().proxy.slots.connections === 1);
    const error = await raw.errorThenClose();
    assert.equal(error?.get("C"), "57014");
    assert.match(error?.get("M") ?? "", /^airlock: canceling authentication due to timeout/);
    const took = Date.now() - started;
    assert.ok(took >= 950 && took < 4000, `closed after ${took} ms`);
    await until("slot released", () => harness().proxy.slots.connections === 0);
  });

  test("a connection that never sends its password is closed with a FATAL", async () => {
    const raw = await RawWireClient.connect(harness().proxy.port);
    raw.socket.write(writeStartupMessage({ user: "reporting-agent", database: "pg" }));
    await raw.expect("R");
    const error = await raw.errorThenClose();
    assert.equal(error?.get("S"), "FATAL");
    assert.equal(error?.get("C"), "57014");
    await until("slot released", () => harness().proxy.slots.connections === 0);
  });

  test("a session that logged in is not held to it", async () => {
    const raw = await loggedIn(harness());
    await new Promise((r) => setTimeout(r, 1500));
    raw.socket.write(writeQuery("select 1"));
    assert.deepEqual(errorsOf(await answersUntilReady(raw)), []);
    raw.close();
  });
});

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
/** Inserts wait for a person; everything else runs. */
const REVIEW_WRITES = ALLOW_EVERYTHING.replace(
  "rules:\n",
  "rules:\n  - name: writes\n    match: { kinds: [insert] }\n    action: review\n    review: { approvers: [db-approvers], timeout: 1m }\n",
);

describe("the idle-session timeout (AIRLOCK_IDLE_SESSION_TIMEOUT)", () => {
  const harness = withHarness({ AIRLOCK_IDLE_SESSION_TIMEOUT: "0.6" }, REVIEW_WRITES);

  test("a session that sends nothing gets FATAL 57P05, and its end is recorded", async () => {
    const raw = await loggedIn(harness());
    const sessionId = harness().live.list()[0]?.id;
    const started = Date.now();
    const error = await raw.errorThenClose();
    assert.equal(error?.get("S"), "FATAL");
    assert.equal(error?.get("C"), "57P05");
    assert.match(error?.get("M") ?? "", /^airlock: terminating connection due to idle-session timeout/);
    assert.ok(Date.now() - started >= 500);
    await until("the session ends", () => harness().live.size === 0);
    await harness().recorder.flush();
    const { agentSessions } = harness().store.tables;
    const [row] = await harness().store.db.select().from(agentSessions).where(eq(agentSessions.id, sessionId!));
    assert.match(row.endReason ?? "", /idle-session timeout/);
    await until("slot released", () => harness().proxy.slots.connections === 0);
  });

  test("statements sent more often than the timeout keep the session; the timeout runs from the last answer", async () => {
    const raw = await loggedIn(harness());
    // Five statements 0.3 s apart: 1.5 s in all, 2.5 timeouts, none of it idle for 0.6 s.
    for (let n = 0; n < 5; n++) {
      await new Promise((r) => setTimeout(r, 300));
      raw.socket.write(writeQuery("select 1"));
      assert.deepEqual(errorsOf(await answersUntilReady(raw)), [], `statement ${n + 1} ran`);
    }
    assert.equal(raw.closed, false);
    const lastAnswer = Date.now();
    assert.equal((await raw.errorThenClose())?.get("C"), "57P05");
    assert.ok(Date.now() - lastAnswer >= 500, "ended a timeout after the last answer, not earlier");
  });

  test("a statement still running is not idle; the session is once it has answered", async () => {
    const raw = await loggedIn(harness());
    raw.socket.write(writeQuery("select pg_sleep(1.5)"));
    assert.deepEqual(errorsOf(await answersUntilReady(raw)), [], "the statement ran to its end");
    assert.equal((await raw.errorThenClose())?.get("C"), "57P05");
  });

  test("idle inside a transaction: 25P03, as PostgreSQL's idle-in-transaction timeout", async () => {
    const raw = await loggedIn(harness());
    raw.socket.write(writeQuery("begin"));
    await answersUntilReady(raw);
    const error = await raw.errorThenClose();
    assert.equal(error?.get("C"), "25P03");
  });

  test("a statement held for approval is not idle", async () => {
    const raw = await loggedIn(harness());
    raw.socket.write(writeQuery("insert into orders values (1, 'held')"));
    await raw.expect("N"); // told at once that it is held
    await until("request made", async () => (await harness().approvals.list("pending")).length === 1);
    const [request] = await harness().approvals.list("pending");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(raw.closed, false, "still open while people decide");
    await harness().approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
    const answers = await answersUntilReady(raw);
    assert.deepEqual(errorsOf(answers), []);
    assert.ok(answers.some((a) => a.tag === "INSERT 0 1"));
    assert.equal((await raw.errorThenClose())?.get("C"), "57P05");
  });
});

describe("connection caps (AIRLOCK_MAX_CONNECTIONS, AIRLOCK_MAX_CONNECTIONS_PER_AGENT)", () => {
  const harness = withHarness({ AIRLOCK_MAX_CONNECTIONS: "3", AIRLOCK_MAX_CONNECTIONS_PER_AGENT: "2" });

  test("the agent's third session and the fourth in all are refused with 53300; a closed one makes room", async () => {
    const first = await loggedIn(harness());
    const second = await loggedIn(harness());
    const token = await harness().idp.token("reporting-agent");
    const third = await RawWireClient.connect(harness().proxy.port);
    const login = third.login("reporting-agent", "pg", token);
    await assert.rejects(login, /login refused: airlock: too many connections for agent "reporting-agent" \(AIRLOCK_MAX_CONNECTIONS_PER_AGENT is 2\)/);
    assert.equal(await third.next(), undefined, "closed");

    const ops = await loggedIn(harness(), "ops-agent");
    await until("three in all", () => harness().proxy.slots.connections === 3);
    const over = await RawWireClient.connect(harness().proxy.port);
    over.socket.write(writeStartupMessage({ user: "ops-agent", database: "pg" }));
    const error = await over.errorThenClose();
    assert.equal(error?.get("C"), "53300");
    assert.match(error?.get("M") ?? "", /^airlock: too many connections \(AIRLOCK_MAX_CONNECTIONS is 3\)/);

    first.close();
    await until("slot released", () => harness().proxy.slots.connections === 2 && harness().proxy.slots.agentConnections("reporting-agent") === 1);
    const again = await loggedIn(harness());
    for (const raw of [second, ops, again]) raw.close();
    await until("all released", () => harness().proxy.slots.connections === 0);
  });

  test("a refused login gives its slot back", async () => {
    const raw = await RawWireClient.connect(harness().proxy.port);
    await assert.rejects(raw.login("reporting-agent", "pg", "not-a-token"), /login refused/);
    await until("slot released", () => harness().proxy.slots.connections === 0 && harness().proxy.slots.agentConnections("reporting-agent") === 0);
  });
});
