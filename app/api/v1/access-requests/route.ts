import { getRuntime } from "@/lib/runtime";
import { agentRoute, readJson, respond } from "../agent-route";

export const dynamic = "force-dynamic";

/** Ask for time-boxed access: `{resource, access | kinds, tables?, duration, reason?}` → 201 with the request. */
export const POST = agentRoute(async (agent, request) => {
  const body = await readJson(request);
  if (!body.ok) return body.response;
  const result = await getRuntime().access.ask(agent, body.body);
  return respond(result, 201, result.ok ? { Location: `/api/v1/access-requests/${result.value.id}` } : {});
});
