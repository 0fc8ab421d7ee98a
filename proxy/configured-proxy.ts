import fs from "node:fs";
import { createSecureContext } from "node:tls";
import { LiveSessions } from "../lib/activity/live-sessions";
import { ActivityRecorder } from "../lib/activity/recorder";
import { AuditLog } from "../lib/audit/log";
import { GrantStore } from "../lib/approvals/grants";
import { ApprovalService } from "../lib/approvals/service";
import type { AirlockConfig } from "../lib/config";
import { tightenTree } from "../lib/data-dir";
import type { Db } from "../lib/db/client";
import { loadMaskKey } from "../lib/masking/mask-key";
import { Maskers } from "../lib/masking/maskers";
import type { EventBus } from "../lib/events/bus";
import { createAgentTokenVerifier, type AgentTokenVerifier } from "../lib/identity/agent-token";
import type { Policy } from "../lib/policy/policy-file";
import { loadClassifier } from "./catalog-loader";
import { ResourceClassifiers } from "./classifiers";
import { startProxyServer, type ProxyServer } from "./server";
import { Upstreams } from "./upstream/connect";

/**
 * Airlock's own connection for reading a resource's catalog: it gives up on a lock at once
 * (pg_get_viewdef locks the view it reads) rather than wait behind, or deadlock with, an agent's
 * DDL; the refresh is tried again a little later.
 */
const CATALOG_CONNECTION = new Map([
  ["application_name", "airlock catalog"],
  ["options", "-c lock_timeout=100ms -c statement_timeout=60s"],
]);

export interface ConfiguredProxy {
  server: ProxyServer;
  classifiers: ResourceClassifiers;
  approvals: ApprovalService;
  grants: GrantStore;
  liveSessions: LiveSessions;
  recorder: ActivityRecorder;
  /** The agent token check the proxy uses, for the agent HTTP API to use alike. */
  verify: AgentTokenVerifier;
  /** Stops accepting, ends sessions, writes what is pending, stops embedded databases. */
  close(): Promise<void>;
}

/** The proxy as Airlock's configuration describes it, wired to the store and the policy. */
export async function startConfiguredProxy(options: {
  config: AirlockConfig;
  db: Db;
  policy: () => Policy;
  agentIssuer: string;
  /** Clients whose tokens are agents' (lib/identity/agent-clients); undefined: any client of agentIssuer. */
  agentClientIds?: readonly string[];
  /** The dashboard's URL as people reach it, for links to requests. */
  publicUrl: string;
  bus?: EventBus;
}): Promise<ConfiguredProxy> {
  const { config } = options;
  const recorder = new ActivityRecorder(options.db, options.bus, new AuditLog(options.db));
  const liveSessions = new LiveSessions(options.bus);
  const grants = new GrantStore(options.db, options.bus);
  const approvals = new ApprovalService(options.db, grants, options.bus, { maxPendingPerAgent: config.maxPendingPerAgent, agentIssuer: options.agentIssuer });
  // No connection survived the last run: requests still pending then cannot be answered now.
  const orphans = approvals.cancelOrphans();
  if (orphans > 0) console.log(`[approvals] cancelled ${orphans} request(s) left pending by the previous run`);
  const upstreams = new Upstreams(config.dataDir, { idleInTransactionTimeoutMs: config.pgliteIdleInTransactionTimeoutMs });
  const classifiers = new ResourceClassifiers((resource) => upstreams.connect(resource, CATALOG_CONNECTION), loadClassifier);
  // Embedded databases start in the background so the first agent rarely waits.
  upstreams
    .warm(options.policy().resources.values())
    .then(() => tightenTree(config.dataDir))
    .catch((err: unknown) => console.error("[proxy]", err));
  const verify = createAgentTokenVerifier({ issuer: options.agentIssuer, audience: config.agentAudience, groupsClaim: config.groupsClaim, clientIds: options.agentClientIds });
  const server = await startProxyServer({
    host: config.host,
    port: config.proxyPort,
    tls: config.proxyTls && createSecureContext({ cert: fs.readFileSync(config.proxyTls.certFile), key: fs.readFileSync(config.proxyTls.keyFile) }),
    verify,
    policy: options.policy,
    classifiers,
    recorder,
    live: liveSessions,
    upstreams,
    approvals,
    grants,
    bus: options.bus,
    maskers: new Maskers(loadMaskKey(config.dataDir)),
    publicUrl: () => options.publicUrl,
    limits: config.proxyLimits,
  });
  return {
    server,
    classifiers,
    approvals,
    grants,
    liveSessions,
    recorder,
    verify,
    async close() {
      // Waiting agents are told why their requests end, before their connections do.
      approvals.cancelOrphans("Airlock shut down while the agent was waiting");
      await server.close();
      approvals.close();
      recorder.flush();
      await upstreams.close();
    },
  };
}
