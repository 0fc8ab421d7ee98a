/**
 * Requests one agent may have waiting for people at once (held statements and access asked for).
 * A person reviews a handful at a time; twenty covers a pool of held connections or a batch of
 * asks, and keeps one runaway agent from burying every other agent's requests in the queue.
 */
export const DEFAULT_MAX_PENDING_PER_AGENT = 20;

/** The agent already has as many pending requests as it may: nothing new is opened. */
export class TooManyPendingError extends Error {
  constructor(
    readonly agentId: string,
    readonly limit: number,
  ) {
    super(`airlock: ${agentId} already has ${limit} requests waiting for approval, the most allowed (AIRLOCK_MAX_PENDING_PER_AGENT); wait for one to be decided, or withdraw one`);
    this.name = "TooManyPendingError";
  }
}
