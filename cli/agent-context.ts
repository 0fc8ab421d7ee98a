import { decodeJwt } from "jose";
import { HttpAgentApi } from "../lib/access/http-client";
import { loadConfig, loadDotEnv } from "../lib/config";
import { readServerInfo } from "../lib/server-info";
import { developmentToken } from "./token";

/** A token is fetched again this long before it expires, so no call goes out with a stale one. */
const REFRESH_BEFORE_MS = 60_000;

export interface AgentContext {
  /** The dashboard's URL, where the agent API lives. */
  baseUrl: string;
  api: HttpAgentApi;
  /** A valid token now: the agent's password for the proxy too. */
  token(): Promise<string>;
}

/**
 * How agent commands (`request`, `grants`, `mcp`) reach Airlock as an agent: the server from
 * AIRLOCK_PUBLIC_URL or the running server's record in the data dir; the token from
 * AIRLOCK_TOKEN, or fetched for `--agent ID` from the development IdP (and refreshed).
 */
export function agentContext(agentId: string | undefined): AgentContext {
  loadDotEnv();
  const config = loadConfig();
  const baseUrl = config.publicUrl ?? readServerInfo(config.dataDir)?.publicUrl ?? `http://localhost:${config.port}`;
  const fixed = process.env.AIRLOCK_TOKEN;
  const agent = agentId ?? process.env.AIRLOCK_AGENT;
  if (!fixed && !agent) throw new Error("say who the agent is: set AIRLOCK_TOKEN to its token, or pass --agent ID (development IdP)");
  let cached: { token: string; refreshAt: number } | undefined;
  const token = async (): Promise<string> => {
    if (fixed) return fixed;
    if (!cached || Date.now() >= cached.refreshAt) {
      const fresh = await developmentToken(agent!);
      cached = { token: fresh, refreshAt: (decodeJwt(fresh).exp ?? 0) * 1000 - REFRESH_BEFORE_MS };
    }
    return cached.token;
  };
  return { baseUrl, token, api: new HttpAgentApi(baseUrl, token) };
}
