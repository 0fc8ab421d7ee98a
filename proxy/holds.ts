import type { GrantStore } from "../lib/approvals/grants";
import type { ApprovalService, NewRequest, Outcome } from "../lib/approvals/service";
import { TooManyPendingError } from "../lib/approvals/pending-cap";
import type { AccessRequest } from "../lib/db/schema";
import type { PreviewOptions } from "../lib/policy/preview";
import type { Capture } from "../lib/approvals/undo/exact";
import type { Decision, SessionIdentity } from "../lib/decision/decide";
import { heldStatements, type HeldStatement } from "../lib/approvals/held-statements";
import { heldPath } from "../lib/approvals/held-path";
import { UNKNOWN_PATH } from "../lib/sql/search-path";
import { logger } from "../lib/log";
import { summary } from "../lib/policy/evaluate";
import { writeNoticeResponse } from "./protocol/writer";
import type { HoldResult } from "./relay";
import type { PendingStatement } from "./response-tracker";
import { refusals } from "../lib/decision/refusals";

const log = logger("proxy");

export interface HoldOptions {
  approvals: ApprovalService;
  grants: Pick<GrantStore, "coveringInStore">;
  session: SessionIdentity;
  /** The dashboard's URL, for links to requests. */
  publicUrl: string;
  /** The agent asked (application_name `airlock-mode=return`) to be refused at once instead of waiting. */
  returnMode: boolean;
  /** The role the upstream session runs as (the catalog's): what `$user` in a held statement's search_path stands for. */
  upstreamUser?: string;
  /** Writes straight to the agent: a notice may go out while earlier answers are still coming. */
  notify(bytes: Buffer): void;
  /** Starts a request's impact preview in the background, once it is announced (proxy/preview). */
  preview?(request: AccessRequest, options: PreviewOptions | undefined): void;
  /** Keeps what an approved write's run captured for undo, for `keepMs` (the rule's review.undo). */
  undoCaptured?(request: AccessRequest, capture: Capture, keepMs: number): void;
}

/**
 * Holds for one session: a statement that policy sends to review becomes a request; the agent is
 * told at once where it stands; the statement then runs, or is refused with who decided and why.
 */
export class SessionHolds {
  #waiting: string | undefined;

  constructor(private readonly options: HoldOptions) {}

  /** Whether a statement is waiting for people right now. */
  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  async hold(statement: PendingStatement, decision: Extract<Decision, { action: "review" }>): Promise<HoldResult> {
    try {
      return await this.#hold(statement, decision);
    } catch (err) {
      if (err instanceof WaitEndedError) throw err.cause;
      // The store does not answer (stopped, restarting): no request can be opened or grant read, so
      // nothing can approve it. Refused now, in words, and the session goes on — not held for ever,
      // not run unapproved, and not the whole session closed as an internal error.
      log.error("a held statement could not reach the store; refused", { err });
      return { action: "refuse", ...refusals.approvalStoreDown() };
    }
  }

  async #hold(statement: PendingStatement, decision: Extract<Decision, { action: "review" }>): Promise<HoldResult> {
    const { approvals, session } = this.options;
    const returnMode = this.options.returnMode || decision.rule.review.mode === "return";
    // Exactly what will run: an approval is bound to these texts, parameters and prepared bodies;
    // with the text row filters send in its place (what the impact preview runs); and the search_path
    // its unqualified names were judged on (the same text on another path names other tables).
    const path = heldPath(statement.judgedPath ?? UNKNOWN_PATH, this.options.upstreamUser);
    const statements = heldStatements(statement.text, statement.params, statement.prepared, { formats: statement.paramFormats, runs: decision.rewritten, path });
    const granted = await this.options.grants.coveringInStore({ agentId: session.agentId, resource: session.resource, pairs: decision.scope });
    if (granted) return { action: "run", grantId: granted.id };
    if (returnMode) {
      const approved = await approvals.consumeApproved(session.agentId, session.resource, statements, decision.scope);
      // Its approvers' row limit, if they set one, binds the resent statement too.
      if (approved) return verdictOf(approved.id, await approvals.outcome(approved.id));
    }
    let request: AccessRequest;
    try {
      request = await approvals.open(this.#newRequest(statements, decision));
    } catch (err) {
      if (!(err instanceof TooManyPendingError)) throw err;
      // PostgreSQL's class 53 is "insufficient resources"; 53400 is the one for a limit set in
      // configuration (max_locks_per_transaction, max_pred_locks…), as AIRLOCK_MAX_PENDING_PER_AGENT is.
      return { action: "refuse", ...refusals.tooManyPending(err.message) };
    }
    const url = `${this.options.publicUrl}/requests/${request.id}`;
    if (returnMode) {
      this.options.preview?.(request, decision.rule.review.preview);
      return { action: "refuse", ...refusals.approvalRequired(request.rule, request.id, url), requestId: request.id };
    }
    this.options.notify(writeNoticeResponse({ severity: "NOTICE", code: "01000", message: `airlock: held for approval — request ${request.id}: ${url}` }));
    // After the notice: the preview never delays it (it runs in the background, on its own connection).
    this.options.preview?.(request, decision.rule.review.preview);
    this.#waiting = request.id;
    try {
      const outcome = await approvals.outcome(request.id);
      // It runs now, on this connection: resending it in return mode must not run it again.
      if (outcome.status === "approved") await approvals.markConsumed(request.id);
      const verdict = verdictOf(request.id, outcome);
      return verdict.action === "run" ? { ...verdict, undo: this.#undo(request, decision) } : verdict;
    } catch (err) {
      // Once the request is open, a failure is not "the store was not there before the hold".
      throw new WaitEndedError(err);
    } finally {
      this.#waiting = undefined;
    }
  }

  #newRequest(statements: HeldStatement[], decision: Extract<Decision, { action: "review" }>): NewRequest {
    const { session } = this.options;
    return {
      agentId: session.agentId,
      groups: [...session.groups],
      resource: session.resource,
      sessionId: session.sessionId,
      statements,
      scope: [...decision.scope],
      rule: decision.rule.name,
      why: decision.verdict.why || summary(decision.verdict.statement),
      approverGroups: [...decision.rule.review.approvers],
      requiredApprovals: decision.rule.review.count,
      grantOptions: [...decision.rule.review.grants],
      timeoutMs: decision.rule.review.timeoutMs,
      followUp: decision.rule.review.followUp ?? null,
      stepUpMs: decision.rule.review.stepUpMs ?? null,
    };
  }

  /** With the rule's review.undo, what the approved run captures is kept with its request. */
  #undo(request: AccessRequest, decision: Extract<Decision, { action: "review" }>): Extract<HoldResult, { action: "run" }>["undo"] {
    const keepMs = decision.rule.review.undoMs;
    const keep = this.options.undoCaptured;
    if (keepMs === undefined || !keep) return undefined;
    return { captured: (capture) => keep(request, capture, keepMs) };
  }

  /** The agent cancelled the statement (CancelRequest) or went away: the request ends with it. */
  cancel(reason: string): void {
    const id = this.#waiting;
    if (id) this.options.approvals.cancel(id, reason).catch((err) => console.error(`[proxy] cancelling request ${id} failed:`, err));
  }
}

/** A failure after the request was opened: passed on as it was (the session ends), not refused as a store outage. */
class WaitEndedError extends Error {
  constructor(readonly cause: unknown) {
    super("the wait for a decision failed");
  }
}

function verdictOf(requestId: string, outcome: Outcome): HoldResult {
  switch (outcome.status) {
    case "approved":
      return { action: "run", requestId, maxRows: outcome.maxRows ?? undefined };
    case "denied":
      return { action: "refuse", ...refusals.deniedByPerson(outcome.by, outcome.reason), requestId };
    case "expired":
      return { action: "refuse", ...refusals.approvalTimedOut(), requestId };
    case "cancelled":
      return { action: "refuse", ...refusals.requestCancelled(requestId, outcome.reason), requestId };
  }
}
