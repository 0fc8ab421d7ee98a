import type { SecureContext } from "node:tls";
import { LiveSessions } from "../../lib/activity/live-sessions";
import { ActivityRecorder } from "../../lib/activity/recorder";
import { openStore, type Store } from "../../lib/db/client";
import { decide } from "../../lib/decision/decide";
import { EventBus } from "../../lib/events/bus";
import { createAgentTokenVerifier } from "../../lib/identity/agent-token";
import type { Resource } from "../../lib/policy/policy-file";
import { startProxyServer, type ProxyServer } from "../../proxy/server";
import { Upstreams } from "../../proxy/upstream/connect";
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
 * store in a temp dir, and the given resources (pglite:// or postgres://).
 */
export async function startProxyHarness(resources: Record<string, string>, options: { tls?: SecureContext } = {}): Promise<ProxyHarness> {
  const dir = makeTempDir("proxy");
  const idp = await startTestIdp();
  const store = openStore(dir.path, "drizzle");
  const bus = new EventBus();
  const recorder = new ActivityRecorder(store.db, bus);
  const live = new LiveSessions(bus);
  const upstreams = new Upstreams(dir.path);
  const resourceMap = new Map<string, Resource>(Object.entries(resources).map(([name, url]) => [name, { name, type: "postgres", url }]));
  await upstreams.warm(resourceMap.values());
  const proxy = await startProxyServer({
    host: "127.0.0.1",
    port: 0,
    tls: options.tls,
    verify: createAgentTokenVerifier({ issuer: idp.issuer, audience: idp.audience }),
    resources: () => resourceMap,
    decide,
    recorder,
    live,
    upstreams,
  });
  return {
    proxy,
    idp,
    store,
    recorder,
    live,
    async url(resource, agent = "reporting-agent") {
      return `postgres://${agent}:${encodeURIComponent(await idp.token(agent))}@127.0.0.1:${proxy.port}/${resource}`;
    },
    async close() {
      await proxy.close();
      recorder.flush();
      await upstreams.close();
      store.close();
      await idp.close();
      dir.remove();
    },
  };
}
