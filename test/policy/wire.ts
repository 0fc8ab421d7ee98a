/**
 * Frontend messages the proxy's writer.ts has no use for, built by hand for wire-level tests, and
 * a reader of the answers up to ReadyForQuery.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { readCommandTag, readFields } from "../../proxy/protocol/reader";
import type { RawWireClient } from "../support/raw-wire-client";

function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

const cstring = (value: string) => Buffer.from(`${value}\0`, "utf8");
const int16 = (value: number) => Buffer.from([(value >> 8) & 0xff, value & 0xff]);
function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value, 0);
  return out;
}

/** Bind with no parameters and default (text) result formats. */
export function writeBind(portal: string, statement: string): Buffer {
  return message("B", cstring(portal), cstring(statement), int16(0), int16(0), int16(0));
}

/** Bind with text parameters (NULL as null) and default (text) result formats. */
export function writeBindText(portal: string, statement: string, params: ReadonlyArray<string | null>): Buffer {
  const values = params.map((p) => (p === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(p)), Buffer.from(p, "utf8")])));
  return message("B", cstring(portal), cstring(statement), int16(0), int16(params.length), ...values, int16(0));
}

export function writeExecute(portal: string, maxRows = 0): Buffer {
  return message("E", cstring(portal), int32(maxRows));
}

export function writeDescribe(kind: "statement" | "portal", name: string): Buffer {
  return message("D", Buffer.from(kind === "statement" ? "S" : "P"), cstring(name));
}

export function writeClose(kind: "statement" | "portal", name: string): Buffer {
  return message("C", Buffer.from(kind === "statement" ? "S" : "P"), cstring(name));
}

/** The fast-path function call interface: a function by OID, no arguments, text result. */
export function writeFunctionCall(oid: number): Buffer {
  return message("F", int32(oid), int16(0), int16(0), int16(0));
}

export interface Answer {
  /** The message type letter: "1" ParseComplete, "2" BindComplete, "E" ErrorResponse, "Z"… */
  type: string;
  /** ErrorResponse and NoticeResponse: SQLSTATE and message. */
  code?: string;
  message?: string;
  /** CommandComplete: the command tag ("DELETE 3"). */
  tag?: string;
}

/** Reads the server's answers until `syncs` ReadyForQuery messages have arrived, each within `timeoutMs`. */
export async function answersUntilReady(raw: RawWireClient, syncs = 1, timeoutMs?: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let ready = 0; ready < syncs; ) {
    const m = await raw.next(timeoutMs);
    if (!m) throw new Error(`the connection closed after ${JSON.stringify(answers)}`);
    const type = String.fromCharCode(m.type);
    if (type === "E" || type === "N") {
      const fields = readFields(m.body);
      answers.push({ type, code: fields.get("C"), message: fields.get("M") });
    } else if (type === "C") answers.push({ type, tag: readCommandTag(m.body) });
    else answers.push({ type });
    if (type === "Z") ready++;
  }
  return answers;
}

export const errorsOf = (answers: Answer[]) => answers.filter((a) => a.type === "E");

/**
 * The answers as short tokens to compare with PostgreSQL's: the type letter, `E:`/`N:` with the
 * SQLSTATE, `C:` with the command tag; a run of DataRows is one "D" (the tag gives the count).
 */
export function shapeOf(answers: Answer[]): string[] {
  const tokens = answers.map((a) => (a.type === "E" || a.type === "N" ? `${a.type}:${a.code}` : a.type === "C" ? `C:${a.tag}` : a.type));
  return tokens.filter((t, i) => t !== "D" || tokens[i - 1] !== "D");
}
