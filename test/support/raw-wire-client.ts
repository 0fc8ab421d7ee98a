import net from "node:net";
import { MessageBuffer, type WireMessage } from "../../proxy/protocol/message-buffer";
import { readFields } from "../../proxy/protocol/reader";
import { writePasswordMessage, writeStartupMessage } from "../../proxy/protocol/writer";

/** A bare socket speaking the wire protocol by hand, for sending what real drivers never would. */
export class RawWireClient {
  readonly socket: net.Socket;
  readonly #buffer = new MessageBuffer(64 * 1024 * 1024);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer.push(chunk);
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on("error", () => undefined);
  }

  static async connect(port: number): Promise<RawWireClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawWireClient(socket);
  }

  /** Logs in as an agent and waits for ReadyForQuery. */
  async login(user: string, database: string, token: string): Promise<void> {
    this.socket.write(writeStartupMessage({ user, database }));
    await this.expect("R");
    this.socket.write(writePasswordMessage(token));
    for (let m = await this.next(); ; m = await this.next()) {
      if (!m) throw new Error("closed during login");
      if (m.type === 0x45) throw new Error(`login refused: ${readFields(m.body).get("M")}`);
      if (m.type === 0x5a) return;
    }
  }

  /** The next message, or undefined once the server has closed the connection. */
  async next(timeoutMs = 5000): Promise<WireMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.#buffer.next();
      if (message) return message;
      if (this.#closed) return undefined;
      if (Date.now() > deadline) throw new Error("no message from the server in time");
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  /** A single unframed byte, as the answer to SSLRequest or GSSENCRequest is. */
  async singleByte(): Promise<string> {
    for (let i = 0; i < 100 && this.#buffer.bufferedBytes === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const bytes = Buffer.concat(this.#buffer.drain());
    if (bytes.length !== 1) throw new Error(`expected one byte, got ${bytes.length}`);
    return bytes.toString();
  }

  async expect(type: string): Promise<WireMessage> {
    const message = await this.next();
    if (!message || String.fromCharCode(message.type) !== type) {
      throw new Error(`expected "${type}", got ${message ? `"${String.fromCharCode(message.type)}"` : "a closed connection"}`);
    }
    return message;
  }

  /** Reads until the server closes, returning the fields of the last ErrorResponse seen. */
  async errorThenClose(): Promise<Map<string, string> | undefined> {
    let error: Map<string, string> | undefined;
    for (let m = await this.next(); m; m = await this.next()) if (m.type === 0x45) error = readFields(m.body);
    return error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
