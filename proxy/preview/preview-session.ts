/**
 * Airlock's own session on a resource for impact previews (lib/approvals/preview): one statement
 * at a time through the extended protocol, so a held statement's parameters are bound as the agent
 * bound them (text as text, binary as its bytes, with its format codes), never spliced into its SQL.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import type { PreviewResult, PreviewSession } from "../../lib/approvals/preview/types";
import { MessageBuffer } from "../protocol/message-buffer";
import { Backend, Frontend } from "../protocol/message-codes";
import { BodyReader, readCommandTag, readFields, readRowDescription } from "../protocol/reader";
import { SYNC, writeExecute, writeParse } from "../protocol/writer";
import type { Upstream } from "../upstream/upstream";

/** A preview reads a plan or a few sample rows: a larger message is refused, not buffered. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The database's error, with its SQLSTATE (the caller words it for people). */
export class PreviewQueryError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PreviewQueryError";
  }
}

interface Running {
  maxRows: number;
  result: PreviewResult;
  error?: PreviewQueryError;
  resolve(result: PreviewResult): void;
  reject(err: Error): void;
}

export function createPreviewSession(upstream: Upstream): PreviewSession & { close(): void } {
  const buffer = new MessageBuffer(MAX_MESSAGE_BYTES);
  const queue: Array<{ bytes: Buffer; running: Running }> = [];
  let closed: Error | undefined;
  const version = /^(\d+)(?:\.(\d+))?/.exec(upstream.parameters.get("server_version") ?? "");
  const serverVersion = version ? Number(version[1]) * 10_000 + Number(version[2] ?? 0) : 0;

  upstream.onClose((err) => {
    closed = err ?? new Error("the preview connection closed");
    for (const q of queue.splice(0)) q.running.reject(closed);
  });
  upstream.onData((chunk) => {
    buffer.push(chunk);
    for (let m = buffer.next(); m; m = buffer.next()) {
      const running = queue[0]?.running;
      if (!running) continue;
      if (m.type === Backend.RowDescription) running.result.fields = readRowDescription(m.body).map(({ name, tableOid, column, type }) => ({ name, tableOid, column, type }));
      else if (m.type === Backend.DataRow) {
        running.result.rowCount++;
        if (running.result.rows.length < running.maxRows) running.result.rows.push(readValues(m.body));
      } else if (m.type === Backend.CommandComplete) running.result.tag = readCommandTag(m.body);
      else if (m.type === Backend.ErrorResponse) {
        const fields = readFields(m.body);
        running.error ??= new PreviewQueryError(fields.get("M") ?? "the statement failed", fields.get("C"));
      } else if (m.type === Backend.ReadyForQuery) {
        queue.shift();
        if (running.error) running.reject(running.error);
        else running.resolve(running.result);
        if (queue[0]) upstream.write(queue[0].bytes);
      }
    }
  });

  return {
    serverVersion,
    query(sql, params = [], maxRows = 1_000, formats) {
      return new Promise<PreviewResult>((resolve, reject) => {
        if (closed) return reject(closed);
        const running: Running = { maxRows, result: { fields: [], rows: [], rowCount: 0, tag: "" }, resolve, reject };
        const bytes = Buffer.concat([writeParse("", sql), writeBindParams("", "", params, formats), writeDescribePortal(""), writeExecute(""), SYNC]);
        queue.push({ bytes, running });
        if (queue.length === 1) upstream.write(bytes);
      });
    },
    close() {
      upstream.close();
    },
  };
}

/**
 * Bind with the parameters in the agent's format codes (none: all text; null is SQL NULL) and text
 * results. A binary parameter is recorded as `\x` and the hex of its bytes (bindParams): those bytes are sent.
 */
function writeBindParams(portal: string, statement: string, params: ReadonlyArray<string | null>, formats: readonly number[] = []): Buffer {
  const binary = (i: number) => formats[i] === 1;
  const parts: Buffer[] = [Buffer.from(`${portal}\0${statement}\0`, "utf8"), int16(formats.length), ...formats.map((f) => int16(f)), int16(params.length)];
  for (const [i, value] of params.entries()) {
    if (value === null) parts.push(int32(-1));
    else {
      if (binary(i) && !/^\\x(?:[0-9a-f]{2})*$/.test(value)) throw new Error("a binary parameter is not recorded as hex");
      const bytes = binary(i) ? Buffer.from(value.slice(2), "hex") : Buffer.from(value, "utf8");
      parts.push(int32(bytes.length), bytes);
    }
  }
  parts.push(int16(0));
  return framed(Frontend.Bind, Buffer.concat(parts));
}

function writeDescribePortal(portal: string): Buffer {
  return framed(Frontend.Describe, Buffer.from(`P${portal}\0`, "utf8"));
}

function readValues(body: Buffer): Array<string | null> {
  const reader = new BodyReader(body);
  const count = reader.readInt16();
  const values: Array<string | null> = [];
  for (let i = 0; i < count; i++) {
    const length = reader.readInt32();
    values.push(length < 0 ? null : reader.readBytes(length).toString("utf8"));
  }
  return values;
}

function framed(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function int16(value: number): Buffer {
  const out = Buffer.allocUnsafe(2);
  out.writeInt16BE(value, 0);
  return out;
}

function int32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeInt32BE(value, 0);
  return out;
}
