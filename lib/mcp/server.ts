import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { AgentApiError, type AgentApi } from "../access/agent-api";
import { ACCESS_LEVELS, ASKABLE_KINDS } from "../access/scope";
import type { ProxySql } from "./sql";
import { waitForApproval } from "./wait";

export interface AirlockMcpOptions {
  api: AgentApi;
  sql: ProxySql;
  version: string;
}

const resource = z.string().min(1).describe("a resource (database) name, from list_resources");

/**
 * Airlock's MCP server for one agent: what it may reach, what a table holds, SQL through the
 * same decision point as the proxy, waiting for approval, asking for access. Every result is
 * small JSON (in `structuredContent`, and as text for hosts that read only text).
 */
export function createAirlockMcpServer({ api, sql, version }: AirlockMcpOptions): McpServer {
  const server = new McpServer({ name: "airlock", version });

  server.registerTool(
    "list_resources",
    { description: "The databases Airlock lets agents reach (by name). Connect or query with these names.", inputSchema: {}, annotations: { readOnlyHint: true } },
    () => guarded(async () => ({ resources: (await api.resources()).map((name) => ({ name })) })),
  );

  server.registerTool(
    "describe_table",
    {
      description: "The columns of a table (name, type, nullable), read through Airlock like any query.",
      inputSchema: { resource, table: z.string().min(1).max(200).describe('a table, "name" or "schema.name"') },
      annotations: { readOnlyHint: true },
    },
    ({ resource, table }) =>
      guarded(async () => {
        const [schema, name] = table.includes(".") ? table.split(".", 2) : ["public", table];
        const outcome = await sql.run(resource, DESCRIBE_SQL, [schema, name]);
        if (outcome.status !== "ok") return outcome;
        if (outcome.row_count === 0) throw new AgentApiError(404, "not_found", `no table ${schema}.${name} on ${resource} (or none visible)`);
        return { table: `${schema}.${name}`, columns: outcome.rows.map(([column, type, nullable]) => ({ name: column, type, nullable: nullable === "YES" })) };
      }),
  );

  server.registerTool(
    "query",
    {
      description:
        "Run SQL on a resource through Airlock's policy: the result (personal data masked), a refusal naming the rule, or — when people must approve — status pending_approval with a request_id at once: then call wait_for_approval. At most 50 rows come back; row_count says how many there were.",
      inputSchema: { resource, sql: z.string().min(1).max(100_000).describe("one SQL statement (or several separated by ;)") },
    },
    ({ resource, sql: text }) => guarded(() => sql.run(resource, text)),
  );

  server.registerTool(
    "wait_for_approval",
    {
      description:
        "Wait (up to 25 s, with progress notifications) for people to decide on a request. Still pending: call it again. A held query that is approved runs and its result is returned; access that is granted returns the grant and a DSN.",
      inputSchema: { request_id: z.string().regex(/^r_[0-9a-f]+$/).describe("from query (pending_approval) or request_access") },
    },
    ({ request_id }, extra) => guarded(() => waitForApproval({ api, sql, requestId: request_id, extra })),
  );

  server.registerTool(
    "request_access",
    {
      description: "Ask people for time-boxed access to a resource (e.g. write for 30m, with a reason). Returns the request at once; then call wait_for_approval.",
      inputSchema: {
        resource,
        access: z.enum(Object.keys(ACCESS_LEVELS) as [keyof typeof ACCESS_LEVELS]).optional().describe("read, write or admin (or give kinds)"),
        kinds: z.array(z.enum(ASKABLE_KINDS as [string, ...string[]])).optional().describe("statement kinds, instead of access"),
        tables: z.array(z.string()).optional().describe("limit to these tables (default: every table)"),
        duration: z.string().describe("how long, e.g. 30m or 2h"),
        reason: z.string().max(1000).optional().describe("why you need it; some rules require one"),
      },
    },
    (ask) => guarded(() => api.ask(ask)),
  );

  server.registerTool(
    "break_glass",
    {
      description:
        "Emergency access, only in an incident and only if policy's break_glass names one of your groups: a grant at once, without approval, for at most its max. People are alerted at once, every statement under it is flagged, and a person reviews it afterwards. Deny rules still refuse.",
      inputSchema: {
        resource,
        duration: z.string().describe("how long, e.g. 30m (at most break_glass.max)"),
        reason: z.string().max(1000).optional().describe("what the emergency is; policy usually requires it"),
      },
    },
    (ask) => guarded(() => api.breakGlass(ask)),
  );

  return server;
}

const DESCRIBE_SQL = "select column_name, data_type, is_nullable from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position";

/** A tool's answer as JSON; a refusal (by Airlock or the API) is an error result the model can read. */
async function guarded(work: () => Promise<object>): Promise<CallToolResult> {
  try {
    const value = await work();
    const refused = "status" in value && value.status === "refused";
    return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown>, ...(refused ? { isError: true } : {}) };
  } catch (err) {
    if (!(err instanceof AgentApiError)) throw err;
    const value = { status: "error", code: err.code, message: err.message };
    return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value, isError: true };
  }
}
