import net from "node:net";
import { Auth, Backend } from "../../proxy/protocol/message-codes";
import { readFields } from "../../proxy/protocol/reader";
import { writePasswordMessage, writeQuery, writeStartupMessage } from "../../proxy/protocol/writer";

export interface StreamResult {
  /** Every byte the proxy sent after the query, headers included. */
  bytes: number;
  rows: number;
  /** DataRow bytes only (the result proper). */
  rowBytes: number;
  tag: string;
  seconds: number;
}

const STREAM_TIMEOUT_MS = 180_000;

/**
 * Logs in as an agent, sends one query and reads its whole result at no more than
 * `bytesPerSecond`, by pausing the socket: the kernel buffers fill, and the proxy has to stop
 * reading the database rather than hold the result in memory. Rows are counted, not kept.
 */
export async function streamSlowly(options: {
  port: number;
  user: string;
  token: string;
  database: string;
  sql: string;
  bytesPerSecond: number;
}): Promise<StreamResult> {
  const socket = net.connect(options.port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let started = 0;
  let bytes = 0;
  let rows = 0;
  let rowBytes = 0;
  let tag = "";
  let ready = 0;

  try {
    return await new Promise<StreamResult>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      const timer = setTimeout(() => fail(new Error(`the stream did not finish within ${STREAM_TIMEOUT_MS / 1000} s (${bytes} bytes so far)`)), STREAM_TIMEOUT_MS);
      const scanner = new MessageScanner((type, body, length) => {
        switch (type) {
          case Backend.Authentication: {
            const subtype = body!.readInt32BE(0);
            if (subtype === Auth.CleartextPassword) socket.write(writePasswordMessage(options.token));
            else if (subtype !== Auth.Ok) fail(new Error(`unexpected authentication request ${subtype}`));
            return;
          }
          case Backend.ErrorResponse:
            return fail(new Error(`server error: ${readFields(body!).get("M")}`));
          case Backend.DataRow:
            rows++;
            rowBytes += length + 5;
            return;
          case Backend.CommandComplete:
            tag = body!.toString("utf8", 0, body!.length - 1);
            return;
          case Backend.ReadyForQuery:
            if (++ready === 1) {
              // Logged in: the clock starts with the query.
              started = performance.now();
              bytes = 0;
              socket.write(writeQuery(options.sql));
              return;
            }
            clearTimeout(timer);
            return resolve({ bytes, rows, rowBytes, tag, seconds: (performance.now() - started) / 1000 });
        }
      });
      socket.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        scanner.push(chunk);
        if (ready === 0) return;
        // Ahead of the pace: stop reading until the pace catches up.
        const dueMs = started + (bytes / options.bytesPerSecond) * 1000 - performance.now();
        if (dueMs > 2) {
          socket.pause();
          setTimeout(() => socket.resume(), dueMs);
        }
      });
      socket.once("error", fail);
      socket.once("close", () => fail(new Error(`the proxy closed the connection after ${bytes} bytes`)));
      socket.write(writeStartupMessage({ user: options.user, database: options.database }));
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Splits a byte stream into messages without holding DataRow bodies: only the 5-byte header of a
 * row is looked at, so the reader itself stays small however large the result.
 */
class MessageScanner {
  readonly #header = Buffer.alloc(5);
  #headerFill = 0;
  #type = 0;
  #length = 0;
  #remaining = 0;
  #body: Buffer[] | undefined;

  constructor(private readonly onMessage: (type: number, body: Buffer | undefined, bodyLength: number) => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#headerFill < 5) {
        const n = Math.min(5 - this.#headerFill, chunk.length - offset);
        chunk.copy(this.#header, this.#headerFill, offset, offset + n);
        this.#headerFill += n;
        offset += n;
        if (this.#headerFill < 5) return;
        this.#type = this.#header[0];
        this.#length = this.#remaining = this.#header.readInt32BE(1) - 4;
        this.#body = this.#type === Backend.DataRow ? undefined : [];
      }
      const n = Math.min(this.#remaining, chunk.length - offset);
      this.#body?.push(chunk.subarray(offset, offset + n));
      this.#remaining -= n;
      offset += n;
      if (this.#remaining === 0) {
        this.#headerFill = 0;
        this.onMessage(this.#type, this.#body && Buffer.concat(this.#body), this.#length);
      }
    }
  }
}
