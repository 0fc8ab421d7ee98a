import { format } from "node:util";
import { ConfigError } from "./config";

/**
 * Airlock's log lines: readable `[component] message` lines by default, one JSON object per line
 * with AIRLOCK_LOG_FORMAT=json (for log shippers), filtered by AIRLOCK_LOG_LEVEL. Its own few lines
 * rather than pino: Airlock logs little, and no transport or worker thread is worth a dependency.
 * Values of fields whose names say secret (token, password, secret, authorization, cookie) are
 * never written, whatever the caller passes.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "text" | "json";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** `err` goes in `fields.err`: its message, code and stack are written, not its properties. */
  error(message: string, fields?: LogFields): void;
}

export interface LogSettings {
  format: LogFormat;
  level: LogLevel;
}

const SECRET_FIELD = /token|password|secret|authorization|cookie/i;

/** AIRLOCK_LOG_FORMAT and AIRLOCK_LOG_LEVEL, checked: a typo must not silently log everything or nothing. */
export function readLogSettings(env: Record<string, string | undefined> = process.env): LogSettings {
  const formatName = (env.AIRLOCK_LOG_FORMAT || "text").toLowerCase();
  if (formatName !== "text" && formatName !== "json") throw new ConfigError(`AIRLOCK_LOG_FORMAT must be text or json, got "${env.AIRLOCK_LOG_FORMAT}"`);
  const level = (env.AIRLOCK_LOG_LEVEL || "info").toLowerCase();
  if (!isLevel(level)) throw new ConfigError(`AIRLOCK_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.AIRLOCK_LOG_LEVEL}"`);
  return { format: formatName, level };
}

function isLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

let settings: LogSettings | undefined;
// The console as it was, so lines routed here (installConsole) are not routed back.
const out = { log: console.log.bind(console), error: console.error.bind(console) };

function current(): LogSettings {
  settings ??= readLogSettings();
  return settings;
}

/** Settings for this process (server.ts after reading .env; tests). */
export function configureLogs(next: LogSettings): void {
  settings = next;
}

export function logger(component: string): Logger {
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => write(level, component, message, fields);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function write(level: LogLevel, component: string, message: string, fields: LogFields = {}): void {
  const { format: fmt, level: threshold } = current();
  if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(threshold)) return;
  const sink = level === "warn" || level === "error" ? out.error : out.log;
  const safe = redact(fields);
  if (fmt === "json") {
    sink(JSON.stringify({ time: new Date().toISOString(), level, component, msg: message, ...safe }));
    return;
  }
  const rest = Object.entries(safe).filter(([key]) => key !== "err");
  const extra = rest.length > 0 ? ` ${rest.map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")}` : "";
  const line = `[${component}] ${message}${extra}`;
  if (fields.err !== undefined) sink(line, fields.err);
  else sink(line);
}

function redact(fields: LogFields): LogFields {
  const safe: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) safe[key] = "[redacted]";
    else if (key === "err") safe.err = errorFields(value);
    else safe[key] = value;
  }
  return safe;
}

function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return format("%s", err);
  const code = (err as Error & { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code === undefined ? {} : { code }), stack: err.stack };
}

/**
 * With JSON logs every line must be JSON, including those of code that still writes to the
 * console (and Next.js's own): console.log/info/warn/error become log lines, their component
 * taken from a leading `[name]`.
 */
export function installConsole(): void {
  if (current().format !== "json") return;
  const route = (level: LogLevel) => (...args: unknown[]) => {
    const err = args.find((a) => a instanceof Error);
    const text = format(...args.filter((a) => a !== err));
    const match = /^\[([\w.-]+)\]\s*/.exec(text);
    write(level, match ? match[1] : "airlock", match ? text.slice(match[0].length) : text, err ? { err } : undefined);
  };
  console.log = route("info");
  console.info = route("info");
  console.warn = route("warn");
  console.error = route("error");
}
