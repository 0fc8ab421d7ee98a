import type { Store } from "../db/client";
import type { Webhook } from "../policy/notify";

/** One webhook's deliveries as the status page shows them (from the store: every instance's). */
export interface WebhookStatus {
  name: string;
  events: readonly string[];
  /** Not made yet; `retrying` of them have failed at least once. */
  waiting: number;
  retrying: number;
  deliveredLastDay: number;
  failedLastDay: number;
}

export interface WebhookFailure {
  webhook: string;
  type: string;
  eventId: string;
  error: string;
  at: Date;
}

const DAY_MS = 24 * 3600_000;
const RECENT_FAILURES = 5;

const COUNTS = `select webhook, state, case when last_error is null then 0 else 1 end as failing, count(*) as n
  from webhook_deliveries where state = 'pending' or ended_at > ? group by webhook, state, case when last_error is null then 0 else 1 end`;
const FAILURES = `select webhook, type, event_id as "eventId", last_error as error, ended_at as at
  from webhook_deliveries where state = 'failed' and ended_at > ? order by ended_at desc limit ${RECENT_FAILURES}`;

/**
 * Each webhook of the policy with what is waiting for it and what became of the last day's
 * deliveries, and the newest deliveries given up: whether receivers get what Airlock sends.
 */
export async function webhookStatus(store: Store, webhooks: readonly Webhook[], now = new Date()): Promise<{ webhooks: WebhookStatus[]; recentFailures: WebhookFailure[] }> {
  const since = now.getTime() - DAY_MS;
  const [counts, failures] = await Promise.all([
    store.sql.all<{ webhook: string; state: string; failing: number; n: number }>(COUNTS, [since]),
    store.sql.all<{ webhook: string; type: string; eventId: string; error: string | null; at: number }>(FAILURES, [since]),
  ]);
  const sum = (name: string, state: string, failing?: number) =>
    counts.filter((c) => c.webhook === name && c.state === state && (failing === undefined || Number(c.failing) === failing)).reduce((n, c) => n + Number(c.n), 0);
  return {
    webhooks: webhooks.map((w) => ({ name: w.name, events: w.events, waiting: sum(w.name, "pending"), retrying: sum(w.name, "pending", 1), deliveredLastDay: sum(w.name, "delivered"), failedLastDay: sum(w.name, "failed") })),
    recentFailures: failures.map((f) => ({ ...f, error: f.error ?? "no reason kept", at: new Date(Number(f.at)) })),
  };
}
