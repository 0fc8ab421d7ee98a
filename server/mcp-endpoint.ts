import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { BreakGlassService } from "../lib/access/break-glass";
import { LocalAgentApi } from "../lib/access/local-api";
import { bearerToken, type AccessService } from "../lib/access/service";
import { createAirlockMcpServer } from "../lib/mcp/server";
import { ProxySql } from "../lib/mcp/sql";

export const MCP_PATH = "/api/mcp";
/** Largest MCP message accepted (a tool call carrying SQL); larger ones are refused unread. */
export const MAX_MCP_BODY_BYTES = 1024 * 1024;

export interface McpEndpointOptions {
  access: AccessService;
  breakGlass: BreakGlassService;
  proxy: { host: string; port: number };
  version: string;
}

/**
 * MCP over streamable HTTP at /api/mcp, for agents' hosts: the agent's bearer token is verified
 * on every POST (as the proxy verifies it), and each call gets a fresh, stateless MCP server
 * acting as that agent. Mounted before Next.js so the SDK's transport owns the response stream.
 */
export function createMcpEndpoint({ access, breakGlass, proxy, version }: McpEndpointOptions) {
  // The proxy is reached over loopback when it listens on every address.
  const proxyHost = proxy.host === "0.0.0.0" || proxy.host === "::" ? "127.0.0.1" : proxy.host;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST") return jsonRpcError(res, 405, -32000, "Airlock's MCP endpoint is stateless: POST only", { Allow: "POST" });
    const agent = await access.authenticate(req.headers.authorization);
    if (!agent.ok) {
      res.writeHead(agent.status, { "content-type": "application/json", "www-authenticate": 'Bearer realm="airlock"' });
      return void res.end(JSON.stringify({ error: { code: agent.code, message: agent.message } }));
    }
    const body = await readBody(req);
    if (body === undefined) return jsonRpcError(res, 413, -32600, `the message is larger than ${MAX_MCP_BODY_BYTES} bytes`);
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return jsonRpcError(res, 400, -32700, "the body is not valid JSON");
    }
    const token = bearerToken(req.headers.authorization)!;
    const server = createAirlockMcpServer({
      api: new LocalAgentApi({ access, breakGlass }, agent.value),
      sql: new ProxySql({ host: proxyHost, port: proxy.port, agentId: agent.value.agentId, token: async () => token }),
      version,
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  };
  // Whatever goes wrong — a client gone mid-body, a failing tool — ends this request, never the process.
  return (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    handle(req, res).catch((err: unknown) => {
      if (req.destroyed || res.destroyed) return;
      console.error("[mcp] request failed:", err);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, "airlock: internal error");
      else res.destroy();
    });
}

/** The body, or undefined once it passes MAX_MCP_BODY_BYTES (then the rest is not read). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MCP_BODY_BYTES) {
        req.removeAllListeners("data");
        req.pause();
        return resolve(undefined);
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the client went away before the body was complete"));
    });
  });
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}
