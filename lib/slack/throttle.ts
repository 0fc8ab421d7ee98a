/**
 * One agent's burst must neither flood a channel nor hold up other agents' messages. The rule: a
 * new request gets a message of its own when its agent has fewer than OWN_AT_ONCE others waiting
 * with messages of their own, or its agent's last message of its own is at least POST_INTERVAL_MS
 * old; and never while the agent's summary in that channel is counting requests. Otherwise it is
 * rolled up: counted in the agent's one summary message in that channel ("and 17 more requests
 * from ops-agent — open the queue"), which is updated as requests come and go and is never turned
 * into individual posts later (that would flood the channel all the same, only slower). Agents are
 * throttled apart, so another agent's request is posted at once.
 */
export const POST_INTERVAL_MS = 5_000;
/** An agent running a few statements side by side is not a burst: each still gets its buttons in Slack. */
export const OWN_AT_ONCE = 3;

/** What the store says about the agent's other requests (lib/slack/message-store.ts's first(), under the agent's lock). */
export interface Waiting {
  /** Pending requests of the agent with a message of their own (any channel). */
  own: number;
  /** Pending requests of the agent rolled up into its summary in this request's channel. */
  rolledUp: number;
  /** When the agent's newest request with a message of its own (any channel, pending or not) was made, in ms; undefined if none. */
  lastOwnAt: number | undefined;
}

/**
 * Whether the agent's new request gets a message of its own. Everything weighed is the store's, not
 * one instance's memory: with several instances, an instance that has not posted for the agent yet
 * must not take a burst for the agent's first requests (nor must an instance just restarted).
 */
export function ownMessage(waiting: Waiting, now = Date.now()): boolean {
  const { own, rolledUp, lastOwnAt } = waiting;
  return rolledUp === 0 && (own < OWN_AT_ONCE || lastOwnAt === undefined || now - lastOwnAt >= POST_INTERVAL_MS);
}
