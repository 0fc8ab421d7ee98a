/**
 * Builders for the messages the proxy itself sends, to agents and to upstream servers.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { Auth, Backend, Frontend, StartupCode } from "./message-codes";

/** A typed message: type byte, Int32 length (counting itself), then the body. */
function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function cstring(value: string): Buffer {
  return Buffer.from(`${value}\0`, "utf8");
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

export interface ErrorFields {
  severity: "ERROR" | "FATAL" | "PANIC" | "WARNING" | "NOTICE" | "INFO" | "LOG" | "DEBUG";
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

// ErrorResponse and NoticeResponse share one body: typed fields, each a C string, then a zero.
function fieldsBody(fields: ErrorFields): Buffer {
  const parts: Buffer[] = [];
  const add = (tag: string, value: string | undefined) => {
    if (value !== undefined) parts.push(Buffer.from(tag), cstring(value));
  };
  add("S", fields.severity);
  add("V", fields.severity); // non-localized severity: drivers key on it
  add("C", fields.code);
  add("M", fields.message);
  add("D", fields.detail);
  add("H", fields.hint);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** An ErrorResponse or NoticeResponse (`type`) with the given fields, in their order. */
export function writeFieldsMessage(type: number, fields: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [tag, value] of fields) parts.push(Buffer.from(tag), cstring(value));
  parts.push(Buffer.from([0]));
  return message(type, Buffer.concat(parts));
}

/** https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ERRORRESPONSE */
export function writeErrorResponse(fields: ErrorFields): Buffer {
  return message(Backend.ErrorResponse, fieldsBody(fields));
}

/** https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTICERESPONSE */
export function writeNoticeResponse(fields: ErrorFields): Buffer {
  return message(Backend.NoticeResponse, fieldsBody(fields));
}

/** AuthenticationOk, AuthenticationCleartextPassword, …: 'R' with the subtype. */
export function writeAuthentication(subtype: (typeof Auth)[keyof typeof Auth]): Buffer {
  return message(Backend.Authentication, int32(subtype));
}

/** https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NEGOTIATEPROTOCOLVERSION */
export function writeNegotiateProtocolVersion(newestMinor: number, unrecognized: string[]): Buffer {
  return message(Backend.NegotiateProtocolVersion, Buffer.concat([int32(newestMinor), int32(unrecognized.length), ...unrecognized.map(cstring)]));
}

export function writeParameterStatus(name: string, value: string): Buffer {
  return message(Backend.ParameterStatus, Buffer.concat([cstring(name), cstring(value)]));
}

export function writeBackendKeyData(processId: number, secretKey: number): Buffer {
  return message(Backend.BackendKeyData, Buffer.concat([int32(processId), int32(secretKey)]));
}

const READY = new Map<number, Buffer>();
/** ReadyForQuery is sent after every statement; the three possible messages are made once. */
export function writeReadyForQuery(status: number): Buffer {
  let ready = READY.get(status);
  if (!ready) READY.set(status, (ready = message(Backend.ReadyForQuery, Buffer.from([status]))));
  return ready;
}

export function writeCommandComplete(tag: string): Buffer {
  return message(Backend.CommandComplete, cstring(tag));
}

export function writeQuery(sql: string): Buffer {
  return message(Frontend.Query, cstring(sql));
}

/** Parse, with the parameter types by OID when they are known (none: the server infers them). */
export function writeParse(name: string, sql: string, paramTypes: readonly number[] = []): Buffer {
  const types = Buffer.allocUnsafe(2 + 4 * paramTypes.length);
  types.writeInt16BE(paramTypes.length, 0);
  paramTypes.forEach((oid, i) => types.writeUInt32BE(oid, 2 + 4 * i));
  return message(Frontend.Parse, Buffer.concat([cstring(name), cstring(sql), types]));
}

/** Bind with parameters (null: SQL NULL) in the given format codes (none: all text), and text results. */
export function writeBind(portal: string, statement: string, params: ReadonlyArray<Buffer | null> = [], formats: readonly number[] = []): Buffer {
  const parts = [cstring(portal), cstring(statement), int16(formats.length), ...formats.map(int16), int16(params.length)];
  for (const value of params) parts.push(...(value === null ? [int32(-1)] : [int32(value.length), value]));
  parts.push(int16(0));
  return message(Frontend.Bind, Buffer.concat(parts));
}

/** Describe of a portal: its RowDescription (or NoData). */
export function writeDescribePortal(portal: string): Buffer {
  return message(Frontend.Describe, Buffer.concat([Buffer.from("P"), cstring(portal)]));
}

/** Describe of a prepared statement: its ParameterDescription, then its RowDescription (or NoData). */
export function writeDescribeStatement(name: string): Buffer {
  return message(Frontend.Describe, Buffer.concat([Buffer.from("S"), cstring(name)]));
}

/** Close of a portal. */
export function writeClosePortal(name: string): Buffer {
  return message(Frontend.Close, Buffer.concat([Buffer.from("P"), cstring(name)]));
}

/** Execute to the end (no row limit). */
export function writeExecute(portal: string): Buffer {
  return message(Frontend.Execute, Buffer.concat([cstring(portal), int32(0)]));
}

export function writeCloseStatement(name: string): Buffer {
  return message(Frontend.Close, Buffer.concat([Buffer.from("S"), cstring(name)]));
}

export function writeCopyData(data: Buffer): Buffer {
  return message(Backend.CopyData, data);
}

export function writeCopyFail(reason: string): Buffer {
  return message(Frontend.CopyFail, cstring(reason));
}

export const SYNC: Buffer = message(Frontend.Sync, Buffer.alloc(0));
export const TERMINATE: Buffer = message(Frontend.Terminate, Buffer.alloc(0));

export function writePasswordMessage(password: string): Buffer {
  return message(Frontend.Password, cstring(password));
}

/** SASLInitialResponse: mechanism name, then the client-first message with its length. */
export function writeSaslInitialResponse(mechanism: string, data: string): Buffer {
  const payload = Buffer.from(data, "utf8");
  return message(Frontend.Password, Buffer.concat([cstring(mechanism), int32(payload.length), payload]));
}

export function writeSaslResponse(data: string): Buffer {
  return message(Frontend.Password, Buffer.from(data, "utf8"));
}

/** Untyped startup packet: Int32 length, Int32 code, body. */
function startupPacket(code: number, body: Buffer): Buffer {
  return Buffer.concat([int32(8 + body.length), int32(code), body]);
}

/** https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE */
export function writeStartupMessage(params: Record<string, string>): Buffer {
  const parts = Object.entries(params).flatMap(([k, v]) => [cstring(k), cstring(v)]);
  return startupPacket(StartupCode.Protocol3, Buffer.concat([...parts, Buffer.from([0])]));
}

export function writeSslRequest(): Buffer {
  return startupPacket(StartupCode.SSLRequest, Buffer.alloc(0));
}

export function writeCancelRequest(processId: number, secretKey: number): Buffer {
  return startupPacket(StartupCode.CancelRequest, Buffer.concat([int32(processId), int32(secretKey)]));
}
