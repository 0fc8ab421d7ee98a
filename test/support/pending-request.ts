import type { ApprovalService } from "../../lib/approvals/service";
import type { AccessRequest } from "../../lib/db/schema";

/**
 * The pending request a held statement waits on, once the proxy has opened it: the first with a
 * statement of exactly `text` (any pending one without), on `resource` if given. Throws after ~5 s.
 */
export async function pendingRequest(approvals: ApprovalService, text?: string, resource?: string): Promise<AccessRequest> {
  for (let i = 0; i < 250; i++) {
    const pending = await approvals.list("pending", 100, resource === undefined ? {} : { resource });
    const request = pending.find((r) => text === undefined || r.statements.some((s) => s.text === text));
    if (request) return request;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no request was opened${text === undefined ? "" : ` for ${text}`}${resource === undefined ? "" : ` on ${resource}`}`);
}
