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

/** What the store says about the agent's other pending requests. */
export interface Waiting {
  /** Pending requests of the agent with a message of their own (any channel). */
  own: number;
  /** Pending requests of the agent rolled up into its summary in this request's channel. */
  rolledUp: number;
}

/**
 * When each agent last got a message of its own; in memory, so after a restart one more may be
 * posted, and with several instances each keeps its own interval (the counts it weighs, and so
 * OWN_AT_ONCE and the summary, are the store's and shared: lib/slack/message-store.ts's first()).
 */
export class PostThrottle {
  readonly #lastPost = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether the agent's new request gets a message of its own; if it does, that counts as the agent's post. */
  ownMessage(agentId: string, waiting: Waiting): boolean {
    const now = this.now();
    const last = this.#lastPost.get(agentId);
    const own = waiting.rolledUp === 0 && (waiting.own < OWN_AT_ONCE || last === undefined || now - last >= POST_INTERVAL_MS);
    if (own) this.#lastPost.set(agentId, now);
    return own;
  }
}
