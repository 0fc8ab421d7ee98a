/**
 * Row filters on the wire: the statement that reaches the database is the rewritten one
 * (lib/decision/row-filters.ts). A Query carries its text, so it is sent rewritten. A Bind runs
 * what its Parse prepared, which went upstream rewritten when it was parsed: the Bind may run
 * only if that is exactly what the decision now wants (a policy reload in between, or a Parse
 * judged differently, refuses it). Anything else (a fast-path call) cannot carry a rewrite.
 */
import type { Decision } from "../lib/decision/decide";
import { Frontend } from "./protocol/message-codes";
import { writeQuery } from "./protocol/writer";

export function rowFilteredMessage(decision: Decision, raw: Buffer, original: string | undefined, sentAtParse?: string): { decision: Decision; raw: Buffer } {
  if (decision.action === "refuse") return { decision, raw };
  const type = raw[0];
  if (type === Frontend.Bind) {
    const wanted = decision.rewritten ?? original;
    if (sentAtParse === wanted || (sentAtParse === undefined && decision.rewritten === undefined)) return { decision, raw };
    return { decision: refused(decision, "airlock: the row filters for this statement are not the ones it was prepared with; prepare it again"), raw };
  }
  if (decision.rewritten === undefined) return { decision, raw };
  if (type === Frontend.Query) return { decision, raw: writeQuery(decision.rewritten) };
  return { decision: refused(decision, "airlock: row filters apply, and this message cannot carry a rewritten statement"), raw };
}

function refused(decision: Exclude<Decision, { action: "refuse" }>, message: string): Decision {
  const refusal = { action: "refuse" as const, code: "42501" as const, message, hint: "Send the statement again as a plain query, or Parse it again.", verdict: decision.verdict };
  return refusal;
}
