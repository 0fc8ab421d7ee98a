import { and, asc, count, eq, lt, lte, ne, notInArray, sql } from "drizzle-orm";
import type { Store, StoreScope } from "../db/client";
import type { WebhookDelivery } from "../db/schema";

export type NewDelivery = Pick<WebhookDelivery, "eventId" | "type" | "webhook" | "body">;

/** A delivery as this instance holds it for one try: every write after the try checks the hold is still its own. */
export interface Held {
  row: WebhookDelivery;
  until: Date;
}

/**
 * The deliveries in the store (the webhook_deliveries table). Rows are written in the transaction
 * that records their event (lib/webhooks/queue.ts) and tried by whichever instance claims them:
 * a claim is one conditional update (due, and pending), so of instances claiming at once one
 * wins, on SQLite (one writer) and on PostgreSQL (the loser's update re-reads the row the winner
 * changed, and no longer matches). A hold ends by itself, so a crashed instance's tries are taken
 * up by the living. Unlike a Slack message (lib/slack/lease.ts), a delivery has no state to keep
 * in step, only a try to make once at a time, so no versions are needed beyond the hold's end.
 */
export class WebhookOutbox {
  constructor(private readonly store: Store) {}

  /** Queues deliveries in the caller's transaction; an event already queued for a webhook is left as it is. */
  async enqueue(scope: StoreScope, deliveries: readonly NewDelivery[], now = new Date()): Promise<void> {
    if (deliveries.length === 0) return;
    const { webhookDeliveries } = scope.tables;
    await scope.db
      .insert(webhookDeliveries)
      .values(deliveries.map((d) => ({ ...d, state: "pending" as const, attempts: 0, nextAttemptAt: now, createdAt: now })))
      .onConflictDoNothing();
  }

  /** Deliveries due for a try, the longest waiting first, but none for the webhooks in `except`. */
  due(limit: number, except: readonly string[] = [], now = new Date()): Promise<WebhookDelivery[]> {
    const { webhookDeliveries: d } = this.store.tables;
    const others = except.length > 0 ? notInArray(d.webhook, [...except]) : undefined;
    return this.store.db.select().from(d).where(and(eq(d.state, "pending"), lte(d.nextAttemptAt, now), others)).orderBy(asc(d.nextAttemptAt), asc(d.id)).limit(limit);
  }

  /** Holds a due delivery for one try until `now + holdMs` (the try is counted); undefined if another instance has it. */
  async claim(id: number, holdMs: number, now = new Date()): Promise<Held | undefined> {
    const { webhookDeliveries: d } = this.store.tables;
    const until = new Date(now.getTime() + holdMs);
    const [row] = await this.store.db
      .update(d)
      .set({ nextAttemptAt: until, attempts: sql`${d.attempts} + 1` })
      .where(and(eq(d.id, id), eq(d.state, "pending"), lte(d.nextAttemptAt, now)))
      .returning();
    return row && { row, until };
  }

  delivered(held: Held, now = new Date()): Promise<boolean> {
    return this.#write(held, { state: "delivered", endedAt: now, lastError: null });
  }

  /** The try failed; the next is due at `at`. */
  retryAt(held: Held, at: Date, error: string): Promise<boolean> {
    return this.#write(held, { nextAttemptAt: at, lastError: error });
  }

  failed(held: Held, error: string, now = new Date()): Promise<boolean> {
    return this.#write(held, { state: "failed", endedAt: now, lastError: error });
  }

  /** Deliveries still to be made, per webhook (`/metrics`): a growing number is a receiver not keeping up. */
  async backlog(): Promise<Array<{ webhook: string; n: number }>> {
    const { webhookDeliveries: d } = this.store.tables;
    return this.store.db.select({ webhook: d.webhook, n: count() }).from(d).where(eq(d.state, "pending")).groupBy(d.webhook);
  }

  /** Removes delivered and failed deliveries that ended before `before`: the audit trail keeps what happened. */
  async prune(before: Date): Promise<number> {
    const { webhookDeliveries: d } = this.store.tables;
    const rows = await this.store.db.delete(d).where(and(ne(d.state, "pending"), lt(d.endedAt, before))).returning({ id: d.id });
    return rows.length;
  }

  /** Writes `values` if this instance still holds the delivery: whether it did (a try that outlived its hold may have been taken over). */
  async #write(held: Held, values: Partial<WebhookDelivery>): Promise<boolean> {
    const { webhookDeliveries: d } = this.store.tables;
    const rows = await this.store.db
      .update(d)
      .set(values)
      .where(and(eq(d.id, held.row.id), eq(d.state, "pending"), eq(d.nextAttemptAt, held.until)))
      .returning({ id: d.id });
    return rows.length > 0;
  }
}
