import type { StoreScope } from "../db/client";
import type { AuditRow } from "../db/schema";
import { GENESIS_HASH, rowHash } from "./chain";
import { prunedAnchor, storedHash } from "./chain-ends";

export interface RowCheck {
  /** The row's content still hashes to its stored hash. */
  contentMatches: boolean;
  /** Its prev_hash is the hash of the row before it (or of the anchor it follows). */
  followsPrevious: boolean;
  /** What it follows: the row before, the pruning anchor, or the start of the chain. */
  follows: { rowId: number } | "anchor" | "genesis" | "missing";
}

/**
 * One row's own part of the chain, cheap enough for its record page: its hash recomputed and its
 * link to the row before. The whole chain's verdict (every row, checkpoints) is `verifyChain`'s.
 */
export async function checkRow(scope: StoreScope, row: AuditRow): Promise<RowCheck> {
  const content = {
    id: row.id,
    at: row.at.getTime(),
    type: row.type,
    agentId: row.agentId,
    person: row.person,
    resource: row.resource,
    sessionId: row.sessionId,
    requestId: row.requestId,
    grantId: row.grantId,
    decision: row.decision,
    sql: row.sql,
    tables: row.tables,
    data: row.data,
    source: row.source,
  };
  const contentMatches = rowHash(row.prevHash, content) === row.hash;
  const previous = await storedHash(scope, row.id - 1);
  if (previous !== undefined) return { contentMatches, followsPrevious: previous === row.prevHash, follows: { rowId: row.id - 1 } };
  const anchor = await prunedAnchor(scope);
  if (anchor && anchor.rowId === row.id - 1) return { contentMatches, followsPrevious: anchor.hash === row.prevHash, follows: "anchor" };
  if (row.id === 1) return { contentMatches, followsPrevious: row.prevHash === GENESIS_HASH, follows: "genesis" };
  return { contentMatches, followsPrevious: false, follows: "missing" };
}
