import { getRuntime } from "@/lib/runtime";
import { agentRoute, json } from "../agent-route";

export const dynamic = "force-dynamic";

/** The agent's grants in force now. */
export const GET = agentRoute(async (agent) => json({ grants: await getRuntime().access.grants(agent) }));
