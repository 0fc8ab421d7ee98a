import { randomBytes } from "node:crypto";
import { rowLimitPhrase } from "../lib/approvals/row-limit-phrase";
import { exactCapture, whyNotRestorable, type Capture } from "../lib/approvals/undo/exact";
import { captureSql, ident, type UndoPlan, type UndoPlanResult } from "../lib/approvals/undo/plan";
import type { UndoTarget } from "../lib/approvals/undo/types";
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
  /** Resolves once a budget's cancel of the statement has reached the server (statement-budgets.ts). */
  settled?(): Promise<void>;
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

/** What the guard may also do: capture what the statement changes, for undo (lib/approvals/undo). */
export interface UndoCapture {
  plan: UndoPlanResult;
  /** Told once: the capture, or why there is none. Called only when the statement committed. */
  captured(capture: Capture): void;
}

interface Answer {
  rows: string[];
  error?: WireMessage;
  ready: WireMessage;
}

/**
 * A simple Query approved with a row limit or an undo (or both). `status` is the session's
 * transaction status before it (idle or in a transaction; a failed transaction runs nothing, so
 * needs no guard). It runs in Airlock's own transaction (BEGIN … COMMIT) or under a savepoint in
 * the agent's; an undo is captured only in Airlock's own (inside the agent's transaction its
 * commit is the agent's, and may never come). The server's answers to Airlock's own statements
 * never reach the agent.
 */
export class QueryRowLimit implements RowLimitRun {
  readonly #inTransaction: boolean;
  /** Who takes the server's next message: a statement of Airlock's, or the agent's. */
  #taker: ((message: WireMessage) => void) | undefined;

  constructor(
    private readonly statement: PendingStatement,
    private readonly maxRows: number | undefined,
    status: number,
    private readonly query: Buffer,
    private readonly hooks: RowLimitHooks & { fail(err: unknown): void },
    private readonly undo?: UndoCapture,
  ) {
    this.#inTransaction = status === TxStatus.InTransaction;
    this.#run().catch((err: unknown) => hooks.fail(err));
  }

  onServerMessage(message: WireMessage): void {
    this.#taker?.(message);
  }

  /** Runs one statement of Airlock's own; its rows' first column, as text. */
  #hidden(sql: string | Buffer): Promise<Answer> {
    return new Promise((resolve) => {
      const rows: string[] = [];
      let error: WireMessage | undefined;
      this.#taker = (m) => {
        if (m.type === Backend.DataRow) rows.push(firstColumn(m.body));
        else if (m.type === Backend.ErrorResponse) error ??= m;
        else if (m.type === Backend.ReadyForQuery) {
          this.#taker = undefined;
          resolve({ rows, error, ready: m });
        }
      };
      this.hooks.send(typeof sql === "string" ? writeQuery(sql) : sql);
    });
  }

  /** Runs the agent's statement: its answers go on, but its command tags and ReadyForQuery wait for the verdict. */
  #agents(): Promise<{ changed: number; failed: boolean; tags: WireMessage[]; ready: WireMessage }> {
    return new Promise((resolve) => {
      const tags: WireMessage[] = [];
      let changed = 0;
      let failed = false;
      this.#taker = (m) => {
        if (m.type === Backend.CommandComplete) {
          changed += rowsFromTag(readCommandTag(m.body));
          tags.push(m);
        } else if (m.type === Backend.ReadyForQuery) {
          this.#taker = undefined;
          resolve({ changed, failed, tags, ready: m });
        } else {
          if (m.type === Backend.ErrorResponse) failed = true;
          this.hooks.pass(m);
        }
      };
      this.hooks.send(this.query);
    });
  }

  async #run(): Promise<void> {
    const open = await this.#hidden(this.#inTransaction ? `SAVEPOINT ${SAVEPOINT}` : "BEGIN");
    if (open.error) return this.#finish([open.error, open.ready]);
    const undo = this.undo && !this.#inTransaction ? await this.#before(this.undo.plan) : undefined;
    const ran = await this.#agents();
    // A budget that failed the statement (statement-budgets.ts): nothing of it may stay; its cancel
    // goes first, so it cannot reach Airlock's ROLLBACK. The timer stops: the statement is over.
    const budget = this.statement.budget;
    if (budget) clearTimeout(budget.timer);
    if (budget?.hit?.mode === "error" && !this.#inTransaction) {
      await this.hooks.settled?.();
      return this.#finish([(await this.#hidden("ROLLBACK")).ready]);
    }
    if (ran.failed) {
      // Failed by itself: inside the agent's transaction that is the agent's to end; Airlock's own BEGIN is Airlock's.
      if (this.#inTransaction) return this.#finish([ran.ready]);
      const rolledBack = await this.#hidden("ROLLBACK");
      return this.#finish([rolledBack.ready]);
    }
    if (this.maxRows !== undefined && ran.changed > this.maxRows) {
      const error = asMessage(rowLimitError(this.statement, this.maxRows, ran.changed));
      if (!this.#inTransaction) return this.#finish([error, (await this.#hidden("ROLLBACK")).ready]);
      await this.#hidden(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
      return this.#finish([error, (await this.#hidden(FAIL_QUERY)).ready]);
    }
    const capture = undo && (await this.#after(undo, ran.changed));
    const closed = await this.#hidden(this.#inTransaction ? `RELEASE SAVEPOINT ${SAVEPOINT}` : "COMMIT");
    if (closed.error) return this.#finish([closed.error, closed.ready]);
    if (this.undo) this.undo.captured(capture ?? { unavailable: this.#inTransaction ? "it ran inside the agent's own transaction, whose commit is the agent's" : "the capture did not run" });
    return this.#finish([...ran.tags, closed.ready]);
  }

  /**
   * Before the statement: the table's key and, for UPDATE and DELETE, its rows that the WHERE
   * selects, locked. A capture query that fails would abort the transaction: it is started again
   * (nothing has run in it yet) and the statement runs without undo.
   */
  async #before(plan: UndoPlanResult): Promise<Pending | { unavailable: string }> {
    if ("unavailable" in plan) return plan;
    const target = await this.#hidden(captureSql.target(plan));
    const found = !target.error && target.rows[0] ? (JSON.parse(target.rows[0]) as UndoTarget & { plain: boolean; elsewhere: string | null; volatile: boolean }) : undefined;
    const why = found ? whyNotRestorable(found) : "the table could not be read from the catalog";
    if (why) return target.error ? this.#restart(why) : { unavailable: why };
    const { plain: _plain, elsewhere: _elsewhere, volatile: _volatile, ...tableOf } = found!;
    if (plan.kind === "insert") return { plan, target: tableOf, before: [] };
    const before = await this.#hidden(captureSql.before(plan));
    if (before.error) return this.#restart("the rows it would change could not be read beforehand");
    return { plan, target: tableOf, before: before.rows.map((r) => JSON.parse(r) as Record<string, unknown>) };
  }

  async #restart(why: string): Promise<{ unavailable: string }> {
    await this.#hidden("ROLLBACK");
    const again = await this.#hidden("BEGIN");
    if (again.error) throw new Error("could not begin the guarded statement's transaction again");
    return { unavailable: why };
  }

  /** After the statement, before COMMIT: the rows it wrote (UPDATE, INSERT), or that none it deleted remain (DELETE). */
  async #after(pending: Pending | { unavailable: string }, changed: number): Promise<Capture> {
    if ("unavailable" in pending) return pending;
    const { plan, target, before } = pending;
    if (plan.kind === "delete") {
      const remaining = await this.#hidden(remainingSql(plan, target, before));
      if (remaining.error) return { unavailable: "the rows it deleted could not be checked" };
      return exactCapture("delete", target, changed, before, [], Number(remaining.rows[0] ?? -1));
    }
    const after = await this.#hidden(captureSql.after(plan));
    if (after.error) return { unavailable: "the rows it wrote could not be read" };
    return exactCapture(plan.kind, target, changed, before, after.rows.map((r) => JSON.parse(r) as Record<string, unknown>));
  }

  #finish(answers: WireMessage[]): void {
    for (const answer of answers) this.hooks.pass(answer);
    this.hooks.done();
  }
}

interface Pending {
  plan: UndoPlan;
  target: UndoTarget;
  before: Record<string, unknown>[];
}

/** How many of the rows captured before a DELETE still exist after it. */
export function remainingSql(plan: UndoPlan, target: UndoTarget, before: Record<string, unknown>[]): string {
  const keys = JSON.stringify(before.map((row) => target.key.map((k) => row[k])));
  const tag = `$airlock_${randomBytes(6).toString("hex")}$`;
  const key = `jsonb_build_array(${target.key.map((k) => `${plan.ref}.${ident(k)}`).join(", ")})`;
  return `SELECT count(*)::text FROM ${plan.from} WHERE ${key} IN (SELECT jsonb_array_elements(${tag}${keys}${tag}::jsonb))`;
}

/** The first column of a DataRow, as text (Airlock's own queries ask for one text column). */
export function firstColumn(body: Buffer): string {
  const length = body.readInt32BE(2);
  return length < 0 ? "" : body.toString("utf8", 6, 6 + length);
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
