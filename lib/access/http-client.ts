import type { AgentApi } from "./agent-api";
import { AgentApiError } from "./agent-api";
import type { Ask } from "./ask";
import type { BreakGlassAsk } from "./break-glass";
import type { GrantView, RequestView } from "./view";
import { deadline, MAX_WAIT_SECONDS } from "./waits";

/** Extra time a long-poll may take on the wire beyond its wait, before the client gives up. */
const WAIT_SLACK_MS = 10_000;
const TIMEOUT_MS = 15_000;

/** The agent HTTP API (`/api/v1`) from another process, with the agent's bearer token. */
export class HttpAgentApi implements AgentApi {
  constructor(
    private readonly baseUrl: string,
    /** A valid token now (refreshed by the caller when it nears expiry). */
    private readonly token: () => Promise<string>,
  ) {}

  async resources(): Promise<string[]> {
    const body = await this.#call<{ resources: Array<{ name: string }> }>("GET", "/api/v1/resources");
    return body.resources.map((r) => r.name);
  }

  ask(ask: Ask): Promise<RequestView> {
    return this.#call("POST", "/api/v1/access-requests", ask);
  }

  status(id: string, waitSeconds = 0, signal?: AbortSignal): Promise<RequestView> {
    const wait = Math.min(waitSeconds, MAX_WAIT_SECONDS);
    return this.#call("GET", `/api/v1/access-requests/${encodeURIComponent(id)}${wait > 0 ? `?wait=${wait}` : ""}`, undefined, wait * 1000 + WAIT_SLACK_MS, signal);
  }

  async grants(): Promise<GrantView[]> {
    return (await this.#call<{ grants: GrantView[] }>("GET", "/api/v1/grants")).grants;
  }

  giveBack(grantId: string): Promise<GrantView> {
    return this.#call("DELETE", `/api/v1/grants/${encodeURIComponent(grantId)}`);
  }

  breakGlass(ask: BreakGlassAsk): Promise<GrantView> {
    return this.#call("POST", "/api/v1/break-glass", ask);
  }

  async #call<T>(method: string, path: string, body?: unknown, timeoutMs = TIMEOUT_MS, signal?: AbortSignal): Promise<T> {
    const limit = deadline(timeoutMs, signal);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${await this.token()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: limit.signal,
      });
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new AgentApiError(0, "unreachable", `cannot reach Airlock at ${this.baseUrl}: ${(err as Error).message}`);
    } finally {
      limit.done();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AgentApiError(res.status, "bad_response", `Airlock answered ${res.status} without JSON`);
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new AgentApiError(res.status, error?.code ?? "error", error?.message ?? `Airlock answered ${res.status}`);
    }
    return parsed as T;
  }
}
