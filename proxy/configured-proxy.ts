import fs from "node:fs";
import { createSecureContext } from "node:tls";
import { LiveSessions } from "../lib/activity/live-sessions";
import { ActivityRecorder } from "../lib/activity/recorder";
import { ThreadWriter } from "../lib/activity/thread-writer";
import { GrantStore } from "../lib/approvals/grants";
import { ApprovalService } from "../lib/approvals/service";
import type { AirlockConfig } from "../lib/config";
import type { Store } from "../lib/db/client";
import { sharedMaskKey } from "../lib/masking/mask-key";
import { Maskers } from "../lib/masking/maskers";
import type { EventBus } from "../lib/events/bus";
import { InstanceRegistry, type Instance } from "../lib/events/instances";
import type { AgentTokenVerifier } from "../lib/identity/agent-token";
import { readAgentIssuersFile } from "../lib/identity/agent-issuers-file";
import { createTrustedIssuersVerifier } from "../lib/identity/trusted-issuers";
import { StatementRates } from "../lib/decision/statement-rates";
import { logger } from "../lib/log";
import type { AirlockMetrics } from "../lib/ops/metrics";
import type { Policy, Resource } from "../lib/policy/policy-file";
import { loadClassifier } from "./catalog-loader";
import { ResourceClassifiers } from "./classifiers";
import { PREVIEW_CONNECTION, RequestPreviews } from "./preview/request-previews";
import { RequestUndos } from "./undo/request-undos";
import { REVERT_CONNECTION, RevertRunner } from "./undo/revert-runner";
import { startProxyServer, type ProxyServer } from "./server";
import { Upstreams } from "./upstream/connect";

const log = logger("proxy");

/** Why a held statement of another instance that stopped (killed: it could not say so) was cancelled. */
export const INSTANCE_GONE = "the Airlock instance holding it stopped while the agent was waiting";
/** How often a process looks for holds of instances that stopped. */
const ORPHAN_SWEEP_MS = 2000;

/** Why a request still pending at shutdown was cancelled (its agent reads this too). */
export const SHUTTING_DOWN = "Airlock is shutting down";

/**
 * Airlock's own connection for reading a resource's catalog: it gives up on a lock at once
 * (pg_get_viewdef locks the view it reads) rather than wait behind, or deadlock with, an agent's
 * DDL; the refresh is tried again a little later.
 */
const CATALOG_CONNECTION = new Map([
  ["application_name", "airlock catalog"],
  ["options", "-c lock_timeout=100ms -c statement_timeout=60s"],
]);

/** Airlock's own login to see whether a resource answers (the status page), left at once. */
const STATUS_CONNECTION = new Map([["application_name", "airlock status"]]);

export interface ConfiguredProxy {
  server: ProxyServer;
  classifiers: ResourceClassifiers;
  /** Held requests' impact previews made by this instance. */
  previews: RequestPreviews;
  /** Approved writes' undo captures kept by this instance. */
  undos: RequestUndos;
  approvals: ApprovalService;
  grants: GrantStore;
  liveSessions: LiveSessions;
  /** With an instance and a bus: the processes on this store, and every one's sessions. */
  instances: InstanceRegistry | undefined;
  recorder: ActivityRecorder;
  /** The agent token check the proxy uses, for the agent HTTP API to use alike. */
  verify: AgentTokenVerifier;
  /**
   * Logs in to a PostgreSQL resource as Airlock and leaves at once; rejects with why it cannot.
   * Never for an embedded (PGlite) one: a check must not start the database its first session starts.
   */
  reach(resource: Resource): Promise<void>;
  /**
   * Shuts down: new connections are refused, held statements end (their requests cancelled),
   * running ones get up to `drainMs` to finish, then sessions end, what is pending is written and
   * embedded databases stop.
   */
  close(drainMs?: number): Promise<void>;
}

/** The proxy as Airlock's configuration describes it, wired to the store and the policy. */
export async function startConfiguredProxy(options: {
  config: AirlockConfig;
  store: Store;
  policy: () => Policy;
  agentIssuer: string;
  /** Clients whose tokens are agents' (lib/identity/agent-clients); undefined: any client of agentIssuer. */
  agentClientIds?: readonly string[];
  /** The dashboard's URL as people reach it, for links to requests. */
  publicUrl: string;
  bus?: EventBus;
  /** This process, when others may share the store (lib/events/instances.ts). */
  instance?: Instance;
  /** Told of statements, audit writes and decisions (`/metrics`). */
  metrics?: AirlockMetrics;
}): Promise<ConfiguredProxy> {
  const { config } = options;
  const { metrics } = options;
  const { store, instance, bus } = options;
  // Trust first: a mistake in the issuers file stops the start before the proxy starts anything.
  const verify = agentTokenVerifier(config, options.agentIssuer, options.agentClientIds);
  const recorder = new ActivityRecorder(await ThreadWriter.start(store.address), bus, config.audit.maxUnwritten);
  if (metrics) recorder.observe(metrics.recorder);
  const liveSessions = new LiveSessions(bus);
  metrics?.gauges({ store, agentConnections: () => liveSessions.size });
  const grants = new GrantStore(store, bus, metrics?.storeError);
  await grants.load();
  const approvals = new ApprovalService(store, grants, bus, { maxPendingPerAgent: config.maxPendingPerAgent, agentIssuer: options.agentIssuer, instanceId: instance?.id, observer: metrics?.approvals });
  const instances = instance && bus ? new InstanceRegistry(store, instance, liveSessions, bus) : undefined;
  // No connection survived the last run: held statements still pending then cannot be answered
  // now; those another running process holds (its agents are waiting) are left alone.
  const heldByNoOne = (live: Set<string> | undefined) => (r: { heldBy: string | null }) => !live || !r.heldBy || !live.has(r.heldBy);
  const orphans = await approvals.cancelOrphans(undefined, heldByNoOne(await instances?.liveIds()));
  // An instance killed while this one runs leaves its agents' holds behind (no queue should keep
  // them): whichever instance looks first cancels them, once (ApprovalService ends a request once).
  const sweep = instances && setInterval(() => {
    instances
      .liveIds()
      .then((live: Set<string>) => approvals.cancelOrphans(INSTANCE_GONE, heldByNoOne(live)))
      .catch((err: unknown) => {
        metrics?.storeError("orphan_sweep");
        log.error("looking for holds of stopped instances failed", { err });
      });
  }, ORPHAN_SWEEP_MS);
  sweep?.unref();
  if (orphans > 0) log.info(`cancelled ${orphans} request(s) left pending by the previous run`, { orphans });
  const upstreams = new Upstreams(config.dataDir, { idleInTransactionTimeoutMs: config.pgliteIdleInTransactionTimeoutMs }, config.proxyLimits.upstreamConnectTimeoutMs);
  const classifiers = new ResourceClassifiers((resource) => upstreams.connect(resource, CATALOG_CONNECTION), loadClassifier);
  const maskers = new Maskers(await sharedMaskKey(store, config.dataDir));
  // Held requests' impact previews, on connections of Airlock's own (proxy/preview).
  const previews = new RequestPreviews({ store, bus, policy: options.policy, classifiers, maskers, connect: (resource) => upstreams.connect(resource, PREVIEW_CONNECTION) });
  // Approved writes' undo captures (proxy/undo), kept with their requests.
  const undos = new RequestUndos({ store, bus });
  // Approved reverts of them, run by whichever instance claims each first.
  const reverts = new RevertRunner({ store, bus, policy: options.policy, connect: (resource) => upstreams.connect(resource, REVERT_CONNECTION) });
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
    maskers,
    previews,
    undos,
    publicUrl: () => options.publicUrl,
    limits: config.proxyLimits,
    statementTimer: metrics && ((resource) => metrics.statementTimer(resource)),
    rates: new StatementRates(),
  });
  return {
    server,
    classifiers,
    previews,
    undos,
    approvals,
    grants,
    liveSessions,
    instances,
    recorder,
    verify,
    async reach(resource) {
      if (resource.url.startsWith("pglite://")) throw new Error("an embedded database is started by its first session, not by a check");
      (await upstreams.connect(resource, STATUS_CONNECTION)).close();
    },
    async close(drainMs = 0) {
      const draining = server.drain(drainMs);
      // Nobody can approve a statement while the instance goes away: waiting agents are told why
      // their requests end (57014 with this reason), before their connections do.
      // Only this process's: another process's agents still wait on theirs.
      clearInterval(sweep);
      await approvals.cancelOrphans(SHUTTING_DOWN, (r) => !instance || r.heldBy === instance.id).catch((err: unknown) => log.error("ending this instance's holds failed", { err }));
      await draining;
      await server.close();
      approvals.close();
      reverts.close();
      await reverts.idle();
      grants.close();
      await instances?.close();
      await recorder.close();
      await upstreams.close();
    },
  };
}

/** The issuer of AGENT_OIDC_ISSUER (or the people's), as always, and those AGENT_ISSUERS_FILE adds. */
function agentTokenVerifier(config: AirlockConfig, agentIssuer: string, clientIds: readonly string[] | undefined): AgentTokenVerifier {
  const extra = config.agentIssuersFile ? readAgentIssuersFile(config.agentIssuersFile) : [];
  for (const entry of extra) log.info(`agent tokens also trusted from ${entry.verifier.issuer} (${entry.name}, ${entry.mapping})`);
  return createTrustedIssuersVerifier([{ issuer: agentIssuer, audience: config.agentAudience, groupsClaim: config.groupsClaim, clientIds }, ...extra.map((entry) => entry.verifier)]);
}
