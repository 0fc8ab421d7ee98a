import { and, count, eq, inArray, isNotNull, max, ne, or, sql, type SQL } from "drizzle-orm";
import type { Store, StoreScope } from "../db/client";
import type { AccessRequest, SlackMessage } from "../db/schema";
import { afterFailure, atVersion, leaseEnd, versionOf, type Version } from "./lease";
import type { Waiting } from "./throttle";

/**
 * Where each request's Slack message is and how its last call went. Kept in the store, so after a
 * restart the same message is updated, and the request page can say when Slack failed. Every
 * instance on the store works on these rows: a call is made only under a hold (lib/slack/lease.ts),
 * and each write after one compares the version it holds, returning whether it still did.
 */
export class SlackMessageStore {
  constructor(private readonly store: Store) {}

  async get(requestId: string): Promise<SlackMessage | undefined> {
    const { slackMessages } = this.store.tables;
    return (await this.store.db.select().from(slackMessages).where(eq(slackMessages.requestId, requestId)).limit(1))[0];
  }

  /**
   * The first time a request is seen: weighs it with `ownMessage` against its agent's other
   * requests and records the answer, a message of its own (held by this instance, to post) or a
   * place in the agent's summary in `channel`. Under the agent's lock, so a burst is weighed one
   * request at a time whichever instances hear it. Undefined when another instance got there first.
   */
  first(request: Pick<AccessRequest, "id" | "agentId">, channel: string, ownMessage: (waiting: Waiting) => boolean): Promise<SlackMessage | undefined> {
    return this.store.transaction(async (tx) => {
      await tx.lock(`slack-burst:${request.agentId}`);
      const { slackMessages } = tx.tables;
      const [known] = await tx.db.select({ id: slackMessages.requestId }).from(slackMessages).where(eq(slackMessages.requestId, request.id)).limit(1);
      if (known) return undefined;
      const row = ownMessage(await waiting(tx, request.agentId, channel, request.id))
        ? { state: "sending" as const, attempts: 1, updatedAt: new Date(leaseEnd(undefined)) }
        : { state: "rolled_up" as const, updatedAt: new Date() };
      return (await tx.db.insert(slackMessages).values({ requestId: request.id, channel, ...row }).onConflictDoNothing().returning())[0];
    });
  }

  /** Holds a message as read in `seen` for this instance's call, attempt `attempt`; undefined if it changed since. */
  async claim(seen: SlackMessage, attempt: number): Promise<Version | undefined> {
    const from = versionOf(seen);
    const at = leaseEnd(from);
    const done = await this.#write(seen.requestId, from, { state: "sending", attempts: attempt, updatedAt: new Date(at) });
    return done ? { at, ts: seen.ts } : undefined;
  }

  /** The message now shows `shown` (a first post also learns the channel's id and the message's ts); the hold ends. */
  sent(requestId: string, held: Version, shown: string, posted?: { channel: string; ts: string }): Promise<boolean> {
    return this.#write(requestId, held, { state: "sent", shown, error: null, updatedAt: new Date(), ...posted });
  }

  /**
   * A call failed, or there is nothing left to call for (given `held` or as last read). With
   * `retryAt` it is tried again then, and stays held till a while after (the version returned),
   * so no other instance calls Slack before the Retry-After its holder was told to wait out.
   */
  async failed(requestId: string, held: Version, error: string, retryAt?: number): Promise<Version | undefined> {
    const at = afterFailure(retryAt);
    const done = await this.#write(requestId, held, { state: retryAt === undefined ? "failed" : "sending", error, updatedAt: new Date(at) });
    return done ? { at, ts: held.ts } : undefined;
  }

  /** A failure before any call could be made (no channel to post to); `seen` as last read, if there was a row. */
  async refused(requestId: string, seen: SlackMessage | undefined, error: string): Promise<void> {
    const { slackMessages } = this.store.tables;
    const updatedAt = new Date();
    if (seen) await this.#write(requestId, versionOf(seen), { state: "failed", error, updatedAt });
    else await this.store.db.insert(slackMessages).values({ requestId, channel: "", state: "failed", error, updatedAt }).onConflictDoNothing();
  }

  /** The agent's requests rolled up into its summary in `channel` that are still pending. */
  rolledUpPending(agentId: string, channel: string): Promise<number> {
    return rolledUpOf(this.store, agentId, channel);
  }

  /**
   * Posted messages that may not show their request as it is now: a call was cut short, an
   * instance died holding it, or the request changed while nobody was listening (a restart
   * cancels what was pending).
   */
  async outOfDate(): Promise<string[]> {
    const { slackMessages, accessRequests } = this.store.tables;
    const rows = await this.store.db
      .select({ requestId: slackMessages.requestId })
      .from(slackMessages)
      .innerJoin(accessRequests, eq(accessRequests.id, slackMessages.requestId))
      .where(and(isNotNull(slackMessages.ts), or(ne(slackMessages.state, "sent"), sql`${slackMessages.shown} not like ${accessRequests.status} || ':%'`)));
    return rows.map((r) => r.requestId);
  }

  /** Writes `values` if the row is still at `version`: whether it was. */
  async #write(requestId: string, version: Version, values: Partial<SlackMessage>): Promise<boolean> {
    const { slackMessages } = this.store.tables;
    const rows = await this.store.db
      .update(slackMessages)
      .set(values)
      .where(and(eq(slackMessages.requestId, requestId), atVersion(slackMessages, version)))
      .returning({ id: slackMessages.requestId });
    return rows.length > 0;
  }
}

/** The agent's other pending requests, and its last message of its own, as the throttle weighs them for a new one in `channel`. */
async function waiting(scope: StoreScope, agentId: string, channel: string, exceptRequestId: string): Promise<Waiting> {
  const { slackMessages, accessRequests } = scope.tables;
  const ownMessage = inArray(slackMessages.state, ["sending", "sent"]);
  // Read here, not remembered by the instance that posted: any instance may weigh the agent's next request.
  const [last] = await scope.db
    .select({ at: max(accessRequests.createdAt) })
    .from(slackMessages)
    .innerJoin(accessRequests, eq(accessRequests.id, slackMessages.requestId))
    .where(and(eq(accessRequests.agentId, agentId), ne(slackMessages.requestId, exceptRequestId), ownMessage));
  return {
    own: await pendingOf(scope, agentId, exceptRequestId, ownMessage),
    rolledUp: await rolledUpOf(scope, agentId, channel),
    lastOwnAt: last?.at?.getTime(),
  };
}

function rolledUpOf(scope: StoreScope, agentId: string, channel: string): Promise<number> {
  const { slackMessages } = scope.tables;
  return pendingOf(scope, agentId, undefined, and(eq(slackMessages.state, "rolled_up"), eq(slackMessages.channel, channel)));
}

async function pendingOf(scope: StoreScope, agentId: string, exceptRequestId: string | undefined, which: SQL | undefined): Promise<number> {
  const { slackMessages, accessRequests } = scope.tables;
  const [row] = await scope.db
    .select({ n: count() })
    .from(slackMessages)
    .innerJoin(accessRequests, eq(accessRequests.id, slackMessages.requestId))
    .where(and(eq(accessRequests.agentId, agentId), eq(accessRequests.status, "pending"), exceptRequestId ? ne(slackMessages.requestId, exceptRequestId) : undefined, which));
  return row?.n ?? 0;
}
