import type { Duplex } from "node:stream";
import type { Decision, SessionIdentity, Statement } from "../lib/decision/decide";
import { ExtendedState } from "./extended-state";
import { MessageBuffer, type WireMessage } from "./protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "./protocol/message-codes";
import { readBind, readCommandTag, readExecutePortal, readFields, readParse, readQuery, readTarget, rowsFromTag } from "./protocol/reader";
import { writeErrorResponse, writeReadyForQuery } from "./protocol/writer";
import { OutputBatch } from "./output-batch";
import { ResponseTracker, type PendingStatement } from "./response-tracker";
import type { Upstream } from "./upstream/upstream";
import { PgWireError, SqlState } from "./wire-error";

/** Largest message an authenticated agent may send (PostgreSQL's own limit is 1 GiB). */
export const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Server messages are trusted but still bounded, so a broken upstream cannot exhaust memory. */
export const MAX_SERVER_MESSAGE_BYTES = 1024 * 1024 * 1024 + 5;

export interface RelayContext {
  identity: SessionIdentity;
  /** Seconds since the epoch when the agent's token expires. */
  tokenExpiresAt: number;
  decide(session: SessionIdentity, statement: Statement): Decision;
  onStatement(statement: PendingStatement, durationMs: number): void;
}

export const RelayStep = { Relaying: "relaying", Closed: "closed" } as const;
export type RelayStep = (typeof RelayStep)[keyof typeof RelayStep];

/**
 * The session loop after login: agent messages pass the decision point on their way to the
 * database; the database's answers stream back unchanged, with backpressure both ways.
 */
export class Relay {
  #step: RelayStep = RelayStep.Relaying;
  #txStatus: number = TxStatus.Idle;
  /** After the proxy refuses an Execute, the agent's messages are dropped until Sync, as the server would. */
  #skipUntilSync = false;
  readonly #fromClient = new MessageBuffer(MAX_CLIENT_MESSAGE_BYTES);
  readonly #fromServer = new MessageBuffer(MAX_SERVER_MESSAGE_BYTES);
  readonly #toServer = new OutputBatch();
  readonly #toClient = new OutputBatch();
  readonly #extended = new ExtendedState();
  readonly #tracker: ResponseTracker;
  #upstreamPaused = false;
  #resolveDone!: (reason: string) => void;
  /** Resolves with the reason once the session is over. */
  readonly done = new Promise<string>((resolve) => (this.#resolveDone = resolve));

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Upstream,
    private readonly ctx: RelayContext,
    leftover: Buffer[] = [],
  ) {
    this.#tracker = new ResponseTracker({
      finished: (s) => ctx.onStatement(s, performance.now() - s.startedAt),
      emit: (bytes) => this.#toClient.add(bytes),
    });
    for (const chunk of leftover) this.#fromClient.push(chunk);

    client.on("data", (chunk: Buffer) => this.#onClientData(chunk));
    client.on("error", () => this.#end("client connection failed"));
    client.on("close", () => this.#end("client disconnected"));
    client.on("drain", () => this.#resumeUpstream());
    upstream.onData((chunk) => this.#onServerData(chunk));
    upstream.onDrain(() => client.resume());
    upstream.onClose((err) => this.#onUpstreamClosed(err));
    client.resume();
    if (leftover.length > 0) this.#onClientData(Buffer.alloc(0));
  }

  get step(): RelayStep {
    return this.#step;
  }

  /** Ends the session from outside (shutdown, revoked access), telling the agent why. */
  terminate(error: PgWireError): void {
    this.#fatal(error);
  }

  // --- agent → database -------------------------------------------------------------------

  #onClientData(chunk: Buffer): void {
    this.#fromClient.push(chunk);
    try {
      for (let message = this.#fromClient.next(); message; message = this.#fromClient.next()) {
        this.#fromClientMessage(message);
        if (this.#step === RelayStep.Closed) return;
      }
    } catch (err) {
      return this.#fatal(err);
    }
    this.#flushToServer();
    this.#flushToClient();
  }

  #fromClientMessage(message: WireMessage): void {
    const { type, body, raw } = message;
    if (this.#skipUntilSync && type !== Frontend.Sync) return;
    switch (type) {
      case Frontend.Query:
        return this.#statement(readQuery(body), undefined, "simple", raw);
      case Frontend.Parse: {
        const parse = readParse(body);
        this.#extended.parse(parse.name, parse.text);
        return this.#forward(raw, { kind: "parse" });
      }
      case Frontend.Bind: {
        const bind = readBind(body);
        this.#extended.bind(bind.portal, bind.statement, bind.params, bind.paramFormats);
        return this.#forward(raw, { kind: "bind" });
      }
      case Frontend.Execute: {
        const portal = this.#extended.portal(readExecutePortal(body));
        // An unknown portal is the server's error to report; the proxy lets it say so.
        if (!portal) return this.#forward(raw, { kind: "execute", statement: pending("", undefined, "extended") });
        return this.#statement(portal.text, portal.params, "extended", raw);
      }
      case Frontend.Describe:
        return this.#forward(raw, { kind: readTarget(body).kind === "statement" ? "describe-statement" : "describe-portal" });
      case Frontend.Close: {
        const target = readTarget(body);
        this.#extended.close(target.kind, target.name);
        return this.#forward(raw, { kind: "close" });
      }
      case Frontend.Sync:
        this.#skipUntilSync = false;
        return this.#forward(raw, { kind: "sync" });
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        return this.#toServer.add(raw);
      case Frontend.FunctionCall:
        // The fast-path call names a function by OID with no SQL to judge: never let it through.
        return this.#refuseSimple(pending("<fast-path function call>", undefined, "simple"), "airlock: the fast-path function call interface is not allowed");
      case Frontend.Terminate:
        return this.#end("client terminated", true);
      default:
        throw new PgWireError(SqlState.ProtocolViolation, `unexpected message type "${String.fromCharCode(type)}"`, "FATAL");
    }
  }

  /** Every statement, simple or extended, passes here: identity still valid, then the decision. */
  #statement(text: string, params: Array<string | null> | undefined, protocol: "simple" | "extended", raw: Buffer): void {
    if (Date.now() / 1000 >= this.ctx.tokenExpiresAt) {
      throw PgWireError.fatal(SqlState.InvalidPassword, "airlock: token expired; reconnect with a fresh token");
    }
    const statement = pending(text, params, protocol);
    const decision = this.ctx.decide(this.ctx.identity, { text, params, protocol });
    if (decision.action === "allow") {
      return this.#forward(raw, protocol === "simple" ? { kind: "query", statement } : { kind: "execute", statement });
    }
    if (protocol === "simple") return this.#refuseSimple(statement, decision.message);
    statement.outcome = "refused";
    statement.errorCode = decision.code;
    statement.errorMessage = decision.message;
    this.#skipUntilSync = true;
    this.#tracker.expect({ kind: "reply", bytes: errorBytes(decision.message), statement });
  }

  #refuseSimple(statement: PendingStatement, message: string): void {
    Object.assign(statement, { outcome: "refused", errorCode: SqlState.InsufficientPrivilege, errorMessage: message });
    this.#tracker.expect({ kind: "reply", bytes: Buffer.concat([errorBytes(message), writeReadyForQuery(this.#txStatus)]), statement });
  }

  #forward(raw: Buffer, expected: Parameters<ResponseTracker["expect"]>[0]): void {
    this.#tracker.expect(expected);
    this.#toServer.add(raw);
  }

  #flushToServer(): void {
    const bytes = this.#toServer.take();
    if (bytes && !this.upstream.write(bytes)) this.client.pause();
  }

  // --- database → agent -------------------------------------------------------------------

  #onServerData(chunk: Buffer): void {
    this.#fromServer.push(chunk);
    try {
      for (let message = this.#fromServer.next(); message; message = this.#fromServer.next()) {
        this.#toClient.add(message.raw);
        if (message.type !== Backend.DataRow) this.#fromServerMessage(message);
      }
    } catch (err) {
      return this.#fatal(err);
    }
    this.#flushToClient();
  }

  #fromServerMessage({ type, body }: WireMessage): void {
    switch (type) {
      case Backend.CommandComplete:
        return this.#tracker.onServerMessage(type, rowsFromTag(readCommandTag(body)));
      case Backend.ErrorResponse: {
        const fields = readFields(body);
        return this.#tracker.onServerMessage(type, undefined, { code: fields.get("C"), message: fields.get("M") });
      }
      case Backend.ReadyForQuery:
        this.#txStatus = body[0];
        if (this.#txStatus === TxStatus.Idle) this.#extended.endOfTransaction();
        return this.#tracker.onServerMessage(type);
      default:
        return this.#tracker.onServerMessage(type);
    }
  }

  #flushToClient(): void {
    const bytes = this.#toClient.take();
    if (!bytes || this.#step === RelayStep.Closed) return;
    if (!this.client.write(bytes) && !this.#upstreamPaused) {
      // The agent reads slower than the database answers: stop reading the database.
      this.#upstreamPaused = true;
      this.upstream.pause();
    }
  }

  #resumeUpstream(): void {
    if (!this.#upstreamPaused) return;
    this.#upstreamPaused = false;
    this.upstream.resume();
  }

  // --- the end ----------------------------------------------------------------------------

  #onUpstreamClosed(err?: Error): void {
    if (this.#step === RelayStep.Closed) return;
    this.#flushToClient();
    this.#fatal(PgWireError.fatal(SqlState.ConnectionFailure, "airlock: the connection to the database was lost", err?.message));
  }

  #fatal(err: unknown): void {
    if (this.#step === RelayStep.Closed) return;
    const wire = err instanceof PgWireError ? err : internalError(err);
    this.client.end(wire.toMessage());
    this.#end(wire.message);
  }

  #end(reason: string, graceful = false): void {
    if (this.#step === RelayStep.Closed) return;
    this.#step = RelayStep.Closed;
    this.upstream.close(!graceful);
    if (graceful) this.client.end();
    else if (!this.client.writableEnded) this.client.destroy();
    this.#resolveDone(reason);
  }
}

function pending(text: string, params: Array<string | null> | undefined, protocol: "simple" | "extended"): PendingStatement {
  return { text, params, protocol, startedAt: performance.now(), rows: 0, outcome: "ok" };
}

function errorBytes(message: string): Buffer {
  return writeErrorResponse({ severity: "ERROR", code: SqlState.InsufficientPrivilege, message });
}

function internalError(err: unknown): PgWireError {
  console.error("[proxy] session failed:", err);
  return PgWireError.fatal(SqlState.InternalError, "airlock: internal error; the session was closed");
}
