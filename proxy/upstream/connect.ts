import { tightenTree } from "../../lib/data-dir";
import type { Resource } from "../../lib/policy/policy-file";
import { PgliteHost, type PgliteHostOptions } from "./pglite-host";
import { connectPostgres } from "./postgres";
import type { Upstream } from "./upstream";

/** Opens the upstream for a resource: the embedded PGlite database (started at its first connection) or a PostgreSQL server. */
export class Upstreams {
  readonly #pglite = new Map<string, PgliteHost>();

  constructor(
    private readonly dataDir: string,
    private readonly pglite: PgliteHostOptions,
    /** A PostgreSQL target's whole login must finish within this (AIRLOCK_UPSTREAM_CONNECT_TIMEOUT). */
    private readonly postgresConnectTimeoutMs: number,
  ) {}

  connect(resource: Resource, params: ReadonlyMap<string, string>): Promise<Upstream> {
    if (resource.url.startsWith("pglite://")) return this.#pgliteHost(resource.url).connect(params);
    return connectPostgres(resource.url, params, this.postgresConnectTimeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pglite.values()].map((host) => host.close()));
    this.#pglite.clear();
  }

  #pgliteHost(url: string): PgliteHost {
    const name = url.slice("pglite://".length);
    let host = this.#pglite.get(name);
    if (!host) {
      // Started on first use, not at boot: an Airlock whose agents never touch the demo never pays its memory.
      host = new PgliteHost(this.dataDir, name, this.pglite);
      this.#pglite.set(name, host);
      // PGlite makes its files world-readable whatever the umask (see tightenTree).
      host.ready.then(() => tightenTree(this.dataDir)).catch(() => undefined);
    }
    return host;
  }
}
