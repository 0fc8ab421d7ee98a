import type { Webhook } from "../policy/notify";
import { isRetryable, parseRetryAfter } from "./retry";
import { signedHeaders } from "./signing";

/** What one try came to: delivered, or a failure in words and whether another try may help. */
export type TryResult = { delivered: true; status: number } | { delivered: false; retry: boolean; error: string; retryAfterMs?: number };

/** The structured content mode of the CloudEvents HTTP binding: the body is the whole event. */
export const CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";

/**
 * POSTs one delivery, signed for this try. Redirects are not followed (a 3xx is a refusal): a
 * signed event goes only where the policy says. The answer's body is never read, only its status:
 * a receiver's reply has nothing Airlock needs, and reading it could take any time.
 */
export async function tryDelivery(webhook: Webhook, delivery: { eventId: string; body: string }, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TryResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const res = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": CONTENT_TYPE, "user-agent": "Airlock-Webhooks", ...signedHeaders(webhook.key, delivery.eventId, delivery.body) },
      body: delivery.body,
      redirect: "manual",
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { delivered: true, status: res.status };
    const error = `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`;
    return { delivered: false, retry: isRetryable(res.status), error, retryAfterMs: parseRetryAfter(res.headers.get("retry-after")) };
  } catch (err) {
    if (timeout.aborted) return { delivered: false, retry: true, error: `no answer within ${options.timeoutMs / 1000} s` };
    if (options.signal?.aborted) return { delivered: false, retry: true, error: "interrupted: Airlock was shutting down" };
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    return { delivered: false, retry: true, error: `unreachable (${cause?.code ?? cause?.message ?? (err as Error).message})` };
  }
}
