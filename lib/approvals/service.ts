import { randomBytes } from "node:crypto";
import { and, asc, count, desc, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { accessRequests, requestDecisions, type AccessRequest, type RequestDecision } from "../db/schema";
import type { EventBus } from "../events/bus";
import { grantableScope } from "./grant-scope";
import { canonicalHeld, type HeldStatement } from "./held-statements";
import type { GrantStore } from "./grants";
import { DEFAULT_MAX_PENDING_PER_AGENT, TooManyPendingError } from "./pending-cap";
import { hasDecided, whyNotDecider, type Decider } from "./people";

export type NewRequest = Omit<AccessRequest, "id" | "status" | "createdAt" | "expiresAt" | "decidedAt" | "outcomeReason" | "grantId" | "consumedAt" | "kind" | "durationMs" | "reason" | "heldBy"> &
  Partial<Pick<AccessRequest, "kind" | "durationMs" | "reason">> & {
    timeoutMs: number;
  };

export type Outcome =
  | { status: "approved"; grantId: string | null; by: string[] }
  | { status: "denied"; by: string; reason: string }
  | { status: "expired" }
  | { status: "cancelled"; reason: string };

export type DecideResult =
  | { ok: true; request: AccessRequest; finished: boolean }
  | { ok: false; code: "not_found" | "forbidden" | "already_decided" | "duplicate" | "invalid"; message: string };

export type Refusal = Extract<DecideResult, { ok: false }>;

/** Requests of one agent or one resource. */
export interface RequestFilter {
  agentId?: string;
  resource?: string;
}

export interface ApprovalOptions {
  /** Pending requests one agent may have at once; open() refuses more (TooManyPendingError). */
  maxPendingPerAgent?: number;
  /** The issuer of agents' tokens: a person with that issuer and the agent's subject is its requester. */
  agentIssuer?: string;
  /** This process's instance id (lib/events/instances.ts), kept on the statements it holds. */
  instanceId?: string;
  /** Told of decisions and endings made in this process (metrics); never of other processes'. */
  observer?: ApprovalObserver;
}

export interface ApprovalObserver {
  /** A person's decision was recorded. */
  decided(via: DecideInput["via"], action: DecideInput["action"]): void;
  /** A request ended (approved, denied, expired or cancelled). */
  ended(request: AccessRequest): void;
}

export interface DecideInput {
  requestId: string;
  person: Decider;
  action: "approve" | "deny";
  /** For an approval: "once", or one of the request's grant durations in ms (an access request: any length up to the one asked for). */
  grant?: "once" | number;
  reason?: string;
  via: "web" | "slack";
}

/**
 * The one approvals service: requests are opened by the proxy and decided by people from the
 * web or Slack. Every rule of deciding lives here: who may, each person once, the quorum, one
 * denial ends it, a decided request stays decided (decisions are serialised by the store).
 */
export class ApprovalService {
  readonly #waiters = new Map<string, Array<(outcome: Outcome) => void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly grants: GrantStore,
    private readonly bus?: EventBus,
    private readonly options: ApprovalOptions = {},
  ) {
    // Decided, expired or cancelled in another process (the bus carries it): whoever waits here hears it.
    this.#unsubscribe = bus?.subscribe((event) => {
      if (event.type !== "request.changed" || event.status === "pending") return;
      if (!this.#waiters.has(event.requestId) && !this.#timers.has(event.requestId)) return;
      const request = this.get(event.requestId);
      if (request && request.status !== "pending") this.#finish(request);
    });
  }

  /** Opens a pending request; throws TooManyPendingError when the agent already has its most. */
  open(input: NewRequest): AccessRequest {
    const now = new Date();
    const { timeoutMs, ...fields } = input;
    const request: AccessRequest = {
      kind: "statement",
      durationMs: null,
      reason: null,
      ...fields,
      id: `r_${randomBytes(5).toString("hex")}`,
      status: "pending",
      createdAt: now,
      expiresAt: new Date(now.getTime() + timeoutMs),
      decidedAt: null,
      outcomeReason: null,
      grantId: null,
      consumedAt: null,
      heldBy: fields.kind === "access" ? null : (this.options.instanceId ?? null),
    };
    // IMMEDIATE: counting and inserting are one step, also for proxies in other processes.
    const insert = this.db.$client.transaction(() => {
      const limit = this.options.maxPendingPerAgent ?? DEFAULT_MAX_PENDING_PER_AGENT;
      if (this.#pendingOf({ agentId: request.agentId }, now) >= limit) throw new TooManyPendingError(request.agentId, limit);
      this.db.insert(accessRequests).values(request).run();
    });
    insert.immediate();
    this.#armExpiry(request);
    this.#changed(request);
    return request;
  }

  /** How many requests are waiting, of one agent or resource or all: the queue's true count, however long. */
  pendingCount(filter: RequestFilter = {}): number {
    return this.#pendingOf(filter, new Date());
  }

  #pendingOf(filter: RequestFilter, now: Date): number {
    // One whose time ran out is no longer waiting for anyone, even before its timer marks it.
    const conditions = [eq(accessRequests.status, "pending"), gt(accessRequests.expiresAt, now), ...filterConditions(filter)];
    return this.db.select({ n: count() }).from(accessRequests).where(and(...conditions)).get()?.n ?? 0;
  }

  get(id: string): AccessRequest | undefined {
    return this.db.select().from(accessRequests).where(eq(accessRequests.id, id)).get();
  }

  decisions(id: string): RequestDecision[] {
    return this.db.select().from(requestDecisions).where(eq(requestDecisions.requestId, id)).orderBy(asc(requestDecisions.id)).all();
  }

  /** Newest first, optionally only those of one status, agent or resource; `offset` skips as many (pages). */
  list(status?: AccessRequest["status"], limit = 100, filter: RequestFilter & { offset?: number } = {}): AccessRequest[] {
    const conditions = [status && eq(accessRequests.status, status), ...filterConditions(filter)];
    return this.db.select().from(accessRequests).where(and(...conditions)).orderBy(desc(accessRequests.createdAt)).limit(limit).offset(filter.offset ?? 0).all();
  }

  /**
   * Resolves once the request is decided, expires or is cancelled. With a signal, the wait can be
   * given up (a long-poll that ends): it then resolves undefined and leaves nothing behind.
   */
  outcome(id: string): Promise<Outcome>;
  outcome(id: string, signal: AbortSignal): Promise<Outcome | undefined>;
  outcome(id: string, signal?: AbortSignal): Promise<Outcome | undefined> {
    const request = this.get(id);
    if (request && request.status !== "pending") return Promise.resolve(this.#outcomeOf(request));
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (outcome: Outcome | undefined) => {
        signal?.removeEventListener("abort", giveUp);
        resolve(outcome);
      };
      const giveUp = () => {
        const rest = (this.#waiters.get(id) ?? []).filter((w) => w !== waiter);
        if (rest.length > 0) this.#waiters.set(id, rest);
        else this.#waiters.delete(id);
        waiter(undefined);
      };
      signal?.addEventListener("abort", giveUp, { once: true });
      this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), waiter]);
    });
  }

  decide(input: DecideInput): DecideResult {
    // IMMEDIATE: two people deciding at once are serialised, so exactly one outcome results.
    const run = this.db.$client.transaction(() => this.#decideInTransaction(input));
    const result = run.immediate();
    if (result.ok) {
      this.options.observer?.decided(input.via, input.action);
      this.#changed(result.request);
      if (result.finished) this.#finish(result.request);
    } else if (result.code === "already_decided") {
      // It may have expired just now, inside the transaction: whoever waits must hear of it.
      const request = this.get(input.requestId);
      if (request) this.#finish(request);
    }
    return result;
  }

  /** Why this person may not decide the request now: decide()'s checks, without deciding (Slack asks before opening its deny form). */
  refusal(requestId: string, person: Decider): Refusal | undefined {
    const request = this.get(requestId);
    return request ? this.#refusal(request, person) : { ok: false, code: "not_found", message: "no such request" };
  }

  expire(id: string): void {
    this.#end(id, "expired", "approval timed out");
  }

  cancel(id: string, reason: string): void {
    this.#end(id, "cancelled", reason);
  }

  /**
   * After a restart no connection is waiting: pending held statements are cancelled, with the
   * reason; with `orphaned`, only those it picks (the ones whose holding process is gone). Access
   * asked for up front waits on no connection: it stays pending, its expiry re-armed (however many
   * processes re-arm it, one ends it: see #end).
   */
  cancelOrphans(reason = "Airlock restarted while the agent was waiting", orphaned: (request: AccessRequest) => boolean = () => true): number {
    const pending = this.list("pending", 10_000);
    const held = pending.filter((r) => r.kind === "statement" && orphaned(r));
    for (const request of held) this.cancel(request.id, reason);
    for (const request of pending) if (request.kind === "access" && !this.#timers.has(request.id)) this.#armExpiry(request);
    return held.length;
  }

  /** A held statement ran on its approval: it must not run again when resent in return mode. */
  markConsumed(id: string): void {
    this.db.update(accessRequests).set({ consumedAt: new Date() }).where(and(eq(accessRequests.id, id), isNull(accessRequests.consumedAt))).run();
  }

  /**
   * Return mode: an approved request for exactly these statements (same texts, parameters and
   * prepared bodies) that has not run yet is used up and returned; it runs once.
   */
  consumeApproved(agentId: string, resource: string, statements: ReadonlyArray<HeldStatement>): AccessRequest | undefined {
    const wanted = JSON.stringify(statements.map(canonicalHeld));
    const run = this.db.$client.transaction(() => {
      const candidates = this.db
        .select()
        .from(accessRequests)
        .where(and(eq(accessRequests.agentId, agentId), eq(accessRequests.resource, resource), eq(accessRequests.status, "approved"), isNull(accessRequests.consumedAt)))
        .all();
      const match = candidates.find((r) => r.kind === "statement" && JSON.stringify(r.statements.map(canonicalHeld)) === wanted);
      if (!match) return undefined;
      this.db.update(accessRequests).set({ consumedAt: new Date() }).where(eq(accessRequests.id, match.id)).run();
      return match;
    });
    return run.immediate();
  }

  /** Stops the expiry timers (shutdown); pending requests are settled at the next start. */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#unsubscribe?.();
  }

  #armExpiry(request: AccessRequest): void {
    // setTimeout holds at most ~24.8 days; longer timeouts are re-armed when that one fires.
    const delay = Math.min(Math.max(request.expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1);
    this.#timers.set(request.id, setTimeout(() => (request.expiresAt.getTime() <= Date.now() ? this.expire(request.id) : this.#armExpiry(request)), delay));
  }

  #decideInTransaction(input: DecideInput): DecideResult {
    const now = new Date();
    const request = this.get(input.requestId);
    if (!request) return { ok: false, code: "not_found", message: "no such request" };
    if (request.status === "pending" && request.expiresAt <= now) {
      this.#setStatus(request, "expired", "approval timed out", now);
    }
    const refused = this.#refusal(request, input.person);
    if (refused) return refused;
    const earlier = this.decisions(request.id);
    const grantMs = input.action === "approve" && input.grant !== undefined && input.grant !== "once" ? input.grant : null;
    const invalid = input.action === "approve" ? invalidGrant(request, grantMs) : undefined;
    if (invalid) return { ok: false, code: "invalid", message: invalid };
    const reason = input.reason?.trim() || null;
    this.db.insert(requestDecisions).values({ requestId: request.id, personEmail: input.person.email, decision: input.action, grantMs, reason, via: input.via, at: now }).run();

    if (input.action === "deny") {
      this.#setStatus(request, "denied", reason ?? "no reason given", now);
      return { ok: true, request, finished: true };
    }
    const approvals = [...earlier, { decision: "approve", grantMs, personEmail: input.person.email }].filter((d) => d.decision === "approve");
    if (approvals.length < request.requiredApprovals) return { ok: true, request, finished: false };

    // The shortest choice wins: "once" (null) if anyone chose it.
    const durations = approvals.map((d) => d.grantMs);
    const grantFor = durations.includes(null) ? null : Math.min(...(durations as number[]));
    // Only pairs on a table are granted; if none is left, the statement runs once and no grant is made.
    const scope = grantableScope(request.scope);
    if (grantFor !== null && scope.length > 0) {
      const grant = this.grants.create({
        agentId: request.agentId,
        resource: request.resource,
        scope,
        rule: request.rule,
        requestId: request.id,
        approvedBy: approvals.map((d) => d.personEmail),
        createdAt: now,
        expiresAt: new Date(now.getTime() + grantFor),
      });
      request.grantId = grant.id;
    }
    this.#setStatus(request, "approved", null, now);
    return { ok: true, request, finished: true };
  }

  #refusal(request: AccessRequest, person: Decider): Refusal | undefined {
    if (request.status !== "pending") return { ok: false, code: "already_decided", message: this.#alreadyDecided(request) };
    const forbidden = whyNotDecider(person, request, this.options.agentIssuer);
    if (forbidden) return { ok: false, code: "forbidden", message: forbidden };
    if (hasDecided(this.decisions(request.id), person)) {
      return { ok: false, code: "duplicate", message: "you have already decided on this request; another approver must decide" };
    }
    return undefined;
  }

  #setStatus(request: AccessRequest, status: AccessRequest["status"], reason: string | null, now: Date): void {
    Object.assign(request, { status, decidedAt: now, outcomeReason: reason });
    this.db
      .update(accessRequests)
      .set({ status, decidedAt: now, outcomeReason: reason, grantId: request.grantId })
      .where(and(eq(accessRequests.id, request.id), eq(accessRequests.status, "pending")))
      .run();
  }

  /**
   * Ends a request if it is still pending; only the process whose update ends it tells the others,
   * so an expiry armed in two processes fires once. Either way, waiters here hear how it ended (it
   * may have been decided or expired by another process whose event has not arrived yet).
   */
  #end(id: string, status: "expired" | "cancelled", reason: string): void {
    const [ended] = this.db
      .update(accessRequests)
      .set({ status, decidedAt: new Date(), outcomeReason: reason })
      .where(and(eq(accessRequests.id, id), eq(accessRequests.status, "pending")))
      .returning()
      .all();
    if (ended) this.#changed(ended);
    const request = ended ?? this.get(id);
    if (request && request.status !== "pending") this.#finish(request);
  }

  #finish(request: AccessRequest): void {
    clearTimeout(this.#timers.get(request.id));
    this.#timers.delete(request.id);
    const waiters = this.#waiters.get(request.id) ?? [];
    this.#waiters.delete(request.id);
    const outcome = this.#outcomeOf(request);
    for (const resolve of waiters) resolve(outcome);
  }

  #outcomeOf(request: AccessRequest): Outcome {
    switch (request.status) {
      case "approved":
        return { status: "approved", grantId: request.grantId, by: this.decisions(request.id).filter((d) => d.decision === "approve").map((d) => d.personEmail) };
      case "denied": {
        const denial = this.decisions(request.id).find((d) => d.decision === "deny");
        return { status: "denied", by: denial?.personEmail ?? "unknown", reason: request.outcomeReason ?? "no reason given" };
      }
      case "expired":
        return { status: "expired" };
      default:
        return { status: "cancelled", reason: request.outcomeReason ?? "cancelled" };
    }
  }

  #alreadyDecided(request: AccessRequest): string {
    const last = this.decisions(request.id).at(-1);
    const when = request.decidedAt?.toISOString() ?? "";
    if (request.status === "approved" || request.status === "denied") {
      return `already ${request.status}${last ? ` by ${last.personEmail}` : ""} at ${when}`;
    }
    return `already ${request.status} at ${when}${request.outcomeReason ? ` (${request.outcomeReason})` : ""}`;
  }

  #changed(request: AccessRequest): void {
    if (request.status !== "pending") this.options.observer?.ended(request);
    this.bus?.publish({ type: "request.changed", requestId: request.id, status: request.status });
  }
}

function filterConditions(filter: RequestFilter) {
  return [filter.agentId ? eq(accessRequests.agentId, filter.agentId) : undefined, filter.resource ? eq(accessRequests.resource, filter.resource) : undefined];
}

/**
 * Why an approval's length does not fit the request: a held statement offers its rule's choices;
 * access asked for is approved for a time, the length asked or shorter (never longer).
 */
function invalidGrant(request: AccessRequest, grantMs: number | null): string | undefined {
  if (request.kind === "access") {
    if (grantMs === null) return "access is approved for a time: the length asked for, or shorter";
    if (!Number.isInteger(grantMs) || grantMs <= 0) return "the length must be a positive duration";
    if (grantMs > (request.durationMs ?? 0)) return "approvers may shorten the access asked for, never lengthen it";
    return undefined;
  }
  if (grantMs !== null && !request.grantOptions.includes(grantMs)) return "this request does not offer a grant of that length";
  return undefined;
}
