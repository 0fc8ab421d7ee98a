import type { Ask } from "./ask";
import type { BreakGlassAsk } from "./break-glass";
import type { GrantView, RequestView } from "./view";

/**
 * What an agent can do with Airlock besides SQL, whichever way it reaches it: over HTTP (the
 * `airlock` command, `airlock mcp` on stdio) or in process (the MCP endpoint Airlock serves).
 * Refusals are thrown as AgentApiError with the API's status and code.
 */
export interface AgentApi {
  resources(): Promise<string[]>;
  ask(ask: Ask): Promise<RequestView>;
  /** Where a request stands, waiting up to `waitSeconds` for a decision. */
  status(id: string, waitSeconds?: number, signal?: AbortSignal): Promise<RequestView>;
  grants(): Promise<GrantView[]>;
  giveBack(grantId: string): Promise<GrantView>;
  /** Emergency access at once, without approval, if policy's break_glass lets this agent. */
  breakGlass(ask: BreakGlassAsk): Promise<GrantView>;
}

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AgentApiError";
  }
}
