import type Database from "better-sqlite3";
import { boundText } from "../activity/statement-text";
import type { Db } from "../db/client";
import { GENESIS_HASH, rowHash, type ChainedRow } from "./chain";

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

const COLUMNS = "id, at, type, agent_id, person, resource, session_id, request_id, grant_id, decision, sql, tables, data, source, prev_hash, hash";

/**
 * Appends to the chain. The head is read from the store inside the write transaction, not kept
 * in memory: whoever appends (the proxy's recorder, the dashboard, a second process) extends the
 * one chain, and a rolled-back transaction leaves nothing to undo.
 */
export class AuditLog {
  readonly #head: Database.Statement<[], { id: number; hash: string } | undefined>;
  readonly #anchor: Database.Statement<[], { rowId: number; hash: string } | undefined>;
  readonly #hasSource: Database.Statement<[string], unknown>;
  readonly #insert: Database.Statement<unknown[]>;
  readonly #appendNow: Database.Transaction<(entries: readonly AuditEntry[]) => number>;

  constructor(db: Db) {
    const sqlite = db.$client;
    this.#head = sqlite.prepare("select id, hash from audit_log order by id desc limit 1");
    this.#anchor = sqlite.prepare("select row_id as rowId, hash from audit_anchors where kind = 'pruned' order by id desc limit 1");
    this.#hasSource = sqlite.prepare("select 1 from audit_log where source = ?");
    this.#insert = sqlite.prepare(`insert into audit_log (${COLUMNS}) values (${COLUMNS.split(",").map(() => "?").join(", ")})`);
    this.#appendNow = sqlite.transaction((entries: readonly AuditEntry[]) => this.appendWithin(entries));
  }

  /** Appends in a transaction of its own (IMMEDIATE: the head read and the inserts are one step). */
  append(entries: readonly AuditEntry[]): number {
    return entries.length === 0 ? 0 : this.#appendNow.immediate(entries);
  }

  /** Appends inside the caller's transaction (the recorder's batch); returns how many rows were added. */
  appendWithin(entries: readonly AuditEntry[]): number {
    let { id, hash } = this.#head.get() ?? this.#startOfChain();
    let added = 0;
    for (const entry of entries) {
      if (entry.source && this.#hasSource.get(entry.source)) continue;
      const row = toRow(++id, entry);
      const prevHash = hash;
      hash = rowHash(prevHash, row);
      this.#insert.run(row.id, row.at, row.type, row.agentId, row.person, row.resource, row.sessionId, row.requestId, row.grantId, row.decision, row.sql, row.tables, row.data, row.source, prevHash, hash);
      added++;
    }
    return added;
  }

  #startOfChain(): { id: number; hash: string } {
    const anchor = this.#anchor.get();
    return anchor ? { id: anchor.rowId, hash: anchor.hash } : { id: 0, hash: GENESIS_HASH };
  }
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
