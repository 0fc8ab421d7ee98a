/**
 * The proxy's cost, in figures: pgbench straight to PostgreSQL, through pgbouncer (session mode,
 * when installed) and through Airlock in the same run, with each proxy's CPU per statement; the
 * proxy's memory with many idle agents, and its memory while a 1 GB result streams to a slow reader.
 * `npm run bench:proxy`; BENCH_SECONDS sets the length of each pgbench run (default 15);
 * BENCH_PHASES (throughput,idle,stream), BENCH_MODES (simple,extended) and BENCH_CLIENTS (1,8)
 * narrow what runs. Prints figures and budgets; it fails only when something breaks, never on a budget.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startTestIdp } from "../test/support/dev-idp";
import { startPostgres } from "../test/support/postgres";
import { makeTempDir } from "../test/support/temp-dir";
import { measureIdleConnections, measureStream, SETTLE_MS, type Setup } from "./support/phases";
import { nodeBaselines, readMemory, resetPeak } from "./support/memory";
import { pgbenchPath, runPgbench } from "./support/pgbench";
import { findPgbouncer, PGBOUNCER_INSTALL_HINT, startPgbouncer } from "./support/pgbouncer";
import { startProxyChild, type ProxyChild } from "./support/proxy-child";
import { heading, mb, sleep } from "./support/report";
import { runBench } from "./support/run";
import { benchMatrix, loadAverage, measureIdleCpu, measureThroughput, type BenchPath } from "./support/throughput";
import { budgetTable, throughputTable } from "./support/throughput-report";

const SECONDS = Number(process.env.BENCH_SECONDS || 15);
const SCALE = 10;
const IDLE_CONNECTIONS = 1000;
const AGENT = "reporting-agent";
const RESOURCE = "bench";
/** Extra node flags for the proxy child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? "").split(" ").filter(Boolean);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PHASES = new Set((process.env.BENCH_PHASES || "throughput,idle,stream").split(",").map((p) => p.trim()));
const MATRIX = benchMatrix(process.env);
/** After the runs (the proxy warm, its caches full), how long its idle CPU is read. */
const IDLE_CPU_SECONDS = 3;

/** Things to undo, last started first stopped, on success, failure or Ctrl-C alike. */

async function main(cleanups: Array<() => unknown>): Promise<void> {
  if (!Number.isFinite(SECONDS) || SECONDS < 1) throw new Error(`BENCH_SECONDS must be a number of seconds ≥ 1, got "${process.env.BENCH_SECONDS}"`);
  const began = performance.now();
  console.log(`Airlock proxy benchmark — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);

  // PostgreSQL with room for the idle agents (each holds one upstream backend) and pgbench.
  const postgres = await startPostgres({ maxConnections: IDLE_CONNECTIONS + 100 });
  cleanups.push(() => postgres.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  const version = (await admin.query<{ server_version: string }>("show server_version")).rows[0].server_version;
  await admin.query(`create database ${RESOURCE}`);
  await admin.end();
  const benchUrl = postgres.url.replace(/\/postgres$/, `/${RESOURCE}`);
  const direct = { host: "127.0.0.1", port: postgres.port, user: postgres.user, password: postgres.password, database: RESOURCE };
  console.log(`PostgreSQL ${version} on port ${postgres.port} (max_connections ${IDLE_CONNECTIONS + 100}); pgbench at ${pgbenchPath()}`);

  const initStart = performance.now();
  await runPgbench(direct, ["-i", "-q", "-s", String(SCALE)]);
  console.log(`pgbench -i -s ${SCALE}: ${((performance.now() - initStart) / 1000).toFixed(1)} s`);

  // The development IdP in this process; the proxy in its own, so its memory is measurable.
  const idp = await startTestIdp();
  cleanups.push(() => idp.close());
  const dataDir = makeTempDir("bench-proxy");
  cleanups.push(() => dataDir.remove());
  const startProxy = async () => {
    const proxy = await startProxyChild({ repoRoot: REPO_ROOT, dataDir: dataDir.path, policy: benchPolicy(benchUrl), agentIssuer: idp.issuer, nodeArgs, env: connectionCaps() });
    cleanups.push(() => proxy.stop());
    console.log(`proxy pid ${proxy.pid} on port ${proxy.port}; RSS at start ${mb(readMemory(proxy.pid).rssMb)}`);
    return proxy;
  };
  const token = await idp.token(AGENT);
  const setupFor = (proxy: ProxyChild): Setup => ({
    seconds: SECONDS,
    direct,
    proxied: { host: "127.0.0.1", port: proxy.port, user: AGENT, password: token, database: RESOURCE },
    proxyPid: proxy.pid,
    postgresUrl: benchUrl,
    idleConnections: IDLE_CONNECTIONS,
  });
  const baseline = await nodeBaselines(REPO_ROOT);
  console.log(`for reference, RSS of an idle node: ${mb(baseline.plain)}; with --import tsx (as the proxy runs): ${mb(baseline.tsx)}`);

  if (PHASES.has("throughput")) {
    heading(`1. pgbench -S (select only), ${SECONDS} s per run, scale ${SCALE}: direct, pgbouncer (session mode), Airlock`);
    const loaded = await startProxy();
    await throughputPhase(setupFor(loaded), cleanups);
    // Stopped before the memory phases; with --cpu-prof, its profile is written now.
    await loaded.stop();
  }
  if (PHASES.has("idle") || PHASES.has("stream")) {
    // A fresh proxy for memory: after the pgbench runs the heap keeps pages it no longer uses,
    // which would hide the cost of each connection.
    const fresh = setupFor(await startProxy());
    if (PHASES.has("idle")) {
      heading(`2. Memory with ${IDLE_CONNECTIONS} idle authenticated agent connections (fresh proxy)`);
      await measureIdleConnections(fresh);
    }
    if (PHASES.has("stream")) {
      heading("3. 1 GB result streamed through the proxy to a slow reader");
      await measureStream(fresh);
    }
  }

  console.log(`\nTotal time ${((performance.now() - began) / 1000).toFixed(0)} s`);
}

/** Direct, pgbouncer (when installed) and Airlock, same database, same pgbench runs. */
async function throughputPhase(setup: Setup, cleanups: Array<() => unknown>): Promise<void> {
  const paths: BenchPath[] = [{ name: "direct", target: setup.direct }];
  let stopBouncer = async (): Promise<void> => undefined;
  const binary = findPgbouncer();
  if (binary) {
    const bouncer = await startPgbouncer(binary, setup.direct);
    cleanups.push(() => bouncer.stop());
    stopBouncer = () => bouncer.stop();
    console.log(`pgbouncer ${bouncer.version} (${binary}) pid ${bouncer.pid} on port ${bouncer.target.port}, session mode`);
    paths.push({ name: "pgbouncer", target: bouncer.target, pid: bouncer.pid });
  } else {
    console.log(`pgbouncer not found, so no reference figures: install it with \`${PGBOUNCER_INSTALL_HINT}\``);
  }
  paths.push({ name: "Airlock", target: setup.proxied, pid: setup.proxyPid });
  console.log(`load average (1, 5, 15 min) before: ${loadAverage()}`);
  resetPeak(setup.proxyPid);
  const runs = await measureThroughput(setup.seconds, paths, MATRIX);
  const idle = await measureIdleCpu(paths, IDLE_CPU_SECONDS);
  console.log(`idle CPU, in % of one core: ${[...idle].map(([name, rate]) => `${name} ${(rate * 100).toFixed(1)}%`).join(", ")}`);
  await stopBouncer();
  console.log(`load average after: ${loadAverage()}\n`);
  console.log(throughputTable(runs, idle));
  console.log("proxy CPU/stmt: the proxy process's CPU time (user + system, /proc/PID/stat) over the run ÷ statements pgbench ran;");
  console.log("net of idle: less its idle CPU over the same span (timers); proxy CPU: its CPU time in % of one core.");
  console.log("Steer by CPU/stmt: throughput and latency move with the machine's load.\n");
  console.log(budgetTable(runs, "Airlock", binary ? "pgbouncer" : undefined));
  await sleep(SETTLE_MS);
  const after = readMemory(setup.proxyPid);
  console.log(`\nAirlock RSS after the pgbench runs: ${mb(after.rssMb)} (peak during them ${mb(after.peakMb)})`);
}

/** The memory phase holds 1,000 connections of one agent: above the proxy's default caps. */
function connectionCaps(): Record<string, string> {
  const room = String(IDLE_CONNECTIONS + 100);
  return { AIRLOCK_MAX_CONNECTIONS: room, AIRLOCK_MAX_CONNECTIONS_PER_AGENT: room };
}

/** The one resource, and reads for the one agent (with the policy engine, no rule means deny). */
function benchPolicy(url: string): string {
  return [
    "resources:",
    `  ${RESOURCE}: { type: postgres, url: ${JSON.stringify(url)} }`,
    "rules:",
    `  - { name: bench-reads, match: { agents: [${AGENT}], kinds: [select] }, action: allow }`,
    "",
  ].join("\n");
}

runBench(main);
