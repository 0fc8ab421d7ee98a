import type { WebhookDelivery } from "../db/schema";
import { logger } from "../log";
import type { Webhook } from "../policy/notify";
import type { Held, WebhookOutbox } from "./outbox";
import { MAX_TRIES, RETRY_LIMITS, retryDelay, TRY_TIMEOUT_MS } from "./retry";
import { tryDelivery } from "./send";

const log = logger("webhooks");

/** What became of one try, for `/metrics`. */
export type TryOutcome = "delivered" | "retry" | "give_up";

export interface DispatcherOptions {
  outbox: WebhookOutbox;
  /** The webhooks of the policy in force: each try reads its URL and key from there. */
  webhooks(): readonly Webhook[];
  /** Told of every try's outcome. */
  tried?(webhook: string, type: string, outcome: TryOutcome): void;
  /** Shorter in tests. */
  timing?: Partial<DispatcherTiming>;
}

export interface DispatcherTiming {
  /** How often the store is looked at for deliveries due: others' events, retries, holds of instances gone. */
  pollMs: number;
  tryTimeoutMs: number;
  /** A hold outlasts a try, with room for clocks a few seconds apart; an instance that dies holding one frees it then. */
  holdMs: number;
  retry: { baseMs: number; maxMs: number };
  maxTries: number;
}

export const DEFAULT_TIMING: DispatcherTiming = { pollMs: 1_000, tryTimeoutMs: TRY_TIMEOUT_MS, holdMs: 3 * TRY_TIMEOUT_MS, retry: RETRY_LIMITS, maxTries: MAX_TRIES };

/** Tries under way at once on one instance, and for one webhook: a receiver that hangs holds at most its share. */
export const MAX_IN_FLIGHT = 16;
export const MAX_IN_FLIGHT_PER_WEBHOOK = 4;

/**
 * Delivers what the outbox holds. Every instance on the store runs one; each delivery is tried by
 * one instance at a time (WebhookOutbox.claim), so a receiver hears an event once unless a try's
 * answer is lost (then again, with the same `webhook-id`). It runs on its own timers, apart from
 * statements and decisions, which only ever write rows for it; a slow or dead receiver costs it
 * a slot per try, never anyone else's time.
 */
export class WebhookDispatcher {
  readonly #timing: DispatcherTiming;
  readonly #inFlight = new Map<number, { webhook: string; done: Promise<void> }>();
  readonly #stop = new AbortController();
  #poll: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #again = false;

  constructor(private readonly options: DispatcherOptions) {
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  start(): this {
    this.#poll = setInterval(() => this.wake(), this.#timing.pollMs);
    this.#poll.unref();
    this.wake();
    return this;
  }

  /** Looks for deliveries due now (a pass under way looks once more when it ends). */
  wake(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.#passes().finally(() => (this.#pass = undefined));
  }

  /** Resolves once no pass or try is under way (tests, and a tidy shutdown). */
  async idle(): Promise<void> {
    while (this.#pass || this.#inFlight.size > 0) await Promise.all([this.#pass, ...[...this.#inFlight.values()].map((t) => t.done)]);
  }

  /** Stops: tries under way are cut short, to be made again by whichever instance runs next. */
  async close(): Promise<void> {
    clearInterval(this.#poll);
    this.#stop.abort();
    await this.idle();
  }

  async #passes(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#claimDue();
      } catch (err) {
        log.error("looking for deliveries due failed; the next poll tries again", { err });
      }
    } while (this.#again && !this.#stop.signal.aborted);
  }

  async #claimDue(): Promise<void> {
    const free = MAX_IN_FLIGHT - this.#inFlight.size;
    if (free <= 0) return;
    // Busy webhooks' deliveries are not even read: a hanging receiver's backlog must not hide the others'.
    // More than the free slots: some may be another instance's to try.
    for (const row of await this.options.outbox.due(free * 2, this.#busy())) {
      if (this.#inFlight.size >= MAX_IN_FLIGHT || this.#stop.signal.aborted) return;
      if (this.#inFlight.has(row.id) || this.#busy().includes(row.webhook)) continue;
      const held = await this.options.outbox.claim(row.id, this.#timing.holdMs);
      if (!held) continue;
      const done = this.#deliver(held).finally(() => {
        this.#inFlight.delete(row.id);
        // A slot is free: what waited for one need not wait for the next poll.
        this.wake();
      });
      this.#inFlight.set(row.id, { webhook: row.webhook, done });
    }
  }

  /** Webhooks with MAX_IN_FLIGHT_PER_WEBHOOK tries under way here. */
  #busy(): string[] {
    const counts = new Map<string, number>();
    for (const t of this.#inFlight.values()) counts.set(t.webhook, (counts.get(t.webhook) ?? 0) + 1);
    return [...counts].filter(([, n]) => n >= MAX_IN_FLIGHT_PER_WEBHOOK).map(([webhook]) => webhook);
  }

  async #deliver(held: Held): Promise<void> {
    const { row } = held;
    const { outbox } = this.options;
    try {
      const webhook = this.options.webhooks().find((w) => w.name === row.webhook);
      if (!webhook) return await this.#giveUp(held, `no webhook named "${row.webhook}" in the policy any more`);
      const result = await tryDelivery(webhook, row, { timeoutMs: this.#timing.tryTimeoutMs, signal: this.#stop.signal });
      if (result.delivered) {
        if (await outbox.delivered(held)) this.options.tried?.(row.webhook, row.type, "delivered");
        return;
      }
      // Cut short by shutdown: not the receiver's failure; due again at once, for whichever instance runs next.
      if (this.#stop.signal.aborted) return void (await outbox.retryAt(held, new Date(), result.error));
      const wait = result.retry ? retryDelay(row.attempts, result.retryAfterMs, this.#timing.retry, this.#timing.maxTries) : undefined;
      if (wait === undefined) return await this.#giveUp(held, result.retry ? `${result.error} (after ${row.attempts} tries)` : `${result.error} (not retried)`);
      if (await outbox.retryAt(held, new Date(Date.now() + wait), result.error)) this.options.tried?.(row.webhook, row.type, "retry");
      log.debug(`a try failed: ${result.error}; retrying in ${Math.round(wait / 1000)} s`, fields(row));
    } catch (err) {
      // The store failed: the hold ends by itself and the delivery is tried again then.
      log.error("recording a try failed; it will be tried again", { ...fields(row), err });
    }
  }

  async #giveUp(held: Held, error: string): Promise<void> {
    if (!(await this.options.outbox.failed(held, error))) return;
    this.options.tried?.(held.row.webhook, held.row.type, "give_up");
    log.warn(`gave up a delivery: ${error}`, fields(held.row));
  }
}

/** A delivery as the log names it: the webhook's name, never its URL (which may carry a token). */
function fields(row: WebhookDelivery): Record<string, unknown> {
  return { webhook: row.webhook, type: row.type, event: row.eventId, tries: row.attempts };
}
