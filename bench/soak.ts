/**
 * `npm run soak` (issue 23): SOAK_AGENTS agents (default 50), each its own identity, run a mixed
 * workload through the standalone proxy for SOAK_SECONDS (default 600) — reads, masked reads,
 * writes held and approved or denied by a scripted approver, writes under grants it gives,
 * access requests through the agent API, connections dropped mid-statement — while the proxy's
 * RSS and open fds are read every few seconds. Prints a line every ~30 s, then latency per kind,
 * RSS and fds at warm-up end against the end, and the end checks. Like the benchmarks it prints
 * figures and fails on no budget (memory growth is reported, not judged); it exits non-zero when
 * an end check fails: the audit chain does not verify, the statements recorded are not the
 * statements sent, a request is left pending, or the proxy crashed or did not shut down cleanly.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { sharedAuditKey } from "../lib/audit/checkpoints";
import { verifyChain } from "../lib/audit/verify";
import { startTestIdp } from "../test/support/dev-idp";
import { startPostgres } from "../test/support/postgres";
import { makeTempDir } from "../test/support/temp-dir";
import { createCustomers } from "./support/customers";
import { startProxyChild } from "./support/proxy-child";
import { heading, mb, sleep } from "./support/report";
import { runBench } from "./support/run";
import { startSoakPeople } from "./support/soak-approver";
import { growthTable, latencyTable, progressLine, sampleProcess, type Sample } from "./support/soak-report";
import { ROWS, runAgent, Tally } from "./support/soak-workload";
import { loadAverage } from "./support/throughput";

const SECONDS = Number(process.env.SOAK_SECONDS || 600);
const AGENTS = Number(process.env.SOAK_AGENTS || 50);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SAMPLE_EVERY_MS = 5_000;
const PROGRESS_EVERY_S = 30;
/** Memory settles after the first minutes (caches, JIT, the heap's size): growth is measured from here. */
const WARM_UP_SECONDS = Math.round(Math.max(30, Math.min(120, SECONDS / 4)));
/** After the load: how long the agents get to finish what they sent, and the approver to empty the queue. */
const WIND_DOWN_MS = 60_000;
/** Seconds of samples whose median stands for the warm-up's end and for the end. */
const WINDOW_S = 30;

async function main(cleanups: Array<() => unknown>): Promise<void> {
  if (!Number.isFinite(SECONDS) || SECONDS < 10) throw new Error(`SOAK_SECONDS must be a number of seconds ≥ 10, got "${process.env.SOAK_SECONDS}"`);
  if (!Number.isInteger(AGENTS) || AGENTS < 1) throw new Error(`SOAK_AGENTS must be a whole number ≥ 1, got "${process.env.SOAK_AGENTS}"`);
  console.log(`Airlock soak — ${AGENTS} agents for ${SECONDS} s (SOAK_AGENTS, SOAK_SECONDS), warm-up ${WARM_UP_SECONDS} s; node ${process.version}, ${os.cpus().length} cores; load average ${loadAverage()}`);

  const postgres = await startPostgres({ maxConnections: 2 * AGENTS + 100 });
  cleanups.push(() => postgres.stop());
  const url = await createSoakDatabase(postgres.url);
  const idp = await startTestIdp();
  cleanups.push(() => idp.close());
  const dataDir = makeTempDir("soak");
  cleanups.push(() => dataDir.remove());
  const policy = soakPolicy(url);
  const proxy = await startProxyChild({ repoRoot: REPO_ROOT, dataDir: dataDir.path, policy, agentIssuer: idp.issuer, env: { AIRLOCK_DRAIN_SECONDS: "3" } });
  cleanups.push(() => proxy.stop());
  const people = await startSoakPeople({ dataDir: dataDir.path, policy, agentIssuer: idp.issuer, proxy: { host: "127.0.0.1", port: proxy.port } });
  cleanups.push(() => people.close());
  console.log(`PostgreSQL on port ${postgres.port}; proxy pid ${proxy.pid} on port ${proxy.port} (store ${dataDir.path}); RSS at start ${mb(sampleProcess(proxy.pid, 0)!.rssMb)}`);

  // Each agent an identity of its own (a token the development IdP's key signs), so grants and caps are per agent.
  const tally = new Tally();
  let stopping = false;
  const agents = await Promise.all(
    Array.from({ length: AGENTS }, async (_, i) => {
      const id = `soak-agent-${String(i + 1).padStart(2, "0")}`;
      const { token } = await idp.shortLivedToken(id, SECONDS + 900);
      return { id, connection: { host: "127.0.0.1", port: proxy.port, user: id, password: token, database: "soak" }, api: await people.apiFor(token), tally, stopping: () => stopping };
    }),
  );

  heading(`running: every ${PROGRESS_EVERY_S} s the statements sent by kind (r read, m masked, ha/hd held approved/denied, ga grant asked, gw granted write, ar access request, dc disconnect), the proxy's RSS and fds`);
  const began = performance.now();
  const elapsed = () => (performance.now() - began) / 1000;
  const samples: Sample[] = [];
  let crashed = false;
  let lastProgress = 0;
  const sampler = setInterval(() => {
    const sample = sampleProcess(proxy.pid, Math.round(elapsed()));
    if (!sample) {
      crashed = true;
      stopping = true;
      return;
    }
    samples.push(sample);
    if (sample.atSeconds - lastProgress >= PROGRESS_EVERY_S - 1) {
      lastProgress = sample.atSeconds;
      console.log(progressLine(elapsed(), tally, sample));
    }
  }, SAMPLE_EVERY_MS);
  cleanups.push(() => clearInterval(sampler));

  // Started a few at a time over the first seconds, as agents arrive, not as one burst of logins.
  const running = agents.map(async (agent, i) => {
    await sleep((i * 2000) / AGENTS);
    return runAgent(agent, i + 1).catch((err: unknown) => {
      tally.note(`${agent.id} stopped: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  while (!stopping && elapsed() < SECONDS) await sleep(250);
  stopping = true;
  const endSample = sampleProcess(proxy.pid, Math.round(elapsed()));
  clearInterval(sampler);

  // Wind down: what was sent finishes, the approver empties the queue; then the proxy stops (SIGTERM) and writes what it holds.
  const finished = await Promise.race([Promise.all(running).then(() => true), sleep(WIND_DOWN_MS).then(() => false)]);
  const pendingBefore = await waitForEmptyQueue(people.approvals);
  people.stopDeciding();
  await proxy.stop();
  const exit = proxy.exit();

  heading(`latency per kind, ${((performance.now() - began) / 1000).toFixed(0)} s in all; load average ${loadAverage()}`);
  console.log(latencyTable(tally));
  console.log("held kinds include the scripted approver's reading of the queue (every 50 ms) and the decision crossing to the proxy over the store (read every 25 ms);");
  console.log("access request: ask → approved (the agent API's service in this process); disconnect mid-stmt: the login of the connection it then drops.");
  const decided = people.decided();
  console.log(`the approver's decisions: ${decided.approved} approved once, ${decided.granted} approved for a duration (grants), ${decided.denied} denied, ${decided.refusals} refused (already ended)`);

  heading("the proxy's memory and file descriptors");
  // Medians of 30 s of samples at each end, so one garbage collection does not decide the growth.
  if (endSample) samples.push(endSample);
  const warm = windowMedian(samples.filter((s) => s.atSeconds >= WARM_UP_SECONDS && s.atSeconds < WARM_UP_SECONDS + WINDOW_S));
  const end = windowMedian(samples.filter((s) => s.atSeconds > (endSample?.atSeconds ?? 0) - WINDOW_S));
  if (warm && end) {
    const peak = { atSeconds: 0, rssMb: Math.max(...samples.map((s) => s.rssMb)), fds: Math.max(...samples.map((s) => s.fds)) };
    console.log(growthTable(warm, end, peak));
    console.log(`each a median of the samples (every ${SAMPLE_EVERY_MS / 1000} s) in ${WINDOW_S} s: from the warm-up's end, and up to the load's end`);
  } else {
    console.log("no samples (the proxy was gone)");
  }

  heading("end checks");
  const failures = await endChecks({ tally, people, dataDir: dataDir.path, crashed, finished, pendingBefore, exit });
  if (tally.unexpected.length > 0) console.log(`\nunexpected answers (first ${tally.unexpected.length}):\n  ${tally.unexpected.join("\n  ")}`);
  if (failures.length > 0) throw new Error(`end checks failed: ${failures.join("; ")}`);
  console.log("\nall end checks hold");
}

/** The soak's tables: orders to read, customers to read masked, and a table for each kind of write. */
async function createSoakDatabase(serverUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query("create database soak");
  await admin.end();
  const url = serverUrl.replace(/\/postgres$/, "/soak");
  await createCustomers(url, ROWS);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create table orders (id int primary key, status text, total numeric);
      insert into orders select g, (array['paid','shipped','refunded'])[1 + g % 3], g * 1.5 from generate_series(1, ${ROWS}) g`);
    for (const table of ["held_writes", "granted_writes", "access_target"]) {
      await client.query(`create table ${table} (id int primary key, n int not null); insert into ${table} select g, 0 from generate_series(1, ${ROWS}) g`);
    }
  } finally {
    await client.end();
  }
  return url;
}

function soakPolicy(url: string): string {
  return `resources:
  soak: { type: postgres, url: ${JSON.stringify(url)} }
rules:
  - name: soak-sleep
    match: { groups: [agents], kinds: [select, call], functions: [pg_sleep] }
    action: allow
  - name: soak-masked-reads
    match: { groups: [agents], kinds: [select], tables: [customers] }
    action: allow
    mask: { columns: ["customers.email", "*.card_number", "*.ssn"], detect: [email, card, ssn, phone] }
  - name: soak-reads
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: soak-writes
    match: { groups: [agents], kinds: [update], tables: [held_writes, granted_writes] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 1m] }
  - name: soak-access
    match: { groups: [agents], kinds: [update], tables: [access_target] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 1m] }
    access: { max: 1h }
`;
}

/** The median RSS and fds of some samples, at the first one's time. */
function windowMedian(window: Sample[]): Sample | undefined {
  if (window.length === 0) return undefined;
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { atSeconds: window[0].atSeconds, rssMb: middle(window.map((s) => s.rssMb)), fds: middle(window.map((s) => s.fds)) };
}

async function waitForEmptyQueue(approvals: { pendingCount(): Promise<number> }): Promise<number> {
  const until = Date.now() + 10_000;
  let pending = await approvals.pendingCount();
  while (pending > 0 && Date.now() < until) {
    await sleep(200);
    pending = await approvals.pendingCount();
  }
  return pending;
}

async function endChecks(run: {
  tally: Tally;
  people: Awaited<ReturnType<typeof startSoakPeople>>;
  dataDir: string;
  crashed: boolean;
  finished: boolean;
  pendingBefore: number;
  exit: ReturnType<Awaited<ReturnType<typeof startProxyChild>>["exit"]>;
}): Promise<string[]> {
  const { tally, people } = run;
  const failures: string[] = [];
  const check = (ok: boolean, text: string, failure: string) => {
    console.log(`${ok ? "ok  " : "FAIL"}  ${text}`);
    if (!ok) failures.push(failure);
  };
  /** Figures worth a look that are not among the soak's end checks: told, never failed on. */
  const note = (ok: boolean, text: string) => console.log(`${ok ? "ok  " : "WARN"}  ${text}`);
  const { store } = people;
  check(!run.crashed && run.exit?.code === 0, `proxy ran throughout and exited 0 on SIGTERM (exit ${JSON.stringify(run.exit)})`, run.crashed ? "the proxy crashed" : "the proxy did not exit 0 on SIGTERM");
  note(run.finished, `every agent finished what it had sent within ${WIND_DOWN_MS / 1000} s of the end`);

  const verdict = await verifyChain(store, (await sharedAuditKey(store, run.dataDir)).publicKeyPem);
  check(verdict.ok, verdict.ok ? `audit chain verifies: ${verdict.rows} rows, ${verdict.checkpoints} checkpoints` : `audit chain broken at row ${verdict.rowId}: ${verdict.problem}`, "audit chain broken");

  const outcomes = await store.sql.all<{ outcome: string; n: number }>("select outcome, count(*) as n from statements group by outcome");
  const recorded = outcomes.reduce((sum, o) => sum + Number(o.n), 0);
  const byOutcome = outcomes.map((o) => `${o.outcome} ${o.n}`).join(", ");
  check(
    recorded === tally.sent,
    `statements recorded ${recorded} (${byOutcome}) vs sent ${tally.sent} (answered ${tally.ok}, refused 42501 ${tally.refused}, other errors ${tally.failed}, dropped mid-statement ${tally.dropped})`,
    `recorded ${recorded} ≠ sent ${tally.sent}`,
  );

  const [sessions] = await store.sql.all<{ n: number; open: number }>("select count(*) as n, coalesce(sum(case when ended_at is null then 1 else 0 end), 0) as open from agent_sessions");
  note(Number(sessions.n) === tally.logins && Number(sessions.open) === 0, `sessions recorded ${sessions.n} vs logins ${tally.logins}; left open ${sessions.open}`);

  const pending = await people.approvals.pendingCount();
  check(pending === 0, `requests left pending: ${pending} (before the proxy stopped: ${run.pendingBefore})`, `${pending} requests left pending`);
  note(tally.lostConnections === 0, `connections lost unexpectedly: ${tally.lostConnections}`);
  return failures;
}

runBench(main);
