import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Slack's Web API on loopback: it answers the methods Airlock calls as Slack does,
 * records every call, and fails on request (an HTTP error, `429` with Retry-After, or Slack's
 * `ok: false`) or answers late (`delayMs`: the call is done, its answer sent that much later). Tests in another process (Playwright workers) reach the same records and controls
 * over HTTP, through SlackStandInClient.
 */

export const STAND_IN_BOT_TOKEN = "xoxb-airlock-stand-in";

/** Slack users the stand-in knows: the development IdP's seeded people, a stranger, a bot, a deactivated account, one without an email. */
export const SLACK_USERS = {
  alice: { id: "U0ALICE", email: "alice@example.com" },
  bob: { id: "U0BOB", email: "Bob@Example.com" }, // case differs from the IdP's, as it may in life
  carol: { id: "U0CAROL", email: "carol@example.com" },
  stranger: { id: "U0STRANGER", email: "mallory@elsewhere.example" },
  bot: { id: "U0BOT", email: "bot@example.com", isBot: true },
  departed: { id: "U0DEPARTED", email: "alice@example.com", deleted: true },
  private: { id: "U0PRIVATE", email: "" },
} as const;

export interface SlackCall {
  method: string;
  /** The arguments as Slack reads them (JSON fields such as `blocks` and `view` parsed). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Web API method's arguments
  args: Record<string, any>;
  /** The HTTP status answered, and Slack's `error` when it said ok: false. */
  status: number;
  error?: string;
  /** For chat.postMessage: the channel id and ts it answered with. */
  channel?: string;
  ts?: string;
  at: number;
  /** When it was answered (a late answer comes well after `at`). */
  answeredAt?: number;
}

/** One failure to answer with, instead of doing the call; or `delayMs`: do it, but answer that late (a slow Slack). */
export type Failure = { status: number } | { retryAfter: number } | { error: string } | { delayMs: number };

export interface FailRule {
  method: string;
  /** Only calls whose arguments contain this text (so parallel tests do not disturb each other). */
  matching?: string;
  failures: Failure[];
}

const CONTROL = "/_stand-in";

/** Calls about one test's statement (each test's SQL carries its own marker). */
export const about = (marker: string) => (call: SlackCall) => JSON.stringify(call.args).includes(marker);
/** ...that Slack did (and has answered): it answers some failures with 200 and ok: false. */
export const succeeded = (marker: string) => (call: SlackCall) => about(marker)(call) && call.answeredAt !== undefined && call.status === 200 && !call.error;

/** Reads the records and sets failures of a stand-in, in this process or another. */
export class SlackStandInClient {
  constructor(readonly url: string) {}

  /** The base URL for SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async calls(method?: string): Promise<SlackCall[]> {
    const all = (await (await fetch(`${this.url}${CONTROL}/calls`)).json()) as SlackCall[];
    return method ? all.filter((c) => c.method === method) : all;
  }

  async fail(rule: FailRule): Promise<void> {
    await fetch(`${this.url}${CONTROL}/fail`, { method: "POST", body: JSON.stringify(rule) });
  }

  /**
   * Resolves once no call has come for `quietMs`: after a change, every instance that heard it has
   * had its say, so counts taken then are final (nothing later could add a call).
   */
  async settled(quietMs = 1_000, timeoutMs = 15_000): Promise<SlackCall[]> {
    const deadline = Date.now() + timeoutMs;
    let calls = await this.calls();
    let since = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.calls();
      if (now.length !== calls.length) [calls, since] = [now, Date.now()];
      else if (Date.now() - since >= quietMs) return calls;
      if (Date.now() > deadline) throw new Error(`Slack calls did not stop within ${timeoutMs} ms (${calls.length} so far)`);
    }
  }

  /** The first call of `method` that satisfies `test`, once it has been made. */
  async waitFor(method: string, test: (call: SlackCall) => boolean = () => true, timeoutMs = 15_000): Promise<SlackCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.calls(method)).find(test);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${method} call as expected within ${timeoutMs} ms; calls: ${JSON.stringify(await this.calls(method), null, 1).slice(0, 4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface SlackStandIn extends SlackStandInClient {
  close(): Promise<void>;
}

/**
 * A Web API method that another part of the stand-in answers (Socket Mode's apps.connections.open),
 * with a token of its own to check: it gets the call and the Authorization header.
 */
export type MethodHandler = (call: SlackCall, authorization: string | undefined) => Record<string, unknown>;

export async function startSlackStandIn(options: { methods?: Record<string, MethodHandler> } = {}): Promise<SlackStandIn> {
  const calls: SlackCall[] = [];
  const rules: FailRule[] = [];
  const channels = new Map<string, string>();
  let clock = 1_700_000_000;

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname;
    const body = await readBody(req);
    if (path === `${CONTROL}/calls`) return json(res, 200, calls);
    if (path === `${CONTROL}/fail`) {
      rules.push(JSON.parse(body) as FailRule);
      return json(res, 200, { ok: true });
    }
    const method = path.replace(/^\/api\//, "");
    const args = readArgs(body, req.headers["content-type"]);
    const call: SlackCall = { method, args, status: 200, at: Date.now() };
    calls.push(call);

    const failure = takeFailure(method, JSON.stringify(args));
    if (failure && "delayMs" in failure) await new Promise((r) => setTimeout(r, failure.delayMs));
    else if (failure) return failWith(call, res, failure);
    const handler = options.methods?.[method];
    if (handler) return answer(call, res, 200, handler(call, req.headers.authorization));
    if (req.headers.authorization !== `Bearer ${STAND_IN_BOT_TOKEN}`) return answer(call, res, 200, { ok: false, error: "invalid_auth" });
    answer(call, res, 200, respond(call));
  }

  function respond(call: SlackCall): Record<string, unknown> {
    const { args } = call;
    switch (call.method) {
      case "auth.test":
        return { ok: true, url: "https://stand-in.slack.test/", team: "Stand-in", team_id: "T0STANDIN", user: "airlock", user_id: "U0AIRLOCK", bot_id: "B0AIRLOCK" };
      case "chat.postMessage": {
        call.channel = channelId(String(args.channel));
        call.ts = `${clock++}.000100`;
        return { ok: true, channel: call.channel, ts: call.ts, message: { text: args.text, blocks: args.blocks } };
      }
      case "chat.update": {
        const posted = calls.some((c) => c.method === "chat.postMessage" && c.channel === args.channel && c.ts === args.ts);
        return posted ? { ok: true, channel: args.channel, ts: args.ts, text: args.text } : { ok: false, error: "message_not_found" };
      }
      case "chat.postEphemeral":
        return { ok: true, message_ts: `${clock++}.000200` };
      case "views.open":
        return { ok: true, view: { id: `V${clock++}`, ...args.view } };
      case "users.info": {
        const user = Object.values(SLACK_USERS).find((u) => u.id === args.user);
        if (!user) return { ok: false, error: "user_not_found" };
        return { ok: true, user: { id: user.id, name: user.id.toLowerCase(), deleted: "deleted" in user, is_bot: "isBot" in user, profile: user.email ? { email: user.email } : {} } };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  function channelId(name: string): string {
    if (/^[CGD][A-Z0-9]+$/.test(name)) return name;
    if (!channels.has(name)) channels.set(name, `C0${String(channels.size + 1).padStart(6, "0")}`);
    return channels.get(name)!;
  }

  function takeFailure(method: string, args: string): Failure | undefined {
    const rule = rules.find((r) => r.method === method && r.failures.length > 0 && (!r.matching || args.includes(r.matching)));
    return rule?.failures.shift();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new SlackStandInClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return Object.assign(client, {
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function failWith(call: SlackCall, res: ServerResponse, failure: Exclude<Failure, { delayMs: number }>): void {
  if ("status" in failure) return answer(call, res, failure.status, { ok: false });
  if ("retryAfter" in failure) {
    res.setHeader("retry-after", String(failure.retryAfter));
    return answer(call, res, 429, { ok: false, error: "ratelimited" });
  }
  answer(call, res, 200, { ok: false, error: failure.error });
}

function answer(call: SlackCall, res: ServerResponse, status: number, body: Record<string, unknown>): void {
  call.status = status;
  call.answeredAt = Date.now();
  if (body.ok === false) call.error = typeof body.error === "string" ? body.error : `HTTP ${status}`;
  json(res, status, body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

/** The Web API client sends a form with JSON-valued fields (blocks, view); Slack takes JSON bodies too. */
function readArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("application/json")) return JSON.parse(body || "{}") as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}
