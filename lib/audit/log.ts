import { boundText } from "../activity/statement-text";
import type { Store, StoreScope, Transaction } from "../db/client";
import { multiRowInsert } from "../db/insert-rows";
import { CHAIN_LOCK, GENESIS_HASH, rowHash, type ChainedRow } from "./chain";
import { lastRow, prunedAnchor } from "./chain-ends";

/** What happened, as the audit log takes it; the log adds id and hashes. */
export interface AuditEntry {
  at: Date;
  type: string;
  agentId?: string | null;
  person?: string | null;
  resource?: string | null;
  sessionId?: string | null;
  requestId?: string | null;
  grantId?: string | null;
  decision?: string | null;
  sql?: string | null;
  tables?: readonly string[] | null;
  data?: Record<string, unknown>;
  /** For an event read back from the store: what it is, so that it is recorded once only. */
  source?: string;
}

const insertRows = multiRowInsert("audit_log", ["id", "at", "type", "agent_id", "person", "resource", "session_id", "request_id", "grant_id", "decision", "sql", "tables", "data", "source", "prev_hash", "hash"]);
const HAS_SOURCE = "select 1 as found from audit_log where source = ?";

/**
 * Appends to the chain. The head is read from the store inside the write transaction, under the
 * chain's lock, not kept in memory: whoever appends (the proxy's recorder, the dashboard, another
 * instance on the same store) extends the one chain, and a rolled-back transaction leaves nothing
 * to undo.
 */
export class AuditLog {
  constructor(private readonly store: Store) {}

  /** Appends in a transaction of its own; returns how many rows were added. */
  append(entries: readonly AuditEntry[]): Promise<number> {
    return entries.length === 0 ? Promise.resolve(0) : this.store.transaction((tx) => this.appendWithin(tx, entries));
  }

  /**
   * Appends inside the caller's transaction (the recorder's batch: a statement is in both records
   * or in neither). The chain stays locked until that transaction ends, so call this last in it.
   */
  async appendWithin(tx: Transaction, entries: readonly AuditEntry[]): Promise<number> {
    return (await this.appendNew(tx, entries)).length;
  }

  /** appendWithin, answering which of the entries were added: those whose source was not recorded yet. */
  async appendNew(tx: Transaction, entries: readonly AuditEntry[]): Promise<AuditEntry[]> {
    if (entries.length === 0) return [];
    await tx.lock(CHAIN_LOCK);
    let { id, hash } = await chainHead(tx);
    const rows: Array<Array<string | number | null>> = [];
    const sources = new Set<string>();
    const added: AuditEntry[] = [];
    for (const entry of entries) {
      // Under the lock, so a thing two instances both saw is recorded by the first only.
      if (entry.source && (sources.has(entry.source) || (await tx.sql.get(HAS_SOURCE, [entry.source])))) continue;
      if (entry.source) sources.add(entry.source);
      added.push(entry);
      const row = toRow(++id, entry);
      const prevHash = hash;
      hash = rowHash(prevHash, row);
      rows.push([row.id, row.at, row.type, row.agentId, row.person, row.resource, row.sessionId, row.requestId, row.grantId, row.decision, row.sql, row.tables, row.data, row.source, prevHash, hash]);
    }
    await insertRows(tx.sql, rows);
    return added;
  }
}

/** The last row, or what the next row must follow if there is none: the pruning anchor, or the start. */
async function chainHead(scope: StoreScope): Promise<{ id: number; hash: string }> {
  const head = await lastRow(scope);
  if (head) return head;
  const anchor = await prunedAnchor(scope);
  return anchor ? { id: anchor.rowId, hash: anchor.hash } : { id: 0, hash: GENESIS_HASH };
}

function toRow(id: number, e: AuditEntry): ChainedRow {
  // A row keeps at most a statement's prefix; when cut here, its whole length and hash go in data.
  const sql = e.sql == null ? undefined : boundText(e.sql);
  const data = sql?.sha256 ? { ...e.data, sqlFull: { bytes: sql.bytes, sha256: sql.sha256 } } : e.data;
  return {
    id,
    at: e.at.getTime(),
    type: e.type,
    agentId: e.agentId ?? null,
    person: e.person ?? null,
    resource: e.resource ?? null,
    sessionId: e.sessionId ?? null,
    requestId: e.requestId ?? null,
    grantId: e.grantId ?? null,
    decision: e.decision ?? null,
    sql: sql?.text ?? null,
    tables: e.tables ? JSON.stringify(e.tables) : null,
    // Stored as written: the row's hash covers this text as it is (canonical JSON is for the row).
    data: JSON.stringify(data ?? {}),
    source: e.source ?? null,
  };
}
