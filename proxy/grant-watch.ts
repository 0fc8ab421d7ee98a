import { scopePhrase } from "../lib/approvals/grant-label";
import type { GrantStore } from "../lib/approvals/grants";
import type { Grant } from "../lib/db/schema";
import type { EventBus } from "../lib/events/bus";

/** setTimeout's longest delay (~24.8 days); a later end is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface GrantWatchOptions {
  grants: Pick<GrantStore, "refresh">;
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
  /** Grants being read before they are watched. */
  readonly #reading = new Set<string>();
  #closed = false;
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly options: GrantWatchOptions) {}

  /** A statement ran under this grant. */
  used(grantId: string): void {
    if (this.#timers.has(grantId) || this.#reading.has(grantId)) return;
    this.#reading.add(grantId);
    this.options.grants
      .refresh(grantId)
      .then((grant) => grant && this.#watch(grant))
      .catch((err: unknown) => console.error(`[proxy] reading grant ${grantId} failed:`, err))
      .finally(() => this.#reading.delete(grantId));
  }

  #watch(grant: Grant): void {
    if (this.#closed) return;
    this.#unsubscribe ??= this.options.bus?.subscribe((event) => {
      if (event.type === "grant.changed" && this.#timers.has(event.grantId)) void this.#check(event.grantId);
    });
    this.#arm(grant);
  }

  /** The session ended: nothing more is watched, even a grant still being read. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#stopListening();
  }

  #stopListening(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #arm(grant: Grant): void {
    const delay = Math.min(Math.max(grant.expiresAt.getTime() - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => void this.#check(grant.id), delay);
    timer.unref();
    this.#timers.set(grant.id, timer);
  }

  async #check(grantId: string): Promise<void> {
    let grant: Grant | undefined;
    try {
      grant = await this.options.grants.refresh(grantId);
    } catch (err) {
      console.error(`[proxy] reading grant ${grantId} failed:`, err);
      return;
    }
    if (!this.#timers.has(grantId)) return;
    clearTimeout(this.#timers.get(grantId));
    this.#timers.delete(grantId);
    if (!grant) return;
    if (grant.revokedAt) this.#ended(grant, `was revoked by ${grant.revokedBy ?? "someone"}`);
    else if (grant.expiresAt.getTime() <= Date.now()) this.#ended(grant, "has expired");
    else this.#arm(grant);
  }

  #ended(grant: Grant, how: string): void {
    this.options.notify(`airlock: grant ${grant.id} (${scopePhrase(grant.scope)} on ${grant.resource}) ${how}; from now on policy alone decides, and statements it covered are held for review again`);
    if (this.#timers.size === 0) this.#stopListening();
  }
}
