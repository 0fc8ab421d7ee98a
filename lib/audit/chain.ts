/**
 * The hash chain: each row's hash covers the previous row's hash and the row itself (its id
 * too), as canonical JSON — keys sorted, no whitespace — so the same row always hashes alike.
 */
import { createHash } from "node:crypto";

/**
 * The named lock (Transaction.lock) whoever extends or cuts the chain holds from reading its head
 * to committing: appends from every instance on a shared store take turns, so ids stay gapless.
 */
export const CHAIN_LOCK = "audit-chain";

/** What the first row of a never-pruned log follows. */
export const GENESIS_HASH = "0".repeat(64);

/** A row as stored, without its two hashes. */
export interface ChainedRow {
  id: number;
  at: number;
  type: string;
  agentId: string | null;
  person: string | null;
  resource: string | null;
  sessionId: string | null;
  requestId: string | null;
  grantId: string | null;
  decision: string | null;
  sql: string | null;
  tables: string | null;
  data: string;
  source: string | null;
}

export function rowHash(prevHash: string, row: ChainedRow): string {
  return createHash("sha256").update(prevHash).update(rowJson(row)).digest("hex");
}

/**
 * canonicalJson(row) for the one shape hashed per statement, written out key by key in sorted
 * order: the same text, without sorting and walking a generic object for every row.
 */
export function rowJson(r: ChainedRow): string {
  const j = JSON.stringify;
  return `{"agentId":${j(r.agentId)},"at":${j(r.at)},"data":${j(r.data)},"decision":${j(r.decision)},"grantId":${j(r.grantId)},"id":${j(r.id)},"person":${j(r.person)},"requestId":${j(r.requestId)},"resource":${j(r.resource)},"sessionId":${j(r.sessionId)},"source":${j(r.source)},"sql":${j(r.sql)},"tables":${j(r.tables)},"type":${j(r.type)}}`;
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
