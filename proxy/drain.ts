import { PgWireError, SqlState } from "./wire-error";

/** A logged-in session as the shutdown sees it. */
export interface DrainableSession {
  /** A statement is running, queued for the server, or held. */
  readonly busy: boolean;
  /** Ends the session with this error (the agent reads it as its last message). */
  terminate(err: PgWireError): void;
}

/** How often busy sessions are looked at while draining: short next to any drain limit. */
const DRAIN_POLL_MS = 25;

/** Each session still open at shutdown hears this, as from PostgreSQL's own shutdown. */
export const SHUTDOWN_TERMINATE = "airlock: terminating connection because Airlock is shutting down";
/** A connection that arrives while draining. */
export const SHUTDOWN_REFUSE = "airlock: Airlock is shutting down; connect to another instance or try again shortly";

/**
 * The proxy's sessions, for a graceful shutdown: once draining, new connections are refused
 * (57P01, as PostgreSQL's admin_shutdown), each session is ended as soon as it is idle, and those
 * still running a statement at the limit are ended then.
 */
export class ProxySessions {
  readonly #sessions = new Set<DrainableSession>();
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Registers a session; the returned function forgets it. */
  add(session: DrainableSession): () => void {
    this.#sessions.add(session);
    return () => this.#sessions.delete(session);
  }

  /** Thrown at a connection's startup while draining. */
  refusal(): PgWireError {
    return PgWireError.fatal(SqlState.AdminShutdown, SHUTDOWN_REFUSE);
  }

  /** Stops taking new sessions; resolves once every session has ended, by `limitMs` at the latest. */
  async drain(limitMs: number): Promise<void> {
    this.#draining = true;
    const deadline = Date.now() + limitMs;
    for (;;) {
      for (const session of this.#sessions) {
        if (!session.busy || Date.now() >= deadline) this.#end(session);
      }
      if (this.#sessions.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(DRAIN_POLL_MS, deadline - Date.now()))));
    }
  }

  #end(session: DrainableSession): void {
    this.#sessions.delete(session);
    session.terminate(PgWireError.fatal(SqlState.AdminShutdown, SHUTDOWN_TERMINATE));
  }
}
