import pg from "pg";

/** Rows a tool result carries at most; the rest are counted, not sent. */
export const MAX_ROWS = 50;
/** A longer text value is cut (with an ellipsis), so one wide column cannot flood the caller. */
export const MAX_VALUE_CHARS = 500;

export type QueryOutcome =
  | { status: "ok"; command: string; row_count: number; columns: Array<{ name: string; type: number }>; rows: unknown[][]; truncated: boolean }
  | { status: "refused"; code: string; message: string }
  | { status: "pending_approval"; request_id: string; url: string; message: string };

/** Where the proxy listens and who connects: the agent, with its own token as the password. */
export interface ProxyLogin {
  host: string;
  port: number;
  agentId: string;
  token(): Promise<string>;
}

/**
 * SQL from MCP tools, run through Airlock's own proxy as the agent, so every rule, mask, grant
 * and audit row applies exactly as to any driver. Return mode: a statement held for review comes
 * back at once as pending_approval, and once approved the identical statement runs once.
 */
export class ProxySql {
  constructor(private readonly login: ProxyLogin) {}

  async run(resource: string, text: string, params?: Array<string | null>): Promise<QueryOutcome> {
    const client = new pg.Client({
      host: this.login.host,
      port: this.login.port,
      user: this.login.agentId,
      password: await this.login.token(),
      database: resource,
      application_name: "airlock-mcp airlock-mode=return",
    });
    client.on("error", () => undefined); // a connection lost mid-query is reported by the query
    try {
      await client.connect();
      return await collect(client, text, params);
    } catch (err) {
      return outcomeOfError(err);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Runs the query keeping the first MAX_ROWS rows and counting the rest, so memory stays bounded. */
function collect(client: pg.Client, text: string, params?: Array<string | null>): Promise<QueryOutcome> {
  return new Promise((resolve, reject) => {
    // Rows as arrays: a result may name two columns alike. (The typings of Query omit rowMode.)
    const config: pg.QueryArrayConfig = { text, values: params, rowMode: "array" };
    const query = new pg.Query(config);
    const rows: unknown[][] = [];
    let columns: Array<{ name: string; type: number }> = [];
    let seen = 0;
    query.on("row", (row: unknown[], result?: pg.QueryResult) => {
      if (seen++ === 0 && result) columns = result.fields.map((f) => ({ name: f.name, type: f.dataTypeID }));
      if (rows.length < MAX_ROWS) rows.push(row.map(jsonValue));
    });
    query.on("error", reject);
    query.on("end", (results: pg.QueryResult | pg.QueryResult[] | undefined) => {
      // Several statements in one string: the last one's command; rows are all of them.
      const last = Array.isArray(results) ? results[results.length - 1] : results;
      if (seen === 0 && last?.fields) columns = last.fields.map((f) => ({ name: f.name, type: f.dataTypeID }));
      resolve({ status: "ok", command: last?.command ?? "", row_count: Math.max(seen, last?.rowCount ?? 0), columns, rows, truncated: seen > rows.length });
    });
    client.query(query);
  });
}

/** A value as JSON carries it: dates as ISO text, bytes as hex, long text shortened. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.subarray(0, MAX_VALUE_CHARS / 2).toString("hex")}${value.length > MAX_VALUE_CHARS / 2 ? "…" : ""}`;
  if (typeof value === "string" && value.length > MAX_VALUE_CHARS) return `${value.slice(0, MAX_VALUE_CHARS)}…`;
  return value;
}

/** What a held statement's refusal says (the proxy's return mode): the request and its URL. */
const HELD = /^airlock: approval required by rule .* request (r_[0-9a-f]+): (\S+)/;

function outcomeOfError(err: unknown): QueryOutcome {
  const { code, message } = err as { code?: string; message?: string };
  const held = HELD.exec(message ?? "");
  if (held) {
    return { status: "pending_approval", request_id: held[1], url: held[2], message: "held for approval: call wait_for_approval with this request_id; once approved, the statement runs" };
  }
  return { status: "refused", code: code ?? "08006", message: message ?? "the query failed" };
}
