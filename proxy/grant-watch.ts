import { scopePhrase } from "../lib/approvals/grant-label";
import type { GrantStore } from "../lib/approvals/grants";
import type { Grant } from "../lib/db/schema";
import type { EventBus } from "../lib/events/bus";

/** setTimeout's longest delay (~24.8 days); a later end is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface GrantWatchOptions {
  grants: Pick<GrantStore, "get">;
  /** Revocations are heard from the bus (at once); expiry by a timer. */
  bus?: EventBus;
  /** Tells the agent, between messages, as an asynchronous NoticeResponse. */
  notify(message: string): void;
}

/**
 * The grants one session has worked under. When one expires or is revoked the agent is told at
 * once, so it is not surprised when its next such statement is held: from then on policy alone
 * decides (the decision point checks grants at every statement; this only tells).
 */
export class GrantWatch {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly options: GrantWatchOptions) {}

  /** A statement ran under this grant. */
  used(grantId: string): void {
    if (this.#timers.has(grantId)) return;
    const grant = this.options.grants.get(grantId);
    if (!grant) return;
    this.#unsubscribe ??= this.options.bus?.subscribe((event) => {
      if (event.type === "grant.changed" && this.#timers.has(event.grantId)) this.#check(event.grantId);
    });
    this.#arm(grant);
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #arm(grant: Grant): void {
    const delay = Math.min(Math.max(grant.expiresAt.getTime() - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => this.#check(grant.id), delay);
    timer.unref();
    this.#timers.set(grant.id, timer);
  }

  #check(grantId: string): void {
    const grant = this.options.grants.get(grantId);
    clearTimeout(this.#timers.get(grantId));
    this.#timers.delete(grantId);
    if (!grant) return;
    if (grant.revokedAt) this.#ended(grant, `was revoked by ${grant.revokedBy ?? "someone"}`);
    else if (grant.expiresAt.getTime() <= Date.now()) this.#ended(grant, "has expired");
    else this.#arm(grant);
  }

  #ended(grant: Grant, how: string): void {
    this.options.notify(`airlock: grant ${grant.id} (${scopePhrase(grant.scope)} on ${grant.resource}) ${how}; from now on policy alone decides, and statements it covered are held for review again`);
    if (this.#timers.size === 0) this.close();
  }
}
