import { and, eq, isNotNull, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { slackRollups, type SlackRollup } from "../db/schema";

/** Where each agent's summary message is and what it says, kept in the store so it is updated after a restart too. */
export class SlackRollupStore {
  constructor(private readonly db: Db) {}

  get(channel: string, agentId: string): SlackRollup | undefined {
    return this.db
      .select()
      .from(slackRollups)
      .where(and(eq(slackRollups.channel, channel), eq(slackRollups.agentId, agentId)))
      .get();
  }

  /** The summary now shows `shown`; a new post also records where it is (replacing an earlier, finished one). */
  sent(channel: string, agentId: string, shown: string, posted?: { postedChannel: string; ts: string }): void {
    const updatedAt = new Date();
    this.db
      .insert(slackRollups)
      .values({ channel, agentId, shown, updatedAt, ...posted })
      .onConflictDoUpdate({ target: [slackRollups.channel, slackRollups.agentId], set: { shown, updatedAt, ...posted } })
      .run();
  }

  /** Summaries that still count waiting requests: after a restart some of those may have ended. */
  counting(): Array<Pick<SlackRollup, "channel" | "agentId">> {
    return this.db
      .select({ channel: slackRollups.channel, agentId: slackRollups.agentId })
      .from(slackRollups)
      .where(and(isNotNull(slackRollups.ts), ne(slackRollups.shown, "0")))
      .all();
  }
}
