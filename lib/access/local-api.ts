import type { AgentIdentity } from "../identity/agent-token";
import { AgentApiError, type AgentApi } from "./agent-api";
import type { Ask } from "./ask";
import type { AccessService, ApiResult } from "./service";
import type { GrantView, RequestView } from "./view";

/** The agent API in process, for one verified agent: the same service the HTTP routes call. */
export class LocalAgentApi implements AgentApi {
  constructor(
    private readonly access: AccessService,
    private readonly agent: AgentIdentity,
  ) {}

  async resources(): Promise<string[]> {
    return this.access.resources();
  }

  async ask(ask: Ask): Promise<RequestView> {
    return unwrap(await this.access.ask(this.agent, ask));
  }

  async status(id: string, waitSeconds = 0, signal?: AbortSignal): Promise<RequestView> {
    return unwrap(await this.access.status(this.agent, id, { seconds: waitSeconds, signal }));
  }

  async grants(): Promise<GrantView[]> {
    return this.access.grants(this.agent);
  }

  async giveBack(grantId: string): Promise<GrantView> {
    return unwrap(await this.access.giveBack(this.agent, grantId));
  }
}

function unwrap<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new AgentApiError(result.status, result.code, result.message);
  return result.value;
}
