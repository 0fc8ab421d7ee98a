import type { Db } from "../db/client";
import { GENESIS_HASH, rowHash, type ChainedRow } from "./chain";
import { verifyCheckpoint } from "./checkpoints";

export type Verdict =
  | { ok: true; rows: number; head?: { id: number; hash: string }; checkpoints: number }
  | { ok: false; rows: number; rowId: number; problem: string };

type StoredRow = ChainedRow & { prevHash: string; hash: string };

/**
 * Walks the chain from its anchor (the start, or where pruning left it) and names the first row
 * that does not hold: one whose content no longer matches its hash (edited), or one that does not
 * follow the row before it (a row deleted, inserted or moved). Signed checkpoints must still
 * match the rows they name. Streams the rows: memory stays flat however long the log.
 */
export function verifyChain(db: Db, publicKeyPem?: string): Verdict {
  const sqlite = db.$client;
  const anchor = sqlite.prepare("select row_id as rowId, hash from audit_anchors where kind = 'pruned' order by id desc limit 1").get() as { rowId: number; hash: string } | undefined;
  let expectedId = (anchor?.rowId ?? 0) + 1;
  let prev = anchor?.hash ?? GENESIS_HASH;
  let rows = 0;
  const iterate = sqlite
    .prepare(
      `select id, at, type, agent_id as agentId, person, resource, session_id as sessionId, request_id as requestId, grant_id as grantId,
              decision, sql, tables, data, source, prev_hash as prevHash, hash
       from audit_log order by id`,
    )
    .iterate() as IterableIterator<StoredRow>;
  for (const row of iterate) {
    const { prevHash, hash, ...content } = row;
    if (row.id !== expectedId) {
      return fail(rows, row.id, row.id > expectedId ? `rows ${expectedId}–${row.id - 1} are missing (deleted)` : `row ${row.id} is out of place`);
    }
    if (prevHash !== prev) return fail(rows, row.id, `row ${row.id} does not follow row ${row.id - 1}: a row before it was deleted, inserted or replaced`);
    if (rowHash(prevHash, content) !== hash) return fail(rows, row.id, `row ${row.id} was edited: its content no longer matches its hash`);
    prev = hash;
    expectedId++;
    rows++;
  }

  let checkpoints = 0;
  const signed = sqlite.prepare("select row_id as rowId, hash, at, signature from audit_anchors where kind = 'checkpoint' order by id").all() as Array<{ rowId: number; hash: string; at: number; signature: string | null }>;
  const hashOf = sqlite.prepare("select hash from audit_log where id = ?");
  for (const c of signed) {
    if (publicKeyPem && !verifyCheckpoint(publicKeyPem, c)) return fail(rows, c.rowId, `the checkpoint of row ${c.rowId} has a bad signature`);
    const stored = hashOf.get(c.rowId) as { hash: string } | undefined;
    if (stored && stored.hash !== c.hash) return fail(rows, c.rowId, `row ${c.rowId} differs from the signed checkpoint: the chain was rewritten`);
    checkpoints++;
  }
  return { ok: true, rows, head: rows > 0 ? { id: expectedId - 1, hash: prev } : undefined, checkpoints };
}

function fail(rows: number, rowId: number, problem: string): Verdict {
  return { ok: false, rows, rowId, problem };
}
