/**
 * Readers for the fields of messages the proxy must understand.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import type { ResultField } from "../../lib/masking/column-plan";
import { PgWireError, SqlState } from "../wire-error";

/** A cursor over one message body; every read is bounds-checked and fails as a protocol violation. */
export class BodyReader {
  #offset = 0;

  constructor(private readonly body: Buffer) {}

  get remaining(): number {
    return this.body.length - this.#offset;
  }

  readCString(): string {
    const end = this.body.indexOf(0, this.#offset);
    if (end < 0) throw malformed("unterminated string");
    const value = this.body.toString("utf8", this.#offset, end);
    this.#offset = end + 1;
    return value;
  }

  readInt16(): number {
    this.#need(2);
    const value = this.body.readInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  readInt32(): number {
    this.#need(4);
    const value = this.body.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  readByte(): number {
    this.#need(1);
    return this.body[this.#offset++];
  }

  /** The next `length` bytes, as a view (no copy). */
  readBytes(length: number): Buffer {
    this.#need(length);
    const value = this.body.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  #need(n: number): void {
    if (this.#offset + n > this.body.length) throw malformed("message ends early");
  }
}

function malformed(what: string): PgWireError {
  return new PgWireError(SqlState.ProtocolViolation, `malformed message: ${what}`, "FATAL");
}

/** StartupMessage parameters: name/value C-string pairs ending with an empty name. */
export function readStartupParams(body: Buffer): Map<string, string> {
  const reader = new BodyReader(body);
  const params = new Map<string, string>();
  for (;;) {
    const name = reader.readCString();
    if (name === "") return params;
    params.set(name, reader.readCString());
  }
}

/** Query: the SQL text. */
export function readQuery(body: Buffer): string {
  return new BodyReader(body).readCString();
}

export interface ParseMessage {
  name: string;
  text: string;
  paramTypes: number[];
}

export function readParse(body: Buffer): ParseMessage {
  const reader = new BodyReader(body);
  const name = reader.readCString();
  const text = reader.readCString();
  const count = reader.readInt16();
  const paramTypes: number[] = [];
  for (let i = 0; i < count; i++) paramTypes.push(reader.readInt32());
  return { name, text, paramTypes };
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** Parameter values as sent: text, or binary when its format code is 1; null for SQL NULL. */
  params: Array<Buffer | null>;
  paramFormats: number[];
  /** Result column formats: none → all text; one → for all; otherwise one per column. */
  resultFormats: number[];
}

export function readBind(body: Buffer): BindMessage {
  const reader = new BodyReader(body);
  const portal = reader.readCString();
  const statement = reader.readCString();
  const { paramFormats, params } = readParams(reader);
  const resultCount = reader.readInt16();
  const resultFormats: number[] = [];
  for (let i = 0; i < resultCount; i++) resultFormats.push(reader.readInt16());
  return { portal, statement, params, paramFormats, resultFormats };
}

/** Parameter format codes, then the values: as Bind and FunctionCall carry them. */
function readParams(reader: BodyReader): Pick<BindMessage, "params" | "paramFormats"> {
  const formatCount = reader.readInt16();
  const paramFormats: number[] = [];
  for (let i = 0; i < formatCount; i++) paramFormats.push(reader.readInt16());
  const paramCount = reader.readInt16();
  const params: Array<Buffer | null> = [];
  for (let i = 0; i < paramCount; i++) {
    const length = reader.readInt32();
    params.push(length < 0 ? null : reader.readBytes(length));
  }
  return { paramFormats, params };
}

/** FunctionCall (the fast-path interface): a function by OID and its arguments, formatted like Bind's. */
export interface FunctionCallMessage extends Pick<BindMessage, "params" | "paramFormats"> {
  oid: number;
}

/** https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-FUNCTIONCALL */
export function readFunctionCall(body: Buffer): FunctionCallMessage {
  const reader = new BodyReader(body);
  const oid = reader.readInt32() >>> 0;
  return { oid, ...readParams(reader) };
}

/** Execute: the portal name (the row limit does not matter to the proxy). */
export function readExecutePortal(body: Buffer): string {
  return new BodyReader(body).readCString();
}

/** Close and Describe: 'S' (statement) or 'P' (portal), then the name. */
export function readTarget(body: Buffer): { kind: "statement" | "portal"; name: string } {
  const reader = new BodyReader(body);
  const kind = reader.readByte();
  if (kind !== 0x53 && kind !== 0x50) throw malformed("target must be S or P");
  return { kind: kind === 0x53 ? "statement" : "portal", name: reader.readCString() };
}

/** ErrorResponse/NoticeResponse fields by their one-letter tags. */
export function readFields(body: Buffer): Map<string, string> {
  const reader = new BodyReader(body);
  const fields = new Map<string, string>();
  for (;;) {
    const tag = reader.readByte();
    if (tag === 0) return fields;
    fields.set(String.fromCharCode(tag), reader.readCString());
  }
}

/** CommandComplete's tag, e.g. "SELECT 42" or "INSERT 0 1". */
export function readCommandTag(body: Buffer): string {
  return new BodyReader(body).readCString();
}

/** The row count at the end of a command tag, if it has one. */
export function rowsFromTag(tag: string): number {
  const last = tag.slice(tag.lastIndexOf(" ") + 1);
  const rows = Number(last);
  return Number.isInteger(rows) && last !== "" ? rows : 0;
}

/** RowDescription: each result column's name, origin, type and format. */
export function readRowDescription(body: Buffer): ResultField[] {
  const reader = new BodyReader(body);
  const count = reader.readInt16();
  const fields: ResultField[] = [];
  for (let i = 0; i < count; i++) {
    const name = reader.readCString();
    const tableOid = reader.readInt32() >>> 0;
    const column = reader.readInt16();
    const type = reader.readInt32() >>> 0;
    reader.readBytes(6); // type size, type modifier
    fields.push({ name, tableOid, column, type, format: reader.readInt16() });
  }
  return fields;
}

/** CopyOutResponse: the overall format (0 text, 1 binary) and the number of columns. */
export function readCopyOutResponse(body: Buffer): { format: number; columns: number } {
  const reader = new BodyReader(body);
  return { format: reader.readByte(), columns: reader.readInt16() };
}

/** Each bound parameter's format code (1 binary), or undefined when all are text: recorded beside bindParams, whose hex alone cannot tell a binary value from a text one that looks alike. */
export function bindParamFormats(bind: Pick<BindMessage, "params" | "paramFormats">): number[] | undefined {
  const formats = bind.params.map((_, i) => (bind.paramFormats.length === 1 ? bind.paramFormats[0] : (bind.paramFormats[i] ?? 0)));
  return formats.some((f) => f !== 0) ? formats : undefined;
}

/** Bound parameters in text form, as recorded and shown: binary ones hex-encoded. */
export function bindParams(bind: Pick<BindMessage, "params" | "paramFormats">): Array<string | null> {
  return bind.params.map((value, i) => {
    if (value === null) return null;
    // Format codes: none → all text; one → for all; otherwise one per parameter.
    const format = bind.paramFormats.length === 1 ? bind.paramFormats[0] : (bind.paramFormats[i] ?? 0);
    return format === 1 ? `\\x${value.toString("hex")}` : value.toString("utf8");
  });
}
