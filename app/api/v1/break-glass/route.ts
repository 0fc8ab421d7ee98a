import { getRuntime } from "@/lib/runtime";
import { agentRoute, readJson, respond } from "../agent-route";

export const dynamic = "force-dynamic";

/** Emergency access (policy break_glass): `{resource, duration, reason}` → 201 with the grant, at once, no approval. */
export const POST = agentRoute(async (agent, request) => {
  const body = await readJson(request);
  if (!body.ok) return body.response;
  return respond(await getRuntime().breakGlass.invoke(agent, body.body), 201);
});
