import type { AccessRequest, RequestDecision } from "../db/schema";
import { loadSqlParser, parseSql } from "../sql/parser";
import { isRevert } from "./undo/types";

/**
 * "Approve with limits": an approver may approve a held write for at most N rows. The proxy runs
 * it in a transaction (or under a savepoint) and rolls it back if it changes more
 * (proxy/row-limit.ts). The limit binds this one run of the held statement; a grant made by the
 * same approval is not limited.
 */

/** The largest limit an approver may set: PostgreSQL's command tags count in 64 bits, people in fewer. */
export const MAX_ROW_LIMIT = 2 ** 31 - 1;

/** Kinds whose command tag counts rows changed: a limit means something only for these. */
const ROW_KINDS = new Set(["insert", "update", "delete", "merge"]);

/** Whether the page offers a row limit for this request: a held statement that changes rows (the service checks the rest). */
export function offersRowLimit(request: Pick<AccessRequest, "kind" | "scope" | "statements">): boolean {
  return request.kind === "statement" && !isRevert(request) && request.scope.some((p) => ROW_KINDS.has(p.kind));
}

/** Why this limit cannot be set on this request, or undefined when it can (or none is set). */
export async function invalidRowLimit(request: Pick<AccessRequest, "kind" | "scope" | "statements">, maxRows: number | null | undefined): Promise<string | undefined> {
  if (maxRows === null || maxRows === undefined) return undefined;
  if (!Number.isInteger(maxRows) || maxRows < 0 || maxRows > MAX_ROW_LIMIT) return `the row limit must be a whole number from 0 to ${MAX_ROW_LIMIT}`;
  if (!offersRowLimit(request)) return "a row limit applies to a held statement that changes rows (INSERT, UPDATE, DELETE, MERGE)";
  const [held, ...prepared] = request.statements;
  if (!held || prepared.length > 0) return "a row limit applies to a statement that runs no prepared statement by name";
  // The web's process may not have parsed SQL yet (the proxy's loads the parser at start).
  await loadSqlParser();
  return whyNotRowLimitable(held.text);
}

/** Statement nodes whose command tag counts exactly the rows they change. */
const COUNTED = ["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"];

/**
 * Why a text cannot run under a row limit, or undefined when it can: it must be one INSERT,
 * UPDATE, DELETE or MERGE without a WITH clause. The limit is checked against the command tag,
 * which counts the rows of the outer statement only: a data-modifying CTE's rows are not in it,
 * and a transaction statement in the text would end the transaction the limit runs in.
 */
export function whyNotRowLimitable(text: string): string | undefined {
  let stmts;
  try {
    stmts = parseSql(text).stmts ?? [];
  } catch {
    return "a row limit needs a statement Airlock can parse";
  }
  if (stmts.length !== 1) return "a row limit applies to a single statement, not to a text of several";
  const node = (stmts[0].stmt ?? {}) as Record<string, { withClause?: unknown } | undefined>;
  const kind = COUNTED.find((k) => node[k] !== undefined);
  if (!kind) return "a row limit applies to a single INSERT, UPDATE, DELETE or MERGE";
  if (node[kind]?.withClause) return "a row limit cannot count the rows of a statement with a WITH clause (its command tag counts only the outer statement)";
  return undefined;
}

/** The limit the approvals set together: the smallest any approver set, or null when none set one. */
export function rowLimitOf(decisions: ReadonlyArray<Pick<RequestDecision, "decision" | "maxRows">>): number | null {
  const limits = decisions.filter((d) => d.decision === "approve" && d.maxRows !== null).map((d) => d.maxRows as number);
  return limits.length === 0 ? null : Math.min(...limits);
}
