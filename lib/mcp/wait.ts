import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { AgentApi } from "../access/agent-api";
import type { RequestView } from "../access/view";
import type { ProxySql, QueryOutcome } from "./sql";

/** One wait_for_approval call waits this long at most: under common MCP hosts' tool timeouts. */
export const MAX_TOOL_WAIT_SECONDS = 25;
/** A progress notification goes out this often while waiting, so hosts see the call is alive. */
export const PROGRESS_EVERY_SECONDS = 5;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Waits for a request's decision in slices, telling the caller between them (if it asked for
 * progress). Still pending at the end: says to call again. An approved held statement is sent
 * again (it runs once) and its result returned; granted access comes with the grant and DSN.
 */
export async function waitForApproval({ api, sql, requestId, extra }: { api: AgentApi; sql: ProxySql; requestId: string; extra: Extra }): Promise<RequestView | (RequestView & { result: QueryOutcome })> {
  const progressToken = extra._meta?.progressToken;
  let view = await api.status(requestId);
  for (let waited = 0; view.next === "wait" && waited < MAX_TOOL_WAIT_SECONDS && !extra.signal.aborted; waited += PROGRESS_EVERY_SECONDS) {
    view = await api.status(requestId, Math.min(PROGRESS_EVERY_SECONDS, MAX_TOOL_WAIT_SECONDS - waited), extra.signal);
    if (progressToken !== undefined && view.next === "wait") {
      await extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken, progress: waited + PROGRESS_EVERY_SECONDS, total: MAX_TOOL_WAIT_SECONDS, message: `waiting for people to decide on ${requestId}` },
      });
    }
  }
  if (view.next === "wait") return { ...view, message: `not decided yet: call wait_for_approval again with request_id ${requestId}` };
  if (view.next === "retry" && view.sql !== undefined) return { ...view, result: await sql.run(view.resource, view.sql, view.params) };
  return view;
}
