import type { Db } from "../db/client";
import { agentSessions, statements } from "../db/schema";
import type { AuditEntry, AuditLog } from "../audit/log";
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
 * How long records wait to be written. Short: the write (with the audit row's hash) blocks the
 * event loop, and small batches keep each pause small; it is also what a crash may lose.
 */
export const FLUSH_INTERVAL_MS = 20;
/** Beyond this many unwritten records (the store is failing), the oldest are dropped, loudly. */
export const MAX_PENDING_RECORDS = 200_000;

/**
 * Records sessions and statements off the statement's path: callers only append to a list; a
 * timer writes the list in one transaction. A failed write keeps the batch for the next try.
 */
export class ActivityRecorder {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the oldest unwritten record arrived (performance.now()). */
  #oldestAt = 0;
  #observer: RecorderObserver | undefined;
  readonly #write: (batch: Pending[]) => { sessions: number; statements: number };

  constructor(
    db: Db,
    private readonly bus?: EventBus,
    audit?: AuditLog,
  ) {
    this.#write = prepare(db, audit);
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

  /** Writes everything pending now (also on shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const lagMs = performance.now() - this.#oldestAt;
    let counts: { sessions: number; statements: number };
    try {
      counts = this.#write(batch);
      this.#observer?.batch(batch.length, lagMs, true);
    } catch (err) {
      this.#observer?.batch(batch.length, lagMs, false);
      console.error(`[activity] writing ${batch.length} records failed; keeping them for the next try:`, err);
      this.#pending = batch.concat(this.#pending);
      this.#trim();
      this.#schedule();
      return;
    }
    this.bus?.publish({ type: "activity.recorded", ...counts });
  }

  #add(item: Pending): void {
    if (this.#pending.length === 0) this.#oldestAt = performance.now();
    this.#pending.push(item);
    this.#trim();
    this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    this.#timer.unref?.();
  }

  #trim(): void {
    const excess = this.#pending.length - MAX_PENDING_RECORDS;
    if (excess > 0) {
      console.error(`[activity] store unavailable: dropping the ${excess} oldest unwritten records`);
      this.#pending.splice(0, excess);
    }
  }
}

/**
 * Plain prepared statements rather than the query builder: a batch of a few thousand rows is
 * written in about a millisecond instead of blocking the event loop for tens. The batch's audit
 * rows go in the same transaction: a statement is in both records or in neither.
 */
function prepare(db: Db, audit?: AuditLog) {
  const sqlite = db.$client;
  const insertStatement = sqlite.prepare(
    `insert into statements (session_id, text, text_bytes, text_sha256, params, protocol, outcome, error_code, error_message, rows, duration_ms, started_at, request_id, grant_id, masked)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertSession = sqlite.prepare(
    `insert into agent_sessions (id, agent_id, groups, resource, client_address, application_name, started_at)
     values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
  );
  const endSession = sqlite.prepare("update agent_sessions set ended_at = ?, end_reason = ? where id = ?");
  return sqlite.transaction((batch: Pending[]) => {
    let sessions = 0;
    for (const { kind, row } of batch) {
      if (kind === "statement") {
        insertStatement.run(
          row.sessionId, row.text, row.textBytes ?? null, row.textSha256 ?? null, row.params ? JSON.stringify(row.params) : null, row.protocol, row.outcome,
          row.errorCode ?? null, row.errorMessage ?? null, row.rows ?? 0, row.durationMs, row.startedAt.getTime(),
          row.requestId ?? null, row.grantId ?? null, row.masked ? JSON.stringify(row.masked) : null,
        );
        continue;
      }
      sessions++;
      if (kind === "start") {
        insertSession.run(row.id, row.agentId, JSON.stringify(row.groups), row.resource, row.clientAddress ?? null, row.applicationName ?? null, row.startedAt.getTime());
      } else endSession.run(row.endedAt.getTime(), row.reason, row.id);
    }
    audit?.appendWithin(batch.map(auditEntry));
    return { sessions, statements: batch.length - sessions };
  });
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
