/**
 * What one connection's session is on the shared PGlite engine, and how it is taken off and put
 * back when the engine changes hands: captured from PostgreSQL's own views (exact, no SQL
 * tracking), reset with DISCARD ALL, restored before the next connection's bytes run.
 * https://www.postgresql.org/docs/current/sql-discard.html
 */
import { parseSql, statementSlicer } from "../../lib/sql/parser";
import { MessageBuffer } from "../protocol/message-buffer";
import { Backend } from "../protocol/message-codes";
import { BodyReader, readFields } from "../protocol/reader";
import { SYNC, writeBind, writeCloseStatement, writeExecute, writeParse, writeQuery } from "../protocol/writer";

export interface PreparedStatement {
  name: string;
  /** Protocol-level: the query. SQL-level: the `PREPARE …` text alone. */
  statement: string;
  paramTypes: number[];
  fromSql: boolean;
}

export interface SessionState {
  statements: PreparedStatement[];
  /** Settings made in the session (SET, set_config, startup parameters), in base units. */
  settings: Array<[name: string, value: string]>;
  /** LISTEN channels. */
  channels: string[];
}

export interface Capture {
  state: SessionState;
  /**
   * The session holds what cannot be carried over (temporary tables, WITH HOLD cursors,
   * session-level advisory locks): it keeps the engine, as a transaction does.
   */
  pinned: boolean;
}

/** A name no driver uses, for the capture's own statement (excluded from what it reports). */
const CAPTURE_NAME = "airlock_handover_capture";

// Every name schema-qualified and every operator spelled out: the captured session's search_path
// must not be able to bend what the capture reads.
const CAPTURE_SQL = `SELECT pg_catalog.json_build_object(
  'statements', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(name, statement, parameter_types::pg_catalog.oid[], from_sql) ORDER BY prepare_time)
    FROM pg_catalog.pg_prepared_statements WHERE name OPERATOR(pg_catalog.<>) '${CAPTURE_NAME}'), '[]'),
  'settings', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(name, setting))
    FROM pg_catalog.pg_settings WHERE source OPERATOR(pg_catalog.=) 'session'), '[]'),
  'channels', COALESCE((SELECT pg_catalog.json_agg(c) FROM pg_catalog.pg_listening_channels() c), '[]'),
  'pinned', EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema())
    OR EXISTS (SELECT FROM pg_catalog.pg_cursors WHERE is_holdable)
    OR EXISTS (SELECT FROM pg_catalog.pg_locks WHERE locktype OPERATOR(pg_catalog.=) 'advisory' AND pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid())
)::pg_catalog.text`;

/**
 * The capture, by a named statement and the unnamed portal: a simple Query would destroy the
 * session's unnamed statement, which it keeps if it turns out to keep the engine.
 */
export const CAPTURE_BATCH: readonly Buffer[] = [
  writeParse(CAPTURE_NAME, CAPTURE_SQL),
  writeBind("", CAPTURE_NAME),
  writeExecute(""),
  writeCloseStatement(CAPTURE_NAME),
  SYNC,
];

type CapturedJson = {
  statements: Array<[string, string, number[], boolean]>;
  settings: Array<[string, string]>;
  channels: string[];
  pinned: boolean;
};

/** Reads the capture's answer; throws with the server's message if it failed. */
export function readCapture(answer: Buffer): Capture {
  const messages = new MessageBuffer(Number.MAX_SAFE_INTEGER);
  messages.push(answer);
  let json: string | undefined;
  for (let m = messages.next(); m; m = messages.next()) {
    if (m.type === Backend.ErrorResponse) throw new Error(`capture failed: ${readFields(m.body).get("M")}`);
    if (m.type === Backend.DataRow) {
      const row = new BodyReader(m.body);
      row.readInt16();
      json = row.readBytes(row.readInt32()).toString("utf8");
    }
  }
  if (json === undefined) throw new Error("capture returned no row");
  const raw = JSON.parse(json) as CapturedJson;
  const statements = raw.statements.flatMap(([name, statement, paramTypes, fromSql]): PreparedStatement[] => {
    if (!fromSql) return [{ name, statement, paramTypes, fromSql }];
    const prepare = prepareText(statement, name);
    return prepare === undefined ? [] : [{ name, statement: prepare, paramTypes, fromSql }];
  });
  return { state: { statements, settings: raw.settings, channels: raw.channels }, pinned: raw.pinned };
}

/**
 * pg_prepared_statements shows the whole string a SQL-level PREPARE came in, other statements
 * and all: only that PREPARE is cut out to run again, never the rest. Undefined if it cannot be.
 */
function prepareText(source: string, name: string): string | undefined {
  try {
    const slice = statementSlicer(source);
    const found = (parseSql(source).stmts ?? []).findLast((raw) => raw.stmt !== undefined && "PrepareStmt" in raw.stmt && raw.stmt.PrepareStmt.name === name);
    return found && slice(found.stmt_location, found.stmt_len);
  } catch {
    return undefined;
  }
}

/**
 * Resets the engine and puts a session back: settings first (so its statements resolve names
 * as they did), then its prepared statements, then its LISTENs. Each step ends in its own Sync or
 * Query, so one that fails (a table dropped meanwhile) loses only itself, as on a server whose
 * table vanished. DISCARD ALL goes as a simple Query, which also destroys the unnamed statement
 * DISCARD leaves behind.
 */
export function restoreBatch(state: SessionState): Buffer[] {
  const out = [writeQuery("DISCARD ALL")];
  for (const [name, value] of state.settings) out.push(writeQuery(`SELECT pg_catalog.set_config(${literal(name)}, ${literal(value)}, false)`));
  for (const s of state.statements) {
    if (s.fromSql) out.push(writeQuery(s.statement));
    else out.push(writeParse(s.name, s.statement, s.paramTypes), SYNC);
  }
  for (const channel of state.channels) out.push(writeQuery(`LISTEN ${identifier(channel)}`));
  return out;
}

/** An escape string literal: the same whatever standard_conforming_strings says. */
function literal(value: string): string {
  return `E'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

function identifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
