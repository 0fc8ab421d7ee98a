/**
 * The wait before try `attempt + 1` of something retried (Slack calls, webhook deliveries): `baseMs`
 * doubling per try up to `maxMs`, plus up to a fifth more at random, so the retries of many items
 * failed by one outage do not all arrive together when it ends.
 */
export function backoff(attempt: number, limits: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const wait = Math.min(limits.baseMs * 2 ** (attempt - 1), limits.maxMs);
  return wait + Math.floor(random() * wait * 0.2);
}
