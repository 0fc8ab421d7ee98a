import type { StoreScope } from "../db/client";
import { GENESIS_HASH, rowHash, type ChainedRow } from "./chain";
import { prunedAnchor, storedHash } from "./chain-ends";
import { verifyCheckpoint, type Checkpoint } from "./checkpoints";

export type Verdict =
  | { ok: true; rows: number; head?: { id: number; hash: string }; checkpoints: number }
  | { ok: false; rows: number; rowId: number; problem: string };

type StoredRow = ChainedRow & { prevHash: string; hash: string };

/** Rows read at a time: memory stays flat however long the log, and no cursor stays open between pages. */
export const VERIFY_PAGE_ROWS = 1_000;

const PAGE = `select id, at, type, agent_id as "agentId", person, resource, session_id as "sessionId", request_id as "requestId", grant_id as "grantId",
                     decision, sql, tables, data, source, prev_hash as "prevHash", hash
              from audit_log where id > ? order by id limit ${VERIFY_PAGE_ROWS}`;
const CHECKPOINTS = `select row_id as "rowId", hash, at, signature from audit_anchors where kind = 'checkpoint' order by id`;

/**
 * Walks the chain from its anchor (the start, or where pruning left it) and names the first row
 * that does not hold: one whose content no longer matches its hash (edited), or one that does not
 * follow the row before it (a row deleted, inserted or moved). Signed checkpoints must still
 * match the rows they name. Reads a page at a time, and lets the event loop turn between pages:
 * the proxy shares it, and a long log takes a second or more.
 */
export async function verifyChain(scope: StoreScope, publicKeyPem?: string): Promise<Verdict> {
  let anchor = await prunedAnchor(scope);
  let expectedId = (anchor?.rowId ?? 0) + 1;
  let prev = anchor?.hash ?? GENESIS_HASH;
  let rows = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await scope.sql.all<StoredRow>(PAGE, [after]);
    for (const row of page) {
      const { prevHash, hash, ...content } = row;
      if (row.id > expectedId) {
        // Pages are not one snapshot: retention (here or on another instance) may have pruned up to this row since the walk began.
        const now = await prunedAnchor(scope);
        if (now && now.rowId !== anchor?.rowId && now.rowId === row.id - 1) {
          [anchor, expectedId, prev] = [now, row.id, now.hash];
        }
      }
      if (row.id !== expectedId) {
        return fail(rows, row.id, row.id > expectedId ? `rows ${expectedId}–${row.id - 1} are missing (deleted)` : `row ${row.id} is out of place`);
      }
      if (prevHash !== prev) return fail(rows, row.id, `row ${row.id} does not follow row ${row.id - 1}: a row before it was deleted, inserted or replaced`);
      if (rowHash(prevHash, content) !== hash) return fail(rows, row.id, `row ${row.id} was edited: its content no longer matches its hash`);
      prev = hash;
      expectedId++;
      rows++;
    }
    if (page.length < VERIFY_PAGE_ROWS) break;
    after = page[page.length - 1].id;
    await new Promise((resolve) => setImmediate(resolve));
  }

  let checkpoints = 0;
  for (const c of await scope.sql.all<Checkpoint>(CHECKPOINTS)) {
    if (publicKeyPem && !verifyCheckpoint(publicKeyPem, c)) return fail(rows, c.rowId, `the checkpoint of row ${c.rowId} has a bad signature`);
    const stored = await storedHash(scope, c.rowId);
    if (stored !== undefined && stored !== c.hash) return fail(rows, c.rowId, `row ${c.rowId} differs from the signed checkpoint: the chain was rewritten`);
    checkpoints++;
  }
  return { ok: true, rows, head: rows > 0 ? { id: expectedId - 1, hash: prev } : undefined, checkpoints };
}

function fail(rows: number, rowId: number, problem: string): Verdict {
  return { ok: false, rows, rowId, problem };
}
