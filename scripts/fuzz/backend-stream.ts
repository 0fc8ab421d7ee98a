/**
 * What the proxy sends one fuzz connection, framed as it arrives: every message, the single-byte
 * answers to SSLRequest/GSSENCRequest, when the last byte came, and whether the socket closed.
 */
import type net from "node:net";
import { readFields } from "../../proxy/protocol/reader";

/** Every message type a PostgreSQL backend may send. */
const BACKEND_TYPES = new Set("RKSZENCDTtn123sIGHWdcAVv".split(""));

export interface Backend {
  type: string;
  body: Buffer;
}

export class BackendStream {
  readonly messages: Backend[] = [];
  /** Something that is not a backend message (a finding on its own). */
  malformed: string | undefined;
  closed = false;
  lastByteAt = Date.now();
  /** Set while an SSLRequest or GSSENCRequest waits for its one-byte answer. */
  expectSingleByte = 0;
  #pending: Buffer = Buffer.alloc(0);
  #listeners = new Set<() => void>();

  constructor(socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.lastByteAt = Date.now();
      this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
      this.#parse();
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => undefined);
  }

  get last(): Backend | undefined {
    return this.messages[this.messages.length - 1];
  }

  /** Resolves on the next byte or close, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#listeners.add(done);
    });
  }

  /** Waits until `test` holds, the socket closes, or `ms` pass; says whether `test` held. */
  async until(test: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (this.closed || Date.now() >= deadline) return test();
      await this.changed(Math.min(100, deadline - Date.now()));
    }
    return true;
  }

  errors(): Array<Map<string, string>> {
    return this.messages.filter((m) => m.type === "E").map((m) => readFields(m.body));
  }

  #wake(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #parse(): void {
    while (this.#pending.length > 0 && !this.malformed) {
      const type = String.fromCharCode(this.#pending[0]);
      if (this.expectSingleByte > 0 && "NSG".includes(type)) {
        this.expectSingleByte--;
        this.messages.push({ type: `single:${type}`, body: Buffer.alloc(0) });
        this.#pending = this.#pending.subarray(1);
        continue;
      }
      if (this.#pending.length < 5) return;
      const length = this.#pending.readInt32BE(1);
      if (!BACKEND_TYPES.has(type) || length < 4 || length > 1 << 28) {
        this.malformed = `type 0x${this.#pending[0].toString(16)} length ${length}`;
        return;
      }
      if (this.#pending.length < 1 + length) return;
      this.expectSingleByte = 0;
      this.messages.push({ type, body: this.#pending.subarray(5, 1 + length) });
      this.#pending = this.#pending.subarray(1 + length);
    }
  }
}
