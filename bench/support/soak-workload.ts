/**
 * `npm run soak`'s agents: each is a distinct agent identity with one connection through the
 * proxy, sending a mix of statements (and access requests through the agent API in process) until
 * told to stop. Every statement sent is counted, whatever became of it, so the end can compare
 * the count with what the proxy recorded.
 */
import type { Socket } from "node:net";
import pg from "pg";
import type { LocalAgentApi } from "../../lib/access/local-api";
import { sleep } from "./report";

export const KINDS = ["read", "masked read", "held → approved", "held → denied", "grant asked (held)", "granted write", "access request", "disconnect mid-stmt"] as const;
export type Kind = (typeof KINDS)[number];

/** What each agent picks next, by weight; the held kinds stay rare, as writes among reads. */
const WEIGHTS: Array<[Exclude<Kind, "grant asked (held)">, number]> = [
  ["read", 40],
  ["masked read", 25],
  ["held → approved", 7],
  ["held → denied", 6],
  ["granted write", 10],
  ["access request", 4],
  ["disconnect mid-stmt", 6],
];
/** Pause between an agent's statements: 50 agents send ~200 statements a second, a load two shared cores bear. */
const THINK_MS = [50, 450] as const;
/** How long a disconnecting agent lets its `pg_sleep(1)` run before it drops the socket. */
const DROP_AFTER_MS = 200;
/** Rows of the soak's tables: ids are picked from 1..ROWS. */
export const ROWS = 1000;

/** Markers the scripted approver reads in a held statement's text (bench/support/soak-approver.ts). */
export const DENY_MARK = "soak:deny";
export const GRANT_MARK = "soak:grant";

export class Tally {
  /** Statements sent through the proxy, by what came of them; `sent` is their sum. */
  sent = 0;
  ok = 0;
  refused = 0;
  failed = 0;
  dropped = 0;
  /** Logins through the proxy: each is a session the store should hold, ended. */
  logins = 0;
  /** Connections lost other than on purpose, and the first few errors nobody expected. */
  lostConnections = 0;
  readonly unexpected: string[] = [];
  readonly latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));

  add(kind: Kind, ms: number): void {
    this.latencies.get(kind)!.push(ms);
  }

  note(text: string): void {
    if (this.unexpected.length < 20) this.unexpected.push(text);
  }
}

export interface AgentSetup {
  id: string;
  /** pg connection settings, the agent's token as the password. */
  connection: pg.ClientConfig;
  api: LocalAgentApi;
  tally: Tally;
  stopping: () => boolean;
}

/** One agent's loop, until `stopping()`; what it has sent has ended (answered, refused or dropped) when it resolves. */
export async function runAgent(agent: AgentSetup, seed: number): Promise<void> {
  let random = seed;
  const next = () => ((random = (random * 1103515245 + 12345) % 2147483648) / 2147483648);
  let client = await connect(agent);
  while (!agent.stopping()) {
    const kind = pick(next());
    const id = 1 + Math.floor(next() * ROWS);
    try {
      if (kind === "disconnect mid-stmt") await disconnectMidStatement(agent);
      else if (kind === "access request") await accessRequest(agent);
      else await statement(agent, client, kind, id);
    } catch (err) {
      // A lost connection is counted and replaced; the loop goes on.
      agent.tally.lostConnections++;
      agent.tally.note(`${agent.id} ${kind}: ${err instanceof Error ? err.message : String(err)}`);
      await client.end().catch(() => undefined);
      client = await connect(agent);
    }
    await sleep(THINK_MS[0] + next() * (THINK_MS[1] - THINK_MS[0]));
  }
  await client.end().catch(() => undefined);
}

function pick(roll: number): Exclude<Kind, "grant asked (held)"> {
  const total = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  let at = roll * total;
  for (const [kind, weight] of WEIGHTS) {
    if ((at -= weight) < 0) return kind;
  }
  return "read";
}

async function connect(agent: AgentSetup): Promise<pg.Client> {
  const client = new pg.Client(agent.connection);
  // A connection the proxy ends (e.g. at shutdown) must not throw from an event.
  client.on("error", () => undefined);
  await client.connect();
  agent.tally.logins++;
  return client;
}

const SQL: Record<Exclude<Kind, "grant asked (held)" | "access request" | "disconnect mid-stmt">, string> = {
  read: "select id, status, total from orders where id = $1",
  "masked read": "select id, name, email, phone, card_number, ssn from customers where id = $1",
  "held → approved": "update held_writes set n = n + 1 where id = $1",
  "held → denied": `update held_writes set n = n + 1 where id = $1 /* ${DENY_MARK} */`,
  "granted write": `update granted_writes set n = n + 1 where id = $1 /* ${GRANT_MARK} */`,
};

/** One statement on the agent's connection, timed to its answer; a held one is told by its NoticeResponse. */
async function statement(agent: AgentSetup, client: pg.Client, kind: keyof typeof SQL, id: number): Promise<void> {
  const { tally } = agent;
  let held = false;
  const onNotice = (notice: { message?: string }) => {
    if (notice.message?.includes("held for approval")) held = true;
  };
  client.on("notice", onNotice);
  const start = performance.now();
  tally.sent++;
  try {
    await client.query(SQL[kind], [id]);
    tally.ok++;
    if (kind === "held → denied") tally.note(`${agent.id}: a write the approver denies ran`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined) throw err; // the connection, not the statement
    if (code === "42501") tally.refused++;
    else tally.failed++;
    if (code !== "42501" || kind !== "held → denied") tally.note(`${agent.id} ${kind}: ${code} ${(err as Error).message}`);
  } finally {
    client.off("notice", onNotice);
  }
  // A write on granted_writes is held only when no grant covers it: then it asks for one.
  tally.add(kind === "granted write" && held ? "grant asked (held)" : kind, performance.now() - start);
}

/**
 * A connection of its own that starts `pg_sleep(1)` and destroys its socket mid-statement: the
 * proxy must end the session, cancel nothing it should keep, and still record the statement.
 * Its figure is the time to log in (the statement never answers).
 */
async function disconnectMidStatement(agent: AgentSetup): Promise<void> {
  const start = performance.now();
  const client = await connect(agent);
  agent.tally.add("disconnect mid-stmt", performance.now() - start);
  agent.tally.sent++;
  agent.tally.dropped++;
  const running = client.query("select pg_sleep(1)").catch(() => undefined);
  await sleep(DROP_AFTER_MS);
  (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
  await running;
}

/** Asks for update on access_target for a minute, waits until the approver grants it, gives the grant back. */
async function accessRequest(agent: AgentSetup): Promise<void> {
  const start = performance.now();
  let request = await agent.api.ask({ resource: "soak", kinds: ["update"], tables: ["access_target"], duration: "1m", reason: "soak" });
  while (request.status === "pending") request = await agent.api.status(request.id, 25);
  agent.tally.add("access request", performance.now() - start);
  if (request.status !== "approved" || !request.grant) {
    agent.tally.note(`${agent.id}: access request ${request.id} ended ${request.status}`);
    return;
  }
  await agent.api.giveBack(request.grant.id);
}
