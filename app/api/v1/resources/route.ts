import { getRuntime } from "@/lib/runtime";
import { agentRoute, json } from "../agent-route";

export const dynamic = "force-dynamic";

/** The resources policy names, to connect to or ask access for. */
export const GET = agentRoute(() => json({ resources: getRuntime().access.resources().map((name) => ({ name })) }));
