import type { AuditEntry, AuditLog } from "../audit/log";
import type { SqlValue, Store, Transaction } from "../db/client";
import { multiRowInsert } from "../db/insert-rows";
import type { agentSessions, statements } from "../db/schema";
import type { EventBus } from "../events/bus";
import type { PolicyVerdict } from "../policy/evaluate";
import { boundText, type BoundedText } from "./statement-text";

export type SessionStart = typeof agentSessions.$inferInsert & { startedAt: Date };
/** A statement as recorded; who ran it and how policy judged it go to the audit trail. */
export type StatementRecord = typeof statements.$inferInsert & {
  startedAt: Date;
  agentId?: string;
  resource?: string;
  /** How policy saw it: the deciding rule, every statement's kinds and tables. */
  verdict?: PolicyVerdict;
};

interface SessionEnd {
  id: string;
  endedAt: Date;
  reason: string;
  agentId?: string;
  resource?: string;
}

/** Told what is recorded (metrics): each statement as it comes, each write of a batch. */
export interface RecorderObserver {
  statement(row: StatementRecord): void;
  /** A batch was written (`ok`) or kept for the next try; `lagMs`: how long its oldest record waited. */
  batch(records: number, lagMs: number, ok: boolean): void;
}

type Pending = { kind: "start"; row: SessionStart } | { kind: "statement"; row: StatementRecord } | { kind: "end"; row: SessionEnd };

/**
 * How long records wait to be written. Short: on SQLite the write (with the audit rows' hashes)
 * blocks the event loop, and small batches keep each pause small; it is also what a crash may lose.
 */
export const FLUSH_INTERVAL_MS = 20;
/**
 * Unwritten records (the store failing) up to which statements run; at this many the proxy refuses
 * them (see `backlogged`), so nothing runs that the audit trail could not keep.
 */
export const MAX_PENDING_RECORDS = 200_000;
/**
 * Refused statements and session ends are still recorded past MAX_PENDING_RECORDS, up to this
 * much more; beyond it they are dropped, loudly — never what was recorded before (statements that ran).
 */
const REFUSED_HEADROOM = 0.25;

/**
 * Records sessions and statements off the statement's path: callers only append to a list; a
 * timer writes the list in one transaction, one write at a time. A failed write keeps the batch
 * for the next try.
 */
export class ActivityRecorder {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the oldest unwritten record arrived (performance.now()). */
  #oldestAt = 0;
  #observer: RecorderObserver | undefined;
  /** The write under way (or the last one): the next waits for it, so batches land in order. */
  #writing: Promise<void> = Promise.resolve();

  #dropped = 0;
  /** Records of the batch being written: unwritten too, until it commits. */
  #writingCount = 0;

  constructor(
    private readonly store: Store,
    private readonly bus?: EventBus,
    private readonly audit?: AuditLog,
    private readonly maxPending = MAX_PENDING_RECORDS,
  ) {}

  /** So many records wait for the store that statements must be refused until it takes them. */
  get backlogged(): boolean {
    return this.#pending.length + this.#writingCount >= this.maxPending;
  }

  observe(observer: RecorderObserver): void {
    this.#observer = observer;
  }

  sessionStarted(row: SessionStart): void {
    this.#add({ kind: "start", row });
  }

  /**
   * The text is cut to its prefix here, so a huge statement is not kept until the write either;
   * the text as stored is returned, for showing it elsewhere without hashing it again.
   */
  statement(row: StatementRecord): BoundedText {
    const bounded = boundText(row.text);
    this.#observer?.statement(row);
    this.#add({ kind: "statement", row: { ...row, text: bounded.text, textBytes: bounded.bytes, textSha256: bounded.sha256 } });
    return bounded;
  }

  sessionEnded(id: string, reason: string, who: { agentId?: string; resource?: string } = {}): void {
    this.#add({ kind: "end", row: { id, endedAt: new Date(), reason, ...who } });
  }

  /** Writes everything pending now (also on shutdown), after the write under way; resolves once written or kept for the next try. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Never rejected: one failure (an observer's, a listener's) must not stop every later write.
    this.#writing = this.#writing.then(() => this.#writePending()).catch((err: unknown) => console.error("[activity] after a write:", err));
    return this.#writing;
  }

  async #writePending(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    const oldestAt = this.#oldestAt;
    this.#pending = [];
    this.#writingCount = batch.length;
    const lagMs = performance.now() - oldestAt;
    let counts: { sessions: number; statements: number };
    try {
      counts = await this.store.transaction((tx) => writeBatch(tx, batch, this.audit));
    } catch (err) {
      this.#observer?.batch(batch.length, lagMs, false);
      console.error(`[activity] writing ${batch.length} records failed; keeping them for the next try:`, err);
      this.#pending = batch.concat(this.#pending);
      this.#oldestAt = oldestAt;
      this.#writingCount = 0;
      this.#schedule();
      return;
    }
    this.#writingCount = 0;
    this.#observer?.batch(batch.length, lagMs, true);
    this.bus?.publish({ type: "activity.recorded", ...counts });
  }

  #add(item: Pending): void {
    if (this.#pending.length + this.#writingCount >= this.maxPending * (1 + REFUSED_HEADROOM)) return this.#drop();
    if (this.#pending.length === 0) this.#oldestAt = performance.now();
    this.#pending.push(item);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.#timer.unref?.();
  }

  #drop(): void {
    // Logged at the first and every 10,000th, not per record: a long outage must not flood the log.
    if (this.#dropped++ % 10_000 === 0) console.error(`[activity] store unavailable and ${this.#pending.length} records waiting: dropping new ones (statements are refused meanwhile; ${this.#dropped} dropped so far)`);
  }
}

const insertStatements = multiRowInsert("statements", [
  "session_id", "text", "text_bytes", "text_sha256", "params", "protocol", "outcome", "error_code", "error_message", "rows", "duration_ms", "started_at", "request_id", "grant_id", "masked",
]);
const insertSessions = multiRowInsert("agent_sessions", ["id", "agent_id", "groups", "resource", "client_address", "application_name", "started_at"], "on conflict do nothing");
const END_SESSION = "update agent_sessions set ended_at = ?, end_reason = ? where id = ?";

/**
 * Plain SQL rather than the query builder, rows many to a statement: a batch of a few thousand
 * records is written in about a millisecond on SQLite instead of blocking the event loop for tens,
 * and in a few round trips on PostgreSQL. The batch's audit rows go last in the same transaction
 * (the chain stays locked from there to the commit): a statement is in both records or in neither.
 */
async function writeBatch(tx: Transaction, batch: Pending[], audit?: AuditLog): Promise<{ sessions: number; statements: number }> {
  const statementRows: SqlValue[][] = [];
  const starts: SqlValue[][] = [];
  const ends: SessionEnd[] = [];
  for (const { kind, row } of batch) {
    if (kind === "statement") {
      statementRows.push([
        row.sessionId, row.text, row.textBytes ?? null, row.textSha256 ?? null, row.params ? JSON.stringify(row.params) : null, row.protocol, row.outcome,
        row.errorCode ?? null, row.errorMessage ?? null, row.rows ?? 0, row.durationMs, row.startedAt.getTime(),
        row.requestId ?? null, row.grantId ?? null, row.masked ? JSON.stringify(row.masked) : null,
      ]);
    } else if (kind === "start") {
      starts.push([row.id, row.agentId, JSON.stringify(row.groups), row.resource, row.clientAddress ?? null, row.applicationName ?? null, row.startedAt.getTime()]);
    } else ends.push(row);
  }
  await insertStatements(tx.sql, statementRows);
  // Starts before ends: a session that began and ended within the batch is ended once it exists.
  await insertSessions(tx.sql, starts);
  for (const end of ends) await tx.sql.run(END_SESSION, [end.endedAt.getTime(), end.reason, end.id]);
  await audit?.appendWithin(tx, batch.map(auditEntry));
  return { sessions: starts.length + ends.length, statements: statementRows.length };
}

/** How the audit trail tells a statement's fate: refused, held for people, masked, or allowed. */
function statementDecision(row: StatementRecord): string {
  if (row.outcome === "refused") return "refused";
  if (row.requestId) return "held";
  return row.masked ? "masked" : "allowed";
}

function auditEntry({ kind, row }: Pending): AuditEntry {
  switch (kind) {
    case "start":
      return {
        at: row.startedAt,
        type: "session.started",
        agentId: row.agentId,
        resource: row.resource,
        sessionId: row.id,
        data: { groups: row.groups, clientAddress: row.clientAddress, applicationName: row.applicationName },
      };
    case "end":
      return { at: row.endedAt, type: "session.ended", agentId: row.agentId, resource: row.resource, sessionId: row.id, data: { reason: row.reason } };
    case "statement":
      return {
        at: row.startedAt,
        type: "statement",
        agentId: row.agentId,
        resource: row.resource,
        sessionId: row.sessionId,
        requestId: row.requestId,
        grantId: row.grantId,
        decision: statementDecision(row),
        sql: row.text,
        tables: unique(row.verdict?.statements.flatMap((s) => [...s.statement.reads, ...s.statement.writes])).sort(),
        data: {
          // `sql` is the stored prefix: the whole statement's length and hash go with it.
          sqlFull: row.textSha256 ? { bytes: row.textBytes, sha256: row.textSha256 } : undefined,
          params: row.params,
          protocol: row.protocol,
          kinds: unique(row.verdict?.statements.flatMap((s) => s.statement.kinds)),
          rule: row.verdict?.rule?.name,
          outcome: row.outcome,
          rows: row.rows,
          masked: row.masked,
          durationMs: Math.round(row.durationMs * 1000) / 1000,
          error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : undefined,
        },
      };
  }
}

function unique<T>(items: T[] | undefined): T[] {
  return [...new Set(items ?? [])];
}
