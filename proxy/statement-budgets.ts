import { refusals, truncationNotice } from "../lib/decision/refusals";
import { statementLimits, type LimitName, type StatementLimits } from "../lib/policy/limits";
import type { WireMessage } from "./protocol/message-buffer";
import { Backend, TxStatus } from "./protocol/message-codes";
import { readCommandTag, rowsFromTag } from "./protocol/reader";
import { writeCommandComplete, writeErrorResponse, writeNoticeResponse } from "./protocol/writer";
import type { Expected, PendingStatement } from "./response-tracker";

/** A budget a statement ran into, as the audit trail and the Sessions page show it. */
export interface LimitHit {
  name: Exclude<LimitName, "statements_per_minute">;
  value: number;
  rule: string;
  /** error: the statement failed; truncate: the rows so far were its result. */
  mode: "error" | "truncate";
}

/** Rows and bytes a result has brought back so far; a portal keeps one over all its Executes. */
export interface ResultUsage {
  rows: number;
  bytes: number;
}

/** One statement's budget while it runs. */
export class StatementBudget {
  hit: LimitHit | undefined;
  /** Rows the agent got, over the whole statement, and in the result streaming now. */
  rowsSent = 0;
  resultRows = 0;
  /** Error mode: the agent has its ErrorResponse. */
  errorSent = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limits: StatementLimits,
    readonly usage: ResultUsage,
  ) {}

  /** It may end in an error Airlock makes: the session sends nothing after it until it is answered. */
  get fails(): boolean {
    return budgetCanFail(this.limits);
  }

  errorBytes(): Buffer {
    const hit = this.hit!;
    const refusal = refusals.limit(hit.name, hit.value, hit.rule);
    return writeErrorResponse({ severity: "ERROR", code: refusal.code, message: refusal.message, hint: refusal.hint });
  }
}

/** Whether limits can fail a statement (error mode over rows or bytes, or a timeout), not only cut its result short. */
export function budgetCanFail(limits: StatementLimits | undefined): boolean {
  if (!limits) return false;
  return limits.statementTimeoutMs !== undefined || (limits.onLimit === "error" && (limits.maxRows ?? limits.maxResultBytes) !== undefined);
}

/**
 * A simple Query outside a transaction block that writes, under a budget that can fail it: the
 * server commits it before its command tag, possibly before the cancel reaches it, and then the
 * agent would get an error for a committed write. Such a statement runs in Airlock's own
 * transaction (proxy/row-limit.ts), rolled back when its budget failed it. One statement only,
 * of the kinds a transaction block can hold: a text of several may carry its own BEGIN/COMMIT.
 */
export function writesUnderFailingBudget(statement: PendingStatement): boolean {
  const verdict = statement.verdict;
  if (statement.protocol !== "simple" || !verdict || verdict.statements.length !== 1) return false;
  const kinds = verdict.statements[0].statement.kinds;
  if (!kinds.some((k) => WRITES.has(k)) || !kinds.every((k) => k === "select" || WRITES.has(k))) return false;
  return budgetCanFail(statementLimits(verdict.statements.map((s) => s.rule)));
}

const WRITES = new Set<string>(["insert", "update", "delete", "merge"]);

/** What the budgets need of the relay. */
export interface BudgetHooks {
  /** The request the server is answering now. */
  current(): Expected | undefined;
  /** Cancels what the server runs now (out of band). */
  cancelUpstream(): Promise<void>;
  /**
   * Sends the server a harmless message that fails, its answer kept from the agent, so the server
   * stands where PostgreSQL would after the statement's error: "query" after a simple Query's
   * ReadyForQuery inside a transaction block, "parse" before an extended group's Sync.
   */
  injectFailure(kind: "query" | "parse"): void;
  /** The fence is down (a cancel settled after its statement ended): what waited may go. */
  unfenced(): void;
}

/** A Flush after a fenced Execute: the server sends its answer now, not at the Sync that waits. */
export const FLUSH = Buffer.from([0x48, 0, 0, 0, 4]);

/** How often a statement whose time is up looks again whether the server has reached it. */
const TIMEOUT_RECHECK_MS = 20;

/**
 * `limits:` of the rules behind a session's statements (lib/policy/limits.ts): rows and bytes of
 * each result, counted as they go to the agent, and each statement's running time.
 *
 * Over a limit in error mode, the rest of the result is dropped and the agent gets an error where
 * the server's answer would end, and the server is brought to the same place as PostgreSQL after
 * an error: the statement is cancelled upstream; should it complete anyway (its rows were already
 * on their way), a failing message follows it — before the Sync in the extended protocol, so the
 * group's implicit transaction is rolled back, and after the Query's ReadyForQuery when a
 * transaction block is open, so the block is aborted. The agent reads ReadyForQuery `E` inside a
 * block and `I` outside, as from PostgreSQL. To keep the cancel from reaching a later statement,
 * nothing is sent after such a statement until it is answered and the cancel is done (the fence).
 *
 * Over a limit in truncate mode, the rows stop, a notice says why, and the statement completes
 * normally; the server runs it to the end (its rows are dropped), so both sides agree it succeeded.
 */
export class SessionBudgets {
  #fence: PendingStatement | undefined;
  #cancelling = false;
  #cancelled: Promise<void> = Promise.resolve();
  readonly #portals = new WeakMap<object, ResultUsage>();

  constructor(private readonly hooks: BudgetHooks) {}

  /** A statement under a budget that can fail it is unanswered: the agent's next messages wait. */
  get fenced(): boolean {
    return this.#fence !== undefined || this.#cancelling;
  }

  /**
   * A statement goes to the server: its budget starts, from the rules that let it run. `portal`:
   * an Execute's portal, whose rows count over all its Executes. True when it is fenced.
   */
  start(statement: PendingStatement, portal?: object): boolean {
    const limits = statement.verdict && statementLimits(statement.verdict.statements.map((s) => s.rule));
    if (!limits) return false;
    let usage = portal && this.#portals.get(portal);
    if (!usage) {
      usage = { rows: 0, bytes: 0 };
      if (portal) this.#portals.set(portal, usage);
    }
    const budget = new StatementBudget(limits, usage);
    statement.budget = budget;
    const timeout = limits.statementTimeoutMs;
    if (timeout) budget.timer = setTimeout(() => this.#timeUp(statement), timeout.value);
    if (!budget.fails) return false;
    this.#fence = statement;
    return true;
  }

  /**
   * A row (DataRow or CopyData) of the statement the server is answering, as it would go to the
   * agent: what goes instead (the row, a notice in its place, or nothing).
   */
  row(out: Buffer): Buffer | undefined {
    const statement = this.#statement();
    const budget = statement?.budget;
    if (!budget) return out;
    if (budget.hit) return undefined;
    const { maxRows, maxResultBytes, onLimit } = budget.limits;
    const over = maxRows && budget.usage.rows + 1 > maxRows.value ? { name: "max_rows" as const, ...maxRows } : maxResultBytes && budget.usage.bytes + out.length > maxResultBytes.value ? { name: "max_result_bytes" as const, ...maxResultBytes } : undefined;
    if (!over) {
      budget.usage.rows++;
      budget.usage.bytes += out.length;
      budget.rowsSent++;
      budget.resultRows++;
      return out;
    }
    budget.hit = { name: over.name, value: over.value, rule: over.rule, mode: onLimit };
    if (onLimit === "error") {
      this.#cancel(statement);
      return undefined;
    }
    const notice = truncationNotice(over.name, over.value, over.rule);
    return writeNoticeResponse({ severity: "NOTICE", code: "01000", message: notice.message, hint: notice.hint });
  }

  /** Any other message of the server: what the agent gets instead, or undefined for the message as it is. */
  message({ type, body, raw }: WireMessage): Buffer | undefined {
    const head = this.hooks.current();
    const statement = head && "statement" in head ? head.statement : undefined;
    const budget = statement?.budget;
    if (!budget?.hit) {
      if (budget && type === Backend.CommandComplete) budget.resultRows = 0;
      return undefined;
    }
    if (budget.hit.mode === "truncate") return type === Backend.CommandComplete ? this.#truncatedTag(budget, body) : undefined;
    switch (type) {
      case Backend.NoticeResponse:
      case Backend.ParameterStatus:
      case Backend.NotificationResponse:
        return undefined;
      case Backend.ErrorResponse:
        return this.#error(budget);
      case Backend.CommandComplete:
      case Backend.PortalSuspended:
        // The server completed it (its rows were on their way before the cancel): an Execute's group
        // fails here, before its Sync, so the group's work is undone; a Query waits for its ReadyForQuery.
        if (head!.kind !== "execute") return EMPTY;
        this.hooks.injectFailure("parse");
        return this.#error(budget);
      case Backend.ReadyForQuery: {
        const error = this.#error(budget);
        // Inside a transaction block the server still stands in it: aborted now, and the agent reads the failed message's `E`.
        if (body[0] !== TxStatus.InTransaction) return error.length > 0 ? Buffer.concat([error, raw]) : undefined;
        this.hooks.injectFailure("query");
        return error;
      }
      default:
        return EMPTY; // the rest of the result, and any later result of the same text
    }
  }

  /** Resolves once a cancel sent for a budget has reached the server (or at once when none is out). */
  settled(): Promise<void> {
    return this.#cancelled;
  }

  /** The statement is over (answered, or the session ended): its record says what its budget did. */
  finished(statement: PendingStatement): void {
    const budget = statement.budget;
    if (!budget) return;
    clearTimeout(budget.timer);
    if (this.#fence === statement) this.#fence = undefined;
    const hit = budget.hit;
    if (!hit) return;
    statement.limit = hit;
    statement.rows = budget.rowsSent;
    if (hit.mode === "truncate") {
      statement.errorMessage ??= truncationNotice(hit.name as "max_rows" | "max_result_bytes", hit.value, hit.rule).message;
      return;
    }
    if (statement.outcome === "refused") return;
    const refusal = refusals.limit(hit.name, hit.value, hit.rule);
    Object.assign(statement, { outcome: "error", errorCode: refusal.code, errorMessage: refusal.message });
  }

  #statement(): PendingStatement | undefined {
    const head = this.hooks.current();
    return head && "statement" in head ? head.statement : undefined;
  }

  /** statement_timeout: cancelled once the server is on it (earlier statements of a pipeline first). */
  #timeUp(statement: PendingStatement): void {
    const budget = statement.budget!;
    budget.timer = undefined;
    if (budget.hit || statement.outcome === "refused") return;
    const head = this.#statement();
    if (head !== statement) {
      // Still behind earlier answers (or already over): looked at again shortly.
      if (this.#fence === statement) budget.timer = setTimeout(() => this.#timeUp(statement), TIMEOUT_RECHECK_MS);
      return;
    }
    const timeout = budget.limits.statementTimeoutMs!;
    budget.hit = { name: "statement_timeout", value: timeout.value, rule: timeout.rule, mode: "error" };
    this.#cancel(statement);
  }

  #cancel(statement: PendingStatement): void {
    if (this.#fence !== statement) return; // nothing safe to cancel: only what is fenced is alone on the server
    this.#cancelling = true;
    this.#cancelled = this.hooks
      .cancelUpstream()
      .catch(() => undefined)
      .finally(() => {
        this.#cancelling = false;
        if (!this.fenced) this.hooks.unfenced();
      });
  }

  #error(budget: StatementBudget): Buffer {
    if (budget.errorSent) return EMPTY;
    budget.errorSent = true;
    return budget.errorBytes();
  }

  /** A truncated result's CommandComplete counts the rows the agent got (SELECT, FETCH, COPY); a write's tag keeps what it changed. */
  #truncatedTag(budget: StatementBudget, body: Buffer): Buffer | undefined {
    const tag = readCommandTag(body);
    const rows = budget.resultRows;
    budget.resultRows = 0;
    if (!/^(SELECT|FETCH|COPY|MOVE) \d+$/.test(tag) || rowsFromTag(tag) <= rows) return undefined;
    return writeCommandComplete(`${tag.slice(0, tag.lastIndexOf(" "))} ${rows}`);
  }
}

const EMPTY = Buffer.alloc(0);
