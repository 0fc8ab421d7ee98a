import type { Duplex } from "node:stream";
import { strictest, type Decision, type Statement } from "../lib/decision/decide";
import { mergeStatements } from "../lib/sql/merge";
import type { Classification, StatementInfo } from "../lib/sql/types";
import { unknownClassification } from "../lib/sql/unknown";
import { ExtendedState } from "./extended-state";
import { MessageBuffer, type WireMessage } from "./protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "./protocol/message-codes";
import { combineMasking, type ResultMasking } from "../lib/masking/masking";
import { readBind, readCommandTag, readExecutePortal, readFields, readParse, readQuery, readTarget, rowsFromTag, type BindMessage } from "./protocol/reader";
import { SessionMasking, type MaskingContext } from "./session-masking";
import { writeErrorResponse, writeParse, writeQuery } from "./protocol/writer";
import { OutputBatch } from "./output-batch";
import { ResponseTracker, type Expected, type PendingStatement } from "./response-tracker";
import type { Upstream } from "./upstream/upstream";
import { PgWireError, SqlState, type SqlStateCode } from "./wire-error";

/** Server messages are trusted but still bounded, so a broken upstream cannot exhaust memory. */
export const MAX_SERVER_MESSAGE_BYTES = 1024 * 1024 * 1024 + 5;

export interface RelayContext {
  /** The agent's messages arrive here, framed under its limits (per type, and its agent's budget). */
  clientMessages: MessageBuffer;
  /** Seconds since the epoch when the agent's token expires. */
  tokenExpiresAt: number;
  /** Classification against the resource's catalog (cached by text). */
  classify(text: string, prepared: ReadonlyMap<string, StatementInfo>): Classification;
  /** The decision point, for this session's agent and resource under the current policy. */
  decide(statement: Statement): Decision;
  /** A statement policy holds for review: settles once people decide (or it expires or is cancelled). */
  hold(statement: PendingStatement, decision: Extract<Decision, { action: "review" }>): Promise<HoldResult>;
  onStatement(statement: PendingStatement, durationMs: number): void;
  masking: MaskingContext;
}

/** Extended protocol: what was decided at Bind, for the Execute that runs the portal (and is the statement recorded). */
type Judged = Pick<PendingStatement, "grantId" | "requestId" | "verdict" | "masking">;

export type HoldResult = { action: "run"; requestId: string } | { action: "refuse"; code: SqlStateCode; message: string; requestId: string };

/** While a statement is held the agent may go on sending; this much is kept, then the session ends. */
export const MAX_BUFFERED_WHILE_HELD = 64 * 1024 * 1024;

export const RelayStep = { Relaying: "relaying", Closed: "closed" } as const;
export type RelayStep = (typeof RelayStep)[keyof typeof RelayStep];

/**
 * The session loop after login: agent messages pass the decision point on their way to the
 * database; the database's answers stream back unchanged, with backpressure both ways.
 */
export class Relay {
  #step: RelayStep = RelayStep.Relaying;
  /** SQL-level PREPAREs of this session: EXECUTE is judged by the prepared body. */
  readonly #prepared = new Map<string, StatementInfo>();
  get #fromClient(): MessageBuffer { return this.ctx.clientMessages; } // prettier-ignore
  readonly #fromServer = new MessageBuffer(MAX_SERVER_MESSAGE_BYTES);
  readonly #toServer = new OutputBatch();
  readonly #toClient = new OutputBatch();
  readonly #extended = new ExtendedState<string>();
  readonly #judged = new Map<string, Judged>();
  readonly #tracker: ResponseTracker;
  readonly #masking: SessionMasking;
  #upstreamPaused = false;
  /** A held statement is waiting for people: the agent's later messages wait behind it. */
  #holding = false;
  #resolveDone!: (reason: string) => void;
  /** Resolves with the reason once the session is over. */
  readonly done = new Promise<string>((resolve) => (this.#resolveDone = resolve));

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Upstream,
    private readonly ctx: RelayContext,
    leftover: Buffer[] = [],
  ) {
    this.#tracker = new ResponseTracker((s) => ctx.onStatement(s, performance.now() - s.startedAt));
    this.#masking = new SessionMasking(ctx.masking, () => this.#tracker.current());
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

  // --- agent → database -------------------------------------------------------------------

  #onClientData(chunk: Buffer): void {
    this.#fromClient.push(chunk);
    if (this.#holding && this.#fromClient.bufferedBytes > MAX_BUFFERED_WHILE_HELD) {
      return this.#fatal(PgWireError.fatal(SqlState.ProgramLimitExceeded, "airlock: too much sent while a statement was held for approval"));
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#holding) return;
    try {
      for (let message = this.#fromClient.next(); message; message = this.#fromClient.next()) {
        const held = this.#fromClientMessage(message);
        if (this.#step === RelayStep.Closed) return;
        if (held) return this.#awaitHold(held);
      }
    } catch (err) {
      return this.#fatal(err);
    }
    this.#flushToServer();
    this.#flushToClient();
  }

  /** Everything before the held statement goes out now; everything after waits for its outcome. */
  #awaitHold(held: Promise<void>): void {
    this.#holding = true;
    this.#flushToServer();
    this.#flushToClient();
    held.then(
      () => {
        this.#holding = false;
        if (this.#step !== RelayStep.Closed) this.#pump();
      },
      (err: unknown) => this.#fatal(err),
    );
  }

  #fromClientMessage(message: WireMessage): Promise<void> | void {
    const { type, body, raw } = message;
    switch (type) {
      case Frontend.Query: {
        const text = readQuery(body);
        const statement = pending(text, undefined, "simple");
        return this.#decideAndSend(statement, [text], raw, REFUSED_QUERY, () => ({ kind: "query", statement }));
      }
      case Frontend.Parse: {
        const parse = readParse(body);
        this.ctx.classify(parse.text, this.#prepared); // classified now (and cached); judged at Execute
        this.#masking.parsed(parse.name);
        return this.#forward(raw, { kind: "parse", done: this.#extended.parse(parse.name, parse.text) });
      }
      case Frontend.Bind: {
        // Decided here, not at Execute: the server plans the statement at Bind, and planning can
        // already run functions (constant folding), so a refused statement must never be bound.
        const bind = readBind(body);
        const candidates = this.#extended.statement(bind.statement);
        const params = bindParams(bind);
        const statement = pending(candidates.at(-1) ?? "", params, "extended");
        return this.#decideAndSend(statement, candidates, raw, REFUSED_PARSE, (allowed) => {
          if (!allowed) return { kind: "bind", done: () => undefined, statement };
          const { grantId, requestId, verdict, masking } = statement;
          this.#judged.set(bind.portal, { grantId, requestId, verdict, masking });
          this.#masking.bound(bind.portal, bind.statement, bind.resultFormats);
          return { kind: "bind", done: this.#extended.bind(bind.portal, candidates, params) };
        });
      }
      case Frontend.Execute: {
        this.#checkToken();
        const portalName = readExecutePortal(body);
        const portal = this.#extended.portal(portalName);
        const statement = pending(portal.candidates.at(-1) ?? "", portal.params, "extended");
        if (portal.candidates.length === 0) {
          return this.#refuse(statement, SqlState.InsufficientPrivilege, "airlock: no rule allows this: executes a portal Airlock did not see bound", REFUSED_PARSE, { kind: "execute", statement });
        }
        Object.assign(statement, this.#judged.get(portalName));
        this.#masking.executing(statement, portalName);
        return this.#forward(raw, { kind: "execute", statement });
      }
      case Frontend.Describe: {
        const target = readTarget(body);
        return this.#forward(raw, { kind: target.kind === "statement" ? "describe-statement" : "describe-portal", name: target.name });
      }
      case Frontend.Close: {
        const target = readTarget(body);
        if (target.kind === "portal") this.#judged.delete(target.name);
        this.#masking.closed(target.kind, target.name);
        return this.#forward(raw, { kind: "close", done: this.#extended.close(target.kind, target.name) });
      }
      case Frontend.Sync:
        this.#extended.sync();
        return this.#forward(raw, { kind: "sync" });
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        return this.#toServer.add(raw);
      case Frontend.FunctionCall: {
        // The fast-path call names a function by OID with no SQL to judge: never let it through.
        const statement = pending("<fast-path function call>", undefined, "simple");
        return this.#refuse(statement, SqlState.InsufficientPrivilege, "airlock: the fast-path function call interface is not allowed", REFUSED_QUERY, { kind: "query", statement });
      }
      case Frontend.Terminate:
        return this.#end("client terminated", true);
      default:
        throw new PgWireError(SqlState.ProtocolViolation, `unexpected message type "${String.fromCharCode(type)}"`, "FATAL");
    }
  }

  /**
   * Every statement, simple or extended, passes here before the server sees it: the identity must
   * still be valid, then each SQL text the statement may stand for is classified and decided; the
   * strictest decision holds.
   */
  #judge(statement: PendingStatement, texts: string[]): Decision {
    this.#checkToken();
    const classifications = texts.length > 0 ? texts.map((t) => this.ctx.classify(t, this.#prepared)) : [unknownClassification("", "binds a statement Airlock did not see prepared")];
    const decisions = classifications.map((classification) => this.ctx.decide({ text: statement.text, params: statement.params, protocol: statement.protocol, classification }));
    const decision = strictest(decisions);
    if (decision.action === "refuse") return decision;
    for (const c of classifications) rememberPrepared(this.#prepared, c);
    // The server runs one of the texts: its result is masked as any of them would be.
    if (decisions.length === 1) return decision;
    return { ...decision, masking: decisions.reduce<ResultMasking | undefined>((m, d) => (d.action === "refuse" ? m : combineMasking(m, d.masking)), undefined) };
  }

  #checkToken(): void {
    if (Date.now() / 1000 >= this.ctx.tokenExpiresAt) {
      throw PgWireError.fatal(SqlState.InvalidPassword, "airlock: token expired; reconnect with a fresh token");
    }
  }

  /**
   * A refused statement still goes upstream, as one that fails without effect: the server then
   * does exactly what it does after any error (aborts the transaction, skips to Sync), and its
   * error is replaced by the refusal on the way back. The two sides never disagree about state.
   */
  #refuse(statement: PendingStatement, code: SqlStateCode, message: string, substitute: Buffer, expected: Expected): void {
    Object.assign(statement, { outcome: "refused", errorCode: code, errorMessage: message, refusal: errorBytes(code, message) });
    this.#forward(substitute, expected);
  }

  /**
   * The verdict carried out: allowed (perhaps under a grant) goes on; refused goes on as a failing
   * statement; held waits for people, and the session's later messages wait behind it.
   * `expected` is made when the statement goes (a Bind changes portal state only then).
   */
  #decideAndSend(statement: PendingStatement, texts: string[], raw: Buffer, substitute: Buffer, expected: (allowed: boolean) => Expected): Promise<void> | void {
    const decision = this.#judge(statement, texts);
    statement.verdict = decision.verdict;
    if (decision.action !== "refuse") {
      statement.masking = decision.masking;
      statement.changesSchema = decision.verdict.statements.some((s) => s.statement.kinds.includes("ddl"));
    }
    switch (decision.action) {
      case "allow":
        statement.grantId = decision.grantId;
        return this.#forward(raw, expected(true));
      case "refuse":
        return this.#refuse(statement, SqlState.InsufficientPrivilege, decision.message, substitute, expected(false));
      case "review":
        return this.ctx.hold(statement, decision).then((result) => {
          statement.requestId = result.requestId;
          if (result.action === "run") this.#forward(raw, expected(true));
          else this.#refuse(statement, result.code, result.message, substitute, expected(false));
        });
    }
  }

  #forward(raw: Buffer, expected: Expected): void {
    this.#tracker.expect(expected);
    this.#toServer.add(raw);
  }

  /**
   * An asynchronous NoticeResponse for the agent (PostgreSQL may send one at any time): queued
   * behind whatever answers are already on their way, so it never lands inside another message.
   */
  notice(bytes: Buffer): void {
    if (this.#step === RelayStep.Closed) return;
    this.#toClient.add(bytes);
    this.#flushToClient();
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
        if (message.type === Backend.DataRow || message.type === Backend.CopyData) {
          const result = this.#masking.result();
          this.#toClient.add(!result ? message.raw : message.type === Backend.DataRow ? result.dataRow(message.raw) : result.copyData(message.raw));
          continue;
        }
        this.#toClient.add(this.#tracker.refusalFor(message.type) ?? this.#masking.message(message));
        this.#fromServerMessage(message);
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
        if (body[0] === TxStatus.Idle) this.#extended.endOfTransaction();
        return this.#tracker.onServerMessage(type);
      case Backend.RowDescription:
        this.#masking.rowDescription(body);
        return this.#tracker.onServerMessage(type);
      case Backend.CopyOutResponse:
        this.#masking.copyOut(body);
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
    // The cause may name the target's address: it goes to the log, not to the agent.
    if (err) console.error("[proxy] upstream connection lost:", err.message);
    this.#flushToClient();
    // A PgWireError is the upstream's own word to the agent (PGlite's idle-in-transaction timeout).
    this.#fatal(err instanceof PgWireError ? err : PgWireError.fatal(SqlState.ConnectionFailure, "airlock: the connection to the database was lost"));
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
    this.#tracker.endOfSession(reason);
    this.upstream.close(!graceful);
    if (graceful) this.client.end();
    else if (!this.client.writableEnded) this.client.destroy();
    this.#resolveDone(reason);
  }
}

/** What a refused statement becomes upstream: a syntax error, so it fails before doing anything. */
const REFUSED_QUERY = writeQuery("airlock refused this statement");
const REFUSED_PARSE = writeParse("airlock_refused", "airlock refused this statement");

function bindParams(bind: BindMessage): Array<string | null> {
  return bind.params.map((value, i) => {
    if (value === null) return null;
    // Format codes: none → all text; one → for all; otherwise one per parameter.
    const format = bind.paramFormats.length === 1 ? bind.paramFormats[0] : (bind.paramFormats[i] ?? 0);
    return format === 1 ? `\\x${value.toString("hex")}` : value.toString("utf8");
  });
}

/** PREPARE adds its body under the name (every body ever prepared under it: the server may have refused a later one); DEALLOCATE removes. */
function rememberPrepared(prepared: Map<string, StatementInfo>, classification: Classification): void {
  for (const s of classification.statements) {
    if (s.prepares) prepared.set(s.prepares, mergeStatements(prepared.get(s.prepares), s));
    if (s.deallocates === "*") prepared.clear();
    else if (s.deallocates) prepared.delete(s.deallocates);
  }
}

function pending(text: string, params: Array<string | null> | undefined, protocol: "simple" | "extended"): PendingStatement {
  return { text, params, protocol, startedAt: performance.now(), rows: 0, outcome: "ok", resultIndex: 0 };
}

function errorBytes(code: SqlStateCode, message: string): Buffer {
  return writeErrorResponse({ severity: "ERROR", code, message });
}

function internalError(err: unknown): PgWireError {
  console.error("[proxy] session failed:", err);
  return PgWireError.fatal(SqlState.InternalError, "airlock: internal error; the session was closed");
}
