/**
 * Message type bytes and startup codes of the PostgreSQL frontend/backend protocol 3.0.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
const code = (c: string) => c.charCodeAt(0);

export const Frontend = {
  Query: code("Q"),
  Parse: code("P"),
  Bind: code("B"),
  Execute: code("E"),
  Describe: code("D"),
  Close: code("C"),
  Sync: code("S"),
  Flush: code("H"),
  Terminate: code("X"),
  CopyData: code("d"),
  CopyDone: code("c"),
  CopyFail: code("f"),
  FunctionCall: code("F"),
  Password: code("p"),
} as const;

export const Backend = {
  Authentication: code("R"),
  BackendKeyData: code("K"),
  BindComplete: code("2"),
  CloseComplete: code("3"),
  CommandComplete: code("C"),
  CopyData: code("d"),
  CopyDone: code("c"),
  CopyInResponse: code("G"),
  CopyOutResponse: code("H"),
  CopyBothResponse: code("W"),
  DataRow: code("D"),
  EmptyQueryResponse: code("I"),
  ErrorResponse: code("E"),
  NoticeResponse: code("N"),
  NotificationResponse: code("A"),
  NoData: code("n"),
  NegotiateProtocolVersion: code("v"),
  ParameterDescription: code("t"),
  ParameterStatus: code("S"),
  ParseComplete: code("1"),
  PortalSuspended: code("s"),
  ReadyForQuery: code("Z"),
  RowDescription: code("T"),
} as const;

/** Authentication request subtypes (the Int32 after 'R'). */
export const Auth = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** The Int32 that follows the length in an untyped startup-phase packet. */
export const StartupCode = {
  Protocol3: 196608, // 3.0
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
  CancelRequest: 80877102,
} as const;

/** ReadyForQuery's transaction status byte. */
export const TxStatus = {
  Idle: code("I"),
  InTransaction: code("T"),
  Failed: code("E"),
} as const;
