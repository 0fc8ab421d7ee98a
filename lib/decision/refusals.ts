import { describeLimit, type LimitName } from "../policy/limits";

/**
 * Every refusal Airlock sends an agent in place of a statement's result, in one place: the
 * message names the rule (or the person, or the limit) and the part of the statement, and the
 * hint (ErrorResponse field H) says what to do instead, in a sentence an LLM can follow. The
 * SQLSTATEs are the ones the contract names; messages keep the `airlock:` prefix and their first
 * words, which the metrics read (lib/ops/statement-outcome.ts).
 */
export interface Refusal {
  code: RefusalCode;
  message: string;
  hint: string;
}

/** 42501 by policy or a person, 57014 a wait or a run that ended, 57P03 the store away, 53400/54000 a limit, 0A000 not served. */
export type RefusalCode = "42501" | "57014" | "57P03" | "53400" | "54000" | "0A000";

const REQUEST_ACCESS = "ask for time-boxed access with `airlock request --resource NAME --access write --for 30m --reason ...` and resend once it is granted";

export const refusals = {
  /** A deny rule matched; `why` names what the statement does (kinds, tables, functions). */
  deniedByRule: (rule: string, why: string): Refusal => ({
    code: "42501",
    message: `airlock: denied by rule ${rule}: ${why}`,
    hint: `Rule ${rule} refuses this whatever is approved; leave out the part it names, or ask a person to change the policy.`,
  }),
  /** No rule matched: `why` says what the statement does. */
  noRule: (why: string): Refusal => ({
    code: "42501",
    message: `airlock: ${why}`,
    hint: "Send only what your rules allow (`airlock policy explain --sql ...` shows which rule matches a statement), or ask a person to add a rule.",
  }),
  binaryCopyMasked: (): Refusal => ({
    code: "42501",
    message: "airlock: COPY in binary format cannot be masked; use FORMAT text or csv",
    hint: "Use COPY ... TO STDOUT (FORMAT text) or (FORMAT csv): the columns that are masked for you stay masked.",
  }),
  fastPathUnmaskable: (): Refusal => ({
    code: "42501",
    message: "airlock: a fast-path call's result cannot be masked, and this agent's results are; call the function in SQL instead",
    hint: "Call the function in SQL instead (SELECT the_function(...)).",
  }),
  fastPathUnknown: (oid: number): Refusal => ({
    code: "42501",
    message: `airlock: no rule allows this: a fast-path call of function ${oid}, which the catalog does not know`,
    hint: "Call the function by name in SQL instead.",
  }),
  /** An Execute of a portal Airlock cannot tie to how it was judged. */
  unjudgedPortal: (why: string): Refusal => ({
    code: "42501",
    message: `airlock: no rule allows this: ${why}`,
    hint: "Prepare and bind the statement again (Parse, Bind, Execute in one go), then execute it.",
  }),
  judgingFailed: (): Refusal => ({
    code: "42501",
    message: "airlock: Airlock failed to judge this statement (the fault is logged); it was not run",
    hint: "Send it again, or write it more simply; if it keeps failing, tell the people who run Airlock.",
  }),
  sharedCopyInExtended: (): Refusal => ({
    code: "0A000",
    message: "airlock: on the shared embedded database COPY FROM STDIN runs only as a simple Query, not through the extended protocol",
    hint: "Send the COPY as a simple query (no parameters), or use INSERT.",
  }),
  /** A review rule matched where a statement cannot wait (the shared embedded database): `where` says why not. */
  cannotWait: (rule: string, where: string): Refusal => ({
    code: "42501",
    message: `airlock: rule ${rule} needs approval, ${where}`,
    hint: `Writes under rule ${rule} need approval: send it again outside a transaction to wait for a person, or ${REQUEST_ACCESS}.`,
  }),
  /** Return mode: the request is open; `url` is where people decide it. */
  approvalRequired: (rule: string, requestId: string, url: string): Refusal => ({
    code: "42501",
    message: `airlock: approval required by rule ${rule} — request ${requestId}: ${url} (once approved, send the same statement again)`,
    hint: `Wait until request ${requestId} is approved (\`airlock request status ${requestId} --wait\`), then send exactly the same statement again; or ${REQUEST_ACCESS}.`,
  }),
  /** Approved for at most N rows, but its command tag would not count them (lib/approvals/row-limit.ts says why). */
  rowLimitUnfit: (maxRows: number, why: string): Refusal => ({
    code: "42501",
    message: `airlock: approved for at most ${maxRows} rows, but ${why}; it was not run`,
    hint: "Send it as one INSERT, UPDATE, DELETE or MERGE on its own, so its row count can be checked; or ask for a new approval without a row limit.",
  }),
  deniedByPerson: (by: string, reason: string): Refusal => ({
    code: "42501",
    message: `airlock: denied by ${by}: ${reason}`,
    hint: "A person refused this statement: do not send it again as it is; change it as the reason says, or ask them.",
  }),
  approvalTimedOut: (): Refusal => ({
    code: "57014",
    message: "airlock: approval timed out",
    hint: "Nobody decided in time: send it again to wait once more, or ask for access with `airlock request` saying why it is needed.",
  }),
  requestCancelled: (requestId: string, reason: string): Refusal => ({
    code: "57014",
    message: `airlock: request ${requestId} cancelled: ${reason}`,
    hint: "The request ended before anyone decided; send the statement again if it is still needed.",
  }),
  approvalStoreDown: (): Refusal => ({
    code: "57P03",
    message: "airlock: the approval store is not answering, so this statement cannot be held for approval; it was not run (try again shortly)",
    hint: "Retry in a few seconds; reads that need no approval may still work.",
  }),
  tooManyPending: (message: string): Refusal => ({
    code: "53400",
    message,
    hint: "Wait for your open requests to be decided (`airlock request status ID`), or withdraw one, before sending another statement that needs approval.",
  }),
  auditUnwritable: (): Refusal => ({
    code: "57P03",
    message: "airlock: the audit trail cannot be written (the store is not answering), so statements are refused until it is back; nothing was run",
    hint: "Retry in a little while; nothing runs until the audit trail can record it.",
  }),
  /** `statements_per_minute` spent: retry after `seconds`. */
  rate: (rule: string, limit: number, seconds: number): Refusal => ({
    code: "53400",
    message: `airlock: statements_per_minute ${limit} reached under rule ${rule}; retry in ${seconds}s`,
    hint: `Wait ${seconds} seconds before the next statement, and do more per statement (one query instead of many).`,
  }),
  /** A result went over `max_rows` or `max_result_bytes`, or a statement over `statement_timeout`. */
  limit: (name: Exclude<LimitName, "statements_per_minute">, value: number, rule: string): Refusal => ({
    code: name === "statement_timeout" ? "57014" : "54000",
    message:
      name === "statement_timeout"
        ? `airlock: canceling statement due to ${describeLimit(name, value)} of rule ${rule}`
        : `airlock: ${describeLimit(name, value)} of rule ${rule} reached; the statement failed`,
    hint: LIMIT_HINTS[name],
  }),
} as const;

const LIMIT_HINTS: Record<Exclude<LimitName, "statements_per_minute">, string> = {
  max_rows: "Add a LIMIT, a narrower WHERE, or aggregate (count, sum, GROUP BY) so fewer rows come back; page through with LIMIT/OFFSET or a keyset.",
  max_result_bytes: "Select fewer columns (leave out large text, json and bytea), add a LIMIT, or aggregate, so the result is smaller.",
  statement_timeout: "Make the statement cheaper: filter on indexed columns, add a LIMIT, or split the work into smaller statements.",
};

export type RefusalKind = keyof typeof refusals;

/** The notice a truncated result ends with (`on_limit: truncate`): the rows so far are all that come. */
export function truncationNotice(name: "max_rows" | "max_result_bytes", value: number, rule: string): { message: string; hint: string } {
  return { message: `airlock: ${describeLimit(name, value)} of rule ${rule} reached; the result is truncated`, hint: LIMIT_HINTS[name] };
}

const LIMIT_TEXT = /^airlock: (?:canceling statement due to )?(statements_per_minute|max_rows|max_result_bytes|statement_timeout) (\S+)/;

/** The budget a recorded statement ran into, read back from its message ("max_rows 10000", "… (truncated)"), for the Sessions page. */
export function limitNote(message: string | null | undefined): string | undefined {
  const match = LIMIT_TEXT.exec(message ?? "");
  if (!match) return undefined;
  return `${match[1]} ${match[2]}${message!.endsWith("the result is truncated") ? " (truncated)" : ""}`;
}
