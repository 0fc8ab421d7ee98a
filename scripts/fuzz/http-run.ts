/**
 * The HTTP body fuzz: Airlock started as tests start it (Slack pointed at the stand-in), then
 * mutated requests to the agent API, the MCP endpoint and the Slack route until time is up, a few
 * at once. Each answer must come within a bound, with a status below 500 (4xx with the documented
 * JSON error on the API); the server must stay up and healthy, its memory bounded, and no fuzzed
 * Slack payload may decide anything (the store is read at the end).
 */
import { createHmac } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { agentToken } from "../../test/access/setup";
import type { RunningAirlock } from "../../test/support/airlock-server";
import { STAND_IN_SIGNING_SECRET } from "../../test/support/slack-interactions";
import { SLACK_USERS, startSlackStandIn } from "../../test/support/slack-stand-in";
import { makeTempDir } from "../../test/support/temp-dir";
import { startAirlockWithSlack } from "../../test/slack/setup";
import { describeHttpCase, generateHttpCase, type CaseContext, type HttpCase, type HttpTarget } from "./http-cases";

/** Reviewed writes, asked for up front without a reason for at most 4 h; reads allowed. */
const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, copy_out] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, merge, copy_in] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m, 1h] }
    access: { max: 4h }
`;
const METRICS_TOKEN = "fuzz-metrics";
/** An answer slower than this is a hang. */
export const ANSWER_WITHIN_MS = 5_000;
/** Heap growth from warm-up to the end above this is a finding. */
const HEAP_GROWTH_LIMIT = 256 * 1024 * 1024;
const MB = 1024 * 1024;

export interface HttpFinding {
  kind: "server error" | "hang" | "crash" | "undocumented error" | "unhealthy" | "state" | "memory";
  message: string;
  case?: HttpCase;
  count: number;
}

export interface HttpRunResult {
  cases: number;
  /** Per target, status (or "hang", "conn:<code>") → count. */
  statuses: Map<HttpTarget, Map<string, number>>;
  findings: HttpFinding[];
  memory: { warm?: Memory; end?: Memory; peakRss: number };
  log: string;
}

interface Memory {
  heap: number;
  rss: number;
}

export interface HttpFuzzOptions {
  seed: number;
  seconds: number;
  workers?: number;
  say?: (line: string) => void;
  /** Replay: send only these cases, one after another, instead of fuzzing until time is up. */
  indices?: number[];
  /** Runs once Airlock is up, before the fuzz (regression cases); what it throws is a finding. */
  before?: (env: FuzzEnv) => Promise<void>;
}

/** What a `before` hook gets: where Airlock is, the fuzzing agent's token, and the sentinel request. */
export interface FuzzEnv {
  base: URL;
  token: string;
  sentinelId: string;
  send(c: Omit<HttpCase, "index" | "notes" | "chunked"> & { chunked?: boolean }): Promise<Answer>;
}

export interface Answer {
  status?: number;
  body: string;
  contentType: string;
  error?: string;
  ms: number;
}

/** Sends one request as given (headers, chunking, bytes), reading at most 1 MiB of the answer. */
export function send(base: URL, c: HttpCase, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { ...c.headers, connection: "close" };
  // Node sends a DELETE's body neither chunked nor with a length unless told: the server would read it as the next request.
  if (c.body) headers[c.chunked ? "transfer-encoding" : "content-length"] = c.chunked ? "chunked" : String(c.body.length);
  if (c.signing && c.signing !== "none" && c.body) {
    const ts = Math.floor(Date.now() / 1000) - (c.signing === "old" ? 600 : 0);
    const secret = c.signing === "bad" ? "not-the-signing-secret" : STAND_IN_SIGNING_SECRET;
    headers["x-slack-request-timestamp"] = String(ts);
    headers["x-slack-signature"] = `v0=${createHmac("sha256", secret).update(`v0:${ts}:`).update(c.body).digest("hex")}`;
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Omit<Answer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...a, ms: performance.now() - started });
    };
    // A connection of its own (agent: false): a reused one could carry what the last case left unread.
    const req = http.request({ host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MB) chunks.push(chunk);
      });
      const end = () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), contentType: String(res.headers["content-type"] ?? "") });
      res.on("end", end);
      res.on("error", end);
    });
    const timer = setTimeout(() => finish({ body: "", contentType: "", error: "hang" }), timeoutMs);
    // The server may answer (413) and close before the whole body is written: that is its right.
    req.on("error", (err: NodeJS.ErrnoException) => setTimeout(() => finish({ body: "", contentType: "", error: `conn:${err.code ?? err.message}` }), 200));
    // write() then end(): end(body) alone would be sent with a Content-Length.
    if (c.body && c.chunked) req.write(c.body);
    if (c.body && !c.chunked) req.end(c.body);
    else req.end();
  });
}

class HttpFindings {
  readonly #byKey = new Map<string, HttpFinding>();

  add(kind: HttpFinding["kind"], message: string, c?: HttpCase): void {
    const key = `${kind}: ${c?.target ?? ""} ${message.replace(/r_[0-9a-f]+|\d+/g, "#")}`.slice(0, 300);
    const known = this.#byKey.get(key);
    if (known) {
      known.count++;
      if (c && known.case && (c.body?.length ?? 0) < (known.case.body?.length ?? 0)) known.case = c;
    } else this.#byKey.set(key, { kind, message, case: c, count: 1 });
  }

  get all(): HttpFinding[] {
    return [...this.#byKey.values()];
  }
}

/** Whether the answer is what the pass criteria allow; a message when it is not. */
export function judge(c: HttpCase, a: Answer): { kind: HttpFinding["kind"]; message: string } | undefined {
  if (a.error === "hang") return { kind: "hang", message: `no answer within ${ANSWER_WITHIN_MS} ms` };
  if (a.status === undefined) return undefined; // a connection error: the run checks the server's health next
  if (a.status >= 500) return { kind: "server error", message: `${a.status}: ${a.body.slice(0, 300)}` };
  // 405 (a method a route has not), 414 and 431 (a request line or headers too long for Node's parser) come before any route.
  if (a.status >= 400 && ![405, 414, 431].includes(a.status) && c.target !== "slack") {
    let body: { error?: { code?: unknown; message?: unknown } | unknown } | undefined;
    try {
      body = JSON.parse(a.body) as typeof body;
    } catch {
      return { kind: "undocumented error", message: `${a.status} without a JSON body: ${a.body.slice(0, 200)}` };
    }
    const error = body?.error as { code?: unknown; message?: unknown } | undefined;
    if (typeof error !== "object" || error === null || typeof error.message !== "string") return { kind: "undocumented error", message: `${a.status} with ${a.body.slice(0, 200)}` };
    if (c.target === "api" && typeof error.code !== "string") return { kind: "undocumented error", message: `${a.status} with ${a.body.slice(0, 200)}` };
  }
  return undefined;
}

export async function runHttpFuzz(options: HttpFuzzOptions): Promise<HttpRunResult> {
  const say = options.say ?? (() => undefined);
  const workers = options.workers ?? 3;
  const temp = makeTempDir("http-fuzz");
  const slack = await startSlackStandIn();
  let airlock: RunningAirlock | undefined;
  const findings = new HttpFindings();
  const statuses = new Map<HttpTarget, Map<string, number>>();
  const memory: HttpRunResult["memory"] = { peakRss: 0 };
  let cases = 0;
  try {
    airlock = await startAirlockWithSlack(slack, temp.path, { policy: POLICY, env: { AIRLOCK_METRICS_TOKEN: METRICS_TOKEN, AIRLOCK_MAX_PENDING_PER_AGENT: "500" } });
    const base = new URL(airlock.url.replace("localhost", "127.0.0.1"));
    const [token, opsToken] = await Promise.all([agentToken(airlock), agentToken(airlock, "ops-agent")]);
    // Another agent's pending request: the one thing fuzzed Slack payloads aim at, and must leave as it is.
    const sentinel = await ask(base, opsToken);
    const ctx: CaseContext = {
      token,
      sentinelId: sentinel,
      slackUsers: [SLACK_USERS.carol.id, SLACK_USERS.stranger.id, SLACK_USERS.bot.id, SLACK_USERS.departed.id, SLACK_USERS.private.id, "U0NOBODY"],
      approverSlackUser: SLACK_USERS.alice.id,
    };
    // The first query starts the demo database and the parser: not a hang of the case that happens to be first.
    const warm = await call(base, token, "POST", "/api/mcp", { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "query", arguments: { resource: "demo", sql: "select 1" } } }, 60_000);
    if (warm.status !== 200) throw new Error(`warming up: MCP query answered ${warm.status} ${warm.body.slice(0, 300)}`);
    if (options.before) await options.before({ base, token, sentinelId: sentinel, send: (c) => send(base, { index: -1, notes: [], chunked: false, ...c }, ANSWER_WITHIN_MS) });
    const deadline = Date.now() + options.seconds * 1000;
    const warmAt = Date.now() + Math.min(10_000, options.seconds * 200);
    let next = 0;
    let dead = false;
    let lastHealth = Date.now();
    const count = (target: HttpTarget, key: string) => {
      const m = statuses.get(target) ?? new Map<string, number>();
      m.set(key, (m.get(key) ?? 0) + 1);
      statuses.set(target, m);
    };
    const queue = options.indices ? [...options.indices] : undefined;
    const worker = async () => {
      try {
        await work();
      } catch (err) {
        dead = true; // the others stop too: the run's own fault must not look like Airlock's
        throw err;
      }
    };
    const work = async () => {
      while (!dead && (queue ? queue.length > 0 : Date.now() < deadline)) {
        const c = generateHttpCase(options.seed, queue ? queue.shift()! : next++, ctx);
        if (queue) say(`http: sending case ${c.index}`);
        const answer = await send(base, c, ANSWER_WITHIN_MS);
        cases++;
        count(c.target, answer.error ?? String(answer.status));
        const verdict = judge(c, answer);
        if (verdict) findings.add(verdict.kind, verdict.message, c);
        if (queue) say(`http: case ${c.index} answered ${answer.error ?? answer.status} in ${answer.ms.toFixed(0)} ms: ${answer.body.slice(0, 200)}`);
        if (queue || answer.error?.startsWith("conn:") || verdict?.kind === "hang" || Date.now() - lastHealth > 5_000) {
          lastHealth = Date.now();
          const healthy = await health(base);
          if (!healthy.ok) {
            const exited = await Promise.race([airlock!.exited.then((code) => `exited with ${code}`), new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
            findings.add(exited ? "crash" : "unhealthy", `${exited ?? healthy.message} after this case`, c);
            if (exited) dead = true;
          }
          const m = await readMemory(base);
          if (m) memory.peakRss = Math.max(memory.peakRss, m.rss);
          if (m && !memory.warm && Date.now() > warmAt) memory.warm = m;
        }
      }
    };
    // allSettled: when one worker fails, the others finish their request before Airlock is stopped.
    const ended = await Promise.allSettled(Array.from({ length: queue ? 1 : workers }, worker));
    const failed = ended.find((e) => e.status === "rejected");
    if (failed) throw failed.reason;
    say(`http: ${cases} requests sent`);
    if (!dead) await afterwards(base, { token, opsToken, sentinel, dataDir: airlock.dataDir }, findings, memory);
  } catch (err) {
    findings.add("unhealthy", `the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  // Airlock's output is kept with the findings; its data dir (the same temp dir) goes when there are none.
  const log = path.join(temp.path, "airlock.log");
  if (airlock) fs.writeFileSync(log, airlock.output());
  await airlock?.stop();
  await slack.close();
  const result = { cases, statuses, findings: findings.all, memory, log };
  if (result.findings.length === 0) temp.remove();
  return result;
}

/** The checks once the fuzz is over: still healthy, ordinary calls work, nothing decided, memory bounded. */
async function afterwards(base: URL, s: { token: string; opsToken: string; sentinel: string; dataDir: string }, findings: HttpFindings, memory: HttpRunResult["memory"]): Promise<void> {
  const healthy = await health(base);
  if (!healthy.ok) findings.add("unhealthy", `after the run: ${healthy.message}`);
  const resources = await call(base, s.token, "GET", "/api/v1/resources");
  if (resources.status !== 200 || !resources.body.includes('"demo"')) findings.add("unhealthy", `GET /api/v1/resources after the run: ${resources.status} ${resources.body.slice(0, 200)}`);
  const tools = await call(base, s.token, "POST", "/api/mcp", { jsonrpc: "2.0", id: 1, method: "tools/list" });
  if (tools.status !== 200 || !tools.body.includes("request_access")) findings.add("unhealthy", `MCP tools/list after the run: ${tools.status} ${tools.body.slice(0, 200)}`);
  try {
    const id = await ask(base, s.opsToken);
    await call(base, s.opsToken, "DELETE", `/api/v1/access-requests/${id}`);
  } catch (err) {
    findings.add("unhealthy", `a valid ask after the run: ${(err as Error).message}`);
  }
  const sentinel = await call(base, s.opsToken, "GET", `/api/v1/access-requests/${s.sentinel}`);
  if (!sentinel.body.includes('"status":"pending"')) findings.add("state", `the sentinel request is no longer pending: ${sentinel.body.slice(0, 300)}`);
  const db = new Database(path.join(s.dataDir, "airlock.db"), { readonly: true });
  try {
    const decisions = db.prepare("select request_id, person_email, decision, via from request_decisions").all();
    if (decisions.length > 0) findings.add("state", `decisions were recorded although nobody could decide: ${JSON.stringify(decisions).slice(0, 500)}`);
  } finally {
    db.close();
  }
  // Idle a moment, so what is garbage can be collected before the last reading.
  await new Promise((r) => setTimeout(r, 2000));
  memory.end = await readMemory(base);
  if (memory.warm && memory.end && memory.end.heap - memory.warm.heap > HEAP_GROWTH_LIMIT) {
    findings.add("memory", `heap grew from ${(memory.warm.heap / MB).toFixed(0)} MB to ${(memory.end.heap / MB).toFixed(0)} MB`);
  }
}

async function call(base: URL, token: string, method: string, route: string, body?: unknown, timeoutMs = ANSWER_WITHIN_MS): Promise<{ status: number; body: string }> {
  const res = await fetch(new URL(route, base), {
    method,
    headers: { authorization: `Bearer ${token}`, accept: "application/json, text/event-stream", ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: await res.text() };
}

async function ask(base: URL, token: string): Promise<string> {
  const asked = await call(base, token, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "1h", reason: "fuzz sentinel" });
  if (asked.status !== 201) throw new Error(`asking for access: ${asked.status} ${asked.body.slice(0, 300)}`);
  return (JSON.parse(asked.body) as { id: string }).id;
}

async function health(base: URL): Promise<{ ok: boolean; message: string }> {
  try {
    const res = await fetch(new URL("/api/health", base), { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    return { ok: res.status === 200, message: `/api/health answered ${res.status}` };
  } catch (err) {
    return { ok: false, message: `/api/health: ${(err as Error).message}` };
  }
}

async function readMemory(base: URL): Promise<Memory | undefined> {
  try {
    const res = await fetch(new URL("/metrics", base), { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    const text = await res.text();
    const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text)?.[1]);
    const m = { heap: read("nodejs_heap_size_used_bytes"), rss: read("process_resident_memory_bytes") };
    return Number.isFinite(m.heap) && Number.isFinite(m.rss) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Prints the figures and every finding; says whether there was any finding. */
export function printHttpReport(r: HttpRunResult, seed: number): boolean {
  for (const [target, byStatus] of r.statuses) {
    const top = [...byStatus].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}×${n}`).join(" ");
    console.log(`[fuzz] http ${target}: ${[...byStatus.values()].reduce((a, b) => a + b, 0)} requests; answers: ${top}`);
  }
  const mem = (m?: Memory) => (m ? `heap ${(m.heap / MB).toFixed(0)} MB, rss ${(m.rss / MB).toFixed(0)} MB` : "?");
  console.log(`[fuzz] http: Airlock's memory after warm-up ${mem(r.memory.warm)}; at the end ${mem(r.memory.end)}; peak rss ${(r.memory.peakRss / MB).toFixed(0)} MB`);
  for (const f of r.findings) {
    console.log(`\nFINDING http ${f.kind} (${f.count}×, seed ${seed}): ${f.message}`);
    if (f.case) console.log(describeHttpCase(f.case, seed));
  }
  if (r.findings.length > 0) console.log(`[fuzz] http: Airlock's output is in ${r.log}`);
  return r.findings.length > 0;
}

/** The case a seed and an index make, with placeholders for what the run knows only when it runs. */
export function replayHttpCase(seed: number, index: number): string {
  const ctx: CaseContext = { token: "<agent token>", sentinelId: "r_5e471e1000", slackUsers: ["U0CAROL", "U0STRANGER", "U0BOT", "U0DEPARTED", "U0PRIVATE", "U0NOBODY"], approverSlackUser: "U0ALICE" };
  return describeHttpCase(generateHttpCase(seed, index, ctx), seed);
}
