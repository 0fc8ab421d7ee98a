/** A connection to the database an agent's session runs against, whatever kind it is. */
export interface Upstream {
  /** ParameterStatus values the server reported at startup; the agent sees them as its own. */
  readonly parameters: ReadonlyMap<string, string>;
  /**
   * True when other connections take turns on the same backend session (embedded PGlite): while
   * this one is in a transaction, the others wait.
   */
  readonly shared?: boolean;
  /** Sends protocol bytes; false means "stop until drain" (backpressure). */
  write(data: Buffer): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** Fires once, when the connection is gone for any reason; a PgWireError is the server's own word to the agent. */
  onClose(listener: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  /** Asks the server, out of band, to cancel whatever this connection is running now. */
  cancel(): Promise<void>;
  /** Ends the connection politely (Terminate), or at once when destroy is true. */
  close(destroy?: boolean): void;
}

/**
 * Startup parameters an agent may pass on to the target. Others are dropped: `options` and
 * `replication` (privileges), `search_path` (which function an unqualified name reaches) and
 * anything unknown. The text encoding is always UTF-8, the one Airlock parses statements in.
 */
export const FORWARDED_STARTUP_PARAMS = new Set([
  "application_name",
  "DateStyle",
  "IntervalStyle",
  "TimeZone",
  "extra_float_digits",
  "statement_timeout",
  "lock_timeout",
  "idle_in_transaction_session_timeout",
]);

export function forwardedParams(params: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = { client_encoding: "UTF8" };
  for (const [name, value] of params) if (FORWARDED_STARTUP_PARAMS.has(name)) out[name] = value;
  return out;
}
