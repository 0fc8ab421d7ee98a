import type { AuditEntry } from "../../audit/log";
import type { AccessRequest, RequestUndo } from "../../db/schema";

/**
 * An approved write's undo in the audit trail, with the request's own rows (lib/audit/capture.ts):
 * what was captured (table, kind, how many rows, until when) or why nothing was, and each revert's
 * outcome. Never the captured values: they are personal data, kept only as long as the policy says
 * (docs/security.md), while the audit trail is kept for its own retention.
 */
export function undoAuditEntries(request: Pick<AccessRequest, "id" | "agentId" | "resource" | "sessionId">, undo: RequestUndo, tables: string[]): AuditEntry[] {
  const about = { agentId: request.agentId, resource: request.resource, requestId: request.id, sessionId: request.sessionId, tables };
  const entries: AuditEntry[] = [
    {
      ...about,
      at: undo.capturedAt,
      type: "request.undo_captured",
      data: undo.unavailable
        ? { unavailable: undo.unavailable }
        : { table: undo.target?.name, key: undo.target?.key, kind: undo.kind, rows: undo.rowCount, expiresAt: undo.expiresAt.toISOString() },
      source: `undo:${request.id}`,
    },
  ];
  if (undo.revertRequestId && undo.revertOutcome) {
    entries.push({
      ...about,
      at: undo.revertedAt ?? new Date(),
      type: "request.reverted",
      decision: undo.revertedAt ? "restored" : "refused",
      data: { revertRequestId: undo.revertRequestId, outcome: undo.revertOutcome },
      source: `undo:${request.id}:revert:${undo.revertRequestId}`,
    });
  }
  return entries;
}
