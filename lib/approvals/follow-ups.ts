import { and, asc, eq, gt, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Store, StoreScope } from "../db/client";
import type { AccessRequest, RequestFollowUp } from "../db/schema";
import type { EventBus } from "../events/bus";
import { deciderGroups, dueReminder, escalatesAt, nextReminderAt } from "./follow-up-times";

/**
 * However far off the next follow-up is, the store is read again after this long: a request
 * opened by another process whose event was lost, or a clock that jumped, is caught up by then.
 */
export const RESCAN_MS = 30_000;

/**
 * How long the instance that claimed a follow-up holds its Slack post: longer than the post with
 * all its retries (6 tries of at most 10 s, about 31 s of backoff), so no other instance posts it
 * too; past it, a follow-up whose instance died before Slack answered is posted by another.
 */
export const NOTIFY_HOLD_MS = 2 * 60_000;

/** A reminder or escalation this instance claimed, with its request as it was then. */
export interface FollowUpSent {
  request: AccessRequest;
  followUp: RequestFollowUp;
}

export interface FollowUpOptions {
  store: Store;
  bus: EventBus;
  /** Told of each follow-up this instance claimed (and so alone sends): Slack posts it, resolving once it did or gave up. */
  sent?(sent: FollowUpSent): Promise<void>;
  /** NOTIFY_HOLD_MS unless a test needs it shorter. */
  notifyHoldMs?: number;
}

/**
 * Reminds approvers of requests that wait (`review.remind`) and escalates them (`review.escalate`).
 * Every instance runs one, and each reads when follow-ups are due from the store — the request's
 * `follow_up` and the follow-ups recorded — never from its own memory, so a restart keeps the
 * schedule and any instance can send any follow-up. A follow-up's row is its claim: inserted under
 * the request's lock (in turn with decisions, so none follows a decision) and unique per
 * (request, kind, interval), so of instances finding one due at once exactly one records it and
 * tells the others (the bus: audit, browsers) and Slack. Its Slack post is held by that instance
 * (NOTIFY_HOLD_MS) until Slack answered; if the instance dies first, another takes it up.
 */
export class FollowUps {
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(private readonly options: FollowUpOptions) {}

  get #holdMs(): number {
    return this.options.notifyHoldMs ?? NOTIFY_HOLD_MS;
  }

  start(): this {
    // A request just opened may be due before the next scan's timer.
    this.#unsubscribe = this.options.bus.subscribe((event) => {
      if (event.type === "request.changed" && event.status === "pending") void this.#scan();
    });
    void this.#scan();
    return this;
  }

  /** Sends what is due and sets the timer for what is next; a scan asked for during one runs after it. */
  #scan(): Promise<void> {
    if (this.#scanning) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#again = false;
          this.#arm(await this.#sendDue(new Date()));
        } while (this.#again && !this.#closed);
      } catch (err) {
        console.error("[follow-ups] sending reminders and escalations failed; trying again later:", err);
        this.#arm(undefined);
      } finally {
        this.#scanning = undefined;
      }
    })();
    return this.#scanning;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
  }

  /** Claims every follow-up due at `now`; returns when the next one is due. */
  async #sendDue(now: Date): Promise<Date | undefined> {
    const waiting = await waitingWithFollowUps(this.options.store, now);
    const done = await followUpsOf(this.options.store, waiting.map((r) => r.id));
    let next: Date | undefined;
    const later = (at: Date | undefined) => {
      if (at && (!next || at < next)) next = at;
    };
    for (const request of waiting) {
      const mine = done.filter((f) => f.requestId === request.id);
      const escalation = escalatesAt(request);
      if (escalation && !mine.some((f) => f.kind === "escalation")) {
        if (escalation <= now) await this.#claim(request, "escalation", 1, now);
        else later(escalation);
      }
      for (const f of mine.filter((f) => !f.notifiedAt)) {
        if (!f.notifyUntil || f.notifyUntil <= now) await this.#takeOver(request, f, now);
        else later(f.notifyUntil);
      }
      const last = Math.max(0, ...mine.filter((f) => f.kind === "reminder").map((f) => f.seq));
      const due = dueReminder(request, last, now);
      if (due !== undefined) await this.#claim(request, "reminder", due, now);
      later(nextReminderAt(request, due ?? last));
    }
    return next;
  }

  async #claim(request: AccessRequest, kind: RequestFollowUp["kind"], seq: number, now: Date): Promise<void> {
    const groups = kind === "escalation" ? request.followUp!.escalate!.to : deciderGroups(request, now);
    const channel = kind === "escalation" ? (request.followUp!.escalate!.channel ?? null) : null;
    const claimed = await this.options.store.transaction(async (tx) => {
      await tx.lock(`request:${request.id}`);
      const [current] = await tx.db.select({ status: tx.tables.accessRequests.status }).from(tx.tables.accessRequests).where(eq(tx.tables.accessRequests.id, request.id)).limit(1);
      if (current?.status !== "pending") return undefined;
      // Without Slack there is nothing to post: told at once.
      const notify = this.options.sent ? { notifyUntil: new Date(now.getTime() + this.#holdMs) } : { notifiedAt: now };
      const [row] = await tx.db.insert(tx.tables.requestFollowUps).values({ requestId: request.id, kind, seq, at: now, groups, channel, ...notify }).onConflictDoNothing().returning();
      return row;
    });
    if (!claimed) return;
    this.options.bus.publish({ type: kind === "reminder" ? "request.reminded" : "request.escalated", requestId: request.id, groups });
    void this.#notify(request, claimed);
  }

  /** A follow-up whose instance died before Slack answered (its hold ran out): this instance holds it and posts it. */
  async #takeOver(request: AccessRequest, followUp: RequestFollowUp, now: Date): Promise<void> {
    const { requestFollowUps: f } = this.options.store.tables;
    const free = followUp.notifyUntil ? eq(f.notifyUntil, followUp.notifyUntil) : isNull(f.notifyUntil);
    const [held] = await this.options.store.db
      .update(f)
      .set({ notifyUntil: new Date(now.getTime() + this.#holdMs) })
      .where(and(eq(f.id, followUp.id), isNull(f.notifiedAt), free))
      .returning();
    if (held) void this.#notify(request, held);
  }

  /** Posts (never on the scan's path: Slack may take its retries) and records that it did, if the hold is still this instance's. */
  async #notify(request: AccessRequest, followUp: RequestFollowUp): Promise<void> {
    const { sent } = this.options;
    if (!sent || followUp.notifiedAt) return;
    try {
      await sent({ request, followUp });
      const { requestFollowUps: f } = this.options.store.tables;
      await this.options.store.db
        .update(f)
        .set({ notifiedAt: new Date() })
        .where(and(eq(f.id, followUp.id), eq(f.notifyUntil, followUp.notifyUntil!)));
    } catch (err) {
      console.error(`[follow-ups] telling Slack of ${request.id}'s ${followUp.kind} failed; another try comes when its hold ends:`, err);
    }
  }

  #arm(next: Date | undefined): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    const wait = next ? Math.min(Math.max(next.getTime() - Date.now(), 0), RESCAN_MS) : RESCAN_MS;
    this.#timer = setTimeout(() => void this.#scan(), wait);
    this.#timer.unref();
  }
}

/** The reminders and escalations of a request so far, oldest first (its page, Slack, the audit). */
export function followUpsOf(scope: StoreScope, requestIds: readonly string[]): Promise<RequestFollowUp[]> {
  if (requestIds.length === 0) return Promise.resolve([]);
  const { requestFollowUps: f } = scope.tables;
  return scope.db.select().from(f).where(inArray(f.requestId, [...requestIds])).orderBy(asc(f.at), asc(f.id));
}

function waitingWithFollowUps(scope: StoreScope, now: Date): Promise<AccessRequest[]> {
  const { accessRequests: r } = scope.tables;
  return scope.db.select().from(r).where(and(eq(r.status, "pending"), gt(r.expiresAt, now), isNotNull(r.followUp)));
}
