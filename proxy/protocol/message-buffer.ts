import { PgWireError, SqlState } from "../wire-error";

/** One whole message: its type byte, its body, and the raw bytes to forward unchanged. */
export interface WireMessage {
  type: number;
  /** Body without the 5-byte header; a view into `raw`. */
  body: Buffer;
  /** Header and body, exactly as received. */
  raw: Buffer;
}

/** PostgreSQL's own cap on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

/**
 * Splits a byte stream into protocol messages. Chunks are kept as received and joined only when a
 * message spans them, so a large message is copied once, not once per chunk. The length is
 * checked against the limit before anything is buffered for it.
 */
export class MessageBuffer {
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(private maxMessageBytes: number) {}

  /** Raises or lowers the limit, e.g. once the peer has authenticated. */
  setLimit(maxMessageBytes: number): void {
    this.maxMessageBytes = maxMessageBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  get bufferedBytes(): number {
    return this.#length;
  }

  /** The next complete typed message, or undefined until more bytes arrive. */
  next(): WireMessage | undefined {
    const head = this.#peek(5);
    if (!head) return undefined;
    const length = head.readInt32BE(1);
    if (length < 4) throw new PgWireError(SqlState.ProtocolViolation, `invalid message length ${length}`, "FATAL");
    if (length + 1 > this.maxMessageBytes) {
      throw new PgWireError(SqlState.ProgramLimitExceeded, `message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`, "FATAL");
    }
    const raw = this.#take(length + 1);
    if (!raw) return undefined;
    return { type: raw[0], body: raw.subarray(5), raw };
  }

  /**
   * The next untyped startup-phase packet (StartupMessage, SSLRequest, CancelRequest…): Int32
   * length then Int32 code. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
   */
  nextStartup(): { code: number; body: Buffer } | undefined {
    const head = this.#peek(4);
    if (!head) return undefined;
    const length = head.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_PACKET_BYTES) {
      throw new PgWireError(SqlState.ProtocolViolation, "invalid startup packet length", "FATAL");
    }
    const raw = this.#take(length);
    if (!raw) return undefined;
    return { code: raw.readInt32BE(4), body: raw.subarray(8) };
  }

  /** Hands over whatever is buffered (for the next reader of the stream) and empties this one. */
  drain(): Buffer[] {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#length = 0;
    return chunks;
  }

  /** The first `n` bytes as one contiguous buffer, joining chunks only if they are split. */
  #peek(n: number): Buffer | undefined {
    if (this.#length < n) return undefined;
    if (this.#chunks[0].length < n) this.#join();
    return this.#chunks[0];
  }

  #take(n: number): Buffer | undefined {
    if (this.#length < n) return undefined;
    if (this.#chunks[0].length < n) this.#join();
    const first = this.#chunks[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#length -= n;
    return out;
  }

  #join(): void {
    this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
  }
}
