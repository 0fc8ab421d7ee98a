import type { PreviewSession } from "./types";
import { onHeldPath, type PreviewStatement } from "./statements";

/** How long planning one held statement may take on Airlock's connection. */
export const ESTIMATE_TIMEOUT_MS = 5_000;

/**
 * The planner's estimate of the rows a write changes: EXPLAIN (FORMAT JSON), never ANALYZE, with
 * the statement's own parameters bound, in a READ ONLY transaction that is rolled back (planning
 * a write does not run it, and a read-only transaction refuses to should anything try). Each
 * ModifyTable node's input is what it would change; data-modifying CTEs each have their own.
 */
export async function estimateRows(session: PreviewSession, statement: PreviewStatement): Promise<{ rows: number } | { error: string }> {
  await session.query("BEGIN READ ONLY");
  try {
    await session.query(`SET LOCAL statement_timeout = ${ESTIMATE_TIMEOUT_MS}`);
    await session.query("SET LOCAL lock_timeout = 1000");
    await onHeldPath(session, statement);
    const result = await session.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.params, undefined, statement.formats);
    const plan = JSON.parse(result.rows[0]?.[0] ?? "[]") as Array<{ Plan?: PlanNode }>;
    const rows = plan.reduce((sum, p) => sum + (p.Plan ? modifiedRows(p.Plan) : 0), 0);
    return { rows: Math.round(rows) };
  } catch (err) {
    return { error: `the planner could not estimate it: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    await session.query("ROLLBACK").catch(() => undefined);
  }
}

interface PlanNode {
  "Node Type"?: string;
  "Plan Rows"?: number;
  Plans?: PlanNode[];
}

function modifiedRows(node: PlanNode): number {
  const children = node.Plans ?? [];
  // A ModifyTable's first input yields the rows it inserts, updates, deletes or merges.
  const own = node["Node Type"] === "ModifyTable" ? (children[0]?.["Plan Rows"] ?? 0) : 0;
  return own + children.reduce((sum, child) => sum + modifiedRows(child), 0);
}
