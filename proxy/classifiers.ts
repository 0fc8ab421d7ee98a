import type { Resource } from "../lib/policy/policy-file";
import type { Classifier } from "../lib/sql/classify";
import type { Upstream } from "./upstream/upstream";

export type { Classifier };

/** How long a resource's catalog (function volatility, views) is trusted before it is read again. */
export const CATALOG_TTL_MS = 5 * 60_000;

/** Waits before each attempt to read the catalog after a schema change: a lock held by an agent is let go soon. */
export const REFRESH_RETRY_DELAYS_MS = [0, 250, 1000, 3000];

/**
 * One classifier per resource, built on that database's own catalog: which functions only read,
 * which user functions and operators exist, what views read. Loaded on first use over a
 * connection of Airlock's own, refreshed in the background after CATALOG_TTL_MS, and after a
 * schema change once the session that made it is idle.
 */
export class ResourceClassifiers {
  readonly #entries = new Map<string, { classifier: Promise<Classifier>; loadedAt: number }>();
  /** A refresh per resource at a time; a schema change meanwhile asks for one more after it. */
  readonly #refreshing = new Map<string, { again: boolean }>();

  constructor(
    private readonly connect: (resource: Resource) => Promise<Upstream>,
    private readonly load: (upstream: Upstream, previous?: Classifier) => Promise<Classifier>,
  ) {}

  /** The resource's classifier; a failure to read the catalog fails the caller (no guessing). */
  async forResource(resource: Resource): Promise<Classifier> {
    const entry = this.#entries.get(resource.url);
    if (entry && Date.now() - entry.loadedAt < CATALOG_TTL_MS) return entry.classifier;
    const previous = await entry?.classifier.catch(() => undefined);
    const fresh = this.#load(resource, previous);
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
   * The schema changed (DDL ran through Airlock, and its session is idle, so it is committed):
   * sessions from now on wait for the catalog read afresh, so new tables and views are known.
   * Never the old catalog in silence: if it cannot be read after a few tries, new sessions are
   * refused until it can.
   */
  refresh(resource: Resource): void {
    const running = this.#refreshing.get(resource.url);
    if (running) {
      running.again = true;
      return;
    }
    const entry = this.#entries.get(resource.url);
    if (!entry) return; // never loaded: the next session reads it anyway
    const state = { again: false };
    this.#refreshing.set(resource.url, state);
    const fresh = entry.classifier.catch(() => undefined).then((previous) => this.#loadRetrying(resource, previous));
    this.#entries.set(resource.url, { classifier: fresh, loadedAt: Date.now() });
    fresh
      .catch((err: unknown) => {
        console.error(`[proxy] the catalog of "${resource.name}" could not be read after a schema change; new sessions are refused until it can be:`, err);
        if (this.#entries.get(resource.url)?.classifier === fresh) this.#entries.delete(resource.url);
      })
      .finally(() => {
        this.#refreshing.delete(resource.url);
        if (state.again) this.refresh(resource);
      });
  }

  async #loadRetrying(resource: Resource, previous: Classifier | undefined): Promise<Classifier> {
    let failure: unknown;
    for (const delay of REFRESH_RETRY_DELAYS_MS) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return await this.#load(resource, previous);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  async #load(resource: Resource, previous?: Classifier): Promise<Classifier> {
    const upstream = await this.connect(resource);
    try {
      return await this.load(upstream, previous);
    } finally {
      upstream.close();
    }
  }
}
