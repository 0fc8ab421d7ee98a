import type { AgentIdentity } from "../identity/agent-token";
import { AgentApiError, type AgentApi } from "./agent-api";
import type { Ask } from "./ask";
import type { BreakGlassAsk, BreakGlassService } from "./break-glass";
import type { AccessService, ApiResult } from "./service";
import type { GrantView, RequestView } from "./view";

/** The agent API in process, for one verified agent: the same service the HTTP routes call. */
export class LocalAgentApi implements AgentApi {
  constructor(
    private readonly services: { access: AccessService; breakGlass: BreakGlassService },
    private readonly agent: AgentIdentity,
  ) {}

  async resources(): Promise<string[]> {
    return this.services.access.resources();
  }

  async ask(ask: Ask): Promise<RequestView> {
    return unwrap(await this.services.access.ask(this.agent, ask));
  }

  async status(id: string, waitSeconds = 0, signal?: AbortSignal): Promise<RequestView> {
    return unwrap(await this.services.access.status(this.agent, id, { seconds: waitSeconds, signal }));
  }

  async grants(): Promise<GrantView[]> {
    return this.services.access.grants(this.agent);
  }

  async giveBack(grantId: string): Promise<GrantView> {
    return unwrap(await this.services.access.giveBack(this.agent, grantId));
  }

  async breakGlass(ask: BreakGlassAsk): Promise<GrantView> {
    return unwrap(await this.services.breakGlass.invoke(this.agent, ask));
  }
}

function unwrap<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new AgentApiError(result.status, result.code, result.message);
  return result.value;
}
