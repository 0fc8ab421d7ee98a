import type { Duplex } from "node:stream";
import { Backend, TxStatus } from "./protocol/message-codes";
import { PgWireError, SqlState } from "./wire-error";

/**
 * The time a connection has to log in (AIRLOCK_STARTUP_TIMEOUT): each step of the startup is
 * raced against it, so a peer that stalls anywhere — before its startup packet, in the TLS
 * handshake, before its password — is refused, as PostgreSQL's authentication_timeout does.
 */
export class StartupDeadline {
  readonly #expired: Promise<never>;
  readonly #timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    let expire!: (err: PgWireError) => void;
    this.#expired = new Promise<never>((_, reject) => (expire = reject));
    // Nobody may be waiting when it fires (between steps): that is not an unhandled failure.
    this.#expired.catch(() => undefined);
    this.#timer = setTimeout(() => expire(PgWireError.fatal(SqlState.QueryCanceled, "airlock: canceling authentication due to timeout (AIRLOCK_STARTUP_TIMEOUT)")), timeoutMs);
  }

  within<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.#expired]);
  }

  /** Logged in: the session's own timeouts apply from here. */
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Finds the server's ReadyForQuery messages by their headers alone (type byte and length word,
 * bodies skipped), and the transaction status each carries.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-READYFORQUERY
 */
export class ReadyForQueryCounter {
  count = 0;
  /** The status byte of the last ReadyForQuery: idle, in a transaction, or in a failed one. */
  status: number = TxStatus.Idle;
  readonly #header = Buffer.alloc(5);
  #headerFill = 0;
  #skip = 0;
  #wantStatus = false;

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        if (this.#wantStatus) {
          this.status = chunk[i];
          this.#wantStatus = false;
        }
        const n = Math.min(this.#skip, chunk.length - i);
        i += n;
        this.#skip -= n;
        continue;
      }
      this.#header[this.#headerFill++] = chunk[i++];
      if (this.#headerFill < 5) continue;
      this.#headerFill = 0;
      this.#skip = this.#header.readInt32BE(1) - 4;
      if (this.#header[0] === Backend.ReadyForQuery) {
        this.count++;
        this.#wantStatus = true;
      }
    }
  }
}

export interface IdleWatchOptions {
  timeoutMs: number;
  client: Duplex;
  /** Messages the agent sent that the server answers with ReadyForQuery (Query, Sync…). */
  syncPoints(): number;
  ready: ReadyForQueryCounter;
}

/**
 * Ends a logged-in session that has sent nothing for `timeoutMs` while nothing of it was running
 * or held: every message the server owes a ReadyForQuery for has had it. Like PostgreSQL, the
 * agent gets a FATAL 57P05 (25P03 when it was idle inside a transaction) before the close.
 */
export class IdleWatch {
  #timer: NodeJS.Timeout | undefined;
  #ended: PgWireError | undefined;
  /** When either side last sent anything (performance.now()): noted per chunk, read when the timer fires. */
  #activeAt = performance.now();
  readonly #onActivity = () => {
    this.#activeAt = performance.now();
  };

  constructor(private readonly options: IdleWatchOptions) {
    options.client.on("data", this.#onActivity);
    this.#arm(options.timeoutMs);
  }

  /** Anything from the server counts too: the idle time runs from its last answer. */
  serverData(chunk: Buffer): void {
    this.options.ready.feed(chunk);
    this.#activeAt = performance.now();
  }

  /** Why the session was ended, if this ended it. */
  get ended(): PgWireError | undefined {
    return this.#ended;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.options.client.off("data", this.#onActivity);
  }

  /**
   * One timer, not one per chunk: it fires `ms` from now and, if there was activity meanwhile,
   * waits again for what is left of the timeout after the last of it.
   */
  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), ms);
    // A process with nothing else to do may exit: the session's sockets keep it alive, not this.
    this.#timer.unref();
  }

  #fire(): void {
    const quiet = performance.now() - this.#activeAt;
    if (quiet < this.options.timeoutMs) return this.#arm(this.options.timeoutMs - quiet);
    this.#expire();
  }

  #expire(): void {
    const { client, ready } = this.options;
    if (this.options.syncPoints() > ready.count) {
      this.#activeAt = performance.now();
      return this.#arm(this.options.timeoutMs);
    }
    const inTransaction = ready.status !== TxStatus.Idle;
    this.#ended = inTransaction
      ? PgWireError.fatal(SqlState.IdleInTransactionTimeout, "airlock: terminating connection due to idle-in-transaction timeout (AIRLOCK_IDLE_SESSION_TIMEOUT)")
      : PgWireError.fatal(SqlState.IdleSessionTimeout, "airlock: terminating connection due to idle-session timeout (AIRLOCK_IDLE_SESSION_TIMEOUT)");
    this.close();
    // Nothing more is read: the session ends with the FATAL, as the server's would.
    client.pause();
    client.end(this.#ended.toMessage(), () => client.destroy());
    setTimeout(() => client.destroy(), 1000).unref();
  }
}
