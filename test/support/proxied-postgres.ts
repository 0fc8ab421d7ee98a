import pg from "pg";
import { startPostgres, type TestPostgres } from "./postgres";
import { startProxyHarness, type ProxyHarness } from "./proxy-harness";

/**
 * A real PostgreSQL as resource `pg` behind a proxy with `rules`, and a superuser client on it to
 * compare with; `setup` (SQL) runs before the proxy starts, so its catalog has those tables.
 */
export interface ProxiedPostgres {
  server: TestPostgres;
  harness: ProxyHarness;
  admin: pg.Client;
  stop(): Promise<void>;
}

export async function startProxiedPostgres(rules: string, setup?: string): Promise<ProxiedPostgres> {
  const server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  if (setup) await admin.query(setup);
  const harness = await startProxyHarness({ pg: server.url }, { rules });
  return {
    server,
    harness,
    admin,
    async stop() {
      await admin.end();
      await harness.close();
      await server.stop();
    },
  };
}
