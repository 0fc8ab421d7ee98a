/**
 * Airlock's own session on a resource for impact previews (lib/approvals/preview): one statement
 * at a time through the extended protocol, so a held statement's parameters are bound as the agent
 * bound them (text as text, binary as its bytes, with its format codes), never spliced into its SQL.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import type { PreviewResult, PreviewSession } from "../../lib/approvals/preview/types";
import { MessageBuffer } from "../protocol/message-buffer";
import { Backend } from "../protocol/message-codes";
import { BodyReader, readCommandTag, readFields, readRowDescription } from "../protocol/reader";
import { SYNC, writeBind, writeDescribePortal, writeExecute, writeParse } from "../protocol/writer";
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
        const bytes = Buffer.concat([writeParse("", sql), writeBind("", "", paramBytes(params, formats ?? []), formats), writeDescribePortal(""), writeExecute(""), SYNC]);
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
 * The bytes of the parameters as the agent bound them: a binary parameter is recorded as `\x` and
 * the hex of its bytes (bindParams), which are sent; text as UTF-8; null is SQL NULL.
 */
function paramBytes(params: ReadonlyArray<string | null>, formats: readonly number[]): Array<Buffer | null> {
  return params.map((value, i) => {
    if (value === null) return null;
    if (formats[i] !== 1) return Buffer.from(value, "utf8");
    if (!/^\\x(?:[0-9a-f]{2})*$/.test(value)) throw new Error("a binary parameter is not recorded as hex");
    return Buffer.from(value.slice(2), "hex");
  });
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
