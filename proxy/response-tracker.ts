import type { MaskTally } from "../lib/masking/column-plan";
import type { StatementTrace } from "../lib/ops/tracing";
import type { PolicyVerdict } from "../lib/policy/evaluate";
import type { ResultMasking } from "../lib/masking/masking";
import { Backend } from "./protocol/message-codes";
import type { ResultField } from "../lib/masking/column-plan";
import type { ResultMasker } from "./result-masker";
import type { LimitHit, StatementBudget } from "./statement-budgets";
import type { PathValue } from "../lib/sql/search-path";
import type { Capture } from "../lib/approvals/undo/exact";

/** What the agent is owed an answer for, in the order it asked. */
export type Expected =
  | { kind: "query" | "execute"; statement: PendingStatement }
  | { kind: "parse" | "bind" | "close"; done: (ok: boolean) => void; statement?: PendingStatement }
  | { kind: "describe-statement"; described?: Described }
  | { kind: "describe-portal"; described?: Described }
  | { kind: "sync" };

/** Where the columns a Describe shows are kept: on the statement or portal it described, as the server had it. */
export interface Described {
  fields?: ResultField[];
}

export interface PendingStatement {
  text: string;
  params: Array<string | null> | undefined;
  /** The parameters' format codes when any was sent in binary (bindParamFormats): a held statement records them. */
  paramFormats?: number[];
  /** The search_path its names were judged on (the relay's judgement): a held statement records it (lib/approvals/held-path.ts). */
  judgedPath?: PathValue;
  protocol: "simple" | "extended";
  startedAt: number;
  rows: number;
  outcome: "ok" | "error" | "refused";
  errorCode?: string;
  errorMessage?: string;
  /** A refused statement is sent on as a harmless failing one; the agent gets these bytes in place of that error. */
  refusal?: Buffer;
  /** The request a held statement waited on, or the grant it ran under. */
  requestId?: string;
  grantId?: string;
  /** How its results are masked, statement by statement of the text (from the decision). */
  masking?: ResultMasking;
  /** Which statement of the text the server is answering now (a simple Query may hold several). */
  resultIndex: number;
  /** The result streaming now, when it is masked. */
  result?: ResultMasker;
  /** What masking did to its results. */
  masked?: MaskTally;
  /** It changes the schema (DDL): the resource's catalog is read again after it runs. */
  changesSchema?: boolean;
  /** How policy saw it (rule, kinds, tables), for the audit trail: read when recorded, off this path. */
  verdict?: PolicyVerdict;
  /** Prepared statements it runs by name (SQL EXECUTE), with the text each stood for when judged. */
  prepared?: Array<{ name: string; text: string }>;
  /** Per statement of the text: what its success does to the session's names (PREPARE, DECLARE, DEALLOCATE…). */
  settles?: Array<((ok: boolean) => void) | undefined>;
  /** Its phases' times, while tracing is on (lib/ops/tracing.ts); undefined otherwise. */
  trace?: StatementTrace;
  /** When it went to the server as itself (performance.now(), ms); -1 while not (or refused). Always kept: the metrics' upstream time starts here. */
  upstreamStart?: number;
  /** How long it waited for people (ms); 0 unless held. */
  heldMs?: number;
  /** Approved for at most this many rows: run so that it is rolled back past them (proxy/row-limit.ts). */
  maxRows?: number;
  /** Approved with undo, through the extended protocol: told the capture once its portal runs (proxy/undo/execute-undo.ts). */
  undo?: { captured(capture: Capture): void };
  /** Its rows, bytes and time under the rules' `limits:` (statement-budgets.ts), and the one it ran into. */
  budget?: StatementBudget;
  limit?: LimitHit;
  /** Sent by Airlock itself (statement-budgets.ts): answered to no one, recorded nowhere. */
  internal?: boolean;
}

/**
 * Matches the server's responses to the agent's requests, so that the proxy knows when each
 * statement ends and what the server made of each Parse, Bind and Close. Mirrors the server's
 * rules: after an error in the extended protocol, everything up to Sync is skipped.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
export class ResponseTracker {
  #queue: Expected[] = [];
  #head = 0;
  /** The server failed a message of the current extended-protocol group and skips to its Sync. */
  #skipping = false;

  constructor(
    private readonly finished: (statement: PendingStatement) => void,
    /** A statement the server skipped (after an error in its group): it never ran. */
    private readonly dropped: (statement: PendingStatement) => void = () => undefined,
  ) {}

  /** False when the server will skip it unanswered. */
  expect(item: Expected): boolean {
    if (this.#skipping) {
      // Sent after the server already failed a message of this group (the relay waited to judge
      // it): the server skips it unanswered, up to the group's Sync.
      if (item.kind !== "sync") {
        skipped(item, this.dropped);
        return false;
      }
      this.#skipping = false;
    }
    this.#queue.push(item);
    return true;
  }

  /** The refusal to send instead of the server's ErrorResponse now arriving, if it answers one. */
  refusalFor(type: number): Buffer | undefined {
    const head = this.#peek();
    return type === Backend.ErrorResponse && head && "statement" in head ? head.statement?.refusal : undefined;
  }

  /** The request the server is answering now. */
  current(): Expected | undefined {
    return this.#peek();
  }

  /** Feeds one server message; `rows` is the row count of a CommandComplete. */
  onServerMessage(type: number, rows?: number, error?: { code?: string; message?: string }): void {
    const head = this.#peek();
    if (!head) return;
    switch (type) {
      case Backend.CommandComplete:
        if (head.kind === "query" || head.kind === "execute") nextResult(head.statement, rows);
        if (head.kind === "execute") this.#complete();
        return;
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        if (head.kind === "query") nextResult(head.statement); // an empty statement of the text
        if (head.kind === "execute") this.#complete();
        return;
      case Backend.ParseComplete:
        return this.#completeIf(head, "parse");
      case Backend.BindComplete:
        return this.#completeIf(head, "bind");
      case Backend.CloseComplete:
        return this.#completeIf(head, "close");
      case Backend.RowDescription:
      case Backend.NoData:
        if (head.kind === "describe-statement" || head.kind === "describe-portal") this.#complete();
        return;
      case Backend.ErrorResponse:
        return this.#onError(head, error);
      case Backend.ReadyForQuery:
        if (head.kind === "query" || head.kind === "sync") this.#complete();
        return;
      default:
        return; // DataRow, notices, notifications, parameter status, COPY traffic: no step ends
    }
  }

  /**
   * The session ends with statements still unanswered (the agent left between an error and its
   * ReadyForQuery, or mid-statement): each is recorded as it stands, never dropped.
   */
  endOfSession(reason: string): void {
    for (let item = this.#peek(); item; item = this.#peek()) {
      this.#head++;
      if (item.kind !== "query" && item.kind !== "execute") continue;
      if (item.statement.outcome === "ok") failed(item.statement, { message: `the session ended before the statement completed (${reason})` });
      this.#finish(item.statement);
    }
    this.#compact();
  }

  #onError(head: Expected, error?: { code?: string; message?: string }): void {
    if (head.kind === "query") return failed(head.statement, error); // ReadyForQuery still follows
    // Extended protocol: the server now skips to Sync; nothing before it will be answered, and
    // what it skips never ran, so only the failed step itself is recorded.
    if ("statement" in head && head.statement) {
      failed(head.statement, error);
      this.#finish(head.statement);
    }
    for (let item = this.#peek(); item && item.kind !== "sync"; item = this.#peek()) {
      this.#head++;
      skipped(item, this.dropped);
    }
    // The group's Sync is not sent yet: what comes before it is skipped as it comes.
    this.#skipping = this.#peek() === undefined;
    this.#compact();
  }

  #completeIf(head: Expected, kind: "parse" | "bind" | "close"): void {
    if (head.kind === kind) this.#complete();
  }

  #complete(): void {
    const done = this.#queue[this.#head++];
    if (done.kind === "query" || done.kind === "execute") this.#finish(done.statement);
    else if (done.kind === "parse" || done.kind === "bind" || done.kind === "close") done.done(true);
    this.#compact();
  }

  /** A statement is over: those of its statements that did not complete changed no names. */
  #finish(statement: PendingStatement): void {
    if (statement.settles) for (const settle of statement.settles) settle?.(false);
    this.finished(statement);
  }

  /** Requests not yet answered (sent or about to be). */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  #peek(): Expected | undefined {
    return this.#head < this.#queue.length ? this.#queue[this.#head] : undefined;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A message the server skipped after an error: it changed nothing, and never ran (so is not recorded). */
function skipped(item: Expected, dropped: (statement: PendingStatement) => void): void {
  if (item.kind === "parse" || item.kind === "bind" || item.kind === "close") item.done(false);
  else if (item.kind === "query" || item.kind === "execute") {
    for (const settle of item.statement.settles ?? []) settle?.(false);
    dropped(item.statement);
  }
}

/** One statement of the text is done: its rows count, and the next result starts afresh. */
function nextResult(statement: PendingStatement, rows = 0): void {
  statement.settles?.[statement.resultIndex]?.(true);
  statement.rows += rows;
  statement.resultIndex++;
  statement.result = undefined;
}

function failed(statement: PendingStatement, error?: { code?: string; message?: string }): void {
  if (statement.outcome === "refused") return; // the proxy's own verdict stands
  Object.assign(statement, { outcome: "error", errorCode: error?.code, errorMessage: error?.message });
}
