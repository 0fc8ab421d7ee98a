import { loadSqlParser } from "../../lib/sql/parser";
import { SYNC, writeQuery } from "../protocol/writer";
import { PgWireError, SqlState } from "../wire-error";
import { PgliteEngine, ownedBytes } from "./pglite-engine";
import { CAPTURE_BATCH, readCapture, restoreBatch, type Capture, type SessionState } from "./pglite-handover";
import { PgliteSession, type EngineTurns } from "./pglite-session";
import { forwardedParams, type Upstream } from "./upstream";

export interface PgliteHostOptions {
  /** How long a session may keep the engine while idle in a transaction (or pinned) before it is ended. */
  idleInTransactionTimeoutMs: number;
}

/**
 * One embedded PGlite database shared by every agent session on it. PGlite is a single backend
 * session, so sessions take turns: a session inside a transaction (or an unfinished
 * extended-protocol batch) keeps the engine until it is idle again, bounded by the
 * idle-in-transaction timeout; the others queue. When the engine passes to another session, the
 * one leaving is captured and the engine reset and given the next one's state (pglite-handover.ts),
 * so no session sees or uses another's statements, settings or LISTENs.
 */
export class PgliteHost implements EngineTurns {
  readonly ready: Promise<void>;
  #engine: PgliteEngine;
  readonly #dataDir: string;
  readonly #name: string;
  readonly #options: PgliteHostOptions;
  /** Every open session, to end them all if the engine stops under them. */
  readonly #sessions = new Set<PgliteSession>();
  /** The session whose turn it is: only its bytes go to the engine. */
  #owner: PgliteSession | undefined;
  /** The session whose state is on the engine; if it has gone, the engine only needs a reset. */
  #loaded: PgliteSession | undefined;
  /** A change of hands is being prepared (the leaving session is being captured). */
  #switching = false;
  readonly #waiting: PgliteSession[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(dataDir: string, name: string, options: PgliteHostOptions) {
    this.#dataDir = dataDir;
    this.#name = name;
    this.#engine = this.#startEngine();
    this.#options = options;
    // The parser cuts a SQL-level PREPARE out of the string it came in (see readCapture).
    this.ready = Promise.all([this.#engine.ready, loadSqlParser()]).then(() => undefined);
    this.ready.catch(() => undefined); // reported to whoever connects
  }

  async connect(params: ReadonlyMap<string, string>): Promise<Upstream> {
    await this.ready;
    await this.#engine.ready; // after a restart, the new engine's
    if (this.#engine.failure) throw this.#engine.failure;
    // The agent's startup parameters become settings of its own session, applied in its first turn.
    const settings = Object.entries(forwardedParams(params)).filter(([name]) => name !== "client_encoding");
    const parameters = new Map(this.#engine.parameters);
    parameters.set("application_name", "");
    for (const [name, value] of settings) if (parameters.has(name)) parameters.set(name, value);
    const session = new PgliteSession(this, parameters, { statements: [], settings, channels: [] });
    this.#sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clearHold();
    await this.#engine.close();
  }

  schedule(session: PgliteSession): void {
    // While the engine is being handed to it, its bytes wait for its state to be put back.
    if (this.#owner === session) return this.#switching ? undefined : this.#run(session);
    if (!this.#waiting.includes(session)) this.#waiting.push(session);
    if (this.#owner === undefined && !this.#switching) this.#next();
  }

  leave(session: PgliteSession): void {
    this.#sessions.delete(session);
    const i = this.#waiting.indexOf(session);
    if (i >= 0) this.#waiting.splice(i, 1);
    if (this.#owner !== session || this.#switching) return; // a change of hands in progress sees it closed
    this.#clearHold();
    // Leave the engine as PostgreSQL would a dropped connection: any batch finished, any transaction undone.
    if (session.busy || !session.idle) this.#internal([SYNC, writeQuery("ROLLBACK")]);
    this.#owner = undefined;
    this.#next();
  }

  #startEngine(): PgliteEngine {
    const engine: PgliteEngine = new PgliteEngine(this.#dataDir, this.#name, (err) => this.#stopped(engine, err));
    return engine;
  }

  /**
   * The engine stopped under its sessions (a FATAL inside PGlite ends its one process): as a
   * PostgreSQL server does after a backend crash, every session on it ends, and a new engine
   * starts on the same files (recovering from its WAL).
   */
  #stopped(engine: PgliteEngine, err: Error): void {
    if (this.#closed || engine !== this.#engine) return;
    console.error(`[pglite] the embedded database "${this.#name}" stopped (${err.message}); its ${this.#sessions.size} sessions are ended and it restarts`);
    this.#clearHold();
    this.#owner = undefined;
    this.#loaded = undefined;
    this.#switching = false;
    this.#waiting.length = 0;
    this.#engine = this.#startEngine();
    const ended = PgWireError.fatal(SqlState.CrashShutdown, "terminating connection because the embedded database stopped; it is restarting, connect again");
    for (const session of [...this.#sessions]) session.fail(ended);
  }

  /** The engine is free: the first in line gets it, at no cost if its state is already there. */
  #next(): void {
    const session = this.#waiting.shift();
    if (!session) return;
    this.#owner = session;
    if (this.#loaded === session) this.#run(session);
    else void this.#handOver(session);
  }

  async #handOver(to: PgliteSession): Promise<void> {
    const from = this.#loaded;
    if (from && !from.closed) {
      this.#switching = true;
      const engine = this.#engine;
      const capture = await this.#capture(from);
      if (engine !== this.#engine) return; // it stopped meanwhile: every session has been ended
      this.#switching = false;
      if (!from.closed) {
        if (capture?.pinned) return this.#keep(from, to);
        from.saved = capture?.state ?? FRESH;
      }
    }
    // Queued before the next session's bytes, and the engine runs batches in order.
    this.#loaded = to;
    this.#internal(restoreBatch(to.saved));
    if (!to.closed) return this.#run(to);
    this.#owner = undefined;
    this.#next();
  }

  /** The leaving session holds what cannot be carried over: it keeps the engine, as a transaction would. */
  #keep(from: PgliteSession, to: PgliteSession): void {
    this.#owner = from;
    const i = this.#waiting.indexOf(from);
    if (i >= 0) this.#waiting.splice(i, 1);
    if (!to.closed) this.#waiting.unshift(to);
    if (from.hasQueued()) this.#run(from);
    else if (this.#waiting.length > 0) this.#armHold();
    else this.#owner = undefined;
  }

  async #capture(session: PgliteSession): Promise<Capture | undefined> {
    try {
      return readCapture(await this.#engine.answer(ownedBytes(CAPTURE_BATCH)));
    } catch (err) {
      // The other session must not see this one's state either way: it is reset, and starts afresh.
      console.error(`[pglite] a session's state could not be captured; it starts afresh (${session.parameters.get("application_name")}):`, err);
      return undefined;
    }
  }

  #run(session: PgliteSession): void {
    if (session.busy) return;
    const bytes = session.takeQueued();
    if (!bytes) return;
    this.#clearHold();
    session.busy = true;
    this.#engine
      .run(bytes, (chunk) => session.deliver(chunk))
      .then(
        () => {
          session.busy = false;
          this.#afterBatch(session);
        },
        (err: Error) => {
          session.busy = false;
          session.fail(err);
        },
      );
  }

  #afterBatch(session: PgliteSession): void {
    if (this.#owner !== session || session.closed) return;
    if (session.hasQueued()) return this.#run(session);
    if (!session.idle) return this.#armHold();
    this.#owner = undefined;
    this.#next();
  }

  /** Airlock's own batch: queued in order with the sessions' batches, its answer never delivered. */
  #internal(parts: Buffer[]): void {
    const engine = this.#engine;
    engine.answer(ownedBytes(parts)).catch((err: unknown) => {
      if (!this.#closed && !engine.failure) console.error("[pglite] internal batch failed:", err);
    });
  }

  /** The owner is idle in a transaction, or pinned with others waiting: its hold is bounded. */
  #armHold(): void {
    const owner = this.#owner;
    if (!owner || owner.busy || this.#holdTimer) return;
    this.#holdTimer = setTimeout(() => this.#expire(owner), this.#options.idleInTransactionTimeoutMs);
    this.#holdTimer.unref();
  }

  #clearHold(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  /** Ends the session as PostgreSQL ends one past its idle timeout; leave() rolls it back and passes the engine on. */
  #expire(owner: PgliteSession): void {
    this.#holdTimer = undefined;
    if (this.#owner !== owner || owner.busy || owner.closed) return;
    if (!owner.idle) return owner.fail(PgWireError.fatal(SqlState.IdleInTransactionTimeout, "terminating connection due to idle-in-transaction timeout"));
    if (this.#waiting.length === 0) {
      this.#owner = undefined; // pinned, but nobody waits for the engine any more
      return;
    }
    owner.fail(PgWireError.fatal(SqlState.IdleSessionTimeout, "terminating connection due to idle-session timeout", PINNED_DETAIL));
  }
}

const FRESH: SessionState = { statements: [], settings: [], channels: [] };

const PINNED_DETAIL =
  "airlock: on the shared embedded database, a session holding temporary tables, WITH HOLD cursors or advisory locks keeps the engine; another connection waited for it too long";
