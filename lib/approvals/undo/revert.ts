import { and, eq, isNull } from "drizzle-orm";
import type { StoreScope } from "../../db/client";
import type { AccessRequest, RequestUndo } from "../../db/schema";
import type { EventBus } from "../../events/bus";
import type { Decider } from "../people";
import type { ApprovalService } from "../service";
import type { RestoreResult } from "./restore";
import { undoOf } from "./store";
import { REVERT_TEXT } from "./types";

/** How long a revert request waits for people. */
export const REVERT_TIMEOUT_MS = 24 * 3600_000;

const ASKED_BY_VIEWERS = "viewers cannot ask for a revert";

/** Why this undo cannot be reverted now, or undefined when it can be asked for. */
export function whyNoRevert(original: Pick<AccessRequest, "status">, undo: RequestUndo | undefined, revert: Pick<AccessRequest, "status"> | undefined, now = new Date()): string | undefined {
  if (original.status !== "approved") return "only an approved write can be reverted";
  if (!undo) return "no undo was captured for this request";
  if (undo.unavailable) return `no undo: ${undo.unavailable}`;
  if (undo.revertedAt) return "it was reverted already";
  if (!undo.rows || undo.expiresAt <= now) return "its undo has expired (the captured rows were deleted)";
  if (revert && (revert.status === "pending" || revert.status === "approved")) return "a revert was asked for already";
  return undefined;
}

/** What a revert request shows as its statement: Airlock runs the restore itself, never an agent. */
export function revertText(originalId: string, undo: RequestUndo): string {
  const undone = { update: "puts back the values an UPDATE changed", delete: "inserts again the rows a DELETE removed", insert: "deletes the rows an INSERT added" }[undo.kind ?? "update"];
  return `${REVERT_TEXT}${originalId}: ${undone} in ${undo.target?.name ?? "?"} (${undo.rowCount} ${undo.rowCount === 1 ? "row" : "rows"})`;
}

/**
 * Asks for a revert of an approved write: a request of its own, reviewed like the write was (its
 * rule's approvers and count, and its step-up), whose requester is the person asking, so another approver decides.
 * Once approved, the proxy restores the rows (proxy/undo/revert-runner.ts).
 */
export async function askRevert(scope: StoreScope, approvals: ApprovalService, originalId: string, person: Decider): Promise<{ ok: true; request: AccessRequest } | { ok: false; message: string }> {
  if (person.role === "viewer") return { ok: false, message: ASKED_BY_VIEWERS };
  const original = await approvals.get(originalId);
  if (!original) return { ok: false, message: "no such request" };
  const undo = await undoOf(scope, originalId);
  const previous = undo?.revertRequestId ? await approvals.get(undo.revertRequestId) : undefined;
  const why = whyNoRevert(original, undo, previous);
  if (why) return { ok: false, message: why };
  const request = await approvals.open({
    agentId: person.email,
    groups: [],
    resource: original.resource,
    sessionId: null,
    statements: [{ text: revertText(original.id, undo!), params: null }],
    scope: original.scope,
    rule: original.rule,
    why: `revert of request ${original.id}, asked by ${person.email}`,
    approverGroups: original.approverGroups,
    requiredApprovals: original.requiredApprovals,
    // It changes the same rows again: a fresh sign-in the write asked for, its revert asks too.
    stepUpMs: original.stepUpMs,
    grantOptions: ["once"],
    timeoutMs: REVERT_TIMEOUT_MS,
  });
  // One revert at a time: of two asking at once, one links its request; the other's is cancelled.
  const { requestUndos } = scope.tables;
  const linked = await scope.db
    .update(requestUndos)
    .set({ revertRequestId: request.id, revertOutcome: null })
    .where(and(eq(requestUndos.requestId, originalId), undo!.revertRequestId ? eq(requestUndos.revertRequestId, undo!.revertRequestId) : isNull(requestUndos.revertRequestId)))
    .returning({ id: requestUndos.requestId });
  if (linked.length === 0) {
    await approvals.cancel(request.id, "another revert was asked for at the same time");
    return { ok: false, message: "a revert was asked for already" };
  }
  return { ok: true, request };
}

/** Keeps how an approved revert went: restored (the undo is used up), or refused with the rows changed since. */
export async function recordRevert(scope: StoreScope, bus: EventBus | undefined, undo: RequestUndo, outcome: RestoreResult | { ok: false; error: string }, now = new Date()): Promise<void> {
  const { requestUndos } = scope.tables;
  const restored = outcome.ok;
  const text = outcome.ok
    ? `restored ${outcome.restored} ${outcome.restored === 1 ? "row" : "rows"}`
    : "conflicts" in outcome
      ? `refused: ${outcome.conflicts.length === 1 ? "a row" : "rows"} changed since — ${outcome.conflicts.map((c) => `${c.key} (${c.why})`).join(", ")}`
      : `failed: ${outcome.error}`;
  await scope.db
    .update(requestUndos)
    .set({ revertOutcome: text, ...(restored ? { revertedAt: now, rows: null } : {}) })
    .where(eq(requestUndos.requestId, undo.requestId));
  bus?.publish({ type: "request.changed", requestId: undo.requestId, status: "approved" });
  if (undo.revertRequestId) bus?.publish({ type: "request.changed", requestId: undo.revertRequestId, status: "approved" });
}

/** An approved revert is run once, by whichever process claims it first (the request's consumedAt). */
export async function claimRevert(scope: StoreScope, revertRequestId: string): Promise<boolean> {
  const { accessRequests } = scope.tables;
  const claimed = await scope.db
    .update(accessRequests)
    .set({ consumedAt: new Date() })
    .where(and(eq(accessRequests.id, revertRequestId), eq(accessRequests.status, "approved"), isNull(accessRequests.consumedAt)))
    .returning({ id: accessRequests.id });
  return claimed.length > 0;
}
