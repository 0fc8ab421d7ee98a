import type { EventBus } from "../events/bus";
import type { PolicyVerdict } from "../policy/evaluate";
import type { ActivityRecord, RecordedStatement, RecordWriter, SessionStart, WrittenCounts } from "./records";
import { boundText, type BoundedText } from "./statement-text";

export type { SessionStart } from "./records";

/** A statement as the proxy reports it; who ran it and how policy judged it go to the audit trail. */
export type StatementRecord = Omit<RecordedStatement, "tables" | "kinds" | "rule"> & {
  /** How policy saw it: the deciding rule, every statement's kinds and tables. */
  verdict?: PolicyVerdict;
};

/** Told what is recorded (metrics): each statement as it comes, each write of a batch. */
export interface RecorderObserver {
  statement(row: StatementRecord): void;
  /** A batch was written (`ok`) or kept for the next try; `lagMs`: how long its oldest record waited. */
  batch(records: number, lagMs: number, ok: boolean): void;
}

/** How long records wait to be written: what a crash may lose, and a batch's size under load. */
export const FLUSH_INTERVAL_MS = 20;
/** The longest wait between tries while the store fails: how soon after it is back the backlog is written. */
const RETRY_MAX_MS = 1_000;
/** While writes keep failing, one line about it this often. */
const FAILURE_LOG_EVERY_MS = 10_000;
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
 * timer hands the list to the writer (its own thread, in the proxy: lib/activity/thread-writer.ts),
 * one batch at a time. A failed write keeps the batch for the next try.
 */
export class ActivityRecorder {
  #pending: ActivityRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the oldest unwritten record arrived (performance.now()). */
  #oldestAt = 0;
  #observer: RecorderObserver | undefined;
  /** The write under way (or the last one): the next waits for it, so batches land in order. */
  #writing: Promise<void> = Promise.resolve();

  #dropped = 0;
  /** Records of the batch being written: unwritten too, until it commits. */
  #writingCount = 0;
  /** Writes failed in a row: the next try waits longer (up to RETRY_MAX_MS), and the log hears of them in summary. */
  #failures = 0;
  #failureLoggedAt = -Infinity;

  constructor(
    private readonly writer: RecordWriter,
    private readonly bus?: EventBus,
    private readonly maxPending = MAX_PENDING_RECORDS,
  ) {}

  /** So many records wait for the store that statements must be refused until it takes them. */
  get backlogged(): boolean {
    return this.#pending.length + this.#writingCount >= this.maxPending;
  }

  /**
   * The last write failed and none has succeeded since: the store does not take writes, though it
   * may still answer reads (SQLite on a full or read-only disk). Readiness reports it.
   */
  get failing(): boolean {
    return this.#failures > 0;
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
    this.#add({ kind: "statement", row: recordedStatement(row, bounded) });
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

  /** Writes what is pending, then lets the writer go. */
  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }

  async #writePending(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    const oldestAt = this.#oldestAt;
    this.#pending = [];
    this.#writingCount = batch.length;
    const lagMs = performance.now() - oldestAt;
    let counts: WrittenCounts;
    try {
      counts = await this.writer.write(batch);
    } catch (err) {
      this.#failures++;
      this.#observer?.batch(batch.length, lagMs, false);
      this.#logFailure(batch.length, err);
      this.#pending = batch.concat(this.#pending);
      this.#oldestAt = oldestAt;
      this.#writingCount = 0;
      this.#schedule();
      return;
    }
    this.#writingCount = 0;
    if (this.#failures > 0) console.error(`[activity] the store takes writes again (writes failed ${this.#failures}× in a row)`);
    this.#failures = 0;
    this.#observer?.batch(batch.length, lagMs, true);
    this.bus?.publish({ type: "activity.recorded", ...counts });
  }

  #add(item: ActivityRecord): void {
    if (this.#pending.length + this.#writingCount >= this.maxPending * (1 + REFUSED_HEADROOM)) return this.#drop();
    if (this.#pending.length === 0) this.#oldestAt = performance.now();
    this.#pending.push(item);
    this.#schedule();
  }

  #schedule(): void {
    // While the store fails, tries back off (20 ms doubling, at most RETRY_MAX_MS): statements keep arriving, the tries must not follow them.
    const delay = this.#failures === 0 ? FLUSH_INTERVAL_MS : Math.min(FLUSH_INTERVAL_MS * 2 ** this.#failures, RETRY_MAX_MS);
    this.#timer ??= setTimeout(() => void this.flush(), delay);
    this.#timer.unref?.();
  }

  #logFailure(records: number, err: unknown): void {
    const now = performance.now();
    if (now - this.#failureLoggedAt < FAILURE_LOG_EVERY_MS) return;
    this.#failureLoggedAt = now;
    console.error(`[activity] writing ${records} records failed (${this.#failures} in a row); keeping them for the next try:`, err);
  }

  #drop(): void {
    // Logged at the first and every 10,000th, not per record: a long outage must not flood the log.
    if (this.#dropped++ % 10_000 === 0) console.error(`[activity] store unavailable and ${this.#pending.length} records waiting: dropping new ones (statements are refused meanwhile; ${this.#dropped} dropped so far)`);
  }
}

/** What the audit row keeps of a statement's verdict: its tables and kinds, once each, and the deciding rule. */
function recordedStatement(row: StatementRecord, bounded: BoundedText): RecordedStatement {
  const { verdict } = row;
  const judged = verdict?.statements ?? [];
  // Every field named, in one literal of one shape (made per statement; copying `row` generically costs more): the
  // type lists each key of RecordedStatement as required, so a field added to it cannot be left out here.
  const recorded: { [K in keyof Required<RecordedStatement>]: RecordedStatement[K] } = {
    id: row.id,
    sessionId: row.sessionId,
    text: bounded.text,
    textBytes: bounded.bytes,
    textSha256: bounded.sha256,
    params: row.params,
    protocol: row.protocol,
    outcome: row.outcome,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    rows: row.rows,
    durationMs: row.durationMs,
    startedAt: row.startedAt,
    requestId: row.requestId,
    grantId: row.grantId,
    masked: row.masked,
    agentId: row.agentId,
    resource: row.resource,
    tables: tablesOf(judged),
    kinds: judged.length === 1 ? kindsOf(judged[0].statement.kinds) : unique(judged.flatMap((s) => s.statement.kinds)),
    rule: verdict?.rule?.name,
    limit: row.limit,
  };
  return recorded;
}

/** One statement's kinds, once each: as they are when they repeat none (the usual case), without a set. */
function kindsOf(kinds: string[]): string[] {
  return kinds.length <= 1 || new Set(kinds).size === kinds.length ? kinds : unique(kinds);
}

/** Every table read or written, sorted, once each; the common case (one statement, one table read) without sets or sorting. */
function tablesOf(judged: PolicyVerdict["statements"]): string[] {
  if (judged.length === 1) {
    const { reads, writes } = judged[0].statement;
    if (writes.length === 0 && reads.length <= 1) return reads;
  }
  return unique(judged.flatMap((s) => [...s.statement.reads, ...s.statement.writes])).sort();
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
