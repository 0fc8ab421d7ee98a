import net from "node:net";
import tls from "node:tls";
import { Auth, Backend } from "../protocol/message-codes";
import { MessageBuffer } from "../protocol/message-buffer";
import { BodyReader, readFields } from "../protocol/reader";
import { SocketReader, StreamClosedError } from "../protocol/socket-reader";
import {
  TERMINATE,
  writeCancelRequest,
  writePasswordMessage,
  writeSaslInitialResponse,
  writeSaslResponse,
  writeSslRequest,
  writeStartupMessage,
} from "../protocol/writer";
import { md5PasswordResponse, ScramClient } from "./scram";
import { forwardedParams, type Upstream } from "./upstream";

/** For the side connection of a cancel request: TCP only, no login. */
const CANCEL_CONNECT_TIMEOUT_MS = 10_000;
const MAX_STARTUP_REPLY_BYTES = 1024 * 1024;

/** Why an upstream could not be reached; logged in full, never shown to the agent. */
export class UpstreamError extends Error {
  /** The server's SQLSTATE, when it refused the connection itself. */
  constructor(
    message: string,
    readonly code?: string,
    readonly serverMessage?: string,
  ) {
    super(message);
  }
}

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: "disable" | "prefer" | "require" | "verify-full";
}

export function parsePostgresUrl(url: string): Target {
  const u = new URL(url);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw new UpstreamError(`not a postgres URL: ${u.protocol}`);
  const ssl = (u.searchParams.get("sslmode") ?? "disable") as Target["ssl"];
  if (!["disable", "prefer", "require", "verify-full"].includes(ssl)) throw new UpstreamError(`unsupported sslmode ${ssl}`);
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || "postgres"),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username || "postgres"),
    ssl,
  };
}

/**
 * Opens an authenticated session on a real PostgreSQL server as the resource's own user, with
 * the agent's harmless startup parameters. https://www.postgresql.org/docs/current/protocol-flow.html
 */
export async function connectPostgres(url: string, clientParams: ReadonlyMap<string, string>, timeoutMs: number): Promise<Upstream> {
  const target = parsePostgresUrl(url);
  // One deadline for the whole login, not only for TCP: a target that accepts the connection and
  // then says nothing (black-holed, hung) would otherwise keep the agent waiting for ever.
  let raw: net.Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(`logging in to ${target.host}:${target.port} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  const attempt = login(target, clientParams, timeoutMs, (s) => (raw = s));
  try {
    return await Promise.race([attempt, timedOut]);
  } catch (err) {
    // Too late: whatever the attempt still makes is closed, not handed out.
    raw?.destroy();
    attempt.then((upstream) => upstream.close(true), () => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function login(target: Target, clientParams: ReadonlyMap<string, string>, timeoutMs: number, opened: (raw: net.Socket) => void): Promise<Upstream> {
  const socket = await openSocket(target, timeoutMs, opened);
  try {
    socket.setNoDelay(true);
    const reader = new SocketReader(socket, new MessageBuffer(MAX_STARTUP_REPLY_BYTES));
    socket.write(writeStartupMessage({ ...forwardedParams(clientParams), user: target.user, database: target.database }));
    const { parameters, key } = await authenticate(socket, reader, target).catch((err: unknown) => {
      throw err instanceof StreamClosedError ? new UpstreamError(`upstream closed the connection during startup: ${err.message}`) : err;
    });
    reader.detach();
    return wrapSocket(socket, target, parameters, key, reader.buffer.drain());
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

async function authenticate(socket: net.Socket, reader: SocketReader, target: Target) {
  const parameters = new Map<string, string>();
  let key: { pid: number; secret: number } | undefined;
  let scram: ScramClient | undefined;
  for (;;) {
    const { type, body } = await reader.message();
    switch (type) {
      case Backend.Authentication: {
        const reader = new BodyReader(body);
        const subtype = reader.readInt32();
        if (subtype === Auth.Ok) break;
        if (subtype === Auth.CleartextPassword) socket.write(writePasswordMessage(target.password));
        else if (subtype === Auth.MD5Password) socket.write(writePasswordMessage(md5PasswordResponse(target.user, target.password, reader.readBytes(4))));
        else if (subtype === Auth.SASL) {
          const mechanisms: string[] = [];
          for (let m = reader.readCString(); m !== ""; m = reader.readCString()) mechanisms.push(m);
          if (!mechanisms.includes("SCRAM-SHA-256")) throw new UpstreamError(`no supported SASL mechanism in ${mechanisms.join(", ")}`);
          scram = new ScramClient(target.password);
          socket.write(writeSaslInitialResponse(scram.mechanism, scram.clientFirstMessage()));
        } else if (subtype === Auth.SASLContinue && scram) socket.write(writeSaslResponse(scram.clientFinalMessage(body.toString("utf8", 4))));
        else if (subtype === Auth.SASLFinal && scram) scram.verifyServerFinal(body.toString("utf8", 4));
        else throw new UpstreamError(`unsupported authentication request ${subtype}`);
        break;
      }
      case Backend.ParameterStatus: {
        const reader = new BodyReader(body);
        parameters.set(reader.readCString(), reader.readCString());
        break;
      }
      case Backend.BackendKeyData: {
        const reader = new BodyReader(body);
        key = { pid: reader.readInt32(), secret: reader.readInt32() };
        break;
      }
      case Backend.ReadyForQuery:
        return { parameters, key };
      case Backend.ErrorResponse: {
        const fields = readFields(body);
        throw new UpstreamError(`${fields.get("C")}: ${fields.get("M")}`, fields.get("C"), fields.get("M"));
      }
      default:
        break; // NoticeResponse, NegotiateProtocolVersion: nothing to do before ready
    }
  }
}

function wrapSocket(
  socket: net.Socket,
  target: Target,
  parameters: Map<string, string>,
  key: { pid: number; secret: number } | undefined,
  leftover: Buffer[],
): Upstream {
  let closed = false;
  const closeListeners: Array<(err?: Error) => void> = [];
  let lastError: Error | undefined;
  socket.on("error", (err) => (lastError = err));
  socket.once("close", () => {
    closed = true;
    for (const listener of closeListeners) listener(lastError);
  });
  return {
    parameters,
    write: (data) => (closed ? false : socket.write(data)),
    onData(listener) {
      for (const chunk of leftover) listener(chunk);
      socket.on("data", listener);
      socket.resume();
    },
    onDrain: (listener) => void socket.on("drain", listener),
    onClose: (listener) => void (closed ? listener(lastError) : closeListeners.push(listener)),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    async cancel() {
      if (!key) return;
      const side = await openSocket({ ...target, ssl: target.ssl === "prefer" ? "disable" : target.ssl }, CANCEL_CONNECT_TIMEOUT_MS);
      side.on("error", () => undefined);
      // Settled once the server closes the side connection: by then it has signalled the backend,
      // so a statement sent after this cannot be the one the cancel reaches (statement-budgets.ts).
      const closed = new Promise<void>((resolve) => {
        side.once("close", () => resolve());
        setTimeout(resolve, CANCEL_CONNECT_TIMEOUT_MS).unref();
      });
      side.end(writeCancelRequest(key.pid, key.secret));
      await closed;
    },
    close(destroy = false) {
      if (closed) return;
      if (destroy) socket.destroy();
      else socket.end(TERMINATE);
    },
  };
}

async function openSocket(target: Target, timeoutMs: number, opened?: (raw: net.Socket) => void): Promise<net.Socket> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port, timeout: timeoutMs });
    opened?.(s);
    s.once("connect", () => {
      s.setTimeout(0);
      resolve(s);
    });
    s.once("timeout", () => {
      s.destroy();
      reject(new UpstreamError(`connecting to ${target.host}:${target.port} timed out`));
    });
    s.once("error", (err) => reject(new UpstreamError(`cannot connect to ${target.host}:${target.port}: ${err.message}`)));
  });
  if (target.ssl === "disable") return socket;
  socket.write(writeSslRequest());
  const answer = await new Promise<number>((resolve, reject) => {
    socket.once("data", (chunk: Buffer) => (chunk.length === 1 ? resolve(chunk[0]) : reject(new UpstreamError("unexpected answer to SSLRequest"))));
    socket.once("error", reject);
  });
  if (answer !== 0x53) {
    if (target.ssl === "prefer") return socket;
    socket.destroy();
    throw new UpstreamError(`${target.host} does not offer TLS (sslmode=${target.ssl})`);
  }
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername: net.isIP(target.host) ? undefined : target.host, rejectUnauthorized: target.ssl === "verify-full" });
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", (err) => reject(new UpstreamError(`TLS to ${target.host} failed: ${err.message}`)));
  });
}
