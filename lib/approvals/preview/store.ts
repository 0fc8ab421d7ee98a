import { eq, inArray } from "drizzle-orm";
import type { StoreScope } from "../../db/client";
import type { AccessRequest } from "../../db/schema";
import type { AuditEntry } from "../../audit/log";
import type { EventBus } from "../../events/bus";
import type { ImpactPreview } from "./types";

/**
 * Keeps a request's preview: the first one made is the one kept (a request is previewed once).
 * Those who show the request hear of it as a change of the request (its page, its Slack message,
 * the audit trail), with the status it has by then.
 */
export async function savePreview(scope: StoreScope, bus: EventBus | undefined, requestId: string, preview: ImpactPreview): Promise<boolean> {
  const { requestPreviews, accessRequests } = scope.tables;
  const added = await scope.db.insert(requestPreviews).values({ requestId, preview, createdAt: new Date(preview.at) }).onConflictDoNothing().returning({ requestId: requestPreviews.requestId });
  if (added.length === 0) return false;
  const [request] = await scope.db.select({ status: accessRequests.status }).from(accessRequests).where(eq(accessRequests.id, requestId)).limit(1);
  bus?.publish({ type: "request.changed", requestId, status: request?.status ?? "pending" });
  return true;
}

export async function previewOf(scope: StoreScope, requestId: string): Promise<ImpactPreview | undefined> {
  const { requestPreviews } = scope.tables;
  return (await scope.db.select().from(requestPreviews).where(eq(requestPreviews.requestId, requestId)).limit(1))[0]?.preview;
}

export async function previewsOf(scope: StoreScope, requestIds: readonly string[]): Promise<Map<string, ImpactPreview>> {
  if (requestIds.length === 0) return new Map();
  const { requestPreviews } = scope.tables;
  const rows = await scope.db.select().from(requestPreviews).where(inArray(requestPreviews.requestId, [...requestIds]));
  return new Map(rows.map((r) => [r.requestId, r.preview]));
}

/** The preview's audit row, recorded with the request's own (lib/audit/capture.ts): once, by its source. */
export function previewAuditEntry(request: Pick<AccessRequest, "id" | "agentId" | "resource" | "sessionId">, preview: ImpactPreview, tables: string[]): AuditEntry {
  return {
    at: new Date(preview.at),
    type: "request.previewed",
    agentId: request.agentId,
    resource: request.resource,
    requestId: request.id,
    sessionId: request.sessionId,
    tables,
    data: { preview },
    source: `preview:${request.id}`,
  };
}
