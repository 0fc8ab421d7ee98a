import { parseWait } from "@/lib/access/waits";
import { getRuntime } from "@/lib/runtime";
import { agentRoute, errorResponse, respond } from "../../agent-route";

export const dynamic = "force-dynamic";

/** Where a request stands; `?wait=N` waits up to N seconds (at most 30) for it to be decided. */
export const GET = agentRoute<{ id: string }>(async (agent, request, { id }) => {
  const wait = parseWait(new URL(request.url).searchParams.get("wait"));
  if (!wait.ok) return errorResponse({ ok: false, status: 400, code: "invalid_request", message: wait.message });
  return respond(await getRuntime().access.status(agent, id, { seconds: wait.seconds, signal: request.signal }));
});

/** Withdraw a pending request. */
export const DELETE = agentRoute<{ id: string }>(async (agent, _request, { id }) => respond(await getRuntime().access.cancel(agent, id)));
