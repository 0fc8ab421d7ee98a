/**
 * `npm run bench:approval`: over 50 held statements, the time from an approval reaching the
 * approvals service to the agent receiving its result, less the statement's own run time
 * (measured directly beforehand). Prints p50 and p99. Budget: p99 ≤ 50 ms. Then the same with
 * the approval made in a second process on the same store (bench/support/decider.ts), as the
 * dashboard approves what `npm run proxy` holds: timed from the decision's stored time. Budget:
 * p99 ≤ 100 ms. Then again with a PostgreSQL store shared by the two (AIRLOCK_STORE_URL: the
 * decision crosses by LISTEN/NOTIFY, as between instances on two machines). Budget: p99 ≤ 100 ms.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import type { Decider } from "../lib/approvals/people";
import { startPostgres } from "../test/support/postgres";
import { startProxyHarness } from "../test/support/proxy-harness";
import { createStoreDatabase } from "../test/support/store";

const STATEMENTS = 50;
const BUDGET_P99_MS = 50;
const CROSS_PROCESS_BUDGET_P99_MS = 100;
const RULES = `rules:
  - name: writes
    match: { kinds: [update] }
    action: review
    review: { approvers: [db-approvers] }`;
const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

async function main(): Promise<void> {
  const server = await startPostgres();
  const harness = await startProxyHarness({ pg: server.url }, { rules: RULES });
  const direct = new pg.Client({ connectionString: server.url });
  const agent = new pg.Client({ connectionString: await harness.url("pg") });
  try {
    await direct.connect();
    await direct.query("create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 100) g");
    await agent.connect();

    // The statement's own run time, directly, to subtract.
    const own: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) {
      const start = performance.now();
      await direct.query("update counters set n = n + 1 where id = $1", [i + 1]);
      own.push(performance.now() - start);
    }
    const ownMedian = percentile(own, 50);

    const latencies: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) {
      const result = agent.query("update counters set n = n + 1 where id = $1", [i + 1]);
      const request = await waitForPending(harness.approvals);
      const start = performance.now();
      const decided = await harness.approvals.decide({ requestId: request, person: alice, action: "approve", via: "web" });
      if (!decided.ok) throw new Error(decided.message);
      await result;
      latencies.push(performance.now() - start - ownMedian);
    }
    console.log(`Airlock approval latency — ${STATEMENTS} held UPDATEs on PostgreSQL, approve → agent has its result`);
    console.log(`statement's own run time (median, direct): ${ownMedian.toFixed(2)} ms (subtracted)`);
    report("one process", latencies, BUDGET_P99_MS);
    report("decided in a second process, SQLite store", await crossProcess(server.url, ownMedian), CROSS_PROCESS_BUDGET_P99_MS);
    report("decided on a second instance, PostgreSQL store", await crossProcess(server.url, ownMedian, await createStoreDatabase(server)), CROSS_PROCESS_BUDGET_P99_MS);
  } finally {
    await agent.end().catch(() => undefined);
    await direct.end().catch(() => undefined);
    await harness.close();
    await server.stop();
  }
}

/** The proxy with the store's bus, and every request approved by bench/support/decider.ts in a process of its own. */
async function crossProcess(pgUrl: string, ownMedian: number, store?: string): Promise<number[]> {
  const harness = await startProxyHarness({ pg: pgUrl }, { rules: RULES, shared: true, storeUrl: store });
  const decider = spawn(process.execPath, ["--import", "tsx", "bench/support/decider.ts", harness.dataDir, ...(store ? [store] : [])], { stdio: ["pipe", "pipe", "inherit"] });
  const agent = new pg.Client({ connectionString: await harness.url("pg") });
  try {
    await once(decider.stdout!, "data"); // "ready"
    await agent.connect();
    const latencies: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) {
      await agent.query("update counters set n = n + 1 where id = $1", [i + 1]);
      const doneAt = Date.now();
      const [request] = await harness.approvals.list("approved", 1);
      latencies.push(doneAt - request.decidedAt!.getTime() - ownMedian);
    }
    return latencies;
  } finally {
    await agent.end().catch(() => undefined);
    decider.stdin!.end();
    await once(decider, "exit");
    await harness.close();
  }
}

function report(label: string, latencies: number[], budget: number): void {
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`${label}: p50 ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   max ${Math.max(...latencies).toFixed(2)} ms   ${p99 <= budget ? "within" : "OVER"} budget (p99 ≤ ${budget} ms)`);
}

async function waitForPending(approvals: { list(status: "pending"): Promise<Array<{ id: string }>> }): Promise<string> {
  for (;;) {
    const [request] = await approvals.list("pending");
    if (request) return request.id;
    await new Promise((r) => setImmediate(r));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
