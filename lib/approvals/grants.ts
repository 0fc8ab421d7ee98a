import { randomBytes } from "node:crypto";
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { grants, type Grant } from "../db/schema";
import type { EventBus } from "../events/bus";
import { coversScope, type ScopePair } from "./grant-scope";

/** What a statement does, and whose it is: what a grant must cover. */
export interface Scope {
  agentId: string;
  resource: string;
  pairs: readonly ScopePair[];
}

/**
 * Time-boxed access. A grant covers a statement of the same agent and resource whose every
 * (kind, table) pair is in the grant (see coversScope); expiry and revocation take effect at the
 * next statement.
 */
export class GrantStore {
  constructor(
    private readonly db: Db,
    private readonly bus?: EventBus,
  ) {}

  create(grant: Omit<Grant, "id" | "revokedAt" | "revokedBy" | "useCount">): Grant {
    const row: Grant = { ...grant, id: `g_${randomBytes(6).toString("hex")}`, revokedAt: null, revokedBy: null, useCount: 0 };
    this.db.insert(grants).values(row).run();
    this.bus?.publish({ type: "grant.changed", grantId: row.id });
    return row;
  }

  /** An active grant covering the whole statement, if there is one. */
  covering(scope: Scope, now = new Date()): Grant | undefined {
    const active = this.db
      .select()
      .from(grants)
      .where(and(eq(grants.agentId, scope.agentId), eq(grants.resource, scope.resource), isNull(grants.revokedAt), gt(grants.expiresAt, now)))
      .all();
    return active.find((g) => coversScope(g.scope, scope.pairs));
  }

  get(id: string): Grant | undefined {
    return this.db.select().from(grants).where(eq(grants.id, id)).get();
  }

  recordUse(id: string): void {
    this.db.update(grants).set({ useCount: sql`${grants.useCount} + 1` }).where(eq(grants.id, id)).run();
  }

  revoke(id: string, by: string, now = new Date()): Grant | undefined {
    const [row] = this.db.update(grants).set({ revokedAt: now, revokedBy: by }).where(and(eq(grants.id, id), isNull(grants.revokedAt))).returning().all();
    if (row) this.bus?.publish({ type: "grant.changed", grantId: id });
    return row;
  }

  /** Grants in force now, newest first; only one agent's when it is named. */
  active(now = new Date(), agentId?: string): Grant[] {
    const conditions = [isNull(grants.revokedAt), gt(grants.expiresAt, now), agentId === undefined ? undefined : eq(grants.agentId, agentId)];
    return this.db.select().from(grants).where(and(...conditions)).orderBy(desc(grants.createdAt)).all();
  }
}
