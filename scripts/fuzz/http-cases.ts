/**
 * The HTTP requests the body fuzz sends: to the agent API, the MCP endpoint and the Slack route,
 * each derived from a valid one by mutation (http-mutate.ts). A case is made from the run's seed,
 * its index and a context of names (tokens, request ids) only, so `--replay-http INDEX` prints it
 * again; a Slack case is signed when it is sent, with the time of sending.
 */
import { MAX_BODY_BYTES } from "../../lib/access/json-body";
import { MAX_BODY_BYTES as MAX_SLACK_BODY_BYTES } from "../../lib/slack/replays";
import { MAX_MCP_BODY_BYTES } from "../../server/mcp-endpoint";
import { mutateJson, weirdValue, type Json } from "./http-mutate";
import { Rng } from "./rng";

export type HttpTarget = "api" | "mcp" | "slack";
/** How a Slack case is signed when sent: with the secret, not at all, wrongly, or too long ago. */
export type Signing = "valid" | "none" | "bad" | "old";

export interface HttpCase {
  index: number;
  target: HttpTarget;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent chunked, without a Content-Length. */
  chunked: boolean;
  signing?: Signing;
  notes: string[];
}

export interface CaseContext {
  /** The fuzzing agent's token. */
  token: string;
  /** A pending request of another agent, which no fuzzed Slack payload may decide. */
  sentinelId: string;
  /** Slack users who may not decide it: a viewer, a stranger, a bot, a deactivated account. */
  slackUsers: string[];
  /** The approver whose clicks arrive badly signed only. */
  approverSlackUser: string;
}

const ASKS: Json[] = [
  { resource: "demo", access: "write", duration: "15m", reason: "refund backlog, ticket 4711" },
  { resource: "demo", kinds: ["insert", "update"], tables: ["orders", "public.refunds"], duration: "2h" },
  { resource: "demo", access: "read", duration: "30s" },
  { resource: "demo", kinds: ["delete"], tables: ["*"], duration: "1h", reason: "cleanup" },
];

const API_PATHS = ["/api/v1/access-requests", "/api/v1/grants", "/api/v1/resources"];

export function generateHttpCase(seed: number, index: number, ctx: CaseContext): HttpCase {
  const rng = Rng.forSession(seed, index);
  const target = rng.weighted({ api: 4, mcp: 3, slack: 3 });
  const c = target === "api" ? apiCase(rng, ctx) : target === "mcp" ? mcpCase(rng, ctx) : slackCase(rng, ctx);
  return { index, target, chunked: rng.chance(0.1), ...c };
}

type Partial = Omit<HttpCase, "index" | "target" | "chunked">;

function contentType(rng: Rng, normal: string): { headers: Record<string, string>; note?: string } {
  if (rng.chance(0.88)) return { headers: { "content-type": normal } };
  const odd = rng.pick(["", "text/plain", `${normal}; charset=latin1`, normal.toUpperCase(), "application/json-patch+json", "multipart/form-data; boundary=x", `${normal}, text/html`, "application/x-www-form-urlencoded", "application/json", "\u00e9/\u00e9"]);
  return { headers: odd === "" ? {} : { "content-type": odd }, note: `content-type ${JSON.stringify(odd)}` };
}

function authorization(rng: Rng, token: string): { headers: Record<string, string>; note?: string } {
  if (rng.chance(0.94)) return { headers: { authorization: `Bearer ${token}` } };
  const odd = rng.pick(["", "Bearer", "Bearer ", `Bearer ${token}x`, `bearer  ${token} `, `Basic ${Buffer.from("a:b").toString("base64")}`, `Bearer ${token.split(".").slice(0, 2).join(".")}.`, `Bearer ${"a".repeat(8000)}`, "Bearer e30.e30.e30"]);
  return { headers: odd === "" ? {} : { authorization: odd }, note: `authorization ${JSON.stringify(odd.replace(token, "<token>").slice(0, 40))}` };
}

function apiCase(rng: Rng, ctx: CaseContext): Partial {
  const auth = authorization(rng, ctx.token);
  const notes = auth.note ? [auth.note] : [];
  const kind = rng.weighted({ ask: 8, status: 2, cancel: 1, giveBack: 1, other: 1 });
  if (kind === "ask") {
    const body = mutateJson(rng, rng.pick(ASKS), MAX_BODY_BYTES);
    const type = contentType(rng, "application/json");
    if (type.note) notes.push(type.note);
    return { method: "POST", path: "/api/v1/access-requests", headers: { ...auth.headers, ...type.headers }, body: body.bytes, notes: [...notes, ...body.notes] };
  }
  // Ids and query strings are the other input: fake or odd ids, waits at the edges (never long: no id here is pending).
  const raw = rng.chance(0.5) ? `r_${rng.bytes(rng.int(1, 12)).toString("hex")}` : weirdValue(rng);
  const id = percentEncode(Buffer.from((typeof raw === "string" ? raw : JSON.stringify(raw)).slice(0, 3000))).toString("latin1");
  const wait = rng.pick(["", "0", "-1", "NaN", "1e309", "0.5", "abc", "1", "%00", "2", "99999999999999999999"]);
  switch (kind) {
    case "status":
      return { method: "GET", path: `/api/v1/access-requests/${id}${wait ? `?wait=${wait}` : ""}`, headers: auth.headers, notes: [...notes, "status of a made-up request"] };
    case "cancel":
      return { method: "DELETE", path: `/api/v1/access-requests/${id}`, headers: auth.headers, notes: [...notes, "cancel a made-up request"] };
    case "giveBack":
      return { method: "DELETE", path: `/api/v1/grants/${id}`, headers: auth.headers, notes: [...notes, "give back a made-up grant"] };
    default: {
      const method = rng.pick(["GET", "POST", "PUT", "PATCH", "DELETE"]);
      const body = method === "GET" ? undefined : mutateJson(rng, rng.pick(ASKS), MAX_BODY_BYTES).bytes;
      return { method, path: rng.pick(API_PATHS), headers: { ...auth.headers, ...(body ? { "content-type": "application/json" } : {}) }, body, notes: [...notes, `${method} with a body`] };
    }
  }
}

const TOOL_CALLS: Record<string, Json> = {
  list_resources: {},
  describe_table: { resource: "demo", table: "customers" },
  query: { resource: "demo", sql: "select id, country from customers order by id limit 2" },
  request_access: { resource: "demo", access: "write", duration: "15m", reason: "fuzz" },
  wait_for_approval: { request_id: "r_0123456789abcdef" },
};

function rpc(rng: Rng): Json {
  const id = rng.chance(0.9) ? rng.int(1, 1000) : rng.pick<Json>(["x", null, 1.5, -1, {}, [], true, 2 ** 60]);
  switch (rng.weighted({ call: 6, list: 1, init: 1, ping: 1, notify: 1 })) {
    case "call": {
      const name = rng.pick(Object.keys(TOOL_CALLS));
      return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: TOOL_CALLS[name] } };
    }
    case "list":
      return { jsonrpc: "2.0", id, method: rng.pick(["tools/list", "resources/list", "prompts/list", "completion/complete", "logging/setLevel"]), params: {} };
    case "init":
      return { jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: rng.pick(["2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01"]), capabilities: {}, clientInfo: { name: "fuzz", version: "1" } } };
    case "ping":
      return { jsonrpc: "2.0", id, method: "ping" };
    default:
      return { jsonrpc: "2.0", method: rng.pick(["notifications/initialized", "notifications/cancelled", "notifications/progress"]), params: { requestId: 1 } };
  }
}

function mcpCase(rng: Rng, ctx: CaseContext): Partial {
  const auth = authorization(rng, ctx.token);
  const notes = auth.note ? [auth.note] : [];
  const base = rng.chance(0.1) ? [rpc(rng), rpc(rng)] : rpc(rng);
  const body = mutateJson(rng, base, MAX_MCP_BODY_BYTES);
  const type = contentType(rng, "application/json");
  if (type.note) notes.push(type.note);
  const accept = rng.chance(0.9) ? "application/json, text/event-stream" : rng.pick(["", "application/json", "text/event-stream", "*/*", "text/html"]);
  if (!accept.includes(",")) notes.push(`accept ${JSON.stringify(accept)}`);
  const method = rng.chance(0.97) ? "POST" : rng.pick(["GET", "DELETE", "PUT"]);
  return { method, path: "/api/mcp", headers: { ...auth.headers, ...type.headers, ...(accept ? { accept } : {}) }, body: method === "GET" ? undefined : body.bytes, notes: [...notes, ...body.notes] };
}

function slackPayload(rng: Rng, ctx: CaseContext, user: string): Json {
  const trigger = `${rng.int(1, 1e9)}.${rng.int(1, 1e6)}.fuzz`;
  const u = { id: user, username: user.toLowerCase(), team_id: "T0STANDIN" };
  switch (rng.weighted({ click: 5, deny: 3, other: 1 })) {
    case "click": {
      const action = rng.pick(["airlock.approve.once", "airlock.approve.900000", "airlock.deny", "airlock.approve.3600000"]);
      return {
        type: "block_actions",
        user: u,
        api_app_id: "A0AIRLOCK",
        token: "legacy-verification-token",
        container: { type: "message", message_ts: "1700000000.000100", channel_id: "C0APPROVALS", is_ephemeral: false },
        trigger_id: trigger,
        team: { id: "T0STANDIN", domain: "stand-in" },
        channel: { id: "C0APPROVALS", name: "approvals" },
        message: { type: "message", ts: "1700000000.000100", text: "Airlock", blocks: [] },
        response_url: "http://127.0.0.1:9/response-url-unused",
        actions: [{ type: "button", block_id: "airlock.decide", action_id: action, value: ctx.sentinelId, text: { type: "plain_text", text: "Approve" }, action_ts: "1700000000.1" }],
      };
    }
    case "deny":
      return {
        type: "view_submission",
        team: { id: "T0STANDIN", domain: "stand-in" },
        user: u,
        api_app_id: "A0AIRLOCK",
        token: "legacy-verification-token",
        trigger_id: trigger,
        view: { id: "V0DENY", team_id: "T0STANDIN", type: "modal", callback_id: "airlock.deny", private_metadata: ctx.sentinelId, state: { values: { reason: { reason: { type: "plain_text_input", value: "not now" } } } } },
      };
    default:
      return rng.pick<Json>([
        { type: "view_closed", user: u, view: { callback_id: "airlock.deny", private_metadata: ctx.sentinelId } },
        { type: "shortcut", callback_id: "x", trigger_id: trigger, user: u, team: { id: "T0STANDIN" } },
        { type: "block_suggestion", action_id: "x", value: "a", user: u, team: { id: "T0STANDIN" } },
        { type: "message_action", callback_id: "x", trigger_id: trigger, user: u, channel: { id: "C0APPROVALS" }, message: { ts: "1.1" } },
      ]);
  }
}

function slackCase(rng: Rng, ctx: CaseContext): Partial {
  const signing = rng.weighted<Signing>({ valid: 8, none: 1, bad: 1, old: 1 });
  // The approver's clicks come only with a signature that must not pass; the others' are refused anyway.
  const user = signing === "valid" ? rng.pick(ctx.slackUsers) : rng.chance(0.7) ? ctx.approverSlackUser : rng.pick(ctx.slackUsers);
  const notes: string[] = [`signature ${signing}`, `as ${user}`];
  let bytes: Buffer;
  let type = "application/x-www-form-urlencoded";
  if (rng.chance(0.1)) {
    // Events API style: JSON bodies (url_verification, event_callback, ssl_check), mutated.
    const base = rng.pick<Json>([{ type: "url_verification", challenge: "abc", token: "t" }, { type: "event_callback", team_id: "T0STANDIN", event: { type: "app_mention", user, text: "hi", ts: "1.1" }, event_id: "Ev1", event_time: 1 }]);
    const body = mutateJson(rng, base, MAX_SLACK_BODY_BYTES);
    bytes = body.bytes;
    type = "application/json";
    notes.push("events-API JSON", ...body.notes);
  } else {
    const body = mutateJson(rng, slackPayload(rng, ctx, user), MAX_SLACK_BODY_BYTES);
    notes.push(...body.notes);
    const form = Buffer.concat([Buffer.from("payload="), percentEncode(body.bytes)]);
    // The form itself, sometimes wrong: the payload twice, none, broken escapes, the JSON raw.
    switch (rng.weighted({ plain: 12, twice: 1, missing: 1, escapes: 1, raw: 1, ssl: 1 })) {
      case "plain":
        bytes = form;
        break;
      case "twice":
        bytes = Buffer.concat([form, Buffer.from("&payload=%7B%7D")]);
        notes.push("payload twice");
        break;
      case "missing":
        bytes = Buffer.concat([Buffer.from("command=/airlock&text="), percentEncode(Buffer.from(JSON.stringify(weirdValue(rng)).slice(0, 200))), Buffer.from(`&user_id=${user}`)]);
        notes.push("a slash command's form");
        break;
      case "escapes":
        bytes = Buffer.concat([form.subarray(0, rng.int(0, form.length)), Buffer.from(rng.pick(["%", "%z", "%zz", "%E2%82", "%00", "&&=", "=&"]))]);
        notes.push("broken percent escapes");
        break;
      case "raw":
        bytes = Buffer.concat([Buffer.from("payload="), body.bytes]);
        notes.push("payload not percent-encoded");
        break;
      default:
        bytes = Buffer.from("ssl_check=1&token=x");
        notes.push("ssl_check");
    }
  }
  const odd = contentType(rng, type);
  if (odd.note) notes.push(odd.note);
  return { method: rng.chance(0.98) ? "POST" : rng.pick(["GET", "PUT"]), path: "/api/slack/events", headers: odd.headers, body: bytes, signing, notes };
}

/** Each byte as it is, or %XX: invalid UTF-8 in the JSON stays invalid once the form is decoded. */
function percentEncode(bytes: Buffer): Buffer {
  let out = "";
  for (const b of bytes) out += /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return Buffer.from(out, "latin1");
}

/** The case as text to read or replay: the request line, headers and the body (clipped). */
export function describeHttpCase(c: HttpCase, seed: number): string {
  const body = c.body ?? Buffer.alloc(0);
  const printable = body.toString("utf8");
  const shown = printable.length > 1500 ? `${printable.slice(0, 1200)} … (${body.length} bytes in all) … ${printable.slice(-200)}` : printable;
  const lines = [
    `case ${c.index} of seed ${seed} (npm run fuzz -- --seed ${seed} --replay-http ${c.index}): ${c.target}; ${c.notes.join("; ")}`,
    `${c.method} ${c.path.length > 300 ? `${c.path.slice(0, 300)}…` : c.path}${c.signing ? ` (Slack signature: ${c.signing})` : ""}${c.chunked ? " (chunked)" : ""}`,
    ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v.length > 200 ? `${v.slice(0, 200)}…` : v}`),
    "",
    shown,
  ];
  if (body.length > 0 && !Buffer.from(printable, "utf8").equals(body)) lines.push(`(not valid UTF-8; base64 of the first 2000 bytes: ${body.subarray(0, 2000).toString("base64")})`);
  return lines.join("\n");
}
