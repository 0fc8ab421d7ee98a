import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { decide } from "../lib/decision/decide";
import { parsePolicy } from "../lib/policy/policy-file";
import { createClassifier } from "../lib/sql/classify";
import { loadSqlParser } from "../lib/sql/parser";
import { TEST_CATALOG } from "../lib/sql/testing";
import { MessageBuffer } from "./protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "./protocol/message-codes";
import { readFields, readQuery } from "./protocol/reader";
import { writeCommandComplete, writeErrorResponse, writeQuery, writeReadyForQuery } from "./protocol/writer";
import { SessionPath } from "./session-path";
import { Relay, type RelayContext } from "./relay";
import type { Upstream } from "./upstream/upstream";

const POLICY = parsePolicy(`resources:
  pg: { type: postgres, url: "postgres://x@127.0.0.1/x" }
rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow`);

/** A server that answers each Query: a syntax error for Airlock's stand-in of a refused statement, else "SELECT 1". */
function scriptedUpstream(): Upstream & { queries: string[] } {
  const listeners: Array<(chunk: Buffer) => void> = [];
  const queries: string[] = [];
  const inbox = new MessageBuffer(1 << 20);
  return {
    parameters: new Map(),
    queries,
    write(data) {
      inbox.push(data);
      for (let m = inbox.next(); m; m = inbox.next()) {
        if (m.type !== Frontend.Query) continue;
        const sql = readQuery(m.body);
        queries.push(sql);
        const answer = sql.startsWith("airlock refused")
          ? writeErrorResponse({ severity: "ERROR", code: "42601", message: "syntax error" })
          : writeCommandComplete("SELECT 1");
        setImmediate(() => listeners.forEach((l) => l(Buffer.concat([answer, writeReadyForQuery(TxStatus.Idle)]))));
      }
      return true;
    },
    onData: (l) => void listeners.push(l),
    onDrain: () => undefined,
    onClose: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    cancel: async () => undefined,
    close: () => undefined,
  };
}

/** The relay on one end of a real socket pair, the test as the agent on the other. */
async function relayWith(ctx: Partial<RelayContext>, upstream: Upstream): Promise<{ agent: net.Socket; answers: () => Promise<Array<{ type: string; code?: string; message?: string }>> }> {
  await loadSqlParser();
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const agent = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
  const socket = await accepted;
  server.close();
  const classifier = createClassifier(TEST_CATALOG);
  new Relay(socket, upstream, {
    clientMessages: new MessageBuffer(1 << 20),
    tokenExpiresAt: Date.now() / 1000 + 3600,
    classify: (text, prepared, path) => classifier.classify(text, prepared, path),
    searchPath: new SessionPath(["public"], ["public"]),
    decide: (statement) => decide(POLICY, { sessionId: "s", agentId: "reporting-agent", groups: ["agents"], resource: "pg" }, statement),
    hold: () => Promise.reject(new Error("no holds here")),
    onStatement: () => undefined,
    schemaChanged: () => undefined,
    masking: { catalog: TEST_CATALOG, masker: () => { throw new Error("no masking here"); } },
    ...ctx,
  });
  const received = new MessageBuffer(1 << 20);
  agent.on("data", (chunk: Buffer) => received.push(chunk));
  return {
    agent,
    /** Everything up to the next ReadyForQuery. */
    async answers() {
      const out: Array<{ type: string; code?: string; message?: string }> = [];
      for (;;) {
        const m = received.next();
        if (!m) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const fields = m.type === Backend.ErrorResponse ? readFields(m.body) : undefined;
        out.push({ type: String.fromCharCode(m.type), code: fields?.get("C"), message: fields?.get("M") });
        if (m.type === Backend.ReadyForQuery) return out;
      }
    },
  };
}

test("a fault of Airlock's own while judging refuses that statement with 42501, never runs it, and the session goes on", async () => {
  const upstream = scriptedUpstream();
  let failNext = true;
  const classifier = createClassifier(TEST_CATALOG);
  const { agent, answers } = await relayWith(
    {
      classify(text, prepared) {
        if (failNext) {
          failNext = false;
          throw new TypeError("a bug in classification");
        }
        return classifier.classify(text, prepared);
      },
    },
    upstream,
  );
  try {
    agent.write(writeQuery("select 1"));
    const refused = await answers();
    assert.deepEqual(refused.map((a) => a.type), ["E", "Z"]);
    assert.equal(refused[0].code, "42501");
    assert.match(refused[0].message ?? "", /^airlock: Airlock failed to judge this statement/);
    agent.write(writeQuery("select 2"));
    assert.deepEqual((await answers()).map((a) => a.type), ["C", "Z"], "the session goes on");
    assert.deepEqual(upstream.queries, ["airlock refused this statement", "select 2"], "the failed one never reached the database");
  } finally {
    agent.destroy();
  }
});
