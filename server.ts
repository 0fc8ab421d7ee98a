/**
 * Airlock's single entry: the dashboard (Next.js), the live-update websocket, the development
 * identity provider and the store in one process. See DESIGN.md, "Shape".
 */
// First: logs are set before any module prints (server/logs.ts).
import "./server/logs";
import fs from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { createDevIdp, type DevIdp } from "./idp/provider";
import { sharedSamlIdpKey } from "./idp/saml/keys";
import { createDevSamlIdp, type DevSamlIdp } from "./idp/saml/server";
import { sharedIdpSecrets } from "./idp/secrets";
import { findSeedPerson, SEED_AGENTS } from "./idp/seed";
import { BreakGlassService } from "./lib/access/break-glass";
import { AccessService } from "./lib/access/service";
import { FollowUps } from "./lib/approvals/follow-ups";
import { ConfigError, loadConfig, loadDotEnv, type AirlockConfig } from "./lib/config";
import { preparePrivateDataDir } from "./lib/data-dir";
import { openStore, type Store } from "./lib/db/client";
import { EventBus } from "./lib/events/bus";
import { currentInstance } from "./lib/events/instances";
import { eventTransport } from "./lib/events/transport";
import { agentClientIds } from "./lib/identity/agent-clients";
import { findPerson } from "./lib/identity/people";
import { SAML_PATHS, samlEntityId, startSamlSignIn, type SamlSignIn } from "./lib/identity/saml/start";
import { logger } from "./lib/log";
import { AirlockMetrics, METRICS_PATH, serveMetrics } from "./lib/ops/metrics";
import { checkReadiness } from "./lib/ops/readiness";
import { startTracing, stopTracing } from "./lib/ops/tracing";
import { startAudit } from "./lib/audit/start";
import { PolicySource } from "./lib/policy/source";
import { loadSqlParser } from "./lib/sql/parser";
import { PolicyError } from "./lib/policy/policy-file";
import { setRuntime, type Runtime, type SsoSettings } from "./lib/runtime";
import { AUTH_PATH, DEV_IDP_PATH, parsePublicUrl, publicHref, type PublicUrl } from "./lib/public-url";
import { sharedRandomSecret } from "./lib/secret-file";
import { removeServerInfo, writeServerInfo } from "./lib/server-info";
import { startSlack } from "./lib/slack/app";
import { SLACK_EVENTS_PATH } from "./lib/slack/settings";
import { startWebhooks } from "./lib/webhooks/start";
import { startConfiguredProxy } from "./proxy/configured-proxy";
import { listenMetrics } from "./proxy/metrics-listener";
import { renderBanner } from "./server/banner";
import { createLiveSocket, LIVE_PATH } from "./server/live-socket";
import { createMcpEndpoint, MCP_PATH } from "./server/mcp-endpoint";
import { securityHeaders } from "./server/security-headers";

const root = path.dirname(fileURLToPath(import.meta.url));
const log = logger("airlock");

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  loadDotEnv();
  const config = loadConfig();
  // Traces only with OTEL_EXPORTER_OTLP_ENDPOINT: otherwise OpenTelemetry is never loaded.
  if (await startTracing({ name: "airlock", version: readVersion() })) log.info("traces on: OTLP over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)");
  // Private before anything writes there: statements, parameters and keys are for this account only.
  preparePrivateDataDir(config.dataDir);

  // The store and the policy first: without either there is nothing safe to serve.
  const store = await openStore({ dataDir: config.dataDir, url: config.storeUrl, migrationsFolder: path.join(root, "drizzle") });
  // The bus reaches every process on this store (`npm run proxy` beside this one, other instances): see lib/events/transport.ts.
  const instance = currentInstance();
  // Metrics from the start: the bus and the proxy report to them (`/metrics`).
  const metrics = new AirlockMetrics();
  const bus = new EventBus(eventTransport(store, instance, config.storeUrl, metrics.storeError));
  // The SQL parser before the policy: its row filters are parsed and checked as it loads.
  await loadSqlParser();
  const policy = new PolicySource(config.policyPath, bus).watch();

  // Listen before anything else needs the port: with AIRLOCK_PORT=0 the URLs depend on it.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = notReady;
  const http = createServer((req, res) => handler(req, res));
  const port = await listen(http, config.port, config.host);
  const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
  const pub = parsePublicUrl(publicUrl) as PublicUrl; // loadConfig checked AIRLOCK_PUBLIC_URL
  const internalUrl = `http://${loopbackHost(config.host)}:${port}`;

  // People sign in through the configured IdP, or the built-in development one.
  const devIdp = config.oidc.issuer ? undefined : await startDevIdp(config, store, publicUrl);
  const sso = ssoSettings(config, devIdp);
  // SAML beside OIDC when configured; `dev` runs a development SAML IdP here too.
  const devSamlIdp = config.saml?.idpMetadata === "dev" ? await startDevSamlIdp(config, store, publicUrl) : undefined;
  const saml = await samlSignIn(config, store, publicUrl, devSamlIdp);

  // The proxy: agents' connections, each statement through the one decision point, recorded.
  const agentIssuer = config.agentIssuer ?? sso.issuer;
  const agentClients = agentClientIds({
    agentIssuer,
    peopleIssuer: sso.issuer,
    configured: config.agentClientIds,
    fallback: devIdp && agentIssuer === devIdp.issuer ? SEED_AGENTS.map((a) => a.id) : undefined,
  });
  const proxy = await startConfiguredProxy({ config, store, policy: () => policy.current, agentIssuer, agentClientIds: agentClients, publicUrl, bus, instance, metrics });
  if (!proxy.instances) throw new Error("the proxy was started without its instance");

  const runtime: Runtime = {
    version: readVersion(),
    config,
    publicUrl,
    internalUrl,
    store,
    bus,
    authSecret: config.authSecret ?? (await sharedRandomSecret(store, config.dataDir, "auth-secret")),
    sso,
    saml,
    agentIssuer,
    proxy: { host: proxy.server.host, port: proxy.server.port },
    liveSessions: proxy.liveSessions,
    instances: proxy.instances,
    policy,
    classifiers: proxy.classifiers,
    reach: (resource) => proxy.reach(resource),
    approvals: proxy.approvals,
    grants: proxy.grants,
    access: new AccessService({
      approvals: proxy.approvals,
      grants: proxy.grants,
      policy: () => policy.current,
      verify: proxy.verify,
      publicUrl,
      proxy: { host: proxy.server.host, port: proxy.server.port },
      waitsPerAgent: config.waitsPerAgent,
    }),
    breakGlass: new BreakGlassService({
      store,
      grants: proxy.grants,
      bus,
      policy: () => policy.current,
      // Slack starts below; a use is possible only once the server answers, by when it has.
      alert: (use, grant) => slack?.breakGlassUsed(use, grant) ?? Promise.resolve(),
    }),
    readiness: () => checkReadiness({ store, policy: () => policy.status, proxy: () => proxy.server, storeError: metrics.storeError, recorder: proxy.recorder }),
  };
  setRuntime(runtime);
  // Webhooks hear what the audit records, as it records it: each event once, on whichever instance.
  const webhooks = startWebhooks({ store, policy: () => policy.current, publicUrl, metrics });
  const audit = await startAudit({ config, store, bus, policyStatus: () => policy.status, follower: webhooks.queue });
  // next-auth's server actions (sign-in, sign-out, session) build their URLs from AUTH_URL.
  process.env.AUTH_URL = publicHref(pub, AUTH_PATH);

  // Slack, when configured: a message per request, kept in step; clicks decide through the same service.
  // People are who the IdP said at their last sign-in; the development IdP's seeded people also before that.
  const slack = await startSlack({
    config,
    store,
    bus,
    approvals: proxy.approvals,
    policy: () => policy.current,
    publicUrl,
    directory: async (email) => (await findPerson(store, email)) ?? (devIdp ? findSeedPerson(email) : undefined),
    failed: (method, retrying) => metrics.slackFailed(method, retrying),
  });

  // Reminders and escalations of waiting requests, due times read from the store: one instance sends each.
  const followUps = new FollowUps({ store, bus, sent: slack && ((sent) => slack.followedUp(sent)) }).start();

  // Next.js serves every page and route handler; the IdP and the websocket sit beside it.
  const app = next({ dev, dir: root, hostname: config.host, port });
  await app.prepare();
  const nextHandler = app.getRequestHandler();
  const nextUpgrade = app.getUpgradeHandler();
  const live = createLiveSocket({
    bus: runtime.bus,
    authSecret: runtime.authSecret,
    secureCookies: publicUrl.startsWith("https:"),
    roleGroups: config.roleGroups,
    origin: new URL(publicUrl).origin,
  });

  const mcp = createMcpEndpoint({ access: runtime.access, breakGlass: runtime.breakGlass, proxy: runtime.proxy, version: runtime.version });

  const { metricsPort, metricsToken } = config.operations;
  const metricsOnDashboard = (req: IncomingMessage, res: ServerResponse) =>
    metricsToken !== undefined && metricsPort === undefined ? serveMetrics(metrics.registry, metricsToken, req, res) : notFound(res);
  const metricsServer = metricsPort === undefined ? undefined : await listenMetrics(metrics, { host: config.host, port: metricsPort, token: metricsToken });
  if (metricsServer) log.info(`metrics on ${metricsServer.url}`);
  const besideNext = (url: string | undefined): ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined => {
    if (devIdp && isUnder(url, devIdp.mountPath)) return devIdp.handle;
    if (devSamlIdp && isUnder(url, devSamlIdp.mountPath)) return devSamlIdp.handle;
    // Before Next.js: the MCP SDK's transport writes its own (streamed) responses.
    if (isUnder(url, MCP_PATH)) return mcp;
    // Never open by accident: only with a token, and only when no port of its own is set.
    if (isUnder(url, METRICS_PATH)) return metricsOnDashboard;
    // Before Next.js: Bolt verifies the signature over the raw body, which it must read itself.
    if (slack && isUnder(url, SLACK_EVENTS_PATH)) return slack.handle;
    return undefined;
  };
  // SAML's POST binding: Airlock's page posts the AuthnRequest to the IdP's origin.
  const samlPostTarget = saml?.sp.settings.binding === "post" ? saml.sp.idp.sso.post : undefined;
  const formTargets = [...externalOrigins(sso.issuer, pub), ...(samlPostTarget ? externalOrigins(samlPostTarget, pub) : [])];
  const headers = securityHeaders({ pub, dev, formTargets });
  let draining = false;
  handler = (req, res) => {
    if (draining) return shuttingDown(res);
    const own = besideNext(req.url);
    if (own) {
      headers.forOther(res);
      void own(req, res);
      return;
    }
    headers.forNext(req, res);
    void nextHandler(req, res);
  };
  http.on("upgrade", (req, socket, head) => {
    if (draining) return void socket.destroy();
    if (isUnder(req.url, LIVE_PATH)) return void live.upgrade(req, socket, head);
    void nextUpgrade(req, socket, head);
  });

  writeServerInfo(config.dataDir, {
    pid: process.pid,
    publicUrl,
    issuer: sso.issuer,
    developmentIdp: sso.development,
    agentClientIds: agentClients,
    proxy: runtime.proxy,
  });
  console.log(renderBanner(runtime, port));

  // A graceful stop, as orchestrators send it: no new work, running statements finish (up to
  // AIRLOCK_DRAIN_SECONDS), held ones end with the reason, everything recorded is written.
  const shutdown = async (signal: string) => {
    if (draining) return; // npm passes the signal on too: one shutdown
    draining = true;
    const { drainMs } = config.operations;
    log.info(`${signal}: shutting down; running statements get up to ${drainMs / 1000} s`, { signal, drainMs });
    forceExitAfter(drainMs + FORCE_EXIT_GRACE_MS);
    http.closeIdleConnections();
    await proxy.close(drainMs);
    live.close();
    followUps.close();
    await slack?.close();
    http.close();
    metricsServer?.close();
    http.closeAllConnections();
    await audit.close();
    await webhooks.close();
    policy.close();
    bus.close();
    await store.close();
    // Last: the spans of the statements and decisions made while draining go too.
    await stopTracing();
    removeServerInfo(config.dataDir);
    log.info("shut down");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

/** Beyond the drain limit, what is left to close (writes, embedded databases) gets this long. */
const FORCE_EXIT_GRACE_MS = 10_000;

/** A shutdown that hangs must still end: exit 1, so the supervisor sees it was not clean. */
function forceExitAfter(ms: number): void {
  setTimeout(() => {
    log.error(`shutdown did not finish within ${ms} ms; exiting`);
    process.exit(1);
  }, ms).unref();
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
}

function shuttingDown(res: ServerResponse): void {
  res.writeHead(503, { "content-type": "application/json", connection: "close", "retry-after": "5" });
  res.end(JSON.stringify({ error: { code: "shutting_down", message: "Airlock is shutting down" } }));
}

async function startDevIdp(config: AirlockConfig, store: Store, publicUrl: string): Promise<DevIdp> {
  return createDevIdp({
    issuer: `${publicUrl}${DEV_IDP_PATH}`,
    mountPath: DEV_IDP_PATH,
    audience: config.agentAudience,
    dashboardRedirectUri: `${publicUrl}/api/auth/callback/sso`,
    postLogoutRedirectUri: `${publicUrl}/signin`,
    secrets: await sharedIdpSecrets(store, config.dataDir),
  });
}

async function startDevSamlIdp(config: AirlockConfig, store: Store, publicUrl: string): Promise<DevSamlIdp> {
  return createDevSamlIdp({
    publicUrl,
    sp: { entityId: samlEntityId(config.saml!, publicUrl), acsUrl: `${publicUrl}${SAML_PATHS.acs}` },
    key: await sharedSamlIdpKey(store, config.dataDir),
  });
}

/** A SAML setting that cannot work stops the start, as a wrong OIDC setting does. */
async function samlSignIn(config: AirlockConfig, store: Store, publicUrl: string, devSamlIdp: DevSamlIdp | undefined): Promise<SamlSignIn | undefined> {
  if (!config.saml) return undefined;
  try {
    return await startSamlSignIn({ config: config.saml, publicUrl, store, devIdpMetadata: devSamlIdp?.metadata });
  } catch (err) {
    throw new ConfigError(`SAML sign-in: ${err instanceof Error ? err.message : err}`);
  }
}

function ssoSettings(config: AirlockConfig, devIdp: DevIdp | undefined): SsoSettings {
  if (devIdp) {
    const { id, secret } = devIdp.dashboardClient;
    const people = !config.saml || config.saml.idpMetadata === "dev";
    return { issuer: devIdp.issuer, clientId: id, clientSecret: secret, development: true, people };
  }
  const { issuer, clientId, clientSecret } = config.oidc;
  if (!issuer || !clientId || !clientSecret) {
    throw new ConfigError("OIDC_ISSUER is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too");
  }
  return { issuer, clientId, clientSecret, development: false, people: true };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The listener's own address as this host can call it: a wildcard bind is reached on loopback. */
function loopbackHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** An external IdP's origin, for the dashboard's form-action; the development one is Airlock's own. */
function externalOrigins(issuer: string, pub: PublicUrl): string[] {
  const origin = new URL(issuer).origin;
  return origin === pub.origin ? [] : [origin];
}

function notReady(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" });
  res.end("Airlock is starting\n");
}

function isUnder(url: string | undefined, prefix: string): boolean {
  return url === prefix || (url?.startsWith(`${prefix}/`) ?? false) || (url?.startsWith(`${prefix}?`) ?? false);
}

function readVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
}


main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof PolicyError ? `airlock: ${err.message}` : err);
  process.exit(1);
});
