import { desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { agentSessions, statements, type MaskedSummary } from "../db/schema";

export interface RecentStatement {
  id: number;
  agentId: string;
  resource: string;
  /** At most the stored prefix; `textSha256` is set when the statement was longer (then `textBytes` is its length). */
  text: string;
  textBytes: number | null;
  textSha256: string | null;
  outcome: "ok" | "error" | "refused";
  errorCode: string | null;
  rows: number;
  durationMs: number;
  startedAt: Date;
  masked: MaskedSummary | null;
}

const RECENT = {
  id: statements.id,
  agentId: agentSessions.agentId,
  resource: agentSessions.resource,
  text: statements.text,
  textBytes: statements.textBytes,
  textSha256: statements.textSha256,
  outcome: statements.outcome,
  errorCode: statements.errorCode,
  rows: statements.rows,
  durationMs: statements.durationMs,
  startedAt: statements.startedAt,
  masked: statements.masked,
};

/** The latest statements of all agents, or of one, newest first. */
export function recentStatements(db: Db, limit = 50, agentId?: string): RecentStatement[] {
  const query = db.select(RECENT).from(statements).innerJoin(agentSessions, eq(statements.sessionId, agentSessions.id));
  return (agentId ? query.where(eq(agentSessions.agentId, agentId)) : query).orderBy(desc(statements.id)).limit(limit).all();
}

/** Agents that have connected, with the groups their newest session had. */
export function knownAgents(db: Db, limit = 100): Array<{ id: string; groups: string[] }> {
  const rows = db
    .select({ id: agentSessions.agentId, groups: agentSessions.groups })
    .from(agentSessions)
    .orderBy(desc(agentSessions.startedAt))
    .limit(1000)
    .all();
  const byId = new Map<string, string[]>();
  for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row.groups);
  return [...byId].slice(0, limit).map(([id, groups]) => ({ id, groups }));
}
