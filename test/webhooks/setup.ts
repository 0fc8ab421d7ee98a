import { GrantStore } from "../../lib/approvals/grants";
import { ApprovalService } from "../../lib/approvals/service";
import type { Decider } from "../../lib/approvals/people";
import { AuditCapture } from "../../lib/audit/capture";
import { AuditLog } from "../../lib/audit/log";
import type { Store } from "../../lib/db/client";
import type { WebhookDelivery } from "../../lib/db/schema";
import { EventBus } from "../../lib/events/bus";
import { AirlockMetrics } from "../../lib/ops/metrics";
import { parsePolicy, type Policy } from "../../lib/policy/policy-file";
import type { DispatcherTiming } from "../../lib/webhooks/dispatcher";
import { startWebhooks, type Webhooks } from "../../lib/webhooks/start";

export const KEY = Buffer.alloc(32, 0x5a);
export const PUBLIC_URL = "https://airlock.example.com";
export const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

/** Short enough for tests: a try gets 500 ms, a retry comes 100-240 ms after a failure, five tries in all. */
export const FAST: Partial<DispatcherTiming> = { pollMs: 100, tryTimeoutMs: 500, holdMs: 2_000, retry: { baseMs: 100, maxMs: 200 }, maxTries: 5 };

/** A policy with one webhook to `url`, its secret the whsec_ form of `key` in the environment. */
export function webhookPolicy(url: string, options: { key?: Buffer; events?: string[]; extra?: string } = {}): Policy {
  const events = options.events ?? ["request.opened", "request.decided", "grant.created", "grant.ended"];
  const text = `resources: {}
notify:
  webhooks:
    - name: siem
      url: "${url}"
      secret: { env: HOOK_SECRET }
      events: [${events.join(", ")}]
${options.extra ?? ""}`;
  return parsePolicy(text, { HOOK_SECRET: `whsec_${(options.key ?? KEY).toString("base64")}` });
}

/** What one Airlock instance runs that webhooks touch: approvals and grants, the audit capture, the webhooks. */
export interface WebhookInstance {
  store: Store;
  bus: EventBus;
  grants: GrantStore;
  approvals: ApprovalService;
  capture: AuditCapture;
  webhooks: Webhooks;
  metrics: AirlockMetrics;
  close(): Promise<void>;
}

/** An instance on `store`, hearing `bus` (shared by instances that stand for processes on one store's bus). */
export async function webhookInstance(store: Store, policy: () => Policy, options: { bus?: EventBus; timing?: Partial<DispatcherTiming>; auditDays?: number } = {}): Promise<WebhookInstance> {
  const bus = options.bus ?? new EventBus();
  const metrics = new AirlockMetrics();
  const grants = new GrantStore(store, bus);
  await grants.load();
  const approvals = new ApprovalService(store, grants, bus);
  const webhooks = startWebhooks({ store, policy, publicUrl: PUBLIC_URL, metrics, timing: options.timing ?? FAST });
  const capture = new AuditCapture(store, new AuditLog(store), bus, undefined, webhooks.queue, options.auditDays);
  return {
    store,
    bus,
    grants,
    approvals,
    capture,
    webhooks,
    metrics,
    async close() {
      approvals.close();
      grants.close();
      await capture.close();
      await webhooks.close();
    },
  };
}

export function deliveries(store: Store): Promise<WebhookDelivery[]> {
  return store.db.select().from(store.tables.webhookDeliveries).orderBy(store.tables.webhookDeliveries.id);
}

/** The counter's value for one webhook, event and outcome, from the registry as /metrics shows it. */
export async function tries(metrics: AirlockMetrics, event: string, outcome: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric("airlock_webhook_tries_total")!.get();
  return metric.values.find((v) => v.labels.webhook === "siem" && v.labels.event === event && v.labels.outcome === outcome)?.value ?? 0;
}

export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
