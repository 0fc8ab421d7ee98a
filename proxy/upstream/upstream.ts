import { SECURITY_SETTINGS } from "../../lib/sql/statement-kinds";
import { PgWireError, SqlState } from "../wire-error";

/** A connection to the database an agent's session runs against, whatever kind it is. */
export interface Upstream {
  /** ParameterStatus values the server reported at startup; the agent sees them as its own. */
  readonly parameters: ReadonlyMap<string, string>;
  /**
   * True when other connections take turns on the same backend session (embedded PGlite): while
   * this one is in a transaction, the others wait.
   */
  readonly shared?: boolean;
  /** Sends protocol bytes; false means "stop until drain" (backpressure). */
  write(data: Buffer): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** Fires once, when the connection is gone for any reason; a PgWireError is the server's own word to the agent. */
  onClose(listener: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  /** Asks the server, out of band, to cancel whatever this connection is running now. */
  cancel(): Promise<void>;
  /** Ends the connection politely (Terminate), or at once when destroy is true. */
  close(destroy?: boolean): void;
}

/**
 * What an agent's startup parameters become upstream. PostgreSQL takes every startup parameter
 * but `user`, `database`, `replication` and `options` as a setting, by case-insensitive name, and
 * `options` as command-line switches (`-c name=value`, `--name=value`). What any SET could change
 * is passed on; what would change privileges or how statements are read (role, search_path, a
 * client_encoding other than UTF8…), and replication, is refused with a FATAL at startup: never
 * dropped without a word. https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export function forwardedParams(params: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = { client_encoding: "UTF8" };
  for (const [name, value] of params) {
    const key = name.toLowerCase();
    if (key === "user" || key === "database") continue;
    if (key === "replication") {
      if (!OFF.has(value.toLowerCase())) throw PgWireError.fatal(SqlState.FeatureNotSupported, "airlock: replication connections are not served through Airlock");
    } else if (key === "options") {
      for (const [setting, v] of readOptions(value)) forwardSetting(out, setting, v);
    } else forwardSetting(out, key, value);
  }
  return out;
}

/** Settings PostgreSQL reports by a mixed-case name (ParameterStatus). */
const CANONICAL_NAMES: Record<string, string> = { datestyle: "DateStyle", intervalstyle: "IntervalStyle", timezone: "TimeZone" };
const OFF = new Set(["false", "off", "no", "0"]);
/** Encodings Airlock can serve: statements are parsed as UTF-8 (SQL_ASCII asks for bytes as they are). */
const SERVED_ENCODINGS = new Set(["utf8", "unicode", "sqlascii"]);

function forwardSetting(out: Record<string, string>, name: string, value: string): void {
  const key = name.toLowerCase();
  if (key === "client_encoding") {
    if (SERVED_ENCODINGS.has(value.toLowerCase().replace(/[^a-z0-9]/g, ""))) return;
    throw PgWireError.fatal(SqlState.FeatureNotSupported, `airlock: client_encoding ${value} is not served: Airlock reads and answers in UTF8`);
  }
  const why = SECURITY_SETTINGS.get(key);
  if (why) throw PgWireError.fatal(SqlState.InsufficientPrivilege, `airlock: the startup parameter ${key} is not allowed: it ${why}; use SET, where policy decides`);
  out[CANONICAL_NAMES[key] ?? key] = value;
}

/**
 * The `options` parameter as PostgreSQL splits it (pg_split_opts: whitespace separates, a
 * backslash keeps the next character) and reads it: `-c name=value` or `--name=value`, where a
 * dash in a name stands for an underscore. Any other switch is refused.
 */
export function readOptions(options: string): Array<[string, string]> {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c === "\\" && i + 1 < options.length ? options[++i] : c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const settings: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    const assignment = words[i] === "-c" ? words[++i] : words[i].startsWith("--") ? words[i].slice(2) : words[i].startsWith("-c") ? words[i].slice(2) : undefined;
    const eq = assignment?.indexOf("=") ?? -1;
    if (assignment === undefined || eq <= 0) {
      throw PgWireError.fatal(SqlState.FeatureNotSupported, `airlock: the startup option "${words[i] ?? words[i - 1]}" is not served; only -c name=value and --name=value are`);
    }
    settings.push([assignment.slice(0, eq).replace(/-/g, "_"), assignment.slice(eq + 1)]);
  }
  return settings;
}
