import { backoff } from "../backoff";

/** One try waits this long for the receiver's answer (its status line and headers); a hang then counts as a failed try. */
export const TRY_TIMEOUT_MS = 10_000;
/**
 * Tries per delivery: 5 s after the first failure, doubling up to 15 minutes apart, so the last
 * of 11 tries is made about 51 minutes (up to an hour with jitter) after the first; then it is
 * given up. A receiver down for an hour gets what happened meanwhile; longer than that, the audit
 * trail (lib/audit) is the record to reconcile from.
 */
export const MAX_TRIES = 11;
export const RETRY_LIMITS = { baseMs: 5_000, maxMs: 15 * 60_000 };
/** A receiver's Retry-After (429, 503) is honoured up to this; further off, the delivery is retried anyway then. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** How long before try `attempt + 1` (undefined: give up), honouring the receiver's Retry-After when it asks for longer. */
export function retryDelay(attempt: number, retryAfterMs?: number, limits = RETRY_LIMITS, maxTries = MAX_TRIES, random: () => number = Math.random): number | undefined {
  if (attempt >= maxTries) return undefined;
  const wait = backoff(attempt, limits, random);
  return retryAfterMs === undefined ? wait : Math.max(wait, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/**
 * Whether an answer is worth another try: the receiver is failing (5xx), timed out (408) or
 * busy (429). Any other refusal (400, 401, 404, 410…) would be refused again: retrying only adds load.
 */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
