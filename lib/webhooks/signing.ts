import { createHmac } from "node:crypto";

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com, "Verifying webhook
 * authenticity"): HMAC-SHA256 over `id.timestamp.body`, base64, as `v1,<signature>`. Receivers
 * check it with any Standard Webhooks library, or a few lines (docs/webhooks.md). The timestamp is
 * the try's, not the event's, so a receiver can refuse old replays while retries stay valid.
 */
export function signedHeaders(key: Buffer, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
