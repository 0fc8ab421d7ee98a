/**
 * Turns what happens outside the statement path into audit rows: requests (opened, each decision
 * with who and how, each reminder and escalation, the outcome), grants (created, revoked, expired), policy loads and sign-ins.
 * It listens to the event bus and reads the details from the store, recording each thing once
 * (rows carry a source key, checked under the chain's lock, so also once across instances), so a
 * missed event is caught up by the next one or at start.
 */
import { eq } from "drizzle-orm";
import { followUpsOf } from "../approvals/follow-ups";
import { previewAuditEntry, previewOf } from "../approvals/preview/store";
import { undoAuditEntries } from "../approvals/undo/audit";
import { undoOf } from "../approvals/undo/store";
import { kindsOf, tablesOf } from "../approvals/grant-scope";
import type { Store, Transaction } from "../db/client";
import type { AirlockEvent, EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import type { AuditEntry, AuditLog } from "./log";

/** How often grants that ran out are looked for (they expire without an event). */
export const GRANT_SWEEP_MS = 30_000;

// Each `>= ?` is the retention's start: what ended before it was pruned from the log (lib/audit/retention.ts), not missed.
const REQUESTS_TO_RECORD = "select id from access_requests r where coalesce(r.decided_at, r.created_at) >= ? and not exists (select 1 from audit_log where source = 'request:' || r.id || ':' || r.status)";
const FOLLOW_UPS_TO_RECORD = "select distinct request_id as id from request_follow_ups f where f.at >= ? and not exists (select 1 from audit_log where source = 'follow-up:' || f.id)";
const BREAK_GLASS_TO_RECORD = "select id from break_glass_uses b where coalesce(b.reviewed_at, b.created_at) >= ? and not exists (select 1 from audit_log where source = 'break-glass:' || b.id || ':' || case when b.reviewed_at is null then 'used' else 'reviewed' end)";
const GRANTS_RUN_OUT = "select id from grants g where revoked_at is null and expires_at <= ? and expires_at >= ? and not exists (select 1 from audit_log where source = 'grant:' || g.id || ':expired')";

/**
 * Told of the rows each capture adds: inside the transaction that appends them, to write what must
 * exist exactly when they do (the webhooks' outbox, lib/webhooks/queue.ts), then once it committed.
 */
export interface AuditFollower {
  recorded(tx: Transaction, added: readonly AuditEntry[]): Promise<void>;
  committed(): void;
}

export class AuditCapture {
  readonly #unsubscribe: () => void;
  readonly #sweep: NodeJS.Timeout;
  /** Recordings run one at a time, in the order asked: rows follow events in the chain as they happened. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly log: AuditLog,
    bus: EventBus,
    private readonly policyStatus?: () => PolicyStatus,
    private readonly follower?: AuditFollower,
    /**
     * AIRLOCK_AUDIT_DAYS: nothing older is recorded. The log keeps no row older (they are pruned), so
     * without this bound a pruned row looked missed, and was recorded again (and its webhook event
     * sent again, its delivery long pruned) with every request, grant and follow-up of its age.
     */
    private readonly retentionDays?: number,
  ) {
    this.#unsubscribe = bus.subscribe((event) => void this.#enqueue(() => this.#on(event)));
    this.#sweep = setInterval(() => void this.catchUp(), GRANT_SWEEP_MS);
    this.#sweep.unref();
    void this.#enqueue(async () => {
      await this.#catchUp();
      await this.#policy();
    });
  }

  /** Records what the log does not have yet: every request's steps, grants that ran out. Resolves once done, after what was asked before. */
  catchUp(): Promise<void> {
    return this.#enqueue(() => this.#catchUp());
  }

  /** Stops listening; resolves once what was asked before is recorded. */
  async close(): Promise<void> {
    this.#unsubscribe();
    clearInterval(this.#sweep);
    await this.#queue;
  }

  async #catchUp(): Promise<void> {
    const since = this.#retentionStart();
    for (const { id } of await this.store.sql.all<{ id: string }>(REQUESTS_TO_RECORD, [since])) await this.#request(id);
    for (const { id } of await this.store.sql.all<{ id: string }>(FOLLOW_UPS_TO_RECORD, [since])) await this.#request(id);
    for (const { id } of await this.store.sql.all<{ id: string }>(BREAK_GLASS_TO_RECORD, [since])) await this.#breakGlass(id);
    for (const { id } of await this.store.sql.all<{ id: string }>(GRANTS_RUN_OUT, [Date.now(), since])) await this.#grant(id);
  }

  /** The oldest time the log keeps (ms): rows from before it were pruned, never to be recorded again. */
  #retentionStart(): number {
    return this.retentionDays === undefined ? 0 : Date.now() - this.retentionDays * 86_400_000;
  }

  async #on(event: AirlockEvent): Promise<void> {
    switch (event.type) {
      case "request.changed":
      case "request.reminded":
      case "request.escalated":
        return this.#request(event.requestId);
      case "grant.changed":
        return this.#grant(event.grantId);
      case "break_glass.changed":
        return this.#breakGlass(event.id);
      case "policy.changed":
        return this.#policy();
      case "request.step_up_refused":
        // A decision that did not count: the request's own rows are unchanged; who tried and with which sign-in is kept here.
        await this.#append([{ at: new Date(event.at), type: "request.step_up_refused", decision: "refused", person: event.email, requestId: event.requestId, data: { action: event.action, via: event.via, signIn: event.signIn, reason: event.reason }, source: `step-up-refused:${event.id}` }]);
        return;
      case "person.signed_in":
        // Every instance on the store hears a sign-in; the source makes it one row.
        await this.#append([{ at: new Date(event.at), type: "person.signed_in", person: event.email, data: { role: event.role }, source: `signin:${event.email}:${event.at}` }]);
        return;
      case "person.sign_in_refused":
        // No person: who the refused response named is unproven (that is why it was refused).
        await this.#append([{ at: new Date(event.at), type: "person.sign_in_refused", decision: "refused", data: { method: event.method, code: event.code, reason: event.reason }, source: `signin-refused:${event.id}` }]);
        return;
      default:
        return;
    }
  }

  async #request(id: string): Promise<void> {
    const { db, tables } = this.store;
    const [r] = await db.select().from(tables.accessRequests).where(eq(tables.accessRequests.id, id)).limit(1);
    if (!r) return;
    const decisions = await db.select().from(tables.requestDecisions).where(eq(tables.requestDecisions.requestId, id)).orderBy(tables.requestDecisions.id);
    const about = { agentId: r.agentId, resource: r.resource, requestId: r.id, sessionId: r.sessionId, tables: tablesOf(r.scope) };
    const entries: AuditEntry[] = [
      {
        ...about,
        at: r.createdAt,
        type: "request.opened",
        decision: "pending",
        sql: r.statements.map((s) => s.text).join(";\n"),
        data: {
          groups: r.groups,
          kinds: kindsOf(r.scope),
          scope: r.scope,
          rule: r.rule,
          why: r.why,
          params: r.statements.map((s) => s.params),
          approvers: r.approverGroups,
          required: r.requiredApprovals,
          expiresAt: r.expiresAt.toISOString(),
          // Access asked for up front: how long, and the agent's own words for why.
          ...(r.kind === "access" ? { access: { durationMs: r.durationMs, reason: r.reason } } : {}),
        },
        source: `request:${r.id}:pending`,
      },
      // A stepped-up decision says so, with the sign-in that made it count (lib/approvals/step-up.ts).
      ...decisions.map((d): AuditEntry => ({ ...about, at: d.at, type: "request.decision", person: d.personEmail, decision: d.decision, data: { via: d.via, reason: d.reason, grantMs: d.grantMs, ...(d.maxRows !== null ? { maxRows: d.maxRows } : {}), ...(d.authAt ? { stepUp: { signedInAt: d.authAt.toISOString(), withinMs: r.stepUpMs } } : {}) }, source: `decision:${d.id}` })),
      ...(await followUpsOf(this.store, [id])).map((f): AuditEntry => ({ ...about, at: f.at, type: f.kind === "reminder" ? "request.reminded" : "request.escalated", data: { groups: f.groups, ...(f.kind === "reminder" ? { reminder: f.seq } : { channel: f.channel }) }, source: `follow-up:${f.id}` })),
    ];
    // Its impact preview (lib/approvals/preview), made in the background once the request was announced.
    const preview = await previewOf(this.store, id);
    if (preview) entries.push(previewAuditEntry(r, preview, about.tables));
    // Decisions and follow-ups interleave in time: the chain keeps them in the order they happened.
    entries.sort((a, b) => a.at.getTime() - b.at.getTime());
    if (r.status !== "pending") {
      entries.push({ ...about, at: r.decidedAt ?? new Date(), type: `request.${r.status}`, decision: r.status, grantId: r.grantId, data: { reason: r.outcomeReason }, source: `request:${r.id}:${r.status}` });
    }
    // An approved write's undo, after it ran, and its reverts (lib/approvals/undo).
    const undo = r.status === "approved" ? await undoOf(this.store, id) : undefined;
    if (undo) entries.push(...undoAuditEntries(r, undo, about.tables));
    await this.#append(entries);
  }

  async #grant(id: string): Promise<void> {
    const { db, tables } = this.store;
    const [g] = await db.select().from(tables.grants).where(eq(tables.grants.id, id)).limit(1);
    if (!g) return;
    const about = { agentId: g.agentId, resource: g.resource, grantId: g.id, requestId: g.requestId, tables: tablesOf(g.scope) };
    const entries: AuditEntry[] = [
      { ...about, at: g.createdAt, type: "grant.created", decision: "created", data: { kinds: kindsOf(g.scope), scope: g.scope, rule: g.rule, approvedBy: g.approvedBy, expiresAt: g.expiresAt.toISOString() }, source: `grant:${g.id}:created` },
    ];
    if (g.revokedAt) entries.push({ ...about, at: g.revokedAt, type: "grant.revoked", decision: "revoked", person: g.revokedBy, data: { uses: g.useCount }, source: `grant:${g.id}:revoked` });
    else if (g.expiresAt.getTime() <= Date.now()) entries.push({ ...about, at: g.expiresAt, type: "grant.expired", decision: "expired", data: { uses: g.useCount }, source: `grant:${g.id}:expired` });
    await this.#append(entries);
  }

  /** Emergency access taken without approval (its grant has its own rows), and a person's review of it afterwards. */
  async #breakGlass(id: string): Promise<void> {
    const { db, tables } = this.store;
    const [b] = await db.select().from(tables.breakGlassUses).where(eq(tables.breakGlassUses.id, id)).limit(1);
    if (!b) return;
    const about = { agentId: b.agentId, resource: b.resource, grantId: b.id, requestId: b.id };
    const entries: AuditEntry[] = [
      { ...about, at: b.createdAt, type: "break_glass.used", decision: "break_glass", data: { groups: b.groups, reason: b.reason, durationMs: b.durationMs }, source: `break-glass:${b.id}:used` },
    ];
    if (b.reviewedAt) entries.push({ ...about, at: b.reviewedAt, type: "break_glass.reviewed", decision: "reviewed", person: b.reviewedBy, data: { note: b.reviewNote }, source: `break-glass:${b.id}:reviewed` });
    await this.#append(entries);
  }

  async #policy(): Promise<void> {
    const status = this.policyStatus?.();
    if (!status) return;
    const entries: AuditEntry[] = [{ at: status.loadedAt, type: "policy.loaded", data: { file: status.file, hash: status.hash }, source: `policy:${status.hash}:${status.loadedAt.getTime()}` }];
    if (status.error) entries.push({ at: status.error.at, type: "policy.rejected", data: { file: status.file, error: status.error.message }, source: `policy-error:${status.error.at.getTime()}` });
    await this.#append(entries);
  }

  async #append(all: AuditEntry[]): Promise<void> {
    // A request's or grant's steps from before the retention were pruned: they stay so (the request's later steps are recorded).
    const since = this.#retentionStart();
    const entries = all.filter((e) => e.at.getTime() >= since);
    if (entries.length === 0) return;
    const { follower } = this;
    if (!follower) {
      await this.log.append(entries);
      return;
    }
    // One transaction: what the follower writes exists if and only if the rows do (a rollback takes both, and both are caught up).
    const added = await this.store.transaction(async (tx) => {
      const added = await this.log.appendNew(tx, entries);
      if (added.length > 0) await follower.recorded(tx, added);
      return added;
    });
    if (added.length > 0) follower.committed();
  }

  /** The audit must never break what it watches: a failure is logged, and caught up later. */
  #enqueue(fn: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(fn).catch((err: unknown) => console.error("[audit] recording failed; it will be caught up:", err));
    return this.#queue;
  }
}
