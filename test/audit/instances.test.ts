/**
 * Issue 16, the audit trail with real processes: three `npm run proxy` instances on one PostgreSQL
 * store, each with agents running allowed statements through it at once, append to one chain.
 * `airlock audit verify` (the real CLI) passes, the ids are gapless, and every statement an agent
 * saw complete is in the trail under its session. One instance killed (SIGKILL) mid-stream loses
 * at most what it had not flushed yet; the others lose nothing.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { FLUSH_INTERVAL_MS } from "../../lib/activity/recorder";
import { startTestIdp, type TestIdp } from "../support/dev-idp";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startStandaloneProxy } from "../support/standalone-proxy";
import { createStoreDatabase } from "../support/store";
import { makeTempDir } from "../support/temp-dir";

const INSTANCES = 3;
const CONNECTIONS = 4; // agent connections on each instance
const STATEMENTS = 30_000; // across all of them
/**
 * Each agent's pace while one instance is killed: busy, but short of saturating the machine, so
 * that its recorder keeps to its interval (saturated, as in the first test, a batch waits on the
 * CPU and on the other instances' turns at the chain lock, and the unflushed tail grows with it).
 */
const KILL_PACE_PER_SECOND = 100;
const AGENT_IDS = ["reporting-agent", "ops-agent"];
/**
 * What a killed instance may lose, in its own traffic's time: the records gathered since its last
 * committed batch (one flush interval's worth) and the batch it was writing, whose transaction dies
 * with it. Unloaded that is two intervals or so; the rest is slack for a shared two-core machine,
 * where a batch can wait on the CPU and its turn at the chain lock (and where the recorder is seen
 * running further behind than this, twice that is allowed instead). A batch lost after it was
 * written shows as a hole, or as a tail reaching back further than this.
 */
const UNFLUSHED_WINDOW_MS = 250;

let server: TestPostgres;
let idp: TestIdp;
let policy: string;
const tokens = new Map<string, string>();
const dir = makeTempDir("audit-instances");

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table items (id int primary key, n int); insert into items select g, g from generate_series(1, 100) g");
  await admin.end();
  policy = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(policy, ["resources:", `  pg: { type: postgres, url: "${server.url}" }`, "rules:", "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }", ""].join("\n"));
  // One issuer for every instance, as agents of a real deployment have one.
  idp = await startTestIdp();
  for (const id of AGENT_IDS) tokens.set(id, await idp.token(id));
});
after(async () => {
  await idp?.close();
  await server?.stop();
  dir.remove();
});

/** Three standalone proxies on a store of their own (a new database), and a reader of that store. */
async function startCluster(name: string) {
  const url = await createStoreDatabase(server);
  const env = (i: number) => ({
    AIRLOCK_POLICY: policy,
    AIRLOCK_STORE_URL: url,
    AIRLOCK_INSTANCE_NAME: `${name}-${i}`,
    AGENT_OIDC_ISSUER: idp.issuer,
    AGENT_CLIENT_IDS: AGENT_IDS.join(","),
  });
  const proxies = await Promise.all(Array.from({ length: INSTANCES }, (_, i) => startStandaloneProxy(path.join(dir.path, `${name}-${i}`), env(i))));
  const reader = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    proxies,
    reader,
    async stop() {
      await Promise.all(proxies.map((p) => p.stop()));
      await reader.end();
    },
  };
}
type Cluster = Awaited<ReturnType<typeof startCluster>>;

interface Agent {
  /** Its application_name, which the trail's session.started row keeps: how its session is found. */
  app: string;
  agentId: string;
  client: pg.Client;
  /** When each statement's result arrived (performance.now()), in order: statement `seq` is the seq-th. */
  completed: number[];
}

async function connectAgents(cluster: Cluster, instance: number): Promise<Agent[]> {
  return Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, k) => {
      const agentId = AGENT_IDS[k % AGENT_IDS.length];
      const app = `i${instance}-c${k}`;
      const client = new pg.Client({ host: "127.0.0.1", port: cluster.proxies[instance].port, user: agentId, password: tokens.get(agentId), database: "pg", application_name: app });
      client.on("error", () => undefined);
      await client.connect();
      return { app, agentId, client, completed: [] };
    }),
  );
}

/** Runs `count` statements one after another, numbered, at most `perSecond`, until told to stop or the connection fails. */
async function drive(agent: Agent, count: number, { going = (): boolean => true, perSecond = Infinity } = {}): Promise<void> {
  let due = performance.now();
  for (let seq = 0; seq < count && going(); seq++) {
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    // From now, not from the start: a slow stretch is not made up for in a burst.
    due = Math.max(due, performance.now()) + 1000 / perSecond;
    try {
      await agent.client.query(`select ${seq} as seq, n from items where id = ${(seq % 100) + 1}`);
    } catch {
      return; // its instance is gone
    }
    agent.completed.push(performance.now());
  }
}

interface Recorded {
  app: string;
  agentId: string;
  /** Statement rows of the session, by the same agent. */
  n: number;
  /** Distinct statement numbers among them, and the highest: n = distinct = highest + 1 means 0…n-1, no hole. */
  distinct: number;
  highest: number;
}

/** Each session's statements in the audit trail, found by the application name its start recorded. */
async function recordedSessions(cluster: Cluster): Promise<Map<string, Recorded>> {
  const { rows } = await cluster.reader.query<Recorded>(`
    select s.data::json->>'applicationName' as app, s.agent_id as "agentId", count(t.id)::int as n,
      count(distinct substring(t.sql from '^select (\\d+) as seq'))::int as distinct,
      coalesce(max(substring(t.sql from '^select (\\d+) as seq')::int), -1) as highest
    from audit_log s left join audit_log t on t.session_id = s.session_id and t.agent_id = s.agent_id and t.type = 'statement'
    where s.type = 'session.started' group by s.session_id, s.data, s.agent_id`);
  return new Map(rows.map((r) => [r.app, r]));
}

/** Statements recorded so far per session of `instance` (light enough to ask every few tens of ms). */
async function recordedCounts(cluster: Cluster, instance: number): Promise<Map<string, number>> {
  const { rows } = await cluster.reader.query<{ app: string; n: number }>(
    `select s.data::json->>'applicationName' as app, count(t.id)::int as n
    from audit_log s join audit_log t on t.session_id = s.session_id and t.type = 'statement'
    where s.type = 'session.started' and s.data like $1 group by 1`,
    [`%"applicationName":"i${instance}-%`],
  );
  return new Map(rows.map((r) => [r.app, r.n]));
}

/** How long ago the oldest of `agents`' completed statements that the trail lacks completed; 0 if none. */
function unrecordedFor(agents: Agent[], recorded: Map<string, number>, now: number): number {
  return Math.max(0, ...agents.map((a) => (a.completed.length > (recorded.get(a.app) ?? 0) ? now - a.completed[recorded.get(a.app) ?? 0] : 0)));
}

async function statementRows(cluster: Cluster): Promise<number> {
  return (await cluster.reader.query<{ n: number }>("select count(*)::int as n from audit_log where type = 'statement'")).rows[0].n;
}

/** Waits until `done` (the instances flush every 20 ms), 30 s at most; returns when it was. */
async function until(done: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await done()) && performance.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
  return performance.now();
}

/** `airlock audit verify` as operators run it, on the shared store; and the chain's ids, which must be 1…n. */
async function verifyTrail(cluster: Cluster): Promise<void> {
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ["bin/airlock.mjs", "audit", "verify"], { env: { ...process.env, AIRLOCK_STORE_URL: cluster.url, AIRLOCK_DATA_DIR: path.join(dir.path, "cli") } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("close", (c) => resolve({ code: c, out }));
  });
  assert.equal(code, 0, out);
  const { rows } = await cluster.reader.query<{ n: number; low: number; high: number; statements: number }>(
    "select count(*)::int as n, min(id)::int as low, max(id)::int as high, (select count(*)::int from statements) as statements from audit_log",
  );
  const { n, low, high, statements } = rows[0];
  assert.deepEqual([low, high], [1, n], "ids 1…n, none missing, none twice");
  assert.match(out, new RegExp(`audit chain intact: ${n} rows, head ${n} `), out);
  assert.equal(statements, await statementRows(cluster), "each statement in both records (statements, audit_log) or in neither");
  console.log(`# ${out.trim()}`);
}

/** Every statement the agent saw complete is in the trail, numbered 0…n-1 under its own session. */
function assertAllRecorded(agent: Agent, recorded: Recorded | undefined): void {
  assert.ok(recorded, `${agent.app}: its session is in the trail`);
  assert.equal(recorded.agentId, agent.agentId);
  assert.equal(recorded.n, agent.completed.length, `${agent.app}: every completed statement recorded`);
  assert.deepEqual([recorded.distinct, recorded.highest], [recorded.n, recorded.n - 1], `${agent.app}: once each, none missing`);
}

test(`${INSTANCES} instances × ${CONNECTIONS} agents, ${STATEMENTS} statements at once: one chain that verifies, every statement in it`, async () => {
  const cluster = await startCluster("steady");
  try {
    const agents = (await Promise.all(cluster.proxies.map((_, i) => connectAgents(cluster, i)))).flat();
    const started = performance.now();
    await Promise.all(agents.map((a) => drive(a, STATEMENTS / agents.length)));
    const ran = performance.now();
    const recorded = await until(async () => (await statementRows(cluster)) >= STATEMENTS);
    assert.equal(await statementRows(cluster), STATEMENTS);
    console.log(
      `# ${STATEMENTS} statements through ${INSTANCES} instances × ${CONNECTIONS} agents: run in ${Math.round(ran - started)} ms (${Math.round((STATEMENTS * 1000) / (ran - started))}/s), ` +
        `all recorded ${Math.round(recorded - ran)} ms after the last completed: ${Math.round((STATEMENTS * 1000) / (recorded - started))} statements/s recorded across the ${INSTANCES}`,
    );

    const sessions = await recordedSessions(cluster);
    for (const agent of agents) assertAllRecorded(agent, sessions.get(agent.app));
    await verifyTrail(cluster);
    await Promise.all(agents.map((a) => a.client.end()));
  } finally {
    await cluster.stop();
  }
});

test("an instance killed (SIGKILL) mid-stream: the chain verifies, the others lose nothing, it loses at most what it had not flushed", async () => {
  const cluster = await startCluster("killed");
  try {
    const agents = await Promise.all(cluster.proxies.map((_, i) => connectAgents(cluster, i)));
    const [doomed, ...survivors] = agents;
    let going = true;
    const started = performance.now();
    const running = agents.flat().map((a) => drive(a, Number.MAX_SAFE_INTEGER, { going: () => going, perSecond: KILL_PACE_PER_SECOND }));
    const total = () => agents.flat().reduce((sum, a) => sum + a.completed.length, 0);
    // Warmed up, how far behind its agents the doomed instance's recorder runs: what a kill would cost.
    while (total() < STATEMENTS / 16) await new Promise((r) => setTimeout(r, 10));
    let backlogMs = 0;
    while (total() < STATEMENTS / 8) {
      backlogMs = Math.max(backlogMs, unrecordedFor(doomed, await recordedCounts(cluster, 0), performance.now()));
      await new Promise((r) => setTimeout(r, 20));
    }

    // The standalone proxy is `node` itself (no npm in between, no children): the process is the instance.
    // Timed as the signal goes, not once the exit is seen: what completed before then was its to record.
    const killedAt = performance.now();
    await cluster.proxies[0].stop("SIGKILL");
    const atKill = total();
    while (total() < atKill + STATEMENTS / 8) await new Promise((r) => setTimeout(r, 10)); // the others write on
    going = false;
    await Promise.all(running);
    const ran = performance.now();

    let sessions = new Map<string, Recorded>();
    const recordedAt = await until(async () => {
      sessions = await recordedSessions(cluster);
      return survivors.flat().every((a) => sessions.get(a.app)?.n === a.completed.length);
    });
    for (const agent of survivors.flat()) assertAllRecorded(agent, sessions.get(agent.app));

    for (const agent of doomed) {
      const recorded = sessions.get(agent.app);
      assert.ok(recorded, `${agent.app}: its session start was flushed long before the kill`);
      assert.deepEqual([recorded.distinct, recorded.highest], [recorded.n, recorded.n - 1], `${agent.app}: what it recorded has no hole (no batch lost between two written)`);
      // The instance may have recorded a statement whose result it had not yet passed on.
      assert.ok(recorded.n <= agent.completed.length + 1, `${agent.app}: ${recorded.n} recorded, ${agent.completed.length} completed`);
    }
    const recorded = new Map(doomed.map((a) => [a.app, sessions.get(a.app)!.n]));
    const completed = doomed.reduce((sum, a) => sum + a.completed.length, 0);
    const lost = doomed.reduce((sum, a) => sum + Math.max(0, a.completed.length - recorded.get(a.app)!), 0);
    const lostMs = unrecordedFor(doomed, recorded, killedAt);
    const survived = survivors.flat().reduce((sum, a) => sum + a.completed.length, 0);
    console.log(
      `# killed instance: ${completed} statements completed before the kill, ${completed - lost} recorded, ${lost} lost, those of its last ${Math.round(lostMs)} ms ` +
        `(flush interval ${FLUSH_INTERVAL_MS} ms; its recorder ran up to ${Math.round(backlogMs)} ms behind its agents before the kill)`,
    );
    console.log(`# the other two: ${survived} statements, all recorded; ${Math.round(((total() - lost) * 1000) / (recordedAt - started))} statements/s recorded across the three, paced (${Math.round(ran - started)} ms of load)`);
    // Only the unflushed tail: no older than the window, or than the recorder was seen to lag on this machine.
    const bound = Math.max(UNFLUSHED_WINDOW_MS, 2 * backlogMs);
    assert.ok(lostMs <= bound, `the ${lost} lost statements go back ${Math.round(lostMs)} ms before the kill, beyond ${Math.round(bound)} ms`);
    await verifyTrail(cluster);
    await Promise.all(agents.flat().map((a) => a.client.end().catch(() => undefined)));
  } finally {
    await cluster.stop();
  }
});
