/**
 * Turns what happens outside the statement path into audit rows: requests (opened, each decision
 * with who and how, the outcome), grants (created, revoked, expired), policy loads and sign-ins.
 * It listens to the event bus and reads the details from the store, recording each thing once
 * (rows carry a source key), so a missed event is caught up by the next one or at start.
 */
import { eq } from "drizzle-orm";
import { kindsOf, tablesOf } from "../approvals/grant-scope";
import type { Db } from "../db/client";
import { accessRequests, grants, requestDecisions } from "../db/schema";
import type { AirlockEvent, EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import type { AuditEntry, AuditLog } from "./log";

/** How often grants that ran out are looked for (they expire without an event). */
export const GRANT_SWEEP_MS = 30_000;

export class AuditCapture {
  readonly #unsubscribe: () => void;
  readonly #sweep: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: AuditLog,
    bus: EventBus,
    private readonly policyStatus?: () => PolicyStatus,
  ) {
    this.#unsubscribe = bus.subscribe((event) => this.#safely(() => this.#on(event)));
    this.#sweep = setInterval(() => this.#safely(() => this.catchUp()), GRANT_SWEEP_MS);
    this.#sweep.unref();
    this.#safely(() => {
      this.catchUp();
      this.#policy();
    });
  }

  /** Records what the log does not have yet: every request's steps, grants that ran out. */
  catchUp(): void {
    const sqlite = this.db.$client;
    const requests = sqlite.prepare("select id from access_requests r where not exists (select 1 from audit_log where source = 'request:' || r.id || ':' || r.status)").all() as Array<{ id: string }>;
    for (const { id } of requests) this.#request(id);
    const expired = sqlite
      .prepare("select id from grants g where revoked_at is null and expires_at <= ? and not exists (select 1 from audit_log where source = 'grant:' || g.id || ':expired')")
      .all(Date.now()) as Array<{ id: string }>;
    for (const { id } of expired) this.#grant(id);
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#sweep);
  }

  #on(event: AirlockEvent): void {
    switch (event.type) {
      case "request.changed":
        return this.#request(event.requestId);
      case "grant.changed":
        return this.#grant(event.grantId);
      case "policy.changed":
        return this.#policy();
      case "person.signed_in":
        this.log.append([{ at: new Date(event.at), type: "person.signed_in", person: event.email, data: { role: event.role } }]);
        return;
      default:
        return;
    }
  }

  #request(id: string): void {
    const r = this.db.select().from(accessRequests).where(eq(accessRequests.id, id)).get();
    if (!r) return;
    const decisions = this.db.select().from(requestDecisions).where(eq(requestDecisions.requestId, id)).orderBy(requestDecisions.id).all();
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
      ...decisions.map((d): AuditEntry => ({ ...about, at: d.at, type: "request.decision", person: d.personEmail, decision: d.decision, data: { via: d.via, reason: d.reason, grantMs: d.grantMs }, source: `decision:${d.id}` })),
    ];
    if (r.status !== "pending") {
      entries.push({ ...about, at: r.decidedAt ?? new Date(), type: `request.${r.status}`, decision: r.status, grantId: r.grantId, data: { reason: r.outcomeReason }, source: `request:${r.id}:${r.status}` });
    }
    this.log.append(entries);
  }

  #grant(id: string): void {
    const g = this.db.select().from(grants).where(eq(grants.id, id)).get();
    if (!g) return;
    const about = { agentId: g.agentId, resource: g.resource, grantId: g.id, requestId: g.requestId, tables: tablesOf(g.scope) };
    const entries: AuditEntry[] = [
      { ...about, at: g.createdAt, type: "grant.created", decision: "created", data: { kinds: kindsOf(g.scope), scope: g.scope, rule: g.rule, approvedBy: g.approvedBy, expiresAt: g.expiresAt.toISOString() }, source: `grant:${g.id}:created` },
    ];
    if (g.revokedAt) entries.push({ ...about, at: g.revokedAt, type: "grant.revoked", decision: "revoked", person: g.revokedBy, data: { uses: g.useCount }, source: `grant:${g.id}:revoked` });
    else if (g.expiresAt.getTime() <= Date.now()) entries.push({ ...about, at: g.expiresAt, type: "grant.expired", decision: "expired", data: { uses: g.useCount }, source: `grant:${g.id}:expired` });
    this.log.append(entries);
  }

  #policy(): void {
    const status = this.policyStatus?.();
    if (!status) return;
    const entries: AuditEntry[] = [{ at: status.loadedAt, type: "policy.loaded", data: { file: status.file, hash: status.hash }, source: `policy:${status.hash}:${status.loadedAt.getTime()}` }];
    if (status.error) entries.push({ at: status.error.at, type: "policy.rejected", data: { file: status.file, error: status.error.message }, source: `policy-error:${status.error.at.getTime()}` });
    this.log.append(entries);
  }

  /** The audit must never break what it watches: a failure is logged, and caught up later. */
  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.error("[audit] recording failed; it will be caught up:", err);
    }
  }
}

