/**
 * Frontend messages as bytes, each with an optional lie in its length word, for the fuzzer.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export const cstring = (value: string): Buffer => Buffer.from(`${value}\0`, "utf8");

export function int16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeInt16BE(value << 16 >> 16, 0);
  return out;
}

export function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value | 0, 0);
  return out;
}

/** A typed message; `lengthDelta` makes its length word lie by that much. */
export function typed(type: string, body: Buffer, lengthDelta = 0): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE((4 + body.length + lengthDelta) | 0, 1);
  return Buffer.concat([head, body]);
}

/** An untyped packet as before login: StartupMessage, SSLRequest, CancelRequest… */
export function untyped(code: number, body: Buffer, lengthDelta = 0): Buffer {
  return Buffer.concat([int32(8 + body.length + lengthDelta), int32(code), body]);
}

export function startupBody(params: ReadonlyArray<readonly [string, string]>, terminated = true): Buffer {
  return Buffer.concat([...params.map(([k, v]) => Buffer.concat([cstring(k), cstring(v)])), terminated ? Buffer.from([0]) : Buffer.alloc(0)]);
}

export interface BindParts {
  portal: string;
  statement: string;
  formats: number[];
  params: Array<Buffer | null>;
  /** The parameter count written, which may differ from params.length. */
  paramCount?: number;
  /** A value's length word, which may lie (-1 is NULL; others say more or less than is sent). */
  lengthOf?: (value: Buffer | null, index: number) => number;
  resultFormats: number[];
}

export function bindBody(b: BindParts): Buffer {
  const values = b.params.map((value, i) => {
    const length = b.lengthOf ? b.lengthOf(value, i) : value === null ? -1 : value.length;
    return Buffer.concat([int32(length), value ?? Buffer.alloc(0)]);
  });
  return Buffer.concat([
    cstring(b.portal),
    cstring(b.statement),
    int16(b.formats.length),
    ...b.formats.map(int16),
    int16(b.paramCount ?? b.params.length),
    ...values,
    int16(b.resultFormats.length),
    ...b.resultFormats.map(int16),
  ]);
}

export function parseBody(name: string, sql: string, types: number[], typeCount = types.length): Buffer {
  return Buffer.concat([cstring(name), cstring(sql), int16(typeCount), ...types.map(int32)]);
}

export const query = (sql: string, delta = 0): Buffer => typed("Q", cstring(sql), delta);
export const sync = (): Buffer => typed("S", Buffer.alloc(0));
export const flush = (): Buffer => typed("H", Buffer.alloc(0));
export const terminate = (): Buffer => typed("X", Buffer.alloc(0));
export const copyData = (data: Buffer, delta = 0): Buffer => typed("d", data, delta);
export const copyDone = (): Buffer => typed("c", Buffer.alloc(0));
export const copyFail = (reason: string): Buffer => typed("f", cstring(reason));
export const password = (token: string, delta = 0): Buffer => typed("p", cstring(token), delta);
export const describe = (kind: string, name: string, delta = 0): Buffer => typed("D", Buffer.concat([Buffer.from(kind, "latin1"), cstring(name)]), delta);
export const close = (kind: string, name: string, delta = 0): Buffer => typed("C", Buffer.concat([Buffer.from(kind, "latin1"), cstring(name)]), delta);
export const execute = (portal: string, maxRows: number, delta = 0): Buffer => typed("E", Buffer.concat([cstring(portal), int32(maxRows)]), delta);
export const cancelRequest = (processId: number, secretKey: number): Buffer => untyped(CANCEL_REQUEST, Buffer.concat([int32(processId), int32(secretKey)]));
