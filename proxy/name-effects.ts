import { mergeStatements } from "../lib/sql/merge";
import type { Classification, StatementInfo } from "../lib/sql/types";
import { unknownClassification } from "../lib/sql/unknown";
import type { PendingStatement } from "./response-tracker";
import type { PortalColumns } from "./session-masking";
import type { BoundUndo } from "./undo/execute-undo";
import { ALL, type PreparedName, type SessionNames, type Settle } from "./session-names";

/*
 * What statements do to a session's names (PREPARE, DEALLOCATE, DECLARE, CLOSE, DISCARD ALL), and
 * what a portal keeps of how it was judged: the relay's side of proxy/session-names.ts.
 */

/** Extended protocol: a portal as Bind judged it, for the Execute that runs it (and is the statement recorded). */
export interface Judged extends Pick<PendingStatement, "text" | "params" | "grantId" | "requestId" | "verdict" | "masking" | "changesSchema" | "trace" | "maxRows"> {
  /** Prepared statements its text runs by name (SQL EXECUTE inside it), as they were when it was bound. */
  executes: ReadonlyMap<string, PreparedName>;
  /** Its one statement, for what running it does to the session's names. */
  info: StatementInfo | undefined;
  columns: PortalColumns;
  /** Approved with undo: what its Execute captures with (proxy/undo/execute-undo.ts); taken by the first Execute. */
  undo?: BoundUndo;
}

/** What a statement that completes does to the session's names, to be settled by the server's answer. */
export function nameChanges(names: SessionNames<Judged>, info: StatementInfo, group: number, cursor: () => Judged): Settle | undefined {
  const { statements, portals } = names;
  const settles: Settle[] = [];
  // "*" from the classifier is ALL, and also a quoted name "*": dropping more than the server did is the safe side.
  if (info.prepares !== undefined) settles.push(statements.set(info.prepares, { text: info.text, info, described: {} }, group));
  if (info.deallocates !== undefined) settles.push(statements.drop(info.deallocates === "*" ? ALL : info.deallocates, group));
  if (info.declares) settles.push(portals.set(info.declares.name, { judged: cursor(), holdable: info.declares.holdable }, group));
  if (info.closes !== undefined) settles.push(portals.drop(info.closes === "*" ? ALL : info.closes, group));
  if (settles.length === 0) return undefined;
  return (ok) => {
    for (const settle of settles) settle(ok);
  };
}

/**
 * What a Parse makes, as SQL `EXECUTE name` would run it. A text that itself EXECUTEs another
 * prepared statement runs whatever that name means at the time, so it is not understood here.
 */
export function preparedInfo(text: string, classification: Classification): StatementInfo {
  const [first, ...rest] = classification.statements;
  const info = rest.reduce<StatementInfo>((merged, s) => mergeStatements(merged, s), first ?? unknownClassification(text, "an empty statement").statements[0]);
  if (!classification.statements.some((s) => s.executes !== undefined)) return info;
  return { ...info, kinds: [...info.kinds.filter((k) => k !== "unknown"), "unknown"], reasons: [...info.reasons, "it EXECUTEs another prepared statement, whatever that name means when it runs"] };
}

/** A cursor DECLAREd by statement `index` of a text runs as that statement was judged (Execute or FETCH of it). */
export function cursorOf(statement: PendingStatement, info: StatementInfo, index: number): Judged {
  const { params, grantId, requestId, verdict } = statement;
  const masking = statement.masking?.[index];
  return {
    text: info.text,
    params,
    grantId,
    requestId,
    verdict,
    masking: masking ? [masking] : undefined,
    executes: new Map(),
    info: undefined,
    columns: { resultFormats: [], portal: {}, statement: {} },
  };
}
