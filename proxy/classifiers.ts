import type { Resource } from "../lib/policy/policy-file";
import type { Classifier } from "../lib/sql/classify";
import type { Upstream } from "./upstream/upstream";

export type { Classifier };

/** How long a resource's catalog (function volatility, views) is trusted before it is read again. */
export const CATALOG_TTL_MS = 5 * 60_000;

/**
 * One classifier per resource, built on that database's own catalog: which functions only read,
 * which user functions and operators exist, what views read. Loaded on first use over a
 * connection of Airlock's own, refreshed in the background after CATALOG_TTL_MS.
 */
export class ResourceClassifiers {
  readonly #entries = new Map<string, { classifier: Promise<Classifier>; loadedAt: number }>();

  constructor(
    private readonly connect: (resource: Resource) => Promise<Upstream>,
    private readonly load: (upstream: Upstream) => Promise<Classifier>,
  ) {}

  /** The resource's classifier; a failure to read the catalog fails the caller (no guessing). */
  async forResource(resource: Resource): Promise<Classifier> {
    const entry = this.#entries.get(resource.url);
    if (entry && Date.now() - entry.loadedAt < CATALOG_TTL_MS) return entry.classifier;
    const fresh = this.#load(resource);
    // A stale classifier keeps serving while the new one loads.
    if (entry) {
      fresh.then(
        (c) => this.#entries.set(resource.url, { classifier: Promise.resolve(c), loadedAt: Date.now() }),
        (err: unknown) => console.error(`[proxy] refreshing the catalog of "${resource.name}" failed:`, err),
      );
      return entry.classifier;
    }
    this.#entries.set(resource.url, { classifier: fresh, loadedAt: Date.now() });
    fresh.catch(() => this.#entries.delete(resource.url));
    return fresh;
  }

  /**
   * The schema changed (a DDL statement ran through Airlock): sessions from now on wait for the
   * catalog read afresh, so new tables and views are known; on failure the old one serves on.
   */
  refresh(resource: Resource): void {
    const entry = this.#entries.get(resource.url);
    if (!entry) return;
    const fresh = this.#load(resource);
    fresh.catch((err: unknown) => console.error(`[proxy] refreshing the catalog of "${resource.name}" failed:`, err));
    this.#entries.set(resource.url, { classifier: fresh.catch(() => entry.classifier), loadedAt: Date.now() });
  }

  async #load(resource: Resource): Promise<Classifier> {
    const upstream = await this.connect(resource);
    try {
      return await this.load(upstream);
    } finally {
      upstream.close();
    }
  }
}
