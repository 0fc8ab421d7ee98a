import type { Duplex } from "node:stream";
import { MessageBuffer, type WireMessage } from "./message-buffer";

/** The stream ended or failed while a message was awaited. */
export class StreamClosedError extends Error {}

/**
 * Awaitable reads of whole messages from a socket, for the start of a connection where each step
 * waits for the peer's answer. detach() hands the socket to the relay with nothing lost: the
 * socket is paused and whatever was read but not consumed stays in `buffer`.
 */
export class SocketReader {
  #wake: (() => void) | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.buffer.push(chunk);
    this.#wake?.();
  };
  readonly #onEnd = (err?: Error) => {
    this.#failure ??= new StreamClosedError(err ? err.message : "connection closed");
    this.#wake?.();
  };
  readonly #onClose = () => this.#onEnd();

  constructor(
    private readonly socket: Duplex,
    readonly buffer: MessageBuffer,
  ) {
    socket.on("data", this.#onData);
    socket.on("error", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("end", this.#onClose);
  }

  message(): Promise<WireMessage> {
    return this.#read(() => this.buffer.next());
  }

  startup(): Promise<{ code: number; body: Buffer }> {
    return this.#read(() => this.buffer.nextStartup());
  }

  detach(): void {
    this.socket.pause();
    this.socket.off("data", this.#onData);
    this.socket.off("error", this.#onEnd);
    this.socket.off("close", this.#onClose);
    this.socket.off("end", this.#onClose);
  }

  async #read<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
