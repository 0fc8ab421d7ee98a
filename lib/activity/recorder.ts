import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { agentSessions, statements } from "../db/schema";
import type { EventBus } from "../events/bus";

export type SessionStart = typeof agentSessions.$inferInsert;
export type StatementRecord = typeof statements.$inferInsert;

interface SessionEnd {
  id: string;
  endedAt: Date;
  reason: string;
}

type Pending = { kind: "start"; row: SessionStart } | { kind: "statement"; row: StatementRecord } | { kind: "end"; row: SessionEnd };

export const FLUSH_INTERVAL_MS = 100;
/** Beyond this many unwritten records (the store is failing), the oldest are dropped, loudly. */
export const MAX_PENDING_RECORDS = 200_000;

/**
 * Records sessions and statements off the statement's path: callers only append to a list; a
 * timer writes the list in one transaction. A failed write keeps the batch for the next try.
 */
export class ActivityRecorder {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly bus?: EventBus,
  ) {}

  sessionStarted(row: SessionStart): void {
    this.#add({ kind: "start", row });
  }

  statement(row: StatementRecord): void {
    this.#add({ kind: "statement", row });
  }

  sessionEnded(id: string, reason: string): void {
    this.#add({ kind: "end", row: { id, endedAt: new Date(), reason } });
  }

  /** Writes everything pending now (also on shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    let counts: { sessions: number; statements: number };
    try {
      counts = this.db.transaction((tx) => write(tx as unknown as Db, batch));
    } catch (err) {
      console.error(`[activity] writing ${batch.length} records failed; keeping them for the next try:`, err);
      this.#pending = batch.concat(this.#pending);
      this.#trim();
      this.#schedule();
      return;
    }
    this.bus?.publish({ type: "activity.recorded", ...counts });
  }

  #add(item: Pending): void {
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

function write(db: Db, batch: Pending[]): { sessions: number; statements: number } {
  const rows: StatementRecord[] = [];
  let sessions = 0;
  // Keep order: a session's start is written before its statements and its end after them.
  const flushStatements = () => {
    for (let i = 0; i < rows.length; i += 500) db.insert(statements).values(rows.slice(i, i + 500)).run();
    rows.length = 0;
  };
  for (const item of batch) {
    if (item.kind === "statement") {
      rows.push(item.row);
      continue;
    }
    flushStatements();
    sessions++;
    if (item.kind === "start") db.insert(agentSessions).values(item.row).onConflictDoNothing().run();
    else db.update(agentSessions).set({ endedAt: item.row.endedAt, endReason: item.row.reason }).where(eq(agentSessions.id, item.row.id)).run();
  }
  const statementCount = batch.length - sessions;
  flushStatements();
  return { sessions, statements: statementCount };
}
