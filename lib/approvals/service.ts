import { randomBytes } from "node:crypto";
import { and, asc, count, desc, eq, gt, isNull } from "drizzle-orm";
import type { Store, StoreScope, Transaction } from "../db/client";
import type { AccessRequest, Grant, RequestDecision } from "../db/schema";
import type { AirlockEvent, EventBus } from "../events/bus";
import { tracing } from "../ops/tracing";
import { grantableScope, type ScopePair } from "./grant-scope";
import { canonicalHeld, type HeldStatement } from "./held-statements";
import type { GrantStore } from "./grants";
import { DEFAULT_MAX_PENDING_PER_AGENT, TooManyPendingError } from "./pending-cap";
import { invalidRowLimit, rowLimitOf } from "./row-limit";
import { hasDecided, whyNotDecider, type Decider } from "./people";
import { whyNotSteppedUp } from "./step-up";

export type NewRequest = Omit<AccessRequest, "id" | "status" | "createdAt" | "expiresAt" | "decidedAt" | "outcomeReason" | "grantId" | "consumedAt" | "kind" | "durationMs" | "reason" | "heldBy" | "followUp" | "stepUpMs"> &
  Partial<Pick<AccessRequest, "kind" | "durationMs" | "reason" | "followUp" | "stepUpMs">> & {
    timeoutMs: number;
  };

export type Outcome =
  | { status: "approved"; grantId: string | null; by: string[]; maxRows: number | null }
  | { status: "denied"; by: string; reason: string }
  | { status: "expired" }
  | { status: "cancelled"; reason: string };

export type DecideResult =
  | { ok: true; request: AccessRequest; finished: boolean }
  | { ok: false; code: "not_found" | "forbidden" | "already_decided" | "duplicate" | "invalid" | "step_up"; message: string };

/** How often requests someone waits on here are read again, whatever the bus says. */
export const WAITS_RECHECKED_MS = 5_000;

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
  /** For an approval of a held write: "at most N rows" (lib/approvals/row-limit.ts); the smallest of the approvers' wins. */
  maxRows?: number | null;
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
  readonly #recheck: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly grants: GrantStore,
    private readonly bus?: EventBus,
    private readonly options: ApprovalOptions = {},
  ) {
    // Decided, expired or cancelled in another process (the bus carries it): whoever waits here hears it.
    this.#unsubscribe = bus?.subscribe((event) => {
      if (event.type !== "request.changed" || event.status === "pending") return;
      if (!this.#waiters.has(event.requestId) && !this.#timers.has(event.requestId)) return;
      void this.#settle(event.requestId);
    });
    // The bus may lose an event (a dropped connection to the store): what is waited on is read again now and then.
    this.#recheck = setInterval(() => {
      for (const id of this.#waiters.keys()) void this.#settle(id);
    }, WAITS_RECHECKED_MS);
    this.#recheck.unref();
  }

  /** Opens a pending request; throws TooManyPendingError when the agent already has its most. */
  async open(input: NewRequest): Promise<AccessRequest> {
    const now = new Date();
    const { timeoutMs, ...fields } = input;
    const request: AccessRequest = {
      kind: "statement",
      durationMs: null,
      reason: null,
      followUp: null,
      stepUpMs: null,
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
    // Counting and inserting are one step, also for instances sharing the store: each agent's turn under its lock.
    const limit = this.options.maxPendingPerAgent ?? DEFAULT_MAX_PENDING_PER_AGENT;
    // Refused by returning, not throwing: on SQLite's one connection a rollback could take others' writes with it.
    const opened = await this.store.transaction(async (tx) => {
      await tx.lock(`pending:${request.agentId}`);
      if ((await pendingOf(tx, { agentId: request.agentId }, now)) >= limit) return false;
      await tx.db.insert(tx.tables.accessRequests).values(request);
      return true;
    });
    if (!opened) throw new TooManyPendingError(request.agentId, limit);
    this.#armExpiry(request);
    this.#changed(request);
    return request;
  }

  /** How many requests are waiting, of one agent or resource or all: the queue's true count, however long. */
  pendingCount(filter: RequestFilter = {}): Promise<number> {
    return pendingOf(this.store, filter, new Date());
  }

  get(id: string): Promise<AccessRequest | undefined> {
    return requestOf(this.store, id);
  }

  decisions(id: string): Promise<RequestDecision[]> {
    return decisionsOf(this.store, id);
  }

  /** Newest first, optionally only those of one status, agent or resource; `offset` skips as many (pages). */
  list(status?: AccessRequest["status"], limit = 100, filter: RequestFilter & { offset?: number } = {}): Promise<AccessRequest[]> {
    const { accessRequests } = this.store.tables;
    const conditions = [status && eq(accessRequests.status, status), ...filterConditions(this.store, filter)];
    return this.store.db.select().from(accessRequests).where(and(...conditions)).orderBy(desc(accessRequests.createdAt)).limit(limit).offset(filter.offset ?? 0);
  }

  /**
   * Resolves once the request is decided, expires or is cancelled. With a signal, the wait can be
   * given up (a long-poll that ends): it then resolves undefined and leaves nothing behind.
   */
  outcome(id: string): Promise<Outcome>;
  outcome(id: string, signal: AbortSignal): Promise<Outcome | undefined>;
  async outcome(id: string, signal?: AbortSignal): Promise<Outcome | undefined> {
    const request = await this.get(id);
    if (request && request.status !== "pending") return this.#outcomeOf(request);
    if (signal?.aborted) return undefined;
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

  async decide(input: DecideInput): Promise<DecideResult> {
    // A span per decision when traces are on (lib/ops/tracing.ts): who asked, where from, what came of it.
    const span = tracing?.decision(input.requestId, input.action, input.via);
    try {
      const result = await this.#decide(input);
      span?.end(result.ok ? { ...requestAttributes(result.request), "airlock.decision.result": "ok", "airlock.decision.finished": result.finished, "airlock.decision.grant": input.action === "approve" ? String(input.grant ?? "once") : "" } : { "airlock.decision.result": result.code });
      return result;
    } catch (err) {
      span?.end({ "airlock.decision.result": "failed" }, err);
      throw err;
    }
  }

  async #decide(input: DecideInput): Promise<DecideResult> {
    // Two people deciding at once, on any instance, take turns on the request: exactly one outcome results.
    const { result, grant } = await this.store.transaction(async (tx) => {
      await tx.lock(`request:${input.requestId}`);
      return this.#decideInTransaction(tx, input);
    });
    if (grant) this.grants.created(grant);
    if (result.ok) {
      this.options.observer?.decided(input.via, input.action);
      this.#changed(result.request);
      if (result.finished) await this.#finish(result.request);
    } else if (result.code === "already_decided") {
      // It may have expired just now, inside the transaction: whoever waits must hear of it.
      await this.#settle(input.requestId);
    } else if (result.code === "step_up") {
      // A decision that did not count is recorded too (lib/audit/capture.ts): who tried, how, and the sign-in it came with.
      this.bus?.publish(stepUpRefused(input, result.message));
    }
    return result;
  }

  /**
   * Why this person may not decide the request now: decide()'s checks, without deciding (Slack asks
   * before opening its deny form). With `attempt` it is a decision tried: refused for want of a
   * fresh sign-in, it is recorded as decide() records it.
   */
  async refusal(requestId: string, person: Decider, attempt?: Pick<DecideInput, "action" | "via">): Promise<Refusal | undefined> {
    const request = await this.get(requestId);
    const refused = request ? await this.#refusal(this.store, request, person) : ({ ok: false, code: "not_found", message: "no such request" } as const);
    if (refused?.code === "step_up" && attempt) this.bus?.publish(stepUpRefused({ requestId, person, ...attempt }, refused.message));
    return refused;
  }

  expire(id: string): Promise<void> {
    return this.#end(id, "expired", "approval timed out");
  }

  cancel(id: string, reason: string): Promise<void> {
    return this.#end(id, "cancelled", reason);
  }

  /**
   * After a restart no connection is waiting: pending held statements are cancelled, with the
   * reason; with `orphaned`, only those it picks (the ones whose holding process is gone). Access
   * asked for up front waits on no connection: it stays pending, its expiry re-armed (however many
   * processes re-arm it, one ends it: see #end).
   */
  async cancelOrphans(reason = "Airlock restarted while the agent was waiting", orphaned: (request: AccessRequest) => boolean = () => true): Promise<number> {
    const pending = await this.list("pending", 10_000);
    const held = pending.filter((r) => r.kind === "statement" && orphaned(r));
    for (const request of held) await this.cancel(request.id, reason);
    for (const request of pending) if (request.kind === "access" && !this.#timers.has(request.id)) this.#armExpiry(request);
    return held.length;
  }

  /** A held statement ran on its approval: it must not run again when resent in return mode. */
  async markConsumed(id: string): Promise<void> {
    const { accessRequests } = this.store.tables;
    await this.store.db.update(accessRequests).set({ consumedAt: new Date() }).where(and(eq(accessRequests.id, id), isNull(accessRequests.consumedAt)));
  }

  /**
   * Return mode: an approved request for exactly these statements (same texts, parameters,
   * prepared bodies and search_path) that has not run yet is used up and returned; it runs once.
   * A statement whose path the proxy could not follow matches none: what it names is not known.
   * Its `scope` (the tables its names resolve to now) must be the approved one too: on the same
   * path a name may reach another table than it did (a temporary table the session made, a table
   * made or dropped since).
   */
  async consumeApproved(agentId: string, resource: string, statements: ReadonlyArray<HeldStatement>, scope: ReadonlyArray<ScopePair>): Promise<AccessRequest | undefined> {
    const { accessRequests } = this.store.tables;
    if (statements.some((s) => s.path === null)) return undefined;
    const wanted = JSON.stringify(statements.map(canonicalHeld));
    const candidates = await this.store.db
      .select()
      .from(accessRequests)
      .where(and(eq(accessRequests.agentId, agentId), eq(accessRequests.resource, resource), eq(accessRequests.status, "approved"), isNull(accessRequests.consumedAt)));
    const pairs = (list: ReadonlyArray<ScopePair>) => JSON.stringify(list.map((p) => [p.kind, p.table]).sort());
    const wantedScope = pairs(scope);
    for (const match of candidates.filter((r) => r.kind === "statement" && JSON.stringify(r.statements.map(canonicalHeld)) === wanted && pairs(r.scope) === wantedScope)) {
      // Used up only if still unused: of two connections (or instances) resending it at once, one runs it.
      const [used] = await this.store.db
        .update(accessRequests)
        .set({ consumedAt: new Date() })
        .where(and(eq(accessRequests.id, match.id), isNull(accessRequests.consumedAt)))
        .returning();
      if (used) return used;
    }
    return undefined;
  }

  /** Stops the expiry timers (shutdown); pending requests are settled at the next start. */
  close(): void {
    clearInterval(this.#recheck);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#unsubscribe?.();
  }

  #armExpiry(request: AccessRequest): void {
    // setTimeout holds at most ~24.8 days; longer timeouts are re-armed when that one fires.
    const delay = Math.min(Math.max(request.expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1);
    const expire = () => this.expire(request.id).catch((err) => console.error(`[approvals] expiring ${request.id} failed:`, err));
    this.#timers.set(request.id, setTimeout(() => (request.expiresAt.getTime() <= Date.now() ? void expire() : this.#armExpiry(request)), delay));
  }

  async #decideInTransaction(tx: Transaction, input: DecideInput): Promise<{ result: DecideResult; grant?: Grant }> {
    const now = new Date();
    const request = await requestOf(tx, input.requestId);
    if (!request) return { result: { ok: false, code: "not_found", message: "no such request" } };
    if (request.status === "pending" && request.expiresAt <= now) {
      await setStatus(tx, request, "expired", "approval timed out", now);
    }
    const refused = await this.#refusal(tx, request, input.person);
    if (refused) return { result: refused };
    const earlier = await decisionsOf(tx, request.id);
    const grantMs = input.action === "approve" && input.grant !== undefined && input.grant !== "once" ? input.grant : null;
    const invalid = input.action === "approve" ? invalidGrant(request, grantMs) : undefined;
    if (invalid) return { result: { ok: false, code: "invalid", message: invalid } };
    const badLimit = input.action === "approve" ? await invalidRowLimit(request, input.maxRows) : undefined;
    if (badLimit) return { result: { ok: false, code: "invalid", message: badLimit } };
    const reason = input.reason?.trim() || null;
    // A stepped-up decision keeps the sign-in that made it count.
    const authAt = request.stepUpMs !== null ? (input.person.signIn?.at ?? null) : null;
    await tx.db.insert(tx.tables.requestDecisions).values({ requestId: request.id, personEmail: input.person.email, decision: input.action, grantMs, reason, via: input.via, at: now, authAt, maxRows: input.action === "approve" ? (input.maxRows ?? null) : null });

    if (input.action === "deny") {
      await setStatus(tx, request, "denied", reason ?? "no reason given", now);
      return { result: { ok: true, request, finished: true } };
    }
    const approvals = [...earlier, { decision: "approve", grantMs, personEmail: input.person.email }].filter((d) => d.decision === "approve");
    if (approvals.length < request.requiredApprovals) return { result: { ok: true, request, finished: false } };

    // The shortest choice wins: "once" (null) if anyone chose it.
    const durations = approvals.map((d) => d.grantMs);
    const grantFor = durations.includes(null) ? null : Math.min(...(durations as number[]));
    // Only pairs on a table are granted; if none is left, the statement runs once and no grant is made.
    const scope = grantableScope(request.scope);
    let grant: Grant | undefined;
    if (grantFor !== null && scope.length > 0) {
      grant = await this.grants.insert(tx, {
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
    await setStatus(tx, request, "approved", null, now);
    return { result: { ok: true, request, finished: true }, grant };
  }

  async #refusal(scope: StoreScope, request: AccessRequest, person: Decider): Promise<Refusal | undefined> {
    if (request.status !== "pending") return { ok: false, code: "already_decided", message: await this.#alreadyDecided(scope, request) };
    const forbidden = whyNotDecider(person, request, this.options.agentIssuer);
    if (forbidden) return { ok: false, code: "forbidden", message: forbidden };
    if (hasDecided(await decisionsOf(scope, request.id), person)) {
      return { ok: false, code: "duplicate", message: "you have already decided on this request; another approver must decide" };
    }
    const stale = whyNotSteppedUp(request, person.signIn);
    if (stale) return { ok: false, code: "step_up", message: stale };
    return undefined;
  }

  /**
   * Ends a request if it is still pending; only the process whose update ends it tells the others,
   * so an expiry armed in two processes fires once. Either way, waiters here hear how it ended (it
   * may have been decided or expired by another process whose event has not arrived yet).
   */
  async #end(id: string, status: "expired" | "cancelled", reason: string): Promise<void> {
    const span = tracing?.decision(id, status === "expired" ? "expire" : "cancel", "system");
    try {
      const ended = await this.#endInStore(id, status, reason);
      // Only the process whose update ended it says "ok": an expiry armed in two processes is one decision.
      span?.end(ended ? { ...requestAttributes(ended), "airlock.decision.result": "ok", "airlock.decision.finished": true } : { "airlock.decision.result": "already_decided" });
    } catch (err) {
      span?.end({ "airlock.decision.result": "failed" }, err);
      throw err;
    }
  }

  async #endInStore(id: string, status: "expired" | "cancelled", reason: string): Promise<AccessRequest | undefined> {
    // In turn with decide() on the request's lock: a decision that read it pending must not record
    // an approval (and its grant) on a request ended meanwhile.
    const ended = await this.store.transaction(async (tx) => {
      await tx.lock(`request:${id}`);
      const { accessRequests } = tx.tables;
      const [row] = await tx.db
        .update(accessRequests)
        .set({ status, decidedAt: new Date(), outcomeReason: reason })
        .where(and(eq(accessRequests.id, id), eq(accessRequests.status, "pending")))
        .returning();
      return row;
    });
    if (ended) this.#changed(ended);
    const request = ended ?? (await this.get(id));
    if (request && request.status !== "pending") await this.#finish(request);
    return ended;
  }

  /** Whoever waits here hears how the request ended, if it has (read from the store). */
  async #settle(id: string): Promise<void> {
    try {
      const request = await this.get(id);
      if (request && request.status !== "pending") await this.#finish(request);
    } catch (err) {
      console.error(`[approvals] reading request ${id} failed:`, err);
    }
  }

  async #finish(request: AccessRequest): Promise<void> {
    clearTimeout(this.#timers.get(request.id));
    this.#timers.delete(request.id);
    if (!this.#waiters.has(request.id)) return;
    const outcome = await this.#outcomeOf(request);
    // Taken after the read: a waiter that came meanwhile hears this outcome too.
    const waiters = this.#waiters.get(request.id) ?? [];
    this.#waiters.delete(request.id);
    for (const resolve of waiters) resolve(outcome);
  }

  async #outcomeOf(request: AccessRequest): Promise<Outcome> {
    switch (request.status) {
      case "approved": {
        const decisions = await this.decisions(request.id);
        return { status: "approved", grantId: request.grantId, by: decisions.filter((d) => d.decision === "approve").map((d) => d.personEmail), maxRows: rowLimitOf(decisions) };
      }
      case "denied": {
        const denial = (await this.decisions(request.id)).find((d) => d.decision === "deny");
        return { status: "denied", by: denial?.personEmail ?? "unknown", reason: request.outcomeReason ?? "no reason given" };
      }
      case "expired":
        return { status: "expired" };
      default:
        return { status: "cancelled", reason: request.outcomeReason ?? "cancelled" };
    }
  }

  async #alreadyDecided(scope: StoreScope, request: AccessRequest): Promise<string> {
    const last = (await decisionsOf(scope, request.id)).at(-1);
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

/** The event that records a decision refused for want of a fresh sign-in. */
function stepUpRefused(input: Pick<DecideInput, "requestId" | "person" | "action" | "via">, reason: string): Extract<AirlockEvent, { type: "request.step_up_refused" }> {
  const { person } = input;
  return {
    type: "request.step_up_refused",
    id: randomBytes(8).toString("hex"),
    requestId: input.requestId,
    email: person.email,
    action: input.action,
    via: input.via,
    signIn: person.signIn ? { method: person.signIn.method, at: person.signIn.at?.toISOString() ?? null } : null,
    reason,
    at: new Date().toISOString(),
  };
}

function filterConditions({ tables: { accessRequests } }: StoreScope, filter: RequestFilter) {
  return [filter.agentId ? eq(accessRequests.agentId, filter.agentId) : undefined, filter.resource ? eq(accessRequests.resource, filter.resource) : undefined];
}

/** What a decision span says of its request: ids, policy and status; never its statements or reasons. */
function requestAttributes(request: AccessRequest): Record<string, string> {
  return { "airlock.agent": request.agentId, "airlock.resource": request.resource, "airlock.rule": request.rule, "airlock.request.kind": request.kind, "airlock.request.status": request.status };
}

async function pendingOf(scope: StoreScope, filter: RequestFilter, now: Date): Promise<number> {
  const { accessRequests } = scope.tables;
  // One whose time ran out is no longer waiting for anyone, even before its timer marks it.
  const conditions = [eq(accessRequests.status, "pending"), gt(accessRequests.expiresAt, now), ...filterConditions(scope, filter)];
  return (await scope.db.select({ n: count() }).from(accessRequests).where(and(...conditions)))[0]?.n ?? 0;
}

async function requestOf(scope: StoreScope, id: string): Promise<AccessRequest | undefined> {
  const { accessRequests } = scope.tables;
  return (await scope.db.select().from(accessRequests).where(eq(accessRequests.id, id)).limit(1))[0];
}

function decisionsOf(scope: StoreScope, id: string): Promise<RequestDecision[]> {
  const { requestDecisions } = scope.tables;
  return scope.db.select().from(requestDecisions).where(eq(requestDecisions.requestId, id)).orderBy(asc(requestDecisions.id));
}

async function setStatus(tx: Transaction, request: AccessRequest, status: AccessRequest["status"], reason: string | null, now: Date): Promise<void> {
  const { accessRequests } = tx.tables;
  Object.assign(request, { status, decidedAt: now, outcomeReason: reason });
  await tx.db
    .update(accessRequests)
    .set({ status, decidedAt: now, outcomeReason: reason, grantId: request.grantId })
    .where(and(eq(accessRequests.id, request.id), eq(accessRequests.status, "pending")));
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
  // A held statement's rule offers lengths; an approver may also choose a shorter one than the longest, never longer.
  const longest = Math.max(0, ...request.grantOptions.filter((o): o is number => o !== "once"));
  if (grantMs !== null && !request.grantOptions.includes(grantMs) && !(Number.isInteger(grantMs) && grantMs > 0 && grantMs <= longest)) {
    return "this request does not offer a grant of that length (approvers may shorten the longest it offers, never lengthen it)";
  }
  return undefined;
}
