import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { decodeJwt } from "jose";
import { createAirlockMcpServer } from "../lib/mcp/server";
import { ProxySql } from "../lib/mcp/sql";
import { agentContext } from "./agent-context";

/**
 * `airlock mcp`: Airlock's MCP server on stdio for a local host, acting as one agent over the
 * agent API and the proxy (as the HTTP endpoint does in the server). stdout carries only the
 * protocol; anything for people goes to stderr.
 */
export async function mcpCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { agent: { type: "string" } } });
  const { api, token, baseUrl } = agentContext(values.agent);
  const health = (await (await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(10_000) })).json()) as { proxy: { host: string; port: number }; version: string };
  const agentId = decodeJwt(await token()).sub;
  if (!agentId) throw new Error("the agent's token has no subject");
  const server = createAirlockMcpServer({ api, sql: new ProxySql({ ...health.proxy, agentId, token }), version: health.version });
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  console.error(`airlock mcp: serving ${agentId} on stdio (Airlock at ${baseUrl})`);
  await closed;
  return 0;
}
