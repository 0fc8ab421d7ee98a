/**
 * The proxy's cost, in figures: pgbench straight to PostgreSQL and through the proxy, the proxy's
 * memory with many idle agents, and its memory while a 1 GB result streams to a slow reader.
 * `npm run bench:proxy`; BENCH_SECONDS sets the length of each pgbench run (default 15).
 * Prints figures and budgets; it fails only when something breaks, never on a budget.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startTestIdp } from "../test/support/dev-idp";
import { startPostgres } from "../test/support/postgres";
import { makeTempDir } from "../test/support/temp-dir";
import { measureIdleConnections, measureStream, measureThroughput, type Setup } from "./support/phases";
import { nodeBaselines, readMemory } from "./support/memory";
import { pgbenchPath, runPgbench } from "./support/pgbench";
import { startProxyChild, type ProxyChild } from "./support/proxy-child";
import { heading, mb } from "./support/report";
import { runBench } from "./support/run";

const SECONDS = Number(process.env.BENCH_SECONDS || 15);
const SCALE = 10;
const IDLE_CONNECTIONS = 1000;
const AGENT = "reporting-agent";
const RESOURCE = "bench";
/** Extra node flags for the proxy child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? "").split(" ").filter(Boolean);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

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
    const proxy = await startProxyChild({ repoRoot: REPO_ROOT, dataDir: dataDir.path, policy: benchPolicy(benchUrl), agentIssuer: idp.issuer, nodeArgs });
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

  heading(`1. pgbench -S (select only), ${SECONDS} s per run, scale ${SCALE}`);
  const loaded = await startProxy();
  await measureThroughput(setupFor(loaded));
  await loaded.stop();

  // A fresh proxy for memory: after the pgbench runs the heap keeps pages it no longer uses,
  // which would hide the cost of each connection.
  heading(`2. Memory with ${IDLE_CONNECTIONS} idle authenticated agent connections (fresh proxy)`);
  const fresh = setupFor(await startProxy());
  await measureIdleConnections(fresh);
  heading("3. 1 GB result streamed through the proxy to a slow reader");
  await measureStream(fresh);

  console.log(`\nTotal time ${((performance.now() - began) / 1000).toFixed(0)} s`);
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
