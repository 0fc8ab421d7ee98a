import { randomBytes } from "node:crypto";
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Store, StoreScope } from "../db/client";
import type { Grant } from "../db/schema";
import type { EventBus } from "../events/bus";
import type { StoreErrorObserver } from "../ops/metrics";
import { coversScope, type ScopePair } from "./grant-scope";

/** What a statement does, and whose it is: what a grant must cover. */
export interface Scope {
  agentId: string;
  resource: string;
  pairs: readonly ScopePair[];
}

export type NewGrant = Omit<Grant, "id" | "revokedAt" | "revokedBy" | "useCount">;

/**
 * Every grant in force is read again this often, whatever the bus says: a revocation on another
 * instance whose event was lost (its connection to the store dropped) still stops use within this.
 */
export const GRANT_RELOAD_MS = 5_000;

/**
 * Time-boxed access. A grant covers a statement of the same agent and resource whose every
 * (kind, table) pair is in the grant (see coversScope); expiry and revocation take effect at the
 * next statement. The grants in force are kept in memory, so the decision point asks without
 * waiting on the store: they are loaded at start, changed here at once, and changed on another
 * instance heard from the bus (and read again every GRANT_RELOAD_MS).
 *
 * A grant lasts what it was granted for whichever way the wall clock jumps (an NTP step, a VM
 * resumed): it ends when its stored `expiresAt` passes on the wall clock or when the time it had
 * left when first learnt of passes on the monotonic clock, whichever comes first; and once ended
 * here it stays ended, even if the clock goes back and the store calls it unexpired again.
 */
export class GrantStore {
  /** Grants in force as this instance knows them, by id; expiry is checked at every use. */
  #inForce = new Map<string, Grant>();
  /** When each grant was last learnt of one by one (a count of changes): a full read begun before that must not undo it. */
  readonly #learnt = new Map<string, number>();
  #changes = 0;
  /** Per grant, when it ends on the monotonic clock (performance.now()), from the time it had left when first learnt of. */
  readonly #deadlines = new Map<string, { expiresAt: number; at: number }>();
  /** Grants seen ended here: a clock set back, and the store read with it, must not bring them back. */
  readonly #ended = new Set<string>();
  #loading: Promise<void> | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  #reload: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly bus?: EventBus,
    /** Told when the periodic read of the grants in force fails (`/metrics`). */
    private readonly storeError?: StoreErrorObserver,
  ) {
    this.#unsubscribe = bus?.subscribe((event) => {
      if (event.type === "grant.changed") void this.refresh(event.grantId).catch(() => undefined);
    });
  }

  /** Reads the grants in force, and keeps reading them (see GRANT_RELOAD_MS); the decision point is right once this resolves. */
  async load(): Promise<void> {
    await this.#loadAll();
    this.#reload ??= setInterval(
      () =>
        void this.#loadAll().catch((err: unknown) => {
          this.storeError?.("grants_reload");
          console.error("[grants] reading the grants in force failed:", err);
        }),
      GRANT_RELOAD_MS,
    );
    this.#reload.unref();
  }

  /**
   * Writes a new grant in the caller's transaction; `created` makes it known once that commits.
   * `id` is given only for break-glass (`bg_…`, lib/access/break-glass.ts): the prefix marks it wherever the id goes.
   */
  async insert(scope: StoreScope, grant: NewGrant, id = `g_${randomBytes(6).toString("hex")}`): Promise<Grant> {
    const row: Grant = { ...grant, id, revokedAt: null, revokedBy: null, useCount: 0 };
    await scope.db.insert(scope.tables.grants).values(row);
    return row;
  }

  /** A grant written by `insert` is committed: it covers statements here at once, and elsewhere once they hear. */
  created(grant: Grant): void {
    this.#learn(grant.id, grant);
    this.bus?.publish({ type: "grant.changed", grantId: grant.id });
  }

  async create(grant: NewGrant): Promise<Grant> {
    const row = await this.insert(this.store, grant);
    this.created(row);
    return row;
  }

  /** An active grant covering the whole statement, if there is one. */
  covering(scope: Scope, now = Date.now()): Grant | undefined {
    for (const g of this.#inForce.values()) {
      if (g.agentId === scope.agentId && g.resource === scope.resource && coversScope(g.scope, scope.pairs) && this.#stillInForce(g, now)) return g;
    }
    return undefined;
  }

  /**
   * covering(), asked of the store rather than of memory: a grant made on another instance a
   * moment ago may not have reached this one yet. For statements about to wait for people, so
   * that such a grant spares the wait (and the request) instead of being heard of too late.
   */
  async coveringInStore(scope: Scope): Promise<Grant | undefined> {
    const began = this.#changes;
    const { grants } = this.store.tables;
    const rows = await this.store.db
      .select()
      .from(grants)
      .where(and(eq(grants.agentId, scope.agentId), eq(grants.resource, scope.resource), isNull(grants.revokedAt), gt(grants.expiresAt, new Date())));
    for (const grant of rows) if (!this.#newerThan(grant.id, began)) this.#learn(grant.id, grant);
    return this.covering(scope);
  }

  async get(id: string): Promise<Grant | undefined> {
    const { grants } = this.store.tables;
    return (await this.store.db.select().from(grants).where(eq(grants.id, id)).limit(1))[0];
  }

  /** Counts a statement run under the grant; off the statement's path, so a failure is only logged. */
  recordUse(id: string): void {
    const { grants } = this.store.tables;
    this.store.db
      .update(grants)
      .set({ useCount: sql`${grants.useCount} + 1` })
      .where(eq(grants.id, id))
      .then(
        () => undefined,
        (err: unknown) => console.error(`[grants] counting a use of ${id} failed:`, err),
      );
  }

  async revoke(id: string, by: string, now = new Date()): Promise<Grant | undefined> {
    const { grants } = this.store.tables;
    const [row] = await this.store.db.update(grants).set({ revokedAt: now, revokedBy: by }).where(and(eq(grants.id, id), isNull(grants.revokedAt))).returning();
    this.#learn(id, undefined);
    if (row) this.bus?.publish({ type: "grant.changed", grantId: id });
    return row;
  }

  /** Grants in force now, newest first; only one agent's when it is named. */
  async active(now = new Date(), agentId?: string): Promise<Grant[]> {
    const { grants } = this.store.tables;
    const conditions = [isNull(grants.revokedAt), gt(grants.expiresAt, now), agentId === undefined ? undefined : eq(grants.agentId, agentId)];
    return this.store.db.select().from(grants).where(and(...conditions)).orderBy(desc(grants.createdAt));
  }

  close(): void {
    clearInterval(this.#reload);
    this.#reload = undefined;
    this.#unsubscribe?.();
  }

  #loadAll(): Promise<void> {
    // One at a time: a slow read overtaken by a later one must not land last.
    this.#loading ??= this.#readAll().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #readAll(): Promise<void> {
    const began = this.#changes;
    const rows = new Map((await this.active()).map((g) => [g.id, g]));
    const inForce = new Map<string, Grant>();
    for (const [id, grant] of rows) if (!this.#newerThan(id, began) && this.#stillInForce(grant)) inForce.set(id, grant);
    for (const [id, grant] of this.#inForce) if (this.#newerThan(id, began)) inForce.set(id, grant);
    this.#inForce = inForce;
    for (const [id, change] of this.#learnt) if (change < began) this.#learnt.delete(id);
    // What the store no longer calls in force needs no remembering: it cannot come back from there.
    for (const id of this.#deadlines.keys()) if (!rows.has(id) && !inForce.has(id)) this.#deadlines.delete(id);
    for (const id of this.#ended) if (!rows.has(id)) this.#ended.delete(id);
  }

  /** Whether the grant has not ended by either clock; one that has is forgotten here for good (see the class). */
  #stillInForce(grant: Grant, now = Date.now()): boolean {
    if (this.#ended.has(grant.id)) return false;
    const expiresAt = grant.expiresAt.getTime();
    let deadline = this.#deadlines.get(grant.id);
    if (deadline?.expiresAt !== expiresAt) {
      deadline = { expiresAt, at: performance.now() + (expiresAt - now) };
      this.#deadlines.set(grant.id, deadline);
    }
    if (expiresAt > now && performance.now() < deadline.at) return true;
    this.#ended.add(grant.id);
    this.#deadlines.delete(grant.id);
    this.#inForce.delete(grant.id);
    return false;
  }

  #newerThan(id: string, change: number): boolean {
    return (this.#learnt.get(id) ?? -1) >= change;
  }

  #learn(id: string, grant: Grant | undefined): void {
    this.#learnt.set(id, this.#changes++);
    if (grant && !grant.revokedAt && this.#stillInForce(grant)) this.#inForce.set(id, grant);
    else this.#inForce.delete(id);
  }

  /** A grant changed (here or on another instance): what it is now decides whether it covers. */
  /**
   * The grant as the store has it now, and what this instance's decision point believes from then
   * on: whoever tells an agent its grant ended has made sure it no longer covers here first.
   */
  async refresh(id: string): Promise<Grant | undefined> {
    const began = this.#changes;
    try {
      const grant = await this.get(id);
      // Learnt of since this read began (revoked here, say): that is newer than what the read saw.
      if (!this.#newerThan(id, began)) this.#learn(id, grant);
      return grant;
    } catch (err) {
      // Fail closed: a grant that cannot be read again covers nothing until the next reload.
      this.#learn(id, undefined);
      console.error(`[grants] reading grant ${id} again failed:`, err);
      throw err;
    }
  }
}
