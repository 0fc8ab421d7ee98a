import type { Resource } from "../../lib/policy/policy-file";
import { PgliteHost, type PgliteHostOptions } from "./pglite-host";
import { connectPostgres } from "./postgres";
import type { Upstream } from "./upstream";

/** Opens the upstream for a resource: the embedded PGlite database or a PostgreSQL server. */
export class Upstreams {
  readonly #pglite = new Map<string, PgliteHost>();

  constructor(
    private readonly dataDir: string,
    private readonly pglite: PgliteHostOptions,
  ) {}

  connect(resource: Resource, params: ReadonlyMap<string, string>): Promise<Upstream> {
    if (resource.url.startsWith("pglite://")) return this.#pgliteHost(resource.url).connect(params);
    return connectPostgres(resource.url, params);
  }

  /** Starts the embedded databases now, so the first agent does not wait for them. */
  async warm(resources: Iterable<Resource>): Promise<void> {
    await Promise.all([...resources].filter((r) => r.url.startsWith("pglite://")).map((r) => this.#pgliteHost(r.url).ready));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pglite.values()].map((host) => host.close()));
    this.#pglite.clear();
  }

  #pgliteHost(url: string): PgliteHost {
    const name = url.slice("pglite://".length);
    let host = this.#pglite.get(name);
    if (!host) this.#pglite.set(name, (host = new PgliteHost(this.dataDir, name, this.pglite)));
    return host;
  }
}
