import type { LiveSessions } from "../../lib/activity/live-sessions";
import type { ActivityRecorder } from "../../lib/activity/recorder";
import { loadConfig } from "../../lib/config";
import { openStore, type Store } from "../../lib/db/client";
import type { Resource } from "../../lib/policy/policy-file";
import { startConfiguredProxy } from "../../proxy/configured-proxy";
import type { ProxyServer } from "../../proxy/server";
import { startTestIdp, type TestIdp } from "./dev-idp";
import { makeTempDir } from "./temp-dir";

export interface ProxyHarness {
  proxy: ProxyServer;
  idp: TestIdp;
  store: Store;
  recorder: ActivityRecorder;
  live: LiveSessions;
  /** A connection URL for an agent, with a fresh token as its password. */
  url(resource: string, agent?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real proxy, wired as server.ts wires it, without the dashboard: the development IdP, a
 * store in a temp dir, and the given resources (pglite:// or postgres://). `env` adds settings
 * (AIRLOCK_PROXY_TLS_CERT…).
 */
export async function startProxyHarness(resources: Record<string, string>, env: Record<string, string> = {}): Promise<ProxyHarness> {
  const dir = makeTempDir("proxy");
  const idp = await startTestIdp();
  const config = loadConfig({ AIRLOCK_DATA_DIR: dir.path, AIRLOCK_PROXY_PORT: "0", ...env });
  const store = openStore(dir.path, "drizzle");
  const policy = { resources: new Map<string, Resource>(Object.entries(resources).map(([name, url]) => [name, { name, type: "postgres", url }])) };
  const proxy = await startConfiguredProxy({ config, db: store.db, policy: () => policy, agentIssuer: idp.issuer });
  return {
    proxy: proxy.server,
    idp,
    store,
    recorder: proxy.recorder,
    live: proxy.liveSessions,
    async url(resource, agent = "reporting-agent") {
      return `postgres://${agent}:${encodeURIComponent(await idp.token(agent))}@127.0.0.1:${proxy.server.port}/${resource}`;
    },
    async close() {
      await proxy.close();
      store.close();
      await idp.close();
      dir.remove();
    },
  };
}
