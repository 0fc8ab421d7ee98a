import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { accessScope, ALL_TABLES } from "../approvals/grant-scope";
import type { GrantStore } from "../approvals/grants";
import type { Store } from "../db/client";
import type { BreakGlassUse, Grant } from "../db/schema";
import type { EventBus } from "../events/bus";
import type { AgentIdentity } from "../identity/agent-token";
import { formatDuration, parseDuration } from "../policy/duration";
import type { Policy } from "../policy/policy-file";
import { MAX_REASON_CHARS } from "./ask";
import { newBreakGlassId } from "./break-glass-id";
import { ASKABLE_KINDS } from "./scope";
import type { ApiError, ApiResult } from "./service";
import { grantView, type GrantView } from "./view";

/** The body of `POST /api/v1/break-glass`, the `break_glass` tool's input. */
export const BreakGlassAskSchema = z.strictObject({
  resource: z.string().min(1).max(100),
  duration: z.string().refine((d) => parseDuration(d) !== undefined, "a duration such as 30m, 1h or 90s"),
  reason: z.string().trim().max(MAX_REASON_CHARS).optional(),
});
export type BreakGlassAsk = z.infer<typeof BreakGlassAskSchema>;

/** Longest review note kept: it is shown on the queue and kept in the audit trail. */
export const MAX_NOTE_CHARS = 2000;

export interface BreakGlassOptions {
  store: Store;
  grants: GrantStore;
  bus?: EventBus;
  policy(): Policy;
  /** Told at once of each use (Slack, lib/slack/break-glass-alert.ts); its failures are its own. */
  alert?(use: BreakGlassUse, grant: Grant): Promise<void>;
}

const fail = (status: ApiError["status"], code: string, message: string): ApiError => ({ ok: false, status, code, message });

/**
 * Emergency access (policy `break_glass`): an agent in its groups takes a grant at once, with no
 * approval, bounded by `max`. The grant covers every kind on every table, yet it only ever stands
 * in for review: what a rule denies (or no rule allows) stays refused (lib/decision/decide.ts).
 * Each use is recorded (the audit capture writes `break_glass.used`, which webhooks send), alerted
 * at once, and waits on the queue until a person reviews it with a note.
 */
export class BreakGlassService {
  constructor(private readonly options: BreakGlassOptions) {}

  async invoke(agent: AgentIdentity, body: unknown): Promise<ApiResult<GrantView>> {
    const parsed = BreakGlassAskSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(400, "invalid_request", `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
    }
    const { resource, duration } = parsed.data;
    const reason = parsed.data.reason || null;
    const policy = this.options.policy();
    const terms = policy.breakGlass;
    if (!terms || !agent.groups.some((g) => terms.groups.includes(g))) {
      return fail(403, "not_allowed", `airlock: ${agent.agentId} may not break the glass (policy break_glass.groups: ${terms ? terms.groups.join(", ") : "none"})`);
    }
    if (!policy.resources.has(resource)) return fail(404, "not_found", `no resource "${resource}" (see GET /api/v1/resources)`);
    const durationMs = parseDuration(duration)!;
    if (durationMs > terms.maxMs) return fail(403, "duration_too_long", `asked for ${formatDuration(durationMs)}; break_glass allows at most ${formatDuration(terms.maxMs)}`);
    if (terms.reasonRequired && !reason) return fail(400, "reason_required", "break_glass requires a reason: say what the emergency is");
    const { grant, use } = await this.#take(agent, resource, durationMs, reason);
    this.options.grants.created(grant);
    this.options.bus?.publish({ type: "break_glass.changed", id: use.id });
    void this.options.alert?.(use, grant).catch((err: unknown) => console.error(`[break-glass] alerting of ${use.id} failed:`, err));
    return { ok: true, value: grantView(grant) };
  }

  async #take(agent: AgentIdentity, resource: string, durationMs: number, reason: string | null): Promise<{ grant: Grant; use: BreakGlassUse }> {
    const now = new Date();
    const id = newBreakGlassId();
    const use: BreakGlassUse = { id, agentId: agent.agentId, groups: [...agent.groups], resource, reason, durationMs, createdAt: now, reviewedAt: null, reviewedBy: null, reviewNote: null };
    const grant = await this.options.store.transaction(async (tx) => {
      await tx.db.insert(tx.tables.breakGlassUses).values(use);
      const fields = { agentId: agent.agentId, resource, scope: accessScope(ASKABLE_KINDS, [ALL_TABLES]), rule: "break_glass", requestId: id, approvedBy: [], createdAt: now, expiresAt: new Date(now.getTime() + durationMs) };
      return this.options.grants.insert(tx, fields, id);
    });
    return { grant, use };
  }

  /** The uses no person has reviewed yet, oldest first: the queue's "needs review" items. */
  unreviewed(): Promise<BreakGlassUse[]> {
    const { db, tables } = this.options.store;
    return db.select().from(tables.breakGlassUses).where(isNull(tables.breakGlassUses.reviewedAt)).orderBy(asc(tables.breakGlassUses.createdAt));
  }

  async get(id: string): Promise<BreakGlassUse | undefined> {
    const { db, tables } = this.options.store;
    return (await db.select().from(tables.breakGlassUses).where(eq(tables.breakGlassUses.id, id)).limit(1))[0];
  }

  /** A person has looked at a use afterwards: it leaves the queue, with their note, once. */
  async review(id: string, person: string, note: string): Promise<{ ok: true } | { ok: false; message: string }> {
    const text = note.trim();
    if (!text) return { ok: false, message: "write a note: what was done under break-glass, and whether it was right" };
    if (text.length > MAX_NOTE_CHARS) return { ok: false, message: `a note is at most ${MAX_NOTE_CHARS} characters` };
    const { db, tables } = this.options.store;
    const done = await db
      .update(tables.breakGlassUses)
      .set({ reviewedAt: new Date(), reviewedBy: person, reviewNote: text })
      .where(and(eq(tables.breakGlassUses.id, id), isNull(tables.breakGlassUses.reviewedAt)))
      .returning({ id: tables.breakGlassUses.id });
    if (done.length === 0) return { ok: false, message: (await this.get(id)) ? "already reviewed" : "no such break-glass use" };
    this.options.bus?.publish({ type: "break_glass.changed", id });
    return { ok: true };
  }
}
