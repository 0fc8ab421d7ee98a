import { and, eq, isNotNull, ne } from "drizzle-orm";
import type { Store } from "../db/client";
import type { SlackRollup } from "../db/schema";
import { afterFailure, atVersion, leaseEnd, versionOf, type Version } from "./lease";

/**
 * Where each agent's summary message is and what it says, kept in the store so it is updated after
 * a restart too. As with requests' messages, a call about a summary is made only under a hold
 * (lib/slack/lease.ts), so instances sharing the store never post two or update out of order.
 */
export class SlackRollupStore {
  constructor(private readonly store: Store) {}

  async get(channel: string, agentId: string): Promise<SlackRollup | undefined> {
    const { slackRollups } = this.store.tables;
    return (await this.store.db.select().from(slackRollups).where(this.#key(channel, agentId)).limit(1))[0];
  }

  /** Holds the summary as read in `seen` (undefined: there was none yet) for this instance's call; undefined if it changed since. */
  async claim(channel: string, agentId: string, seen: SlackRollup | undefined): Promise<Version | undefined> {
    const { slackRollups } = this.store.tables;
    const from = seen && versionOf(seen);
    const at = leaseEnd(from);
    const updatedAt = new Date(at);
    const done = from
      ? await this.#write(channel, agentId, from, { updatedAt })
      : (await this.store.db.insert(slackRollups).values({ channel, agentId, updatedAt }).onConflictDoNothing().returning({ at: slackRollups.updatedAt })).length > 0;
    return done ? { at, ts: from?.ts ?? null } : undefined;
  }

  /** The summary now shows `shown`; a new post also records where it is (replacing an earlier, finished one). The hold ends. */
  async sent(channel: string, agentId: string, held: Version, shown: string, posted?: { postedChannel: string; ts: string }): Promise<boolean> {
    return this.#write(channel, agentId, held, { shown, updatedAt: new Date(), ...posted });
  }

  /**
   * Ends the hold: a call failed, or there was nothing to call for after all. With `retryAt` the
   * holder tries again then and keeps it till a while after (the version returned), so no other
   * instance calls Slack before the Retry-After its holder was told to wait out.
   */
  async release(channel: string, agentId: string, held: Version, retryAt?: number): Promise<Version | undefined> {
    const at = afterFailure(retryAt);
    return (await this.#write(channel, agentId, held, { updatedAt: new Date(at) })) ? { at, ts: held.ts } : undefined;
  }

  /** Summaries that still count waiting requests: after a restart some of those may have ended. */
  counting(): Promise<Array<Pick<SlackRollup, "channel" | "agentId">>> {
    const { slackRollups } = this.store.tables;
    return this.store.db
      .select({ channel: slackRollups.channel, agentId: slackRollups.agentId })
      .from(slackRollups)
      .where(and(isNotNull(slackRollups.ts), ne(slackRollups.shown, "0")));
  }

  async #write(channel: string, agentId: string, version: Version, values: Partial<SlackRollup>): Promise<boolean> {
    const { slackRollups } = this.store.tables;
    const rows = await this.store.db
      .update(slackRollups)
      .set(values)
      .where(and(this.#key(channel, agentId), atVersion(slackRollups, version)))
      .returning({ at: slackRollups.updatedAt });
    return rows.length > 0;
  }

  #key(channel: string, agentId: string) {
    const { slackRollups } = this.store.tables;
    return and(eq(slackRollups.channel, channel), eq(slackRollups.agentId, agentId));
  }
}
