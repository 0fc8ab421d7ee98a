import type { Duplex } from "node:stream";
import type { Decision, Statement } from "../lib/decision/decide";
import { logger } from "../lib/log";
import { StatementTrace, tracing } from "../lib/ops/tracing";
import type { Classification, PreparedLookup } from "../lib/sql/types";
import { unknownClassification } from "../lib/sql/unknown";
import { MessageBuffer, type WireMessage } from "./protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "./protocol/message-codes";
import { readBind, readCommandTag, readExecutePortal, readFields, readFunctionCall, readParse, readQuery, readTarget, rowsFromTag, bindParams, bindParamFormats } from "./protocol/reader";
import { fastPathSql } from "./fast-path";
import { SessionMasking, type MaskingContext, type PortalColumns } from "./session-masking";
import { cursorOf, nameChanges, preparedInfo, type Judged } from "./name-effects";
import { SessionNames, type Lookup, type PreparedName } from "./session-names";
import { rowFilteredMessage } from "./row-filter-messages";
import { preparedPathKey, type SessionPath } from "./session-path";
import type { SearchPath } from "../lib/sql/search-path";
import { writeErrorResponse, writeParse, writeQuery } from "./protocol/writer";
import { OutputBatch } from "./output-batch";
import { ResponseTracker, type Expected, type PendingStatement } from "./response-tracker";
import { FLUSH, SessionBudgets, writesUnderFailingBudget } from "./statement-budgets";
import { refusals, type Refusal } from "../lib/decision/refusals";
import type { Upstream } from "./upstream/upstream";
import { PgWireError, SqlState } from "./wire-error";
import { ExecuteRowLimit, QueryRowLimit, type RowLimitHooks, type RowLimitRun, type UndoCapture } from "./row-limit";
import { undoPlan } from "../lib/approvals/undo/plan";
import { statementLimits } from "../lib/policy/limits";
import { boundUndo, executeRowCount, ExecuteUndo, type BoundUndo } from "./undo/execute-undo";
import { whyNotRowLimitable } from "../lib/approvals/row-limit";

const log = logger("proxy");

/** Server messages are trusted but still bounded, so a broken upstream cannot exhaust memory. */
export const MAX_SERVER_MESSAGE_BYTES = 1024 * 1024 * 1024 + 5;

export interface RelayContext {
  /** The agent's messages arrive here, framed under its limits (per type, and its agent's budget). */
  clientMessages: MessageBuffer;
  /** Seconds since the epoch when the agent's token expires. */
  tokenExpiresAt: number;
  /** Classification against the resource's catalog (cached by text), on the session's search_path. */
  classify(text: string, prepared: PreparedLookup, path?: SearchPath): Classification;
  /** The session's search_path as the server has it (proxy/session-path.ts). */
  searchPath: SessionPath;
  /** The decision point, for this session's agent and resource under the current policy. */
  decide(statement: Statement): Decision;
  /** Row filters: the text a Parse sends upstream instead of its own (lib/decision/row-filters.ts); undefined sends it as it is. */
  rowFilter?(statement: Statement): string | undefined;
  /** A statement policy holds for review: settles once people decide (or it expires or is cancelled). */
  hold(statement: PendingStatement, decision: Extract<Decision, { action: "review" }>): Promise<HoldResult>;
  onStatement(statement: PendingStatement, durationMs: number): void;
  /** DDL ran and its session is now idle (committed or rolled back): the catalog may have changed. */
  schemaChanged(): void;
  masking: MaskingContext;
}

/** Run (approved, or covered by a grant the store had and this instance had not heard of yet), or refuse. */
export type HoldResult = { action: "run"; requestId?: string; grantId?: string; /** Approved for at most this many rows (proxy/row-limit.ts). */ maxRows?: number; /** Capture for undo (lib/approvals/undo). */ undo?: Pick<UndoCapture, "captured"> } | ({ action: "refuse"; requestId?: string } & Refusal);

/** While a statement is held the agent may go on sending; this much is kept, then the session ends. */
export const MAX_BUFFERED_WHILE_HELD = 64 * 1024 * 1024;

export const RelayStep = { Relaying: "relaying", Closed: "closed" } as const;
export type RelayStep = (typeof RelayStep)[keyof typeof RelayStep];

/** A message that cannot be judged until the server has answered what came before it. */
const WAIT = Symbol("wait for the server's answers");
/** The same, keeping what is queued for the server unsent meanwhile (see #sharedHold). */
const WAIT_QUIETLY = Symbol("wait for the server's answers, sending nothing more");

/** A statement's classification and decision; `executes`: the prepared statements it runs by name, as found. */
interface Judgement {
  decision: Decision;
  classification: Classification;
  executes: ReadonlyMap<string, PreparedName>;
}

/**
 * The session loop after login: agent messages pass the decision point on their way to the
 * database; the database's answers stream back unchanged, with backpressure both ways.
 */
export class Relay {
  #step: RelayStep = RelayStep.Relaying;
  readonly #fromClient: MessageBuffer;
  readonly #fromServer = new MessageBuffer(MAX_SERVER_MESSAGE_BYTES);
  readonly #toServer = new OutputBatch();
  readonly #toClient = new OutputBatch();
  /** Prepared statements and portals, as the server will have them at each message. */
  readonly #names = new SessionNames<Judged>();
  readonly #tracker: ResponseTracker;
  readonly #masking: SessionMasking;
  readonly #budgets: SessionBudgets;
  #upstreamPaused = false;
  /** A held statement is waiting for people: the agent's later messages wait behind it. */
  #holding = false;
  /** A message put back until the server answers what came before it (see WAIT). */
  #deferred: WireMessage | undefined;
  /** Requests queued for the server since the last write to it: not yet in flight. */
  #unsent = 0;
  /** The server is taking COPY data: the statement in flight ends only when the agent ends the data. */
  #copyingIn = false;
  /** DDL completed since the session was last idle. */
  #schemaChanged = false;
  /** The server's last ReadyForQuery status, or undefined once more has been sent after it. */
  #ready: number | undefined = TxStatus.Idle;
  /** The status of the server's last ReadyForQuery, whatever was sent since (an undo's capture reads it once all before it is answered). */
  #lastReady: number = TxStatus.Idle;
  /** The session ended because the agent left, not because the proxy or the database ended it. */
  #agentLeft = false;
  /** A statement approved for at most N rows is running: the server's answers go through it (proxy/row-limit.ts). */
  #limit: RowLimitRun | undefined;
  /** Told when every answer owed is in and the transaction status known (a limited Query waits for it). */
  #onDrained: (() => boolean) | undefined;
  #resolveDone!: (reason: string) => void;
  /** Resolves with the reason once the session is over. */
  readonly done = new Promise<string>((resolve) => (this.#resolveDone = resolve));

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Upstream,
    private readonly ctx: RelayContext,
    leftover: Buffer[] = [],
  ) {
    this.#tracker = new ResponseTracker((s) => {
      this.#budgets.finished(s);
      if (s.internal) return;
      if (s.changesSchema && s.outcome === "ok") this.#schemaChanged = true;
      ctx.onStatement(s, performance.now() - s.startedAt);
    }, (s) => this.#budgets.finished(s));
    this.#masking = new SessionMasking(ctx.masking, () => this.#tracker.current());
    this.#budgets = new SessionBudgets({
      current: () => this.#tracker.current(),
      cancelUpstream: () => upstream.cancel(),
      injectFailure: (kind) => this.#injectFailure(kind),
      unfenced: () => {
        if (this.#step !== RelayStep.Closed && !this.#holding) this.#pump();
      },
    });
    this.#fromClient = ctx.clientMessages;
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

  /** A statement is running, queued for the server or held: a graceful shutdown waits for it. */
  get busy(): boolean {
    return this.#holding || this.#deferred !== undefined || this.#tracker.size > 0;
  }

  /** Whether the agent ended the session (left, terminated); false when the proxy or the database did. */
  get agentLeft(): boolean {
    return this.#agentLeft;
  }

  /** Ends the session from outside (shutdown): the agent reads `err` as its last message. */
  terminate(err: PgWireError): void {
    this.#fatal(err);
  }

  // --- agent → database -------------------------------------------------------------------

  #onClientData(chunk: Buffer): void {
    this.#fromClient.push(chunk);
    if ((this.#holding || this.#deferred) && this.#fromClient.bufferedBytes > MAX_BUFFERED_WHILE_HELD) {
      return this.#fatal(PgWireError.fatal(SqlState.ProgramLimitExceeded, "airlock: too much sent while a statement was held for approval"));
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#holding) return;
    try {
      for (let message = this.#takeMessage(); message; message = this.#takeMessage()) {
        const outcome = this.#fromClientMessage(message);
        if (this.#step === RelayStep.Closed) return;
        if (outcome === WAIT || outcome === WAIT_QUIETLY) {
          // Retried as the server's answers arrive (#onServerData); what came before goes now, or
          // (quietly) stays until the held statement is decided.
          this.#deferred = message;
          if (outcome === WAIT) break;
          return this.#flushToClient();
        }
        if (outcome) return this.#awaitHold(outcome);
      }
    } catch (err) {
      return this.#fatal(err);
    }
    this.#flushToServer();
    this.#flushToClient();
  }

  #takeMessage(): WireMessage | undefined {
    const deferred = this.#deferred;
    this.#deferred = undefined;
    return deferred ?? this.#fromClient.next();
  }

  /**
   * Everything before the held statement goes out now; everything after waits for its outcome.
   * On a shared upstream (the embedded PGlite) nothing goes out while people decide: a half-sent
   * batch would keep the one engine from every other agent for the whole wait.
   */
  #awaitHold(held: Promise<void>): void {
    this.#holding = true;
    if (!this.upstream.shared) this.#flushToServer();
    this.#flushToClient();
    held.then(
      () => {
        this.#holding = false;
        if (this.#step !== RelayStep.Closed) this.#pump();
      },
      (err: unknown) => this.#fatal(err),
    );
  }

  #fromClientMessage(message: WireMessage): Promise<void> | typeof WAIT | typeof WAIT_QUIETLY | void {
    const { type, body, raw } = message;
    // A statement that Airlock may yet fail (a budget) is alone on the server until it is answered.
    if (this.#budgets.fenced && !PASSES_FENCE.has(type)) return WAIT;
    const group = this.#names.group;
    switch (type) {
      case Frontend.Query: {
        const text = readQuery(body);
        const statement = pending(text, undefined, "simple");
        const outcome = this.#decideAndSend(statement, text, raw, REFUSED_QUERY, (allowed, judged) => {
          // Each statement of the text that completes changes the names it makes or drops.
          if (allowed && judged) statement.settles = judged.classification.statements.map((info, i) => both(nameChanges(this.#names, info, group, () => cursorOf(statement, info, i)), this.ctx.searchPath.sent(info, group)));
          // A failing Query does not skip what follows it: its changes are another group's.
          this.#names.endOfGroup();
          return { kind: "query", statement };
        });
        if (outcome === undefined) this.#endOfGroupSent();
        return outcome;
      }
      case Frontend.Parse: {
        const parse = readParse(body);
        const lookups = this.#names.lookups();
        const path = this.ctx.searchPath.at(group);
        const classification = this.ctx.classify(parse.text, lookups, path);
        // A text that runs no other prepared statement classifies the same at Bind (on the same search_path): kept for it.
        const standalone = lookups.found.size === 0 && !lookups.unsettled && !classification.statements.some((s) => s.executes !== undefined);
        const entry: PreparedName = { text: parse.text, info: { ...preparedInfo(parse.text, classification), preparedOn: preparedPathKey(path) }, described: {}, classification: standalone ? classification : undefined };
        // Row filters: the server prepares the rewritten text; Bind runs it only if it is still what policy wants.
        const sent = this.ctx.rowFilter?.({ text: parse.text, protocol: "extended", classification });
        if (sent !== undefined) entry.sent = sent;
        return this.#forward(sent === undefined ? raw : writeParse(parse.name, sent, parse.paramTypes), { kind: "parse", done: this.#names.statements.set(parse.name, entry, group) });
      }
      case Frontend.Bind: {
        // Decided here, not at Execute: the server plans the statement at Bind, and planning can
        // already run functions (constant folding), so a refused statement must never be bound.
        const bind = readBind(body);
        const prepared = this.#names.statements.lookup(bind.statement, group);
        if (prepared.state === "unsettled") return WAIT;
        const entry = prepared.state === "known" ? prepared.value : undefined;
        const statement = pending(entry?.text ?? "", bindParams(bind), "extended");
        statement.paramFormats = bindParamFormats(bind);
        return this.#decideAndSend(statement, entry?.text, raw, REFUSED_PARSE, (allowed, judged) => {
          if (!allowed || !entry || !judged) return { kind: "bind", done: () => undefined, statement };
          const { text, params, grantId, requestId, verdict, masking, changesSchema, trace, maxRows } = statement;
          const columns: PortalColumns = { resultFormats: bind.resultFormats, portal: {}, statement: entry.described };
          const portal: Judged = { text, params, grantId, requestId, verdict, masking, changesSchema, trace, maxRows, executes: judged.executes, info: judged.classification.statements[0], columns };
          if (statement.undo) portal.undo = boundUndo(statement.undo, entry, bind, maxRows);
          return { kind: "bind", done: this.#names.portals.set(bind.portal, { judged: portal, holdable: false }, group) };
        }, { known: entry && entry.info.preparedOn === preparedPathKey(this.ctx.searchPath.at(group)) ? entry.classification : undefined, sent: entry && (entry.sent ?? entry.text) });
      }
      case Frontend.Execute:
        return this.#execute(readExecutePortal(body), raw, group);
      case Frontend.Describe: {
        const target = readTarget(body);
        if (target.kind === "statement") {
          const found = this.#names.statements.lookup(target.name, group);
          return this.#forward(raw, { kind: "describe-statement", described: found.state === "known" ? found.value.described : undefined });
        }
        const found = this.#names.portals.lookup(target.name, group);
        return this.#forward(raw, { kind: "describe-portal", described: found.state === "known" ? found.value.judged.columns.portal : undefined });
      }
      case Frontend.Close: {
        const target = readTarget(body);
        const names = target.kind === "statement" ? this.#names.statements : this.#names.portals;
        return this.#forward(raw, { kind: "close", done: names.drop(target.name, group) });
      }
      case Frontend.Sync:
        this.#names.endOfGroup();
        this.#forward(raw, { kind: "sync" });
        return this.#endOfGroupSent();
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        return this.#toServer.add(raw);
      case Frontend.FunctionCall: {
        // Judged as the SQL call of the function it names by OID; answered, like a Query, with ReadyForQuery.
        const call = readFunctionCall(body);
        const sql = fastPathSql(call.oid, call.params.length, this.ctx.masking.catalog);
        const statement = pending(sql ?? `<fast-path call of function ${call.oid}>`, bindParams(call), "simple");
        statement.paramFormats = bindParamFormats(call);
        const expected = (allowed = false, judged?: Judgement): Expected => {
          if (allowed && judged) for (const info of judged.classification.statements) this.ctx.searchPath.calledWithoutTag(info, group);
          this.#names.endOfGroup();
          return { kind: "query", statement };
        };
        const outcome =
          sql === undefined
            ? this.#refuse(statement, refusals.fastPathUnknown(call.oid), REFUSED_QUERY, expected())
            : this.#decideAndSend(statement, sql, raw, REFUSED_QUERY, expected, { unmaskable: refusals.fastPathUnmaskable() });
        if (outcome === undefined) this.#endOfGroupSent();
        return outcome;
      }
      case Frontend.Terminate:
        return this.#end("client terminated", true);
      default:
        throw new PgWireError(SqlState.ProtocolViolation, `unexpected message type "${String.fromCharCode(type)}"`, "FATAL");
    }
  }

  /**
   * Execute runs what its portal was bound to (or a cursor was declared for), as judged then. A
   * portal Airlock did not see made, or one whose `EXECUTE name` now names another body than when
   * it was bound, is refused.
   */
  #execute(portalName: string, raw: Buffer, group: number): Promise<void> | typeof WAIT | void {
    this.#checkToken();
    const found = this.#names.portals.lookup(portalName, group);
    if (found.state === "unsettled") return WAIT;
    const portal = found.state === "known" ? found.value.judged : undefined;
    const statement = pending(portal?.text ?? "", portal?.params, "extended");
    const refuse = (why: string) => this.#refuse(statement, refusals.unjudgedPortal(why), REFUSED_PARSE, { kind: "execute", statement });
    if (!portal) return refuse("executes a portal Airlock did not see bound");
    for (const [name, was] of portal.executes) {
      const now = this.#names.statements.lookup(name, group);
      if (now.state === "unsettled") return WAIT;
      if (now.state !== "known" || now.value !== was) return refuse(`prepared statement "${name}" changed after the portal that EXECUTEs it was bound`);
    }
    const { grantId, requestId, verdict, masking, changesSchema, maxRows } = portal;
    Object.assign(statement, { grantId, requestId, verdict, masking, changesSchema, maxRows });
    if (statement.trace) this.#executeTrace(statement.trace, portal);
    statement.upstreamStart = performance.now();
    statement.prepared = preparedRun(portal.executes);
    const { info } = portal;
    statement.settles = [both(info && nameChanges(this.#names, info, group, () => cursorOf(statement, info, 0)), this.ctx.searchPath.executed(portalName, info, group))];
    this.#masking.executing(statement, portal.columns);
    if (maxRows !== undefined) return this.#limitedExecute(statement, raw, maxRows);
    const undo = portal.undo;
    portal.undo = undefined;
    if (undo) return this.#undoneExecute(statement, raw, undo, group, portal);
    return this.#forward(raw, { kind: "execute", statement }, portal);
  }

  /** Traced: the first Execute of a portal shows how its Bind was judged (parse, decide, hold). */
  #executeTrace(trace: StatementTrace, portal: Judged): void {
    if (portal.trace) trace.judgedAt(portal.trace);
    portal.trace = undefined;
    trace.decision ??= "allow";
  }

  /**
   * Every statement, simple or extended, passes here before the server sees it: the identity must
   * still be valid, then its text is classified against the session's prepared statements as
   * the server will have them, and decided. WAIT when a name it runs is not settled yet.
   */
  #judge(statement: PendingStatement, text: string | undefined, known?: Classification): Judgement | typeof WAIT {
    this.#checkToken();
    const lookups = this.#names.lookups();
    const trace = statement.trace;
    // A search_path change of an earlier group is not answered yet: the name resolution waits for it.
    const path = this.ctx.searchPath.at(this.#names.group);
    if (!path) return WAIT;
    statement.judgedPath = path.current;
    try {
      if (trace && !known) trace.parseStart = performance.now();
      const classification = known ?? (text === undefined ? unknownClassification("", "binds a statement Airlock did not see prepared") : this.ctx.classify(text, lookups, path));
      if (lookups.unsettled) return WAIT;
      statement.prepared = preparedRun(lookups.found);
      if (trace) trace.decideStart = trace.parseEnd = performance.now();
      const decision = this.ctx.decide({ text: statement.text, params: statement.params, protocol: statement.protocol, classification });
      if (trace) trace.decideEnd = performance.now();
      return { decision, classification, executes: lookups.found };
    } catch (err) {
      // A fault of Airlock's own while judging: this statement is refused, the session goes on.
      log.error("judging a statement failed", { err });
      const classification = unknownClassification(statement.text, "Airlock failed to judge it");
      const [info] = classification.statements;
      const why = "Airlock failed to judge this statement (the fault is logged); it was not run";
      const verdict = { statement: info, action: "deny" as const, why, statements: [{ statement: info, action: "deny" as const, why }] };
      return { decision: { action: "refuse", ...refusals.judgingFailed(), verdict }, classification, executes: new Map() };
    }
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
  #refuse(statement: PendingStatement, { code, message, hint }: Refusal, substitute: Buffer, expected: Expected): void {
    Object.assign(statement, { outcome: "refused", errorCode: code, errorMessage: message, refusal: writeErrorResponse({ severity: "ERROR", code, message, hint }) });
    this.#forward(substitute, expected);
  }

  /**
   * The verdict carried out: allowed (perhaps under a grant) goes on; refused goes on as a failing
   * statement; held waits for people, and the session's later messages wait behind it.
   * `expected` is made when the statement goes (a Bind changes portal state only then).
   */
  #decideAndSend(
    statement: PendingStatement,
    text: string | undefined,
    raw: Buffer,
    substitute: Buffer,
    expected: (allowed: boolean, judged?: Judgement) => Expected,
    options: { unmaskable?: Refusal; known?: Classification; sent?: string } = {},
  ): Promise<void> | typeof WAIT | typeof WAIT_QUIETLY | void {
    const { unmaskable, known } = options;
    const judged = this.#judge(statement, text, known);
    if (judged === WAIT) return WAIT;
    // Row filters: what goes upstream is the rewritten statement (proxy/row-filter-messages.ts).
    ({ decision: judged.decision, raw } = rowFilteredMessage(judged.decision, raw, text, options.sent));
    if (this.upstream.shared && statement.protocol === "extended" && judged.decision.action !== "refuse" && judged.classification.statements.some((s) => s.kinds.includes("copy_in"))) {
      statement.verdict = judged.decision.verdict;
      // PGlite cannot take COPY data after the Execute that starts it: it stops, and with it every agent's database.
      return this.#refuse(statement, refusals.sharedCopyInExtended(), substitute, expected(false));
    }
    // A result that cannot be masked is refused wherever policy would mask it.
    const decision: Decision = unmaskable && judged.decision.action !== "refuse" && judged.decision.masking ? { action: "refuse", ...unmaskable, verdict: judged.decision.verdict } : judged.decision;
    statement.verdict = decision.verdict;
    const trace = statement.trace;
    if (trace) trace.decision = decision.action;
    if (decision.action !== "refuse") {
      statement.masking = decision.masking;
      statement.changesSchema = decision.verdict.statements.some((s) => s.statement.kinds.includes("ddl"));
    }
    switch (decision.action) {
      case "allow":
        statement.grantId = decision.grantId;
        statement.upstreamStart = performance.now();
        if (writesUnderFailingBudget(statement)) return this.#budgetedWrite(statement, raw, expected(true, judged));
        return this.#forward(raw, expected(true, judged));
      case "refuse":
        return this.#refuse(statement, decision, substitute, expected(false));
      case "review": {
        const shared = this.#sharedHold();
        if (shared === WAIT_QUIETLY) return WAIT_QUIETLY;
        if (shared) return this.#refuse(statement, refusals.cannotWait(decision.rule.name, shared), substitute, expected(false));
        const heldFrom = performance.now();
        if (trace) trace.holdStart = heldFrom;
        return this.ctx.hold(statement, decision).then((result) => {
          const decided = performance.now();
          statement.heldMs = decided - heldFrom;
          if (trace) trace.holdEnd = decided;
          statement.requestId = result.requestId;
          if (result.action === "run") Object.assign(statement, { grantId: result.grantId, maxRows: result.maxRows });
          if (result.action === "run") statement.upstreamStart = decided;
          // People may take longer than the token lasts: an approval never outlives the identity.
          if (result.action === "run") this.#checkToken();
          if (result.action === "run" && (result.maxRows !== undefined || result.undo) && statement.protocol === "simple") return this.#limitedQuery(statement, raw, expected(true, judged), result.maxRows, result.undo);
          // Through the extended protocol the capture runs at its Execute (proxy/undo/execute-undo.ts).
          if (result.action === "run" && result.undo) statement.undo = result.undo;
          if (result.action === "run" && writesUnderFailingBudget(statement)) return this.#budgetedWrite(statement, raw, expected(true, judged));
          if (result.action === "run") this.#forward(raw, expected(true, judged));
          else this.#refuse(statement, result, substitute, expected(false));
        });
      }
    }
  }

  /**
   * On a shared upstream (the embedded PGlite: one engine for every agent) a statement may wait
   * for people only while this session holds nothing of the engine: all it sent is answered and
   * it is outside a transaction. Otherwise every other agent would wait as long. Returns why not,
   * or WAIT_QUIETLY until what is in flight is answered.
   */
  #sharedHold(): string | typeof WAIT_QUIETLY | undefined {
    if (!this.upstream.shared) return undefined;
    if (this.#tracker.size > this.#unsent) {
      // A COPY in flight ends only with the agent's data, which would queue behind this statement.
      if (!this.#copyingIn) return WAIT_QUIETLY;
      return "and on this shared embedded database a statement cannot wait for approval in the middle of a COPY";
    }
    if (this.#ready === TxStatus.Idle) return undefined;
    return "and on this shared embedded database a statement cannot wait for approval inside a transaction (it would hold the database from every other agent); run it outside a transaction";
  }

  /**
   * A Sync or a Query went on. On a shared upstream each group goes at once: what is left unsent
   * is then never more than one unfinished group, which is all a held statement keeps back.
   */
  #endOfGroupSent(): void {
    if (this.upstream.shared) this.#flushToServer();
  }

  /** `portal`: an Execute's, whose rows count toward its budget over all its Executes. */
  #forward(raw: Buffer, expected: Expected, portal?: object): void {
    const answered = this.#tracker.expect(expected);
    this.#unsent++;
    if (answered && (expected.kind === "query" || expected.kind === "execute") && this.#budgeted(expected.statement, portal) && expected.kind === "execute") {
      // Fenced: the answers before it come now, so its time starts with it; its own come now too, since the group's Sync waits behind it.
      this.#toServer.add(FLUSH);
      this.#toServer.add(raw);
      this.#toServer.add(FLUSH);
      return;
    }
    this.#toServer.add(raw);
  }

  /** Starts its budget, if its rules set one; true when it is fenced (statement-budgets.ts). */
  #budgeted(statement: PendingStatement, portal?: object): boolean {
    // An approval's own row limit (row-limit.ts) governs the statement it approved.
    if (statement.outcome === "refused" || statement.internal || statement.maxRows !== undefined) return false;
    return this.#budgets.start(statement, portal);
  }

  /** A failing message of Airlock's own, its answer kept from the agent (statement-budgets.ts says when and why). */
  #injectFailure(kind: "query" | "parse"): void {
    const statement = pending("", undefined, kind === "query" ? "simple" : "extended");
    Object.assign(statement, { internal: true, refusal: Buffer.alloc(0) });
    if (kind === "query") {
      // A Query of its own is a group of its own: its ReadyForQuery is counted like the agent's (names, search_path).
      this.#names.endOfGroup();
      this.#forward(REFUSED_QUERY, { kind: "query", statement });
    } else this.#forward(REFUSED_PARSE, { kind: "parse", done: () => undefined, statement });
    this.#flushToServer();
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
    if (!bytes) return;
    this.#unsent = 0;
    this.#ready = undefined;
    if (!this.upstream.write(bytes)) this.client.pause();
  }

  // --- database → agent -------------------------------------------------------------------

  #onServerData(chunk: Buffer): void {
    this.#fromServer.push(chunk);
    try {
      for (let message = this.#fromServer.next(); message; message = this.#fromServer.next()) {
        if (this.#limit) this.#limit.onServerMessage(message);
        else this.#serverMessage(message);
      }
      if (this.#onDrained?.()) this.#onDrained = undefined;
    } catch (err) {
      return this.#fatal(err);
    }
    this.#flushToClient();
    // A message waiting on these answers may be judged now.
    if (this.#deferred && !this.#holding) this.#pump();
  }

  /** One answer of the server's on its way to the agent: masked where policy says, and tracked. */
  #serverMessage(message: WireMessage): void {
    if (message.type === Backend.DataRow || message.type === Backend.CopyData) {
      const result = this.#masking.result();
      const from = result && tracing ? performance.now() : -1;
      const out = !result ? message.raw : message.type === Backend.DataRow ? result.dataRow(message.raw) : result.copyData(message.raw);
      if (from >= 0) this.#maskTraced(from);
      // Counted as the agent gets it, under the statement's budget (statement-budgets.ts).
      const sent = this.#budgets.row(out);
      if (sent) this.#toClient.add(sent);
      return;
    }
    this.#toClient.add(this.#budgets.message(message) ?? this.#tracker.refusalFor(message.type) ?? this.#masking.message(message));
    this.#fromServerMessage(message);
  }

  // --- approved for at most N rows (proxy/row-limit.ts) ------------------------------------

  /**
   * A simple Query approved with a row limit runs once all that came before it is answered, so
   * that the transaction status it opens its own transaction (or savepoint) in is known.
   */
  #limitedQuery(statement: PendingStatement, raw: Buffer, expected: Expected, maxRows: number | undefined, undo?: Pick<UndoCapture, "captured">): Promise<void> {
    // No limit and nothing undo could capture exactly (a COPY, whose data the agent sends after it; a
    // read; a join): it runs as any approved statement does, and the request says why there is no undo.
    const plan = undo && undoPlan(statement.text);
    if (maxRows === undefined && (!plan || "unavailable" in plan)) {
      if (undo && plan) undo.captured(plan);
      return Promise.resolve(this.#forward(raw, expected));
    }
    return this.#drained().then((status) => {
      if (this.#step === RelayStep.Closed) return;
      const unfit = status === undefined ? "it was sent inside an unfinished extended-protocol group (before its Sync)" : undefined;
      const why = maxRows === undefined ? undefined : (unfit ?? whyNotRowLimitable(statement.text));
      if (maxRows !== undefined && why) return this.#refuse(statement, refusals.rowLimitUnfit(maxRows, why), REFUSED_QUERY, expected);
      if (status === undefined) {
        undo?.captured({ unavailable: unfit! });
        return this.#forward(raw, expected);
      }
      // In a failed transaction it runs nothing: the server refuses it as it would any statement.
      if (status === TxStatus.Failed) return this.#forward(raw, expected);
      if (maxRows === undefined && status !== TxStatus.Idle) {
        undo?.captured({ unavailable: "it ran inside the agent's own transaction, whose commit is the agent's" });
        return this.#forward(raw, expected);
      }
      this.#tracker.expect(expected);
      // Without an approval's row limit, the rule's budgets apply as to any statement (QueryRowLimit rolls back what one fails).
      if (maxRows === undefined) this.#budgets.start(statement);
      return new Promise<void>((resolve) => {
        const hooks = { ...this.#limitHooks(resolve, expected), settled: () => this.#budgets.settled() };
        this.#limit = new QueryRowLimit(statement, maxRows, status, raw, hooks, undo && plan && { plan, captured: undo.captured });
      });
    });
  }

  /**
   * A write under a budget that can fail it (statement-budgets.ts: writesUnderFailingBudget): outside
   * a transaction block it runs in Airlock's own, rolled back if its budget fails it, so the agent
   * never gets an error for a write that stays. Inside the agent's block the error aborts the block.
   */
  #budgetedWrite(statement: PendingStatement, raw: Buffer, expected: Expected): Promise<void> {
    return this.#drained().then((status) => {
      if (this.#step === RelayStep.Closed) return;
      if (status !== TxStatus.Idle) return this.#forward(raw, expected);
      this.#tracker.expect(expected);
      this.#budgets.start(statement);
      return new Promise<void>((resolve) => {
        const hooks = { ...this.#limitHooks(resolve, expected), settled: () => this.#budgets.settled() };
        this.#limit = new QueryRowLimit(statement, undefined, status, raw, hooks);
      });
    });
  }

  /** An Execute approved with a row limit goes alone, with a Flush: the agent's next messages wait for its count. */
  #limitedExecute(statement: PendingStatement, raw: Buffer, maxRows: number): Promise<void> | void {
    const expected: Expected = { kind: "execute", statement };
    const why = whyNotRowLimitable(statement.text);
    if (why) return this.#refuse(statement, refusals.rowLimitUnfit(maxRows, why), REFUSED_PARSE, expected);
    this.#forward(raw, expected);
    this.#toServer.add(ExecuteRowLimit.FLUSH);
    return new Promise<void>((resolve) => {
      this.#limit = new ExecuteRowLimit(statement, maxRows, this.#limitHooks(resolve, expected));
    });
  }

  /**
   * An Execute approved with undo (extended protocol): Airlock's capture runs in its group's
   * implicit transaction around it (proxy/undo/execute-undo.ts); the agent's next messages wait
   * for its command tag.
   */
  #undoneExecute(statement: PendingStatement, raw: Buffer, undo: BoundUndo, group: number, portal: object): Promise<void> | void {
    const expected: Expected = { kind: "execute", statement };
    const limited = statement.verdict && statementLimits(statement.verdict.statements.map((s) => s.rule));
    const why = limited
      ? "its rule sets limits (a budget), which govern how it runs through the extended protocol"
      : executeRowCount(raw) !== 0 ? "its portal was executed in parts (Execute with a row count)" : lookedUp(this.#names.statements.lookup(undo.statementName, group)) !== undo.prepared ? "its prepared statement changed after it was bound" : undefined;
    if (why) {
      undo.captured({ unavailable: why });
      return this.#forward(raw, expected, portal);
    }
    this.#tracker.expect(expected);
    return new Promise<void>((resolve) => {
      const hooks = this.#limitHooks(resolve, expected);
      this.#limit = new ExecuteUndo(statement, raw, undo, { ...hooks, release: resolve, done: () => (this.#limit = undefined), status: () => this.#lastReady });
    });
  }

  #limitHooks(resolve: () => void, expected: Expected): RowLimitHooks & { fail(err: unknown): void } {
    return {
      fail: (err) => this.#fatal(err),
      send: (bytes) => {
        this.#toServer.add(bytes);
        this.#flushToServer();
      },
      pass: (message) => this.#serverMessage(message),
      answering: () => this.#tracker.current() === expected,
      done: () => {
        this.#limit = undefined;
        resolve();
      },
    };
  }

  /** Resolves with the transaction status once every answer owed to the agent is in (undefined: in an extended-protocol group, not known). */
  #drained(): Promise<number | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#tracker.size > 0) return false;
        resolve(this.#ready);
        return true;
      };
      if (check()) return;
      this.#onDrained = check;
      // Answers the server holds back until a Sync (an unfinished extended-protocol group) are asked for now.
      this.#toServer.add(ExecuteRowLimit.FLUSH);
      this.#flushToServer();
    });
  }

  /** Traced: a row of the statement the server is answering was masked, from `from` until now. */
  #maskTraced(from: number): void {
    const head = this.#tracker.current();
    const trace = head && "statement" in head ? head.statement?.trace : undefined;
    trace?.masked(from, performance.now());
  }

  #fromServerMessage({ type, body }: WireMessage): void {
    switch (type) {
      case Backend.CopyInResponse:
        this.#copyingIn = true;
        return this.#tracker.onServerMessage(type);
      case Backend.CommandComplete:
        this.#copyingIn = false;
        return this.#tracker.onServerMessage(type, rowsFromTag(readCommandTag(body)));
      case Backend.ErrorResponse: {
        this.#copyingIn = false;
        const fields = readFields(body);
        this.#tracker.onServerMessage(type, undefined, { code: fields.get("C"), message: fields.get("M") });
        return this.ctx.searchPath.failed();
      }
      case Backend.ReadyForQuery:
        this.#tracker.onServerMessage(type);
        this.ctx.searchPath.ready(body[0]);
        this.#lastReady = body[0];
        if (body[0] === TxStatus.Idle) this.#idle();
        // Only a ReadyForQuery with nothing sent after it tells where the session stands.
        if (this.#tracker.size === this.#unsent) this.#ready = body[0];
        return;
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

  /**
   * Out of any transaction: its portals are gone, and DDL it ran is committed (or undone), so the
   * catalog is out of date from now on — not while the DDL's locks are held, where reading it would wait.
   */
  #idle(): void {
    this.#names.endOfTransaction();
    if (!this.#schemaChanged) return;
    this.#schemaChanged = false;
    this.ctx.schemaChanged();
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
    if (err) log.warn("upstream connection lost", { reason: err.message });
    this.#flushToClient();
    // A PgWireError is the upstream's own word to the agent (PGlite's idle-in-transaction timeout).
    this.#fatal(err instanceof PgWireError ? err : PgWireError.fatal(SqlState.ConnectionFailure, "airlock: the connection to the database was lost"));
  }

  #fatal(err: unknown): void {
    if (this.#step === RelayStep.Closed) return;
    const wire = err instanceof PgWireError ? err : internalError(err);
    this.client.end(wire.toMessage());
    this.#end(wire.message, false, false);
  }

  #end(reason: string, graceful = false, byAgent = true): void {
    if (this.#step === RelayStep.Closed) return;
    this.#step = RelayStep.Closed;
    this.#agentLeft = byAgent;
    this.#tracker.endOfSession(reason);
    this.upstream.close(!graceful);
    if (graceful) this.client.end();
    else if (!this.client.writableEnded) this.client.destroy();
    this.#resolveDone(reason);
  }
}

/** Messages that belong to the statement running now (its COPY data) and so pass a budget's fence. */
const PASSES_FENCE = new Set<number>([Frontend.CopyData, Frontend.CopyDone, Frontend.CopyFail, Frontend.Flush]);

/** What a refused statement becomes upstream: a syntax error, so it fails before doing anything. */
const REFUSED_QUERY = writeQuery("airlock refused this statement");
const REFUSED_PARSE = writeParse("airlock_refused", "airlock refused this statement");

function pending(text: string, params: Array<string | null> | undefined, protocol: "simple" | "extended"): PendingStatement {
  const startedAt = performance.now();
  // Traced only while tracing is on: otherwise nothing is allocated for it.
  return { text, params, protocol, startedAt, rows: 0, outcome: "ok", resultIndex: 0, trace: tracing ? new StatementTrace(startedAt) : undefined, upstreamStart: -1, heldMs: 0 };
}

/** Two effects of one statement's completion (its names, the search_path) as one. */
function both(a: ((ok: boolean) => void) | undefined, b: ((ok: boolean) => void) | undefined): ((ok: boolean) => void) | undefined {
  if (!a || !b) return a ?? b;
  return (ok) => {
    a(ok);
    b(ok);
  };
}

function internalError(err: unknown): PgWireError {
  log.error("session failed", { err });
  return PgWireError.fatal(SqlState.InternalError, "airlock: internal error; the session was closed");
}

/** The prepared statements a statement runs by name, as a request records them (none in the usual case: no allocation). */
function lookedUp<T>(found: Lookup<T>): T | undefined {
  return found.state === "known" ? found.value : undefined;
}

function preparedRun(found: ReadonlyMap<string, PreparedName>): PendingStatement["prepared"] {
  return found.size === 0 ? undefined : [...found].map(([name, p]) => ({ name, text: p.text }));
}
