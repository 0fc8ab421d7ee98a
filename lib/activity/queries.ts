import { desc, eq } from "drizzle-orm";
import { limitNote } from "../decision/refusals";
import { isBreakGlass } from "../access/break-glass-id";
import type { StoreScope } from "../db/client";
import type { Tables } from "../db/client";
import type { MaskedSummary } from "../db/schema";

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
  /** A budget it ran into ("max_rows 10000", "… (truncated)"), with the message it was recorded with. */
  limit: string | null;
  errorMessage: string | null;
  rows: number;
  durationMs: number;
  startedAt: Date;
  masked: MaskedSummary | null;
  /** Run under a break-glass grant: emergency access nobody approved. */
  breakGlass: boolean;
}

const recentColumns = ({ statements, agentSessions }: Tables) => ({
  id: statements.id,
  agentId: agentSessions.agentId,
  resource: agentSessions.resource,
  text: statements.text,
  textBytes: statements.textBytes,
  textSha256: statements.textSha256,
  outcome: statements.outcome,
  errorCode: statements.errorCode,
  errorMessage: statements.errorMessage,
  rows: statements.rows,
  durationMs: statements.durationMs,
  startedAt: statements.startedAt,
  masked: statements.masked,
  grantId: statements.grantId,
});

/** The latest statements of all agents, or of one, newest first. */
export async function recentStatements({ db, tables }: StoreScope, limit = 50, agentId?: string): Promise<RecentStatement[]> {
  const { statements, agentSessions } = tables;
  const query = db.select(recentColumns(tables)).from(statements).innerJoin(agentSessions, eq(statements.sessionId, agentSessions.id));
  const rows = await (agentId ? query.where(eq(agentSessions.agentId, agentId)) : query).orderBy(desc(statements.id)).limit(limit);
  return rows.map(({ grantId, ...row }) => ({ ...row, breakGlass: isBreakGlass(grantId), limit: limitNote(row.errorMessage) ?? null }));
}

/** Agents that have connected, with the groups their newest session had. */
export async function knownAgents({ db, tables: { agentSessions } }: StoreScope, limit = 100): Promise<Array<{ id: string; groups: string[] }>> {
  const rows = await db.select({ id: agentSessions.agentId, groups: agentSessions.groups }).from(agentSessions).orderBy(desc(agentSessions.startedAt)).limit(1000);
  const byId = new Map<string, string[]>();
  for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row.groups);
  return [...byId].slice(0, limit).map(([id, groups]) => ({ id, groups }));
}
