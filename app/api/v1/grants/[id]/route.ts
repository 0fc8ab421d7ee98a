import { getRuntime } from "@/lib/runtime";
import { agentRoute, respond } from "../../agent-route";

export const dynamic = "force-dynamic";

/** Give a grant back before it ends. */
export const DELETE = agentRoute<{ id: string }>(async (agent, _request, { id }) => respond(await getRuntime().access.giveBack(agent, id)));
