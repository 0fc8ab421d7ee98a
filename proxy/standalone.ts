/**
 * The proxy as a process of its own, beside a running Airlock (same data dir and policy) or
 * against a shared store: `npm run proxy`. Agent tokens are verified against AGENT_OIDC_ISSUER,
 * or the issuer of the Airlock whose data dir this is.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, loadDotEnv } from "../lib/config";
import { preparePrivateDataDir } from "../lib/data-dir";
import { openStore } from "../lib/db/client";
import { EventBus } from "../lib/events/bus";
import { currentInstance } from "../lib/events/instances";
import { eventTransport } from "../lib/events/transport";
import { agentClientIds } from "../lib/identity/agent-clients";
import { configureLogs, installConsole, readLogSettings } from "../lib/log";
import { AirlockMetrics } from "../lib/ops/metrics";
import { startTracing, stopTracing } from "../lib/ops/tracing";
import { PolicySource } from "../lib/policy/source";
import { loadSqlParser } from "../lib/sql/parser";
import { PolicyError } from "../lib/policy/policy-file";
import { readServerInfo } from "../lib/server-info";
import { startConfiguredProxy } from "./configured-proxy";
import { listenMetrics } from "./metrics-listener";

async function main(): Promise<void> {
  loadDotEnv();
  configureLogs(readLogSettings());
  installConsole();
  // Traces only with OTEL_EXPORTER_OTLP_ENDPOINT: otherwise OpenTelemetry is never loaded.
  if (await startTracing({ name: "airlock-proxy" })) console.log("[proxy] traces on: OTLP over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)");
  const config = loadConfig();
  const server = readServerInfo(config.dataDir);
  const issuer = config.agentIssuer ?? config.oidc.issuer ?? server?.issuer;
  if (!issuer) throw new ConfigError("set AGENT_OIDC_ISSUER, or start Airlock first so its issuer is known");
  // The same agent clients as the Airlock whose issuer this is (its development IdP's seeded agents).
  const clientIds = agentClientIds({
    agentIssuer: issuer,
    peopleIssuer: config.oidc.issuer ?? server?.issuer,
    configured: config.agentClientIds,
    fallback: issuer === server?.issuer ? server.agentClientIds : undefined,
  });
  // Private before the store and the embedded databases write there (as server.ts does).
  preparePrivateDataDir(config.dataDir);

  const store = await openStore({ dataDir: config.dataDir, url: config.storeUrl, migrationsFolder: path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "drizzle") });
  await loadSqlParser(); // row filters are parsed as the policy loads
  const policy = new PolicySource(config.policyPath).watch();
  const publicUrl = config.publicUrl ?? server?.publicUrl ?? `http://localhost:${config.port}`;
  // The dashboard's decisions, revocations and its view of this proxy's sessions cross over the store (lib/events/transport.ts).
  const instance = currentInstance();
  const metrics = new AirlockMetrics();
  const bus = new EventBus(eventTransport(store, instance, config.storeUrl, metrics.storeError));
  const proxy = await startConfiguredProxy({ config, store, policy: () => policy.current, agentIssuer: issuer, agentClientIds: clientIds, publicUrl, bus, instance, metrics });
  // Metrics only on a port of their own: this process has no dashboard to serve them beside.
  const { metricsPort, metricsToken } = config.operations;
  const metricsServer = metricsPort === undefined ? undefined : await listenMetrics(metrics, { host: config.host, port: metricsPort, token: metricsToken });
  if (metricsServer) console.log(`[proxy] metrics on ${metricsServer.url}`);
  console.log(`Airlock proxy listening on ${proxy.server.host}:${proxy.server.port} (agent issuer ${issuer}, instance ${instance.name})`);

  // As server.ts: refuse new agents, let running statements finish (AIRLOCK_DRAIN_SECONDS), end held ones, write what is pending.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[proxy] ${signal}: shutting down; running statements get up to ${config.operations.drainMs / 1000} s`);
    await proxy.close(config.operations.drainMs);
    metricsServer?.close();
    policy.close();
    bus.close();
    await store.close();
    // Last: the spans of the statements that finished while draining go too.
    await stopTracing();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof PolicyError ? `airlock proxy: ${err.message}` : err);
  process.exit(1);
});
