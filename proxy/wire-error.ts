import { writeErrorResponse } from "./protocol/writer";

/** SQLSTATEs Airlock itself sends. https://www.postgresql.org/docs/current/errcodes-appendix.html */
export const SqlState = {
  InvalidPassword: "28P01",
  InvalidParameterValue: "22023",
  InvalidAuthorization: "28000",
  InvalidCatalogName: "3D000",
  ProtocolViolation: "08P01",
  ConnectionFailure: "08006",
  CannotConnectNow: "57P03",
  AdminShutdown: "57P01",
  CrashShutdown: "57P02",
  QueryCanceled: "57014",
  InsufficientPrivilege: "42501",
  ProgramLimitExceeded: "54000",
  TooManyConnections: "53300",
  ConfigurationLimitExceeded: "53400",
  FeatureNotSupported: "0A000",
  InternalError: "XX000",
  InFailedTransaction: "25P02",
  IdleInTransactionTimeout: "25P03",
  IdleSessionTimeout: "57P05",
} as const;
export type SqlStateCode = (typeof SqlState)[keyof typeof SqlState];

export type Severity = "ERROR" | "FATAL";

/**
 * The one error type that crosses the wire: it carries a real SQLSTATE and serializes itself.
 * Anything else thrown in a session becomes a generic message to the agent and a full log line.
 */
export class PgWireError extends Error {
  constructor(
    readonly code: SqlStateCode,
    message: string,
    readonly severity: Severity = "ERROR",
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "PgWireError";
  }

  toMessage(): Buffer {
    return writeErrorResponse({ severity: this.severity, code: this.code, message: this.message, detail: this.detail, hint: this.hint });
  }

  static fatal(code: SqlStateCode, message: string, detail?: string): PgWireError {
    return new PgWireError(code, message, "FATAL", detail);
  }
}
