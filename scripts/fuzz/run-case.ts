/**
 * Plays one fuzz case against the proxy and judges what came back: an internal error reaching
 * the client, a session that neither answers nor ends within the bound, bytes that are not the
 * protocol.
 */
import net from "node:net";
import { readFields } from "../../proxy/protocol/reader";
import { BackendStream } from "./backend-stream";
import type { FuzzCase, Step } from "./case";
import { AGENTS } from "./generate";
import { PROTOCOL_3_0, SSL_REQUEST, cancelRequest, copyFail, password, query, startupBody, sync, terminate, untyped } from "./messages";

export interface RunContext {
  port: number;
  token(agent: string): string;
  /** How long a session may take to answer the probe (or close) before it counts as stuck. */
  stuckAfterMs: number;
}

export interface CaseOutcome {
  loggedIn: boolean;
  /** "airlock: internal error…" messages that reached the client. */
  internalErrors: string[];
  stuck?: string;
  malformed?: string;
  /** SQLSTATEs of every ErrorResponse, for the run's summary. */
  codes: string[];
  /** Whether a length word lied: the proxy may then wait for the rest of a message, as PostgreSQL does. */
  framingLie: boolean;
}

/** A length word that says more than is sent: the proxy rightly waits for the rest (a short one it must refuse). */
const LENGTH_LIE = /\[length \+|with length \+|length \+/;

export async function runCase(c: FuzzCase, ctx: RunContext): Promise<CaseOutcome> {
  const socket = net.connect(ctx.port, "127.0.0.1");
  const stream = new BackendStream(socket);
  const framingLie = c.steps.some((s) => (s.kind === "send" || s.kind === "token") && LENGTH_LIE.test(s.label));
  let loggedIn = false;
  let stuck: string | undefined;
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    if (c.login) loggedIn = await login(socket, stream, c, ctx);
    if (!c.login || loggedIn) {
      for (const step of c.steps) {
        if (stream.closed || socket.destroyed) break;
        await play(step, socket, stream, c, ctx);
      }
    }
    loggedIn ||= stream.messages.some((m) => m.type === "K");
    stuck = await finish(c, socket, stream, ctx, framingLie);
  } catch (err) {
    if (!(err instanceof Error && /ECONNRESET|EPIPE/.test(err.message))) throw err;
  } finally {
    socket.destroy();
  }
  const errors = stream.errors();
  return {
    loggedIn,
    internalErrors: errors.map((e) => e.get("M") ?? "").filter((m) => /internal error/i.test(m)),
    stuck,
    malformed: stream.malformed,
    codes: errors.map((e) => e.get("C") ?? "?"),
    framingLie,
  };
}

async function login(socket: net.Socket, stream: BackendStream, c: FuzzCase, ctx: RunContext): Promise<boolean> {
  if (c.login?.ssl) {
    stream.expectSingleByte = 1;
    socket.write(untyped(SSL_REQUEST, Buffer.alloc(0)));
    if (!(await stream.until(() => stream.messages.length > 0, 10_000))) return false;
  }
  socket.write(untyped(PROTOCOL_3_0, startupBody([["user", c.agent], ["database", c.resource], ["application_name", c.login?.applicationName ?? "fuzz"]])));
  if (!(await stream.until(() => stream.last?.type === "R", 20_000))) return false;
  return passwordAndReady(socket, stream, password(ctx.token(c.agent)));
}

async function passwordAndReady(socket: net.Socket, stream: BackendStream, bytes: Buffer): Promise<boolean> {
  socket.write(bytes);
  return stream.until(() => stream.messages.some((m) => m.type === "Z" || m.type === "E"), 20_000).then(() => stream.messages.some((m) => m.type === "Z"));
}

async function play(step: Step, socket: net.Socket, stream: BackendStream, c: FuzzCase, ctx: RunContext): Promise<void> {
  switch (step.kind) {
    case "send":
      if (/^(SSLRequest|GSSENCRequest)$/.test(step.label)) stream.expectSingleByte++;
      socket.write(step.bytes);
      return;
    case "token": {
      const own = ctx.token(c.agent);
      const other = ctx.token(AGENTS.find((a) => a !== c.agent) ?? c.agent);
      const token = step.variant === "truncated" ? own.slice(0, Math.floor(own.length / 2)) : step.variant === "other-agent" ? other : own;
      socket.write(step.variant === "doubled" ? Buffer.concat([password(token), password(token)]) : password(token));
      return;
    }
    case "await": {
      const since = stream.messages.length;
      // Answered: a ReadyForQuery since the wait began and nothing more for a moment.
      await stream.until(() => stream.messages.length > since && stream.last?.type === "Z" && Date.now() - stream.lastByteAt > 30, step.ms);
      return;
    }
    case "cancel":
      await sendCancel(ctx.port, step.which === "own" ? backendKey(stream) : undefined);
      return;
    case "cut":
      socket.write(step.bytes.subarray(0, step.at));
      await new Promise((r) => setTimeout(r, 10));
      socket.destroy();
      return;
    case "disconnect":
      socket.destroy();
      return;
  }
}

function backendKey(stream: BackendStream): { processId: number; secretKey: number } | undefined {
  const key = stream.messages.find((m) => m.type === "K");
  return key && key.body.length >= 8 ? { processId: key.body.readInt32BE(0), secretKey: key.body.readInt32BE(4) } : undefined;
}

async function sendCancel(port: number, key: { processId: number; secretKey: number } | undefined): Promise<void> {
  const side = net.connect(port, "127.0.0.1");
  side.on("error", () => undefined);
  const { processId, secretKey } = key ?? { processId: Math.floor(Math.random() * 2 ** 31), secretKey: Math.floor(Math.random() * 2 ** 31) };
  side.write(cancelRequest(processId, secretKey));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    side.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  side.destroy();
}

let probes = 0;

/** Ends the case as it says; returns why it counts as stuck, if it does. */
async function finish(c: FuzzCase, socket: net.Socket, stream: BackendStream, ctx: RunContext, framingLie: boolean): Promise<string | undefined> {
  if (stream.closed || socket.destroyed || c.end === "none") return undefined;
  if (c.end === "terminate") {
    // As drivers do: Terminate, then our end closed. (PostgreSQL ignores a Terminate while it skips to a
    // Sync after an error, so only the closed socket is sure to end the session.)
    socket.end(terminate());
    return (await stream.until(() => stream.closed, ctx.stuckAfterMs)) || framingLie ? undefined : `still open ${ctx.stuckAfterMs} ms after Terminate and our end closed`;
  }
  // The probe: leave COPY and any failed transaction, then a statement whose answer is unmistakable.
  const marker = `fuzz-probe-${process.pid}-${++probes}`;
  const sent = stream.messages.length;
  socket.write(Buffer.concat([copyFail("probe"), sync(), query("rollback"), query(`select '${marker}'`)]));
  const answered = () => stream.messages.slice(sent).some((m) => m.type === "D" && m.body.includes(marker));
  // A session refused on its own terms answers with an error and a ReadyForQuery, then goes quiet.
  const settled = () => stream.messages.length > sent && stream.last?.type === "Z" && Date.now() - stream.lastByteAt > 2000;
  if (await stream.until(() => answered() || settled(), ctx.stuckAfterMs)) return undefined;
  if (stream.closed || framingLie) return undefined;
  const last = stream.last;
  const lastText = last ? (last.type === "E" || last.type === "N" ? `${last.type} ${readFields(last.body).get("M")}` : last.type) : "nothing";
  return `no answer to the probe within ${ctx.stuckAfterMs} ms (${stream.messages.length - sent} messages since it; the last: ${lastText})`;
}
