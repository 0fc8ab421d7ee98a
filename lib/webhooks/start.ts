import type { Store } from "../db/client";
import { logger } from "../log";
import type { AirlockMetrics } from "../ops/metrics";
import type { Policy } from "../policy/policy-file";
import { WebhookDispatcher, type DispatcherTiming } from "./dispatcher";
import { WebhookOutbox } from "./outbox";
import { WebhookQueue } from "./queue";

/** Delivered and failed deliveries are kept this long (to look into a receiver's complaint), then removed. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60_000;
const PRUNE_MS = 60 * 60_000;

const log = logger("webhooks");

export interface WebhookOptions {
  store: Store;
  policy: () => Policy;
  /** The CloudEvents `source`, and where the events' request links point. */
  publicUrl: string;
  metrics?: Pick<AirlockMetrics, "webhookTried" | "webhookBacklog">;
  timing?: Partial<DispatcherTiming>;
}

export interface Webhooks {
  /** Given to the audit capture (lib/audit/start.ts): the one place events are queued. */
  queue: WebhookQueue;
  close(): Promise<void>;
}

/** The policy's `notify.webhooks` at work on this instance: events queued as they are audited, delivered in the background. */
export function startWebhooks(options: WebhookOptions): Webhooks {
  const outbox = new WebhookOutbox(options.store);
  const webhooks = () => options.policy().notify.webhooks;
  const dispatcher = new WebhookDispatcher({ outbox, webhooks, tried: options.metrics?.webhookTried, timing: options.timing }).start();
  options.metrics?.webhookBacklog(() => outbox.backlog());
  const pruneOld = () => void outbox.prune(new Date(Date.now() - DELIVERY_RETENTION_MS)).catch((err: unknown) => log.error("removing old deliveries failed", { err }));
  // At start too: an instance restarted more often than hourly (deploys, a crash loop) would never prune otherwise.
  pruneOld();
  const prune = setInterval(pruneOld, PRUNE_MS);
  prune.unref();
  return {
    queue: new WebhookQueue({ outbox, webhooks, publicUrl: options.publicUrl, queued: () => dispatcher.wake() }),
    async close() {
      clearInterval(prune);
      await dispatcher.close();
    },
  };
}
