import { MessageBuffer } from "../protocol/message-buffer";
import { Backend } from "../protocol/message-codes";
import { BodyReader, readFields } from "../protocol/reader";
import { writeQuery } from "../protocol/writer";
import type { Upstream } from "./upstream";

const MAX_RESULT_MESSAGE_BYTES = 64 * 1024 * 1024;
const BOOL_OID = 16;

export type Row = Record<string, string | boolean | null>;
export type QueryRunner = <T = Row>(sql: string) => Promise<T[]>;

/**
 * Runs Airlock's own queries (a resource's catalog) one after another on an upstream connection
 * that no agent uses, with the simple protocol. Values come back as text; booleans as booleans.
 */
export function createQueryRunner(upstream: Upstream): QueryRunner {
  const buffer = new MessageBuffer(MAX_RESULT_MESSAGE_BYTES);
  const queue: Array<{ sql: string; resolve(rows: Row[]): void; reject(err: Error): void }> = [];
  let columns: Array<{ name: string; bool: boolean }> = [];
  let rows: Row[] = [];
  let error: Error | undefined;
  let closed: Error | undefined;

  upstream.onClose((err) => {
    closed = err ?? new Error("the connection closed during a catalog query");
    for (const q of queue.splice(0)) q.reject(closed);
  });
  upstream.onData((chunk) => {
    buffer.push(chunk);
    for (let m = buffer.next(); m; m = buffer.next()) {
      if (m.type === Backend.RowDescription) columns = readColumns(m.body);
      else if (m.type === Backend.DataRow) rows.push(readRow(m.body, columns));
      else if (m.type === Backend.ErrorResponse) error = new Error(`catalog query failed: ${readFields(m.body).get("M")}`);
      else if (m.type === Backend.ReadyForQuery) {
        const done = queue.shift();
        if (error) done?.reject(error);
        else done?.resolve(rows);
        [rows, error, columns] = [[], undefined, []];
        if (queue[0]) upstream.write(writeQuery(queue[0].sql));
      }
    }
  });

  return <T = Row>(sql: string) =>
    new Promise<T[]>((resolve, reject) => {
      if (closed) return reject(closed);
      queue.push({ sql, resolve: resolve as (rows: Row[]) => void, reject });
      if (queue.length === 1) upstream.write(writeQuery(sql));
    });
}

function readColumns(body: Buffer): Array<{ name: string; bool: boolean }> {
  const reader = new BodyReader(body);
  const count = reader.readInt16();
  const out: Array<{ name: string; bool: boolean }> = [];
  for (let i = 0; i < count; i++) {
    const name = reader.readCString();
    reader.readBytes(6); // table OID, column number
    const type = reader.readInt32();
    reader.readBytes(8); // type size, type modifier, format
    out.push({ name, bool: type === BOOL_OID });
  }
  return out;
}

function readRow(body: Buffer, columns: Array<{ name: string; bool: boolean }>): Row {
  const reader = new BodyReader(body);
  const count = reader.readInt16();
  const row: Row = {};
  for (let i = 0; i < count; i++) {
    const length = reader.readInt32();
    const text = length < 0 ? null : reader.readBytes(length).toString("utf8");
    row[columns[i].name] = columns[i].bool && text !== null ? text === "t" : text;
  }
  return row;
}
