/**
 * The real PostgreSQL parser (libpg-query, WASM). Loading the WASM module is asynchronous and
 * happens once per process; parsing afterwards is synchronous, so classification stays a pure,
 * synchronous function that the proxy can call on its hot path.
 */
import { hasSqlDetails, loadModule, parseSync, type ParseResult } from "libpg-query";

export type { ParseResult };

let loaded: Promise<void> | undefined;
let ready = false;

/** Loads the parser's WASM module; call (and await) once at start. Safe to call again. */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule().then(
    () => {
      ready = true;
    },
    (err: unknown) => {
      loaded = undefined; // a later call may retry
      throw err;
    },
  );
  return loaded;
}

/** The parser rejected the text (a syntax error): the statement is not understood. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based character position of the error, as PostgreSQL reports it, when known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = "SqlSyntaxError";
  }
}

/**
 * Parses SQL text into PostgreSQL's raw parse tree (JSON). Throws SqlSyntaxError for text the
 * parser rejects, and a plain Error when loadSqlParser() has not finished: that is a programming
 * error, not a verdict on the SQL, so it must never be mistaken for an unparseable statement.
 */
export function parseSql(text: string): ParseResult {
  if (!ready) throw new Error("the SQL parser is not loaded: await loadSqlParser() once before parseSql() or classify()");
  if (text === "") return { stmts: [] }; // libpg-query refuses empty text; PostgreSQL accepts it
  try {
    return parseSync(text);
  } catch (err) {
    if (hasSqlDetails(err)) {
      // PostgreSQL's cursor position: 1-based, in characters, as psql shows it.
      const position = (err.sqlDetails?.cursorPosition ?? 0) + 1;
      throw new SqlSyntaxError(`${err.message} at character ${position}`, position);
    }
    throw new SqlSyntaxError(err instanceof Error ? err.message : String(err));
  }
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Cuts statements out of the text by the parser's locations and lengths (absent: to the end).
 * libpg-query counts UTF-8 bytes and JavaScript strings count UTF-16 units; they agree for ASCII,
 * so only other text is encoded, once for all its statements.
 */
export function statementSlicer(text: string): (location?: number, length?: number) => string {
  if (ASCII_ONLY.test(text)) return (location = 0, length) => text.slice(location, length === undefined ? undefined : location + length).trim();
  const bytes = encoder.encode(text);
  return (location = 0, length) => decoder.decode(bytes.subarray(location, length === undefined ? undefined : location + length)).trim();
}
