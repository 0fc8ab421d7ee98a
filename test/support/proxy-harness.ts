import type { LiveSessions } from "../../lib/activity/live-sessions";
import type { ActivityRecorder } from "../../lib/activity/recorder";
import type { GrantStore } from "../../lib/approvals/grants";
import type { ApprovalService } from "../../lib/approvals/service";
import { AuditCapture } from "../../lib/audit/capture";
import { AuditLog } from "../../lib/audit/log";
import { loadConfig } from "../../lib/config";
import { openStore, type Store } from "../../lib/db/client";
import { EventBus } from "../../lib/events/bus";
import { currentInstance } from "../../lib/events/instances";
import { eventTransport } from "../../lib/events/transport";
import { parsePolicy } from "../../lib/policy/policy-file";
import { loadSqlParser } from "../../lib/sql/parser";
import { KINDS } from "../../lib/sql/types";
import { startConfiguredProxy } from "../../proxy/configured-proxy";
import type { ProxyServer } from "../../proxy/server";
import { startTestIdp, type TestIdp } from "./dev-idp";
import { makeTempDir } from "./temp-dir";

export interface ProxyHarness {
  proxy: ProxyServer;
  idp: TestIdp;
  store: Store;
  dataDir: string;
  recorder: ActivityRecorder;
  live: LiveSessions;
  approvals: ApprovalService;
  grants: GrantStore;
  bus: EventBus;
  /** A connection URL for an agent, with a fresh token as its password. */
  url(resource: string, agent?: string): Promise<string>;
  close(): Promise<void>;
}

/** For tests of the wire itself: every kind of statement is allowed. */
export const ALLOW_EVERYTHING = `rules:
  - name: allow-everything
    action: allow
    match: { kinds: [${KINDS.join(", ")}] }`;

/**
 * The real proxy, wired as server.ts wires it, without the dashboard: the development IdP, a
 * store in a temp dir, and the given resources (pglite:// or postgres://). `env` adds settings
 * (AIRLOCK_PROXY_TLS_CERT…); `rules` is the policy's `rules:` section as YAML.
 */
export async function startProxyHarness(
  resources: Record<string, string>,
  /** `shared`: its bus reaches other processes on the store (lib/events/store-transport.ts), as `npm start`'s does. */
  options: { env?: Record<string, string>; rules?: string; shared?: boolean; storeUrl?: string } = {},
): Promise<ProxyHarness> {
  const dir = makeTempDir("proxy");
  const idp = await startTestIdp();
  const config = loadConfig({ AIRLOCK_DATA_DIR: dir.path, AIRLOCK_PROXY_PORT: "0", ...options.env });
  const store = await openStore({ dataDir: dir.path, url: options.storeUrl, migrationsFolder: "drizzle" });
  const yaml = [
    "resources:",
    ...Object.entries(resources).map(([name, url]) => `  ${name}: { type: postgres, url: ${JSON.stringify(url)} }`),
    options.rules ?? ALLOW_EVERYTHING,
  ].join("\n");
  await loadSqlParser(); // row filters are parsed as the policy loads
  const policy = parsePolicy(yaml);
  const instance = options.shared ? currentInstance() : undefined;
  const bus = new EventBus(instance && eventTransport(store, instance, options.storeUrl));
  const proxy = await startConfiguredProxy({ config, store, policy: () => policy, agentIssuer: idp.issuer, publicUrl: "http://airlock.test", bus, instance });
  // As server.ts does: what happens beside the statements (requests, decisions, grants) reaches the audit trail.
  const audit = new AuditCapture(store, new AuditLog(store), bus);
  return {
    proxy: proxy.server,
    idp,
    store,
    dataDir: dir.path,
    recorder: proxy.recorder,
    live: proxy.liveSessions,
    approvals: proxy.approvals,
    grants: proxy.grants,
    async url(resource, agent = "reporting-agent") {
      return `postgres://${agent}:${encodeURIComponent(await idp.token(agent))}@127.0.0.1:${proxy.server.port}/${resource}`;
    },
    bus,
    async close() {
      await proxy.close();
      await audit.close();
      bus.close();
      await store.close();
      await idp.close();
      dir.remove();
    },
  };
}
