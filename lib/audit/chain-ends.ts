/** The chain's ends and links as the store holds them, read alike by whoever appends, prunes, signs or verifies. */
import type { StoreScope } from "../db/client";

export interface PrunedAnchor {
  /** The last row pruned: the first kept row follows it. */
  rowId: number;
  hash: string;
}

const LAST_ROW = "select id, hash from audit_log order by id desc limit 1";
const HASH_OF = "select hash from audit_log where id = ?";
const LAST_ANCHOR = `select row_id as "rowId", hash from audit_anchors where kind = 'pruned' order by id desc limit 1`;

/** The newest row; undefined when the log is empty (new, or pruned to nothing). */
export function lastRow(scope: StoreScope): Promise<{ id: number; hash: string } | undefined> {
  return scope.sql.get(LAST_ROW);
}

/** Where the chain starts since it was last pruned; undefined if it never was. */
export function prunedAnchor(scope: StoreScope): Promise<PrunedAnchor | undefined> {
  return scope.sql.get(LAST_ANCHOR);
}

/** The hash stored with row `id`; undefined if there is no such row. */
export async function storedHash(scope: StoreScope, id: number): Promise<string | undefined> {
  return (await scope.sql.get<{ hash: string }>(HASH_OF, [id]))?.hash;
}
