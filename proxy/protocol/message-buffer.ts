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
 * Splits a byte stream into protocol messages. Chunks are kept as received; a message inside one
 * chunk is a view into it, and only a message that spans chunks is copied, once. The length is
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

  /** The first `n` bytes, contiguous, without consuming them (a copy only if they straddle chunks). */
  #peek(n: number): Buffer | undefined {
    if (this.#length < n) return undefined;
    const first = this.#chunks[0];
    return first.length >= n ? first : this.#copy(n, false);
  }

  #take(n: number): Buffer | undefined {
    if (this.#length < n) return undefined;
    const first = this.#chunks[0];
    if (first.length < n) return this.#copy(n, true);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#length -= n;
    return first.subarray(0, n);
  }

  /** Copies exactly `n` bytes that straddle chunks; the rest of the last chunk stays uncopied. */
  #copy(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const chunk = this.#chunks[i];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (consume && used < chunk.length) this.#chunks[i] = chunk.subarray(used);
      else i++;
    }
    if (consume) {
      this.#chunks.splice(0, i);
      this.#length -= n;
    }
    return out;
  }
}
