import { asc, eq } from "drizzle-orm";
import type { AuditEntry } from "../audit/log";
import type { AuditFollower } from "../audit/capture";
import type { StoreScope, Transaction } from "../db/client";
import type { Webhook } from "../policy/notify";
import { cloudEvent, type EventSubject } from "./cloud-events";
import { webhookEventOf } from "./event-types";
import type { WebhookOutbox } from "./outbox";

export interface WebhookQueueOptions {
  outbox: WebhookOutbox;
  /** The webhooks of the policy in force: who is subscribed is decided when the event is recorded. */
  webhooks(): readonly Webhook[];
  publicUrl: string;
  /** Deliveries were queued and committed: worth trying now rather than at the next poll. */
  queued(): void;
}

/**
 * Where webhook events come from: the audit rows of requests and grants, as they are recorded
 * (lib/audit/capture.ts). Events happen on any instance, and every instance hears of them; the
 * audit records each once, under its chain's lock, and this queues its deliveries in that same
 * transaction. So each event is queued once per webhook, whichever instance recorded it, and
 * never without its audit row nor the other way round; after a crash, the audit's catch-up
 * records (and so queues) what was missed. Nothing here is on a statement's or a decision's path:
 * the capture runs behind the bus.
 */
export class WebhookQueue implements AuditFollower {
  constructor(private readonly options: WebhookQueueOptions) {}

  async recorded(tx: Transaction, added: readonly AuditEntry[]): Promise<void> {
    const webhooks = this.options.webhooks();
    if (webhooks.length === 0) return;
    for (const entry of added) {
      const type = webhookEventOf(entry.type);
      const to = type ? webhooks.filter((w) => w.events.includes(type)) : [];
      if (!type || to.length === 0 || !entry.source) continue;
      const subject = await subjectOf(tx, entry);
      if (!subject) continue;
      const context = { auditSource: entry.source, at: entry.at, publicUrl: this.options.publicUrl };
      await this.options.outbox.enqueue(
        tx,
        to.map((w) => {
          const event = cloudEvent(type, subject, { ...context, includeSql: w.includeSql });
          return { eventId: event.id, type, webhook: w.name, body: JSON.stringify(event) };
        }),
      );
    }
  }

  committed(): void {
    this.options.queued();
  }
}

/** The request (with its decisions), the grant or the break-glass use an audit row is about, read in the row's transaction. */
async function subjectOf(scope: StoreScope, entry: AuditEntry): Promise<EventSubject | undefined> {
  const { db, tables } = scope;
  if (entry.type.startsWith("break_glass.") && entry.grantId) {
    const [use] = await db.select().from(tables.breakGlassUses).where(eq(tables.breakGlassUses.id, entry.grantId)).limit(1);
    return use && { kind: "break_glass", use };
  }
  if (entry.type.startsWith("grant.") && entry.grantId) {
    const [grant] = await db.select().from(tables.grants).where(eq(tables.grants.id, entry.grantId)).limit(1);
    return grant && { kind: "grant", grant };
  }
  if (!entry.requestId) return undefined;
  const [request] = await db.select().from(tables.accessRequests).where(eq(tables.accessRequests.id, entry.requestId)).limit(1);
  if (!request) return undefined;
  const decisions = await db.select().from(tables.requestDecisions).where(eq(tables.requestDecisions.requestId, request.id)).orderBy(asc(tables.requestDecisions.id));
  // A reminder's or escalation's row says whom it nudged (lib/audit/capture.ts names its source so).
  const followUpId = /^follow-up:(\d+)$/.exec(entry.source ?? "")?.[1];
  const [followUp] = followUpId ? await db.select().from(tables.requestFollowUps).where(eq(tables.requestFollowUps.id, Number(followUpId))).limit(1) : [];
  return { kind: "request", request, decisions, followUp };
}
