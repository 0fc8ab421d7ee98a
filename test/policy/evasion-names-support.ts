/**
 * For the evasion-names suites: an agent session written by hand on the wire, its answers grouped
 * by ReadyForQuery and compared with what PostgreSQL answers, and reads of the shop's tables on
 * either resource (`pg` straight as superuser, the PGlite `demo` only through the proxy).
 */
import assert from "node:assert/strict";
import pg from "pg";
import { demoInsertSql, demoSchemaSql } from "../../lib/demo/seed-sql";
import { Backend, Frontend } from "../../proxy/protocol/message-codes";
import { readFields } from "../../proxy/protocol/reader";
import { writePasswordMessage, writeStartupMessage } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import type { PolicyTestEnv } from "./setup";
import { answersUntilReady, shapeOf, type Answer } from "./wire";

/** The demo shop's schema and rows, so `pg` has the same tables and data as PGlite's `demo`. */
export const SHOP_FIXTURE = `${demoSchemaSql()};\n${demoInsertSql().join(";\n")};`;

export const RESOURCES = ["pg", "demo"] as const;
export type Resource = (typeof RESOURCES)[number];

/** A pattern token for a refusal by Airlock: 42501, its message starting `airlock:`. */
export const REFUSED = "E:42501";

const LOGIN_MS = 60_000;

/** Whether the server answers this message with a ReadyForQuery: Sync and Query do. */
export const endsGroup = (message: Buffer): boolean => message[0] === Frontend.Sync || message[0] === Frontend.Query;

/** One agent connection speaking the wire by hand; keeps every byte it received. */
export class WireSession {
  readonly #received: Buffer[] = [];

  private constructor(readonly raw: RawWireClient) {
    raw.socket.on("data", (chunk: Buffer) => this.#received.push(chunk));
  }

  /** RawWireClient.login sends no application_name, and return mode is asked for there. */
  static async open(env: PolicyTestEnv, resource: Resource, applicationName = "evasion-names"): Promise<WireSession> {
    const { harness } = env;
    const raw = await RawWireClient.connect(harness.proxy.port);
    raw.socket.write(writeStartupMessage({ user: "reporting-agent", database: resource, application_name: applicationName }));
    await raw.expect("R");
    raw.socket.write(writePasswordMessage(await harness.idp.token("reporting-agent")));
    // The first session on `demo` waits for PGlite to open and seed: longer than next()'s default.
    for (let m = await raw.next(LOGIN_MS); m?.type !== Backend.ReadyForQuery; m = await raw.next(LOGIN_MS)) {
      if (!m) throw new Error("closed during login");
      if (m.type === Backend.ErrorResponse) throw new Error(`login refused: ${readFields(m.body).get("M")}`);
    }
    return new WireSession(raw);
  }

  /** Sends the messages in one write and reads the answers of every Sync and Query among them. */
  async send(messages: Buffer[]): Promise<Answer[][]> {
    this.raw.socket.write(Buffer.concat(messages));
    return this.read(messages.filter(endsGroup).length);
  }

  /** The answers up to the next `groups` ReadyForQuery messages, one array per ReadyForQuery. */
  async read(groups: number): Promise<Answer[][]> {
    const out: Answer[][] = [[]];
    for (const answer of await answersUntilReady(this.raw, groups)) {
      out[out.length - 1].push(answer);
      if (answer.type === "Z") out.push([]);
    }
    return out.slice(0, -1);
  }

  /** Everything the proxy sent to this agent so far, login included. */
  bytes(): Buffer {
    return Buffer.concat(this.#received);
  }

  close(): void {
    this.raw.close();
  }
}

/**
 * Whether one group's tokens fit a pattern: a token matches itself, `a|b` either, a trailing `?`
 * makes it optional (a refusal may come at Bind or at Execute: both are PostgreSQL-shaped).
 */
function fits(tokens: readonly string[], pattern: readonly string[]): boolean {
  if (pattern.length === 0) return tokens.length === 0;
  const [head, ...rest] = pattern;
  const optional = head.endsWith("?");
  const choices = (optional ? head.slice(0, -1) : head).split("|");
  if (optional && fits(tokens, rest)) return true;
  return tokens.length > 0 && choices.includes(tokens[0]) && fits(tokens.slice(1), rest);
}

/** The proxy answered every group as the pattern says, and each refusal is Airlock's. */
export function assertAnswers(groups: Answer[][], expected: ReadonlyArray<readonly string[]>, note = ""): void {
  const shapes = groups.map(shapeOf);
  const said = JSON.stringify(groups.flat().filter((a) => a.message).map((a) => `${a.code} ${a.message}`));
  assert.ok(shapes.length === expected.length && shapes.every((s, i) => fits(s, expected[i])), `${note}\nanswers:  ${JSON.stringify(shapes)}\nexpected: ${JSON.stringify(expected)}\nmessages: ${said}`);
  for (const refusal of groups.flat().filter((a) => a.type === "E" && a.code === "42501")) assert.match(refusal.message ?? "", /^airlock: /);
}

/** Rows of a read on either resource: `pg` as superuser, `demo` as the agent through the proxy (a read it may make). */
export async function inspect(env: PolicyTestEnv, resource: Resource, sql: string): Promise<Array<Record<string, unknown>>> {
  if (resource === "pg") return (await env.admin.query(sql)).rows as Array<Record<string, unknown>>;
  const client = new pg.Client({ connectionString: await env.harness.url(resource), application_name: "evasion-names inspect" });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

/** A single number a read returns (`SELECT count(*)::int AS n …`). */
export async function count(env: PolicyTestEnv, resource: Resource, sql: string): Promise<number> {
  return Number((await inspect(env, resource, sql))[0].n);
}

const SHOP_TABLES = ["customers", "products", "orders", "refunds"] as const;

/** Each shop table's row count and a digest of its rows, and each identity sequence's position. */
export async function shopState(env: PolicyTestEnv, resource: Resource): Promise<unknown> {
  const tables = SHOP_TABLES.map((t) => `SELECT '${t}' AS name, count(*)::int AS n, md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) AS digest FROM ${t} x`);
  const sequences = SHOP_TABLES.map((t) => `SELECT '${t}_id_seq' AS name, last_value::int AS n, is_called::text AS digest FROM ${t}_id_seq`);
  return inspect(env, resource, [...tables, ...sequences].join(" UNION ALL "));
}
