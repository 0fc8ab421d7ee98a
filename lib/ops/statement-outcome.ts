import type { StatementRecord } from "../activity/recorder";
import { strictest } from "../sql/collector";

/** A statement's fate as metrics count it: a small fixed set, so label values stay bounded. */
export const STATEMENT_OUTCOMES = ["allowed", "masked", "refused", "held", "approved", "denied", "expired", "cancelled"] as const;
export type StatementOutcome = (typeof STATEMENT_OUTCOMES)[number];

/**
 * Read from what the recorder sees: a statement tied to a request was held for people, and how it
 * ended says the rest (it ran: approved; refused with the words the proxy uses for each ending;
 * refused at once in return mode with its request open: held). Otherwise policy let it run (its
 * values masked or not) or refused it. A statement the database itself failed still counts as
 * allowed: Airlock's decision is what is counted.
 */
export function statementOutcome(row: Pick<StatementRecord, "outcome" | "requestId" | "errorMessage" | "masked">): StatementOutcome {
  if (row.requestId) {
    if (row.outcome !== "refused") return "approved";
    const message = row.errorMessage ?? "";
    if (message.startsWith("airlock: denied by")) return "denied";
    if (message === "airlock: approval timed out") return "expired";
    if (/^airlock: request \S+ cancelled/.test(message)) return "cancelled";
    return "held";
  }
  if (row.outcome === "refused") return "refused";
  return row.masked ? "masked" : "allowed";
}

/** The strictest kind of the statement(s), as policy judged them; `unknown` when it was not judged. */
export function statementKind(row: Pick<StatementRecord, "verdict">): string {
  const judged = row.verdict?.statements ?? [];
  // One statement (the usual case) without gathering its kinds into a new array.
  const kinds = judged.length === 1 ? judged[0].statement.kinds : judged.flatMap((s) => s.statement.kinds);
  return strictest(kinds) ?? "unknown";
}
