import { rowLimitPhrase } from "../lib/approvals/row-limit-phrase";
import type { WireMessage } from "./protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "./protocol/message-codes";
import { readCommandTag, rowsFromTag } from "./protocol/reader";
import { writeErrorResponse, writeParse, writeQuery } from "./protocol/writer";
import type { PendingStatement } from "./response-tracker";
import { SqlState } from "./wire-error";

/**
 * "Approved for at most N rows" (lib/approvals/row-limit.ts), carried out on the wire: the held
 * statement runs so that it can still be undone once its command tag tells how many rows it
 * changed; over the limit, it is undone and the agent gets an error naming the limit and the count.
 *
 * What the agent sees is what PostgreSQL shows after any failed statement:
 * - in autocommit, its statement failed and nothing of it stays (Airlock's own BEGIN … ROLLBACK);
 * - inside its own transaction, the transaction is aborted until it rolls back, like after any
 *   error. Airlock first rolls back to a savepoint it set before the statement, so the rows and
 *   their locks are released at once, then fails a statement of its own to abort the transaction:
 *   a transaction that went on as if the statement had not run would be one PostgreSQL never gives.
 * In the extended protocol the statement runs inside the group up to the agent's Sync, which is
 * one transaction (implicit in autocommit): a failing message of Airlock's after the Execute
 * aborts it, so the group commits nothing (or the agent's transaction is aborted), as above.
 */

/** What a run needs of the relay. */
export interface RowLimitHooks {
  /** Sends bytes to the server now. */
  send(bytes: Buffer): void;
  /** Hands a server message on as an answer to the agent (masked, tracked), as if it came unguarded. */
  pass(message: WireMessage): void;
  /** Whether the server is answering the guarded statement now (not what the agent sent before it). */
  answering(): boolean;
  /** The run is over: the agent's next messages may go. */
  done(): void;
}

export interface RowLimitRun {
  onServerMessage(message: WireMessage): void;
}

const SAVEPOINT = "airlock_row_limit";
/** A statement that fails at once and changes nothing: it aborts the transaction the limit broke. */
const FAIL_QUERY = writeQuery("airlock row limit exceeded");
const FAIL_PARSE = writeParse("airlock_row_limit", "airlock row limit exceeded");
/** Flush: the server sends what it has for the Execute without waiting for the agent's Sync. */
const FLUSH = Buffer.from([Frontend.Flush, 0, 0, 0, 4]);

/** The agent's error for a statement that changed more rows than its approval allowed. */
export function rowLimitError(statement: PendingStatement, maxRows: number, rows: number): Buffer {
  const message = `airlock: request ${statement.requestId ?? ""} was approved for ${rowLimitPhrase(maxRows)}, but the statement changed ${rows}; Airlock rolled it back`;
  Object.assign(statement, { outcome: "refused", errorCode: SqlState.InsufficientPrivilege, errorMessage: message, rows });
  statement.refusal = writeErrorResponse({ severity: "ERROR", code: SqlState.InsufficientPrivilege, message });
  return statement.refusal;
}

function asMessage(raw: Buffer): WireMessage {
  return { type: raw[0], body: raw.subarray(5), raw };
}

/**
 * A simple Query under a limit. `status` is the session's transaction status before it (idle or
 * in a transaction; a failed transaction runs nothing, so needs no limit). The server's answers to
 * Airlock's own statements never reach the agent.
 */
export class QueryRowLimit implements RowLimitRun {
  #phase: "open" | "statement" | "close" = "open";
  readonly #inTransaction: boolean;
  #rows = 0;
  #failed = false;
  readonly #withheld: WireMessage[] = [];
  /** Ready-for-query answers still due to Airlock's closing statements, and what the agent gets then. */
  #closing = 0;
  #closeError: WireMessage | undefined;
  #finalAnswers: (ready: WireMessage) => WireMessage[] = () => [];

  constructor(
    private readonly statement: PendingStatement,
    private readonly maxRows: number,
    status: number,
    private readonly query: Buffer,
    private readonly hooks: RowLimitHooks,
  ) {
    this.#inTransaction = status === TxStatus.InTransaction;
    hooks.send(writeQuery(this.#inTransaction ? `SAVEPOINT ${SAVEPOINT}` : "BEGIN"));
  }

  onServerMessage(message: WireMessage): void {
    switch (this.#phase) {
      case "open":
        return this.#opening(message);
      case "statement":
        return this.#running(message);
      case "close":
        return this.#closingAnswer(message);
    }
  }

  #opening(message: WireMessage): void {
    if (message.type === Backend.ErrorResponse) this.#closeError = message;
    if (message.type !== Backend.ReadyForQuery) return;
    if (this.#closeError) {
      // Could not open the transaction the limit needs: the statement is not sent, and fails with that error.
      this.hooks.pass(this.#closeError);
      this.hooks.pass(message);
      return this.hooks.done();
    }
    this.#phase = "statement";
    this.hooks.send(this.query);
  }

  #running(message: WireMessage): void {
    switch (message.type) {
      case Backend.CommandComplete:
        this.#rows += rowsFromTag(readCommandTag(message.body));
        this.#withheld.push(message);
        return;
      case Backend.ErrorResponse:
        this.#failed = true;
        return this.hooks.pass(message);
      case Backend.ReadyForQuery:
        return this.#decide(message);
      default:
        return this.hooks.pass(message);
    }
  }

  #decide(ready: WireMessage): void {
    if (this.#failed) {
      // Failed by itself: inside the agent's transaction that is the agent's to end; Airlock's own BEGIN is Airlock's.
      if (this.#inTransaction) {
        this.hooks.pass(ready);
        return this.hooks.done();
      }
      return this.#close([writeQuery("ROLLBACK")], (r) => [r]);
    }
    if (this.#rows > this.maxRows) {
      const error = asMessage(rowLimitError(this.statement, this.maxRows, this.#rows));
      if (!this.#inTransaction) return this.#close([writeQuery("ROLLBACK")], (r) => [error, r]);
      return this.#close([writeQuery(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`), FAIL_QUERY], (r) => [error, r], true);
    }
    this.#close([writeQuery(this.#inTransaction ? `RELEASE SAVEPOINT ${SAVEPOINT}` : "COMMIT")], (r) => (this.#closeError ? [this.#closeError, r] : [...this.#withheld, r]));
  }

  /** `failing`: the last closing statement fails on purpose; its error is not the agent's. */
  #close(messages: Buffer[], answers: (ready: WireMessage) => WireMessage[], failing = false): void {
    this.#phase = "close";
    this.#closing = messages.length;
    this.#closeError = undefined;
    this.#finalAnswers = answers;
    this.#failing = failing;
    this.hooks.send(Buffer.concat(messages));
  }

  #failing = false;

  #closingAnswer(message: WireMessage): void {
    if (message.type === Backend.ErrorResponse && !(this.#failing && this.#closing === 1)) this.#closeError ??= message;
    if (message.type !== Backend.ReadyForQuery || --this.#closing > 0) return;
    for (const answer of this.#finalAnswers(message)) this.hooks.pass(answer);
    this.hooks.done();
  }
}

/**
 * An Execute under a limit (extended protocol). It was sent with a Flush, and nothing of the
 * agent's after it: its command tag comes back before the group's Sync, while what it changed can
 * still be undone by failing the group.
 */
export class ExecuteRowLimit implements RowLimitRun {
  #aborting = false;

  constructor(
    private readonly statement: PendingStatement,
    private readonly maxRows: number,
    private readonly hooks: RowLimitHooks,
  ) {}

  static readonly FLUSH = FLUSH;

  onServerMessage(message: WireMessage): void {
    if (!this.hooks.answering()) return this.hooks.pass(message);
    switch (message.type) {
      case Backend.CommandComplete: {
        const rows = rowsFromTag(readCommandTag(message.body));
        if (rows <= this.maxRows) return this.#end(message);
        return this.#abort(rows);
      }
      case Backend.PortalSuspended:
        // Fetched in parts, its count is never known before its rows are out: not run under a limit.
        return this.#abort(undefined);
      case Backend.ErrorResponse:
        // Its own error, or the failing message Airlock sent: either way the group is aborted and the agent told.
        return this.#end(message);
      default:
        if (!this.#aborting) this.hooks.pass(message);
    }
  }

  #abort(rows: number | undefined): void {
    if (this.#aborting) return;
    this.#aborting = true;
    if (rows === undefined) {
      const message = "airlock: a statement approved with a row limit must be executed whole (Execute with no row count); Airlock rolled it back";
      Object.assign(this.statement, { outcome: "refused", errorCode: SqlState.InsufficientPrivilege, errorMessage: message });
      this.statement.refusal = writeErrorResponse({ severity: "ERROR", code: SqlState.InsufficientPrivilege, message });
    } else rowLimitError(this.statement, this.maxRows, rows);
    // The server's error for this Parse answers the agent's Execute (relay: refusalFor).
    this.hooks.send(Buffer.concat([FAIL_PARSE, FLUSH]));
  }

  #end(message: WireMessage): void {
    this.hooks.pass(message);
    this.hooks.done();
  }
}
