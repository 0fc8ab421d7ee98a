import { isBreakGlass } from "../access/break-glass-id";
import type { AuditEntry, AuditLog } from "../audit/log";
import type { SqlValue, Store, Transaction } from "../db/client";
import { multiRowInsert } from "../db/insert-rows";
import type { agentSessions, statements } from "../db/schema";

export type SessionStart = typeof agentSessions.$inferInsert & { startedAt: Date };

/**
 * A statement as it is written: the policy's verdict reduced to what the audit row keeps, so a
 * record is plain data that crosses to the writer's thread as it is.
 */
export type RecordedStatement = typeof statements.$inferInsert & {
  startedAt: Date;
  agentId?: string;
  resource?: string;
  /** Every table the statement reads or writes, sorted, once each. */
  tables: string[];
  kinds: string[];
  /** The deciding rule's name. */
  rule?: string;
  /** A budget it ran into (`limits:` of a rule): kept in the audit row; the statement row has its error or notice text. */
  limit?: { name: string; value: number; rule: string; mode: "error" | "truncate" };
};

export interface SessionEnd {
  id: string;
  endedAt: Date;
  reason: string;
  agentId?: string;
  resource?: string;
}

export type ActivityRecord = { kind: "start"; row: SessionStart } | { kind: "statement"; row: RecordedStatement } | { kind: "end"; row: SessionEnd };

export interface WrittenCounts {
  sessions: number;
  statements: number;
}

/** Writes a batch of records, with their audit rows, in one transaction: all of it or nothing. */
export interface RecordWriter {
  write(records: readonly ActivityRecord[]): Promise<WrittenCounts>;
  close(): Promise<void>;
}

/** Writes on the store it is given, on the caller's thread. */
export class StoreWriter implements RecordWriter {
  constructor(
    private readonly store: Store,
    private readonly audit?: AuditLog,
  ) {}

  write(records: readonly ActivityRecord[]): Promise<WrittenCounts> {
    return this.store.transaction((tx) => writeRecords(tx, records, this.audit));
  }

  async close(): Promise<void> {}
}

const insertStatements = multiRowInsert("statements", [
  "session_id", "text", "text_bytes", "text_sha256", "params", "protocol", "outcome", "error_code", "error_message", "rows", "duration_ms", "started_at", "request_id", "grant_id", "masked",
]);
const insertSessions = multiRowInsert("agent_sessions", ["id", "agent_id", "groups", "resource", "client_address", "application_name", "started_at"], "on conflict do nothing");
const END_SESSION = "update agent_sessions set ended_at = ?, end_reason = ? where id = ?";

/**
 * Plain SQL rather than the query builder, rows many to a statement: a batch of a few thousand
 * records is written in about a millisecond on SQLite instead of tens, and in a few round trips
 * on PostgreSQL. The batch's audit rows go last in the same transaction (the chain stays locked
 * from there to the commit): a statement is in both records or in neither.
 */
async function writeRecords(tx: Transaction, records: readonly ActivityRecord[], audit?: AuditLog): Promise<WrittenCounts> {
  const statementRows: SqlValue[][] = [];
  const starts: SqlValue[][] = [];
  const ends: SessionEnd[] = [];
  for (const { kind, row } of records) {
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
  await audit?.appendWithin(tx, records.map(auditEntry));
  return { sessions: starts.length + ends.length, statements: statementRows.length };
}

/** How the audit trail tells a statement's fate: refused, held for people, masked, or allowed. */
function statementDecision(row: RecordedStatement): string {
  if (row.outcome === "refused") return "refused";
  if (row.requestId) return "held";
  return row.masked ? "masked" : "allowed";
}

function auditEntry({ kind, row }: ActivityRecord): AuditEntry {
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
        tables: row.tables,
        data: {
          // `sql` is the stored prefix: the whole statement's length and hash go with it.
          sqlFull: row.textSha256 ? { bytes: row.textBytes, sha256: row.textSha256 } : undefined,
          params: row.params,
          protocol: row.protocol,
          kinds: row.kinds,
          rule: row.rule,
          // Run under emergency access, taken without approval: flagged for whoever reads the trail.
          breakGlass: isBreakGlass(row.grantId) || undefined,
          outcome: row.outcome,
          rows: row.rows,
          masked: row.masked,
          durationMs: Math.round(row.durationMs * 1000) / 1000,
          error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : undefined,
          limit: row.limit,
        },
      };
  }
}
