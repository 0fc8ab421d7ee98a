import { webApi } from "@slack/bolt";
import { backoff } from "../backoff";

/** Bounded: a post that still fails after this many attempts is given up, and the request page says so. */
export const MAX_ATTEMPTS = 6;
/** The first retry waits this long; each further one twice as long, up to MAX_DELAY_MS. */
export const BASE_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 60_000;
/** Slack's Retry-After is honoured as given, up to this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Slack's own words for "try again later" when it answers 200 with ok: false. */
const TRANSIENT_PLATFORM_ERRORS = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

/**
 * How long to wait before attempt `attempt + 1`, or undefined when retrying cannot help (a
 * permanent error such as `channel_not_found`, or the attempts are used up).
 */
export function retryDelay(err: unknown, attempt: number, random: () => number = Math.random): number | undefined {
  if (attempt >= MAX_ATTEMPTS) return undefined;
  if (err instanceof webApi.WebAPIRateLimitedError) return Math.min(err.retryAfter * 1000, MAX_RETRY_AFTER_MS);
  if (!isTransient(err)) return undefined;
  return backoff(attempt, { baseMs: BASE_DELAY_MS, maxMs: MAX_DELAY_MS }, random);
}

function isTransient(err: unknown): boolean {
  if (err instanceof webApi.WebAPIRequestError) return true; // unreachable, reset, timed out
  if (err instanceof webApi.WebAPIHTTPError) return err.statusCode >= 500 || err.statusCode === 408;
  if (err instanceof webApi.WebAPIPlatformError) return TRANSIENT_PLATFORM_ERRORS.has(err.data.error);
  return false;
}

/** A failure in words for the request page and the log (never the token). */
export function describeSlackError(err: unknown): string {
  if (err instanceof webApi.WebAPIRateLimitedError) return `rate limited (Retry-After ${err.retryAfter} s)`;
  if (err instanceof webApi.WebAPIHTTPError) return `HTTP ${err.statusCode}${err.statusMessage ? ` ${err.statusMessage}` : ""}`;
  if (err instanceof webApi.WebAPIPlatformError) return err.data.error;
  if (err instanceof webApi.WebAPIRequestError) return `unreachable (${err.original.message})`;
  return err instanceof Error ? err.message : String(err);
}

/** Posts a message, retrying what retrying can help (retryDelay), then giving up with a log line: for posts nothing else waits on. */
export async function postWithRetries(client: webApi.WebClient, args: webApi.ChatPostMessageArguments, what: string, delay: typeof retryDelay = retryDelay): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.chat.postMessage(args);
      return;
    } catch (err) {
      const wait = delay(err, attempt);
      console.warn(`[slack] ${what}: ${describeSlackError(err)} (attempt ${attempt})${wait === undefined ? "; giving up" : `; retrying in ${wait} ms`}`);
      if (wait === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }
}
