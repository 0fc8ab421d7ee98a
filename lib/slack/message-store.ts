import { and, count, eq, inArray, isNotNull, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { accessRequests, slackMessages, type SlackMessage } from "../db/schema";
import type { Waiting } from "./throttle";

/**
 * Where each request's Slack message is and how its last call went. Kept in the store, so after a
 * restart the same message is updated, and the request page can say when Slack failed.
 */
export class SlackMessageStore {
  constructor(private readonly db: Db) {}

  get(requestId: string): SlackMessage | undefined {
    return this.db.select().from(slackMessages).where(eq(slackMessages.requestId, requestId)).get();
  }

  /** A call is about to be made; `channel` is where a first post goes. */
  sending(requestId: string, channel: string, attempt: number): void {
    const now = new Date();
    this.db
      .insert(slackMessages)
      .values({ requestId, channel, state: "sending", attempts: attempt, updatedAt: now })
      .onConflictDoUpdate({ target: slackMessages.requestId, set: { state: "sending", attempts: attempt, updatedAt: now } })
      .run();
  }

  /** The message now shows `shown`; a first post also learns the channel's id and the message's ts. */
  sent(requestId: string, shown: string, posted?: { channel: string; ts: string }): void {
    this.db
      .update(slackMessages)
      .set({ state: "sent", shown, error: null, updatedAt: new Date(), ...posted })
      .where(eq(slackMessages.requestId, requestId))
      .run();
  }

  failed(requestId: string, error: string, gaveUp: boolean): void {
    this.db
      .update(slackMessages)
      .set({ state: gaveUp ? "failed" : "sending", error, updatedAt: new Date() })
      .where(eq(slackMessages.requestId, requestId))
      .run();
  }

  /** A failure before any call could be made (no channel to post to). */
  refused(requestId: string, error: string): void {
    this.db
      .insert(slackMessages)
      .values({ requestId, channel: "", state: "failed", error, updatedAt: new Date() })
      .onConflictDoUpdate({ target: slackMessages.requestId, set: { state: "failed", error, updatedAt: new Date() } })
      .run();
  }

  /** One of a burst: counted in its agent's summary in `channel` (as configured), not posted on its own. */
  rolledUp(requestId: string, channel: string): void {
    this.db.insert(slackMessages).values({ requestId, channel, state: "rolled_up", updatedAt: new Date() }).run();
  }

  /** The agent's other pending requests, as the throttle weighs them for a new one in `channel`. */
  waiting(agentId: string, channel: string, exceptRequestId: string): Waiting {
    return {
      own: this.#pendingOf(agentId, exceptRequestId, inArray(slackMessages.state, ["sending", "sent"])),
      rolledUp: this.rolledUpPending(agentId, channel),
    };
  }

  /** The agent's requests rolled up into its summary in `channel` that are still pending. */
  rolledUpPending(agentId: string, channel: string): number {
    return this.#pendingOf(agentId, undefined, and(eq(slackMessages.state, "rolled_up"), eq(slackMessages.channel, channel)));
  }

  #pendingOf(agentId: string, exceptRequestId: string | undefined, which: SQL | undefined): number {
    const row = this.db
      .select({ n: count() })
      .from(slackMessages)
      .innerJoin(accessRequests, eq(accessRequests.id, slackMessages.requestId))
      .where(and(eq(accessRequests.agentId, agentId), eq(accessRequests.status, "pending"), exceptRequestId ? ne(slackMessages.requestId, exceptRequestId) : undefined, which))
      .get();
    return row?.n ?? 0;
  }

  /**
   * Posted messages that may not show their request as it is now: a call was cut short, or the
   * request changed while nobody was listening (a restart cancels what was pending).
   */
  outOfDate(): string[] {
    return this.db
      .select({ requestId: slackMessages.requestId })
      .from(slackMessages)
      .innerJoin(accessRequests, eq(accessRequests.id, slackMessages.requestId))
      .where(and(isNotNull(slackMessages.ts), or(ne(slackMessages.state, "sent"), sql`${slackMessages.shown} not like ${accessRequests.status} || ':%'`)))
      .all()
      .map((r) => r.requestId);
  }
}
