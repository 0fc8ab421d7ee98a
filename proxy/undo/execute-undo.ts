import { randomBytes } from "node:crypto";
import { exactCapture, whyNotRestorable, type Capture } from "../../lib/approvals/undo/exact";
import { captureSql, tableName, undoPlan, type UndoPlan } from "../../lib/approvals/undo/plan";
import type { UndoTarget } from "../../lib/approvals/undo/types";
import type { WireMessage } from "../protocol/message-buffer";
import { Backend, Frontend, TxStatus } from "../protocol/message-codes";
import { readCommandTag, readFields, rowsFromTag } from "../protocol/reader";
import { writeBind, writeClosePortal, writeCloseStatement, writeDescribeStatement, writeErrorResponse, writeExecute, writeParse } from "../protocol/writer";
import type { PendingStatement } from "../response-tracker";
import { firstColumn, remainingSql, type RowLimitHooks, type RowLimitRun } from "../row-limit";
import { SqlState } from "../wire-error";

/**
 * Undo for an approved write sent through the extended protocol (Parse/Bind/Execute with bound
 * parameters), in autocommit (a group begun inside the agent's transaction block runs as it came). In the extended protocol every message up to the agent's Sync runs
 * in one implicit transaction, so the capture runs as Airlock's own Parse/Bind/Execute inside
 * the agent's group, just before and just after the agent's Execute, and shares its transaction
 * and its locks:
 * - before: the statement's parameter types (Describe of the agent's prepared statement), the
 *   table (catalog), that nothing has written in the transaction yet (no transaction id) and the
 *   agent may read and lock the table; for UPDATE and DELETE the rows its WHERE selects, locked
 *   `FOR UPDATE`, bound with the agent's own values in its own format codes and types;
 * - the agent's Execute (its command tag waits for the capture after it);
 * - after: the rows the transaction wrote (xmin), or for a DELETE that none captured remain;
 * - the capture is kept only if exact (exact.ts) and the group then commits with this statement
 *   its only one: no other statement completes or fails before the agent's Sync, whose
 *   ReadyForQuery is idle. Otherwise the request says there is no undo, and why.
 * Airlock's messages use names of their own and are closed again; none of their answers reaches
 * the agent. A capture query that fails has aborted the group before the agent's statement ran
 * (or before it could commit): the agent's Execute is then answered with an error naming why, as
 * any failed statement is, and nothing of the group stays.
 */
export interface BoundUndo {
  plan: UndoPlan;
  captured(capture: Capture): void;
  /** The prepared statement the portal was bound from (its parameter types are the capture's), and what the name meant then. */
  statementName: string;
  prepared: object;
  params: ReadonlyArray<Buffer | null>;
  formats: readonly number[];
}

/** What the run needs of the relay: the row limit's hooks, and `release` to let the agent's next messages go. */
export type ExecuteUndoHooks = RowLimitHooks & {
  release(): void;
  fail(err: unknown): void;
  /** The server's last ReadyForQuery status: once all before the Execute is answered, the status its group began in. */
  status(): number;
};

const FLUSH = Buffer.from([Frontend.Flush, 0, 0, 0, 4]);
/** Messages that end one of Airlock's requests: a Parse, Bind, Execute, Close or Describe answered. */
const ENDS = new Set<number>([Backend.ParseComplete, Backend.BindComplete, Backend.CommandComplete, Backend.CloseComplete, Backend.NoData, Backend.RowDescription, Backend.EmptyQueryResponse]);
/** Messages that end a statement: after the agent's, another statement of its group ran. */
const STATEMENT_ENDS = new Set<number>([Backend.CommandComplete, Backend.ErrorResponse, Backend.EmptyQueryResponse, Backend.PortalSuspended, Backend.CopyInResponse, Backend.CopyOutResponse]);

interface Answer {
  rows: string[];
  types: number[];
  error?: WireMessage;
}

export class ExecuteUndo implements RowLimitRun {
  /** Takes the server's answers to Airlock's own messages, and the agent's Execute's. */
  #taker: ((message: WireMessage) => void) | undefined;
  /** Waiting for the answers to what the agent sent before the Execute: told of each one passed. */
  #earlier: ((message: WireMessage) => void) | undefined;
  /** After the agent's statement: watching its group to the Sync. */
  #watch: { capture: Capture; other: boolean } | undefined;
  readonly #name = `airlock_undo_${randomBytes(6).toString("hex")}`;

  constructor(
    private readonly statement: PendingStatement,
    private readonly execute: Buffer,
    private readonly undo: BoundUndo,
    private readonly hooks: ExecuteUndoHooks,
  ) {
    this.#run().catch((err: unknown) => hooks.fail(err));
  }

  onServerMessage(message: WireMessage): void {
    if (this.#watch) return this.#watched(message);
    if (this.#taker && this.hooks.answering()) return this.#taker(message);
    this.hooks.pass(message);
    this.#earlier?.(message);
  }

  async #run(): Promise<void> {
    if (!(await this.#earlierAnswered())) {
      // What came before it failed: the server skips the rest of the group, this Execute too.
      return this.#without("the statement's group failed before it ran");
    }
    // In the agent's transaction block the commit is the agent's: nothing of Airlock's runs in it.
    if (this.hooks.status() !== TxStatus.Idle) return this.#without("it ran inside the agent's own transaction, whose commit is the agent's");
    const { plan } = this.undo;
    const described = await this.#hidden(Buffer.concat([writeDescribeStatement(this.undo.statementName), FLUSH]), 1);
    if (described.error) return this.#failed(described.error);
    const target = await this.#query(captureSql.target(plan));
    if (target.error) return this.#failed(target.error);
    const found = target.rows[0] ? (JSON.parse(target.rows[0]) as UndoTarget & Record<string, unknown>) : undefined;
    const why = found ? whyNotRestorable(found) : "the table could not be read from the catalog";
    if (why) return this.#without(why);
    const table = `'${tableName(plan).replaceAll("'", "''")}'`;
    const state = await this.#query(`SELECT (pg_current_xact_id_if_assigned() IS NULL)::text || ' ' || (has_table_privilege(${table}, 'SELECT') AND has_any_column_privilege(${table}, 'UPDATE'))::text`);
    if (state.error) return this.#failed(state.error);
    const [fresh, readable] = (state.rows[0] ?? "").split(" ");
    if (fresh !== "true") return this.#without("another statement of its transaction wrote before it (an agent's transaction, or its group)");
    if (readable !== "true") return this.#without("the agent may not read and lock the table's rows, which the capture does");
    const { table: name, name: shown, key, columns } = found!;
    const tableOf: UndoTarget = { table: name, name: shown, key, columns };
    let before: Record<string, unknown>[] = [];
    if (plan.kind !== "insert") {
      const rows = await this.#query(captureSql.before(plan), described.types);
      if (rows.error) return this.#failed(rows.error);
      before = rows.rows.map((r) => JSON.parse(r) as Record<string, unknown>);
    }
    const ran = await this.#agents();
    if (!ran.tag) {
      // It failed by itself (its error went to the agent): the group is the agent's to end.
      this.undo.captured({ unavailable: "the statement failed" });
      return this.#done();
    }
    const changed = rowsFromTag(readCommandTag(ran.tag.body));
    let capture: Capture;
    if (plan.kind === "delete") {
      const remaining = await this.#query(remainingSql(plan, tableOf, before));
      if (remaining.error) return this.#failed(remaining.error, true);
      capture = exactCapture("delete", tableOf, changed, before, [], Number(remaining.rows[0] ?? -1));
    } else {
      const after = await this.#query(captureSql.after(plan));
      if (after.error) return this.#failed(after.error, true);
      capture = exactCapture(plan.kind, tableOf, changed, before, after.rows.map((r) => JSON.parse(r) as Record<string, unknown>));
    }
    this.#watch = { capture, other: false };
    this.hooks.pass(ran.tag);
    this.hooks.release();
  }

  /** Resolves once every answer owed for the agent's messages before the Execute has passed (false: one failed). */
  #earlierAnswered(): Promise<boolean> {
    if (this.hooks.answering()) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#earlier = (m) => {
        if (m.type === Backend.ErrorResponse) resolve(false);
        else if (this.hooks.answering()) resolve(true);
        else return;
        this.#earlier = undefined;
      };
      this.hooks.send(FLUSH);
    });
  }

  /** Sends Airlock's own messages; resolves after `ends` answers, or at an error (the group is then aborted). */
  #hidden(bytes: Buffer, ends: number): Promise<Answer> {
    return new Promise((resolve) => {
      const answer: Answer = { rows: [], types: [] };
      let left = ends;
      this.#taker = (m) => {
        if (m.type === Backend.DataRow) answer.rows.push(firstColumn(m.body));
        else if (m.type === Backend.ParameterDescription) answer.types = parameterTypes(m.body);
        else if (m.type === Backend.ErrorResponse) answer.error = m;
        if (answer.error || (ENDS.has(m.type) && --left === 0)) {
          this.#taker = undefined;
          resolve(answer);
        }
      };
      this.hooks.send(bytes);
    });
  }

  /** One query of Airlock's (one text column), bound with the agent's values when given their types. */
  #query(sql: string, types?: number[]): Promise<Answer> {
    const params = types ? this.undo.params : [];
    const formats = types ? this.undo.formats : [];
    const bytes = Buffer.concat([writeParse(this.#name, sql, types ?? []), writeBind(this.#name, this.#name, params, formats), writeExecute(this.#name), writeClosePortal(this.#name), writeCloseStatement(this.#name), FLUSH]);
    return this.#hidden(bytes, 5);
  }

  /** The agent's Execute: its rows go on; its command tag waits for the capture after it. */
  #agents(): Promise<{ tag?: WireMessage }> {
    return new Promise((resolve) => {
      this.#taker = (m) => {
        if (m.type === Backend.CommandComplete) {
          this.#taker = undefined;
          return resolve({ tag: m });
        }
        this.hooks.pass(m);
        if (m.type === Backend.ErrorResponse || m.type === Backend.PortalSuspended || m.type === Backend.EmptyQueryResponse) {
          this.#taker = undefined;
          resolve({});
        }
      };
      this.hooks.send(Buffer.concat([this.execute, FLUSH]));
    });
  }

  /** No undo: the agent's Execute runs as it came. */
  #without(why: string): void {
    this.undo.captured({ unavailable: why });
    this.#taker = undefined;
    this.hooks.send(this.execute);
    this.#done();
  }

  /**
   * A query of Airlock's failed, so the group is aborted: the agent's statement did not run, or
   * ran and will not commit. Its Execute is answered with an error saying so.
   */
  #failed(error: WireMessage, ran = false): void {
    const why = readFields(error.body).get("M") ?? "an error";
    const message = `airlock: request ${this.statement.requestId ?? ""} was approved with undo, but capturing its rows failed (${why}); the statement ${ran ? "was rolled back" : "did not run"}`;
    Object.assign(this.statement, { outcome: "refused", errorCode: SqlState.InsufficientPrivilege, errorMessage: message });
    this.statement.refusal = writeErrorResponse({ severity: "ERROR", code: SqlState.InsufficientPrivilege, message });
    this.undo.captured({ unavailable: `the capture failed (${why})` });
    // The server's error answers the agent's Execute (the relay puts the refusal in its place).
    this.hooks.pass(error);
    this.#done();
  }

  /** After the agent's statement, to its group's end: kept only if it committed alone. */
  #watched(message: WireMessage): void {
    const watch = this.#watch!;
    if (STATEMENT_ENDS.has(message.type)) watch.other = true;
    this.hooks.pass(message);
    if (message.type !== Backend.ReadyForQuery) return;
    if (watch.other || message.body[0] !== TxStatus.Idle) {
      this.undo.captured({ unavailable: watch.other ? "another statement ran in its extended-protocol group (before its Sync)" : "it ran inside the agent's own transaction, whose commit is the agent's" });
    } else this.undo.captured(watch.capture);
    this.#watch = undefined;
    this.hooks.done();
  }

  #done(): void {
    this.hooks.release();
    this.hooks.done();
  }
}

/**
 * At an approved Bind: what its Execute will capture with, or undefined once the request is told
 * why there is no undo (the same reasons as a simple Query's, lib/approvals/undo/plan.ts).
 */
export function boundUndo(
  undo: Pick<BoundUndo, "captured">,
  prepared: { text: string; sent?: string },
  bind: { statement: string; params: ReadonlyArray<Buffer | null>; paramFormats: readonly number[] },
  maxRows: number | undefined,
): BoundUndo | undefined {
  const plan = prepared.sent !== undefined ? { unavailable: "row filters rewrote the statement" } : maxRows !== undefined ? { unavailable: "through the extended protocol, a write approved with a row limit is not captured for undo" } : undoPlan(prepared.text, { bound: true });
  if ("unavailable" in plan) {
    undo.captured(plan);
    return undefined;
  }
  // Copies: the Bind's values are views of the agent's bytes, kept here until its Execute.
  return { plan, captured: undo.captured, statementName: bind.statement, prepared, params: bind.params.map((p) => p && Buffer.from(p)), formats: [...bind.paramFormats] };
}

/** An Execute message's row count (0: to the end). */
export function executeRowCount(raw: Buffer): number {
  const end = raw.indexOf(0, 5);
  return raw.readInt32BE(end + 1);
}

/** ParameterDescription: the parameters' type OIDs. */
function parameterTypes(body: Buffer): number[] {
  const count = body.readInt16BE(0);
  return Array.from({ length: count }, (_, i) => body.readUInt32BE(2 + 4 * i));
}
