import type { CatalogSnapshot } from "../lib/ops/status";
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
 * connection of Airlock's own, refreshed in the background after CATALOG_TTL_MS. A schema change
 * (DDL through Airlock, committed) marks it out of date, and the next session to start waits for
 * a read of the catalog as it is then: read once per burst of DDL rather than after every
 * statement of a migration, and never while the DDL's locks are held.
 */
export class ResourceClassifiers {
  readonly #entries = new Map<string, Entry>();
  /** Schema changes seen per resource: an entry read before the latest one is not handed out. */
  readonly #generations = new Map<string, number>();
  /** Per resource, the last read that failed, until one succeeds: the status page says why sessions are refused. */
  readonly #failures = new Map<string, { message: string; at: Date }>();

  constructor(
    private readonly connect: (resource: Resource) => Promise<Upstream>,
    private readonly load: (upstream: Upstream, previous?: Classifier) => Promise<Classifier>,
  ) {}

  /** The resource's classifier; a failure to read the catalog fails the caller (no guessing, never the old one after a change). */
  forResource(resource: Resource): Promise<Classifier> {
    const generation = this.#generations.get(resource.url) ?? 0;
    const entry = this.#entries.get(resource.url);
    if (entry?.generation === generation) {
      if (!entry.revalidating && Date.now() - entry.loadedAt >= CATALOG_TTL_MS) this.#revalidate(resource, entry);
      return entry.classifier;
    }
    // Never read, or the schema changed since: what `entry` knows of unchanged parts is reused.
    const fresh = entry ? entry.classifier.catch(() => undefined).then((previous) => this.#loadRetrying(resource, previous)) : this.#load(resource);
    const next: Entry = { classifier: fresh, loadedAt: Date.now(), generation, revalidating: false };
    this.#entries.set(resource.url, next);
    fresh.then(
      () => {
        next.readAt = Date.now();
        this.#failures.delete(resource.url);
      },
      (err: unknown) => {
        console.error(`[proxy] the catalog of "${resource.name}" could not be read; its new sessions are refused until it can be:`, err);
        this.#failed(resource, err);
        if (this.#entries.get(resource.url) === next) this.#entries.delete(resource.url);
      },
    );
    return fresh;
  }

  /**
   * What is known of the resource's catalog now, read-only and without reading it (the status
   * page): when the one in use was read, whether it is past CATALOG_TTL_MS or a schema change
   * since, and the last failed read.
   */
  snapshot(resource: Resource, now = Date.now()): CatalogSnapshot {
    const entry = this.#entries.get(resource.url);
    const lastError = this.#failures.get(resource.url);
    if (!entry) return { state: "not-loaded", lastError };
    if (entry.readAt === undefined) return { state: "loading", lastError };
    const changed = entry.generation !== (this.#generations.get(resource.url) ?? 0);
    return { state: "loaded", loadedAt: new Date(entry.readAt), stale: changed || now - entry.loadedAt >= CATALOG_TTL_MS, refreshing: entry.revalidating, lastError };
  }

  /** The schema changed (DDL ran through Airlock, and its session is idle, so it is committed or undone). */
  invalidate(resource: Resource): void {
    this.#generations.set(resource.url, (this.#generations.get(resource.url) ?? 0) + 1);
  }

  /** Past its time: read again in the background while the current one keeps serving. */
  #revalidate(resource: Resource, entry: Entry): void {
    entry.revalidating = true;
    entry.classifier
      .then((previous) => this.#load(resource, previous))
      .then(
        (classifier) => {
          // Unless a schema change came meanwhile, whose sessions wait for a read made after it.
          this.#failures.delete(resource.url);
          const now = Date.now();
          if (this.#entries.get(resource.url) === entry) this.#entries.set(resource.url, { classifier: Promise.resolve(classifier), loadedAt: now, readAt: now, generation: entry.generation, revalidating: false });
        },
        (err: unknown) => {
          entry.revalidating = false;
          this.#failed(resource, err);
          console.error(`[proxy] refreshing the catalog of "${resource.name}" failed:`, err);
        },
      );
  }

  #failed(resource: Resource, err: unknown): void {
    this.#failures.set(resource.url, { message: err instanceof Error ? err.message : String(err), at: new Date() });
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

interface Entry {
  classifier: Promise<Classifier>;
  loadedAt: number;
  /** When the read finished; undefined while it is under way. */
  readAt?: number;
  /** The resource's schema-change count when this read began. */
  generation: number;
  /** A background read (past CATALOG_TTL_MS) is under way. */
  revalidating: boolean;
}
