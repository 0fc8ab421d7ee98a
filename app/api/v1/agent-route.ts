import type { AgentIdentity } from "@/lib/identity/agent-token";
import { readJsonBody } from "@/lib/access/json-body";
import type { ApiError, ApiResult } from "@/lib/access/service";
import { getRuntime } from "@/lib/runtime";

type Handler<P> = (agent: AgentIdentity, request: Request, params: P) => Promise<Response> | Response;

/**
 * The agent API's frame: the bearer token is verified (as the proxy verifies it) before anything
 * else; refusals are `{"error":{"code","message"}}` with their status; nothing is cached.
 */
export function agentRoute<P = Record<string, never>>(handler: Handler<P>) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> => {
    try {
      const agent = await getRuntime().access.authenticate(request.headers.get("authorization"));
      if (!agent.ok) return errorResponse(agent);
      return await handler(agent.value, request, await context.params);
    } catch (err) {
      console.error("[api] agent request failed:", err);
      return errorResponse({ ok: false, status: 500, code: "internal", message: "airlock: internal error" });
    }
  };
}

export function respond<T>(result: ApiResult<T>, status = 200, headers: Record<string, string> = {}): Response {
  return result.ok ? json(result.value, status, headers) : errorResponse(result);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export function errorResponse(error: Omit<ApiError, "status"> & { status: number }): Response {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="airlock"';
  if (error.status === 429) headers["Retry-After"] = "1";
  return json({ error: { code: error.code, message: error.message } }, error.status, headers);
}

/** A JSON body of bounded size (lib/access/json-body), or the answer saying what is wrong with it. */
export async function readJson(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const read = await readJsonBody(request);
  return read.ok ? read : { ok: false, response: errorResponse(read) };
}
