import { and, eq, isNotNull, isNull, lte } from "drizzle-orm";
import type { StoreScope } from "../../db/client";
import type { RequestUndo } from "../../db/schema";
import type { EventBus } from "../../events/bus";
import type { Capture } from "./exact";

/**
 * Keeps an approved write's undo (or why it has none) with its request, until `keepMs` from now;
 * the request's page, the audit trail and Slack hear of it as a change of the request.
 */
export async function saveUndo(scope: StoreScope, bus: EventBus | undefined, request: { id: string; resource: string }, capture: Capture, keepMs: number, now = new Date()): Promise<void> {
  const { requestUndos } = scope.tables;
  const row = "unavailable" in capture
    ? { kind: null, target: null, rows: null, rowCount: 0, unavailable: capture.unavailable }
    : { kind: capture.kind, target: capture.target, rows: capture.rows, rowCount: capture.rows.length, unavailable: null };
  await scope.db.insert(requestUndos).values({ requestId: request.id, resource: request.resource, ...row, capturedAt: now, expiresAt: new Date(now.getTime() + keepMs) }).onConflictDoNothing();
  bus?.publish({ type: "request.changed", requestId: request.id, status: "approved" });
}

export async function undoOf(scope: StoreScope, requestId: string): Promise<RequestUndo | undefined> {
  const { requestUndos } = scope.tables;
  return (await scope.db.select().from(requestUndos).where(eq(requestUndos.requestId, requestId)).limit(1))[0];
}

/** The undo a revert request restores. */
export async function undoOfRevert(scope: StoreScope, revertRequestId: string): Promise<RequestUndo | undefined> {
  const { requestUndos } = scope.tables;
  return (await scope.db.select().from(requestUndos).where(eq(requestUndos.revertRequestId, revertRequestId)).limit(1))[0];
}

/**
 * Retention: the captured values of undos past their time are deleted (the row stays, saying it
 * expired, so the request page and audit still tell what there was). Returns how many were pruned.
 */
export async function pruneUndos(scope: StoreScope, now = new Date()): Promise<number> {
  const { requestUndos } = scope.tables;
  const pruned = await scope.db
    .update(requestUndos)
    .set({ rows: null })
    .where(and(lte(requestUndos.expiresAt, now), isNotNull(requestUndos.rows)))
    .returning({ id: requestUndos.requestId });
  return pruned.length;
}

/** Revert requests asked for and not yet run (or refused): a runner that missed the approval's event looks here. */
export async function unfinishedReverts(scope: StoreScope): Promise<string[]> {
  const { requestUndos } = scope.tables;
  const rows = await scope.db
    .select({ id: requestUndos.revertRequestId })
    .from(requestUndos)
    .where(and(isNotNull(requestUndos.revertRequestId), isNull(requestUndos.revertOutcome), isNotNull(requestUndos.rows)));
  return rows.flatMap((r) => (r.id ? [r.id] : []));
}
