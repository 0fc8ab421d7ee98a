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

/** A size limit that depends on the message's type (a statement may be smaller than a Bind). */
export interface MessageLimit {
  /** The largest message of this type, its type byte included. */
  maxBytes(type: number): number;
  /** What the agent is told when a message of `bytes` (type byte included) is over `max`. */
  refusal(type: number, bytes: number, max: number): string;
}

/**
 * Memory shared by several buffers (one agent's connections). A buffer counts what it holds and,
 * from a message's length word, the whole message before its body arrives.
 */
export interface ByteBudget {
  add(bytes: number): void;
  readonly exceeded: boolean;
  refusal(): string;
}

/**
 * Splits a byte stream into protocol messages. Chunks are kept as received; a message inside one
 * chunk is a view into it, and only a message that spans chunks is copied, once. The length is
 * checked against the limit before anything is buffered for it.
 */
export class MessageBuffer {
  #chunks: Buffer[] = [];
  #length = 0;
  /** The head message's whole size once its length word is read, until it is taken. */
  #announced = 0;
  /** What this buffer has counted against the budget: what it holds, or the head message's size. */
  #counted = 0;
  #released = false;

  constructor(
    private maxMessageBytes: number | MessageLimit,
    private readonly budget?: ByteBudget,
  ) {}

  /** Raises or lowers the limit, e.g. once the peer has authenticated. */
  setLimit(maxMessageBytes: number | MessageLimit): void {
    this.maxMessageBytes = maxMessageBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#count();
  }

  /** Gives back to the budget everything counted, for good (the connection is over). */
  release(): void {
    this.#released = true;
    this.budget?.add(-this.#counted);
    this.#counted = 0;
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
    this.#check(head[0], length + 1);
    const raw = this.#take(length + 1);
    if (!raw) return undefined;
    this.#announced = 0;
    this.#count();
    return { type: raw[0], body: raw.subarray(5), raw };
  }

  /** From the length word alone: the type's limit, then the budget with the whole message counted. */
  #check(type: number, bytes: number): void {
    const limit = this.maxMessageBytes;
    const max = typeof limit === "number" ? limit : limit.maxBytes(type);
    if (bytes > max) {
      const message = typeof limit === "number" ? `message of ${bytes - 1} bytes exceeds the limit of ${limit}` : limit.refusal(type, bytes, max);
      throw new PgWireError(SqlState.ProgramLimitExceeded, message, "FATAL");
    }
    if (!this.budget || this.#announced === bytes) return;
    this.#announced = bytes;
    this.#count();
    if (this.budget.exceeded) throw new PgWireError(SqlState.ProgramLimitExceeded, this.budget.refusal(), "FATAL");
  }

  #count(): void {
    if (!this.budget || this.#released) return;
    const held = Math.max(this.#length, this.#announced);
    this.budget.add(held - this.#counted);
    this.#counted = held;
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
    this.#announced = 0;
    this.#count();
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
