import type { Store } from "../db/client";
import { CHAIN_LOCK } from "./chain";
import { lastRow } from "./chain-ends";

const FIRST_KEPT = "select min(id) as id from audit_log where at >= ?";
const LAST_BEFORE = "select id, hash from audit_log where id < ? order by id desc limit 1";

/**
 * Removes rows older than `days` from the start of the chain and records the hash the remaining
 * chain starts from, so `audit verify` still walks it. Returns how many rows went. Under the
 * chain's lock: an append elsewhere must not read a head that this removes.
 */
export function pruneAudit(store: Store, days: number, now = new Date()): Promise<number> {
  const cutoff = now.getTime() - days * 86_400_000;
  return store.transaction(async (tx) => {
    await tx.lock(CHAIN_LOCK);
    // The oldest rows, up to the first one that is young enough: the chain is cut in one place.
    const firstKept = await tx.sql.get<{ id: number | null }>(FIRST_KEPT, [cutoff]);
    const last = firstKept?.id == null ? await lastRow(tx) : await tx.sql.get<{ id: number; hash: string }>(LAST_BEFORE, [firstKept.id]);
    if (!last) return 0;
    const removed = await tx.sql.run("delete from audit_log where id <= ?", [last.id]);
    await tx.sql.run("insert into audit_anchors (kind, at, row_id, hash) values ('pruned', ?, ?, ?)", [now.getTime(), last.id, last.hash]);
    return removed;
  });
}
