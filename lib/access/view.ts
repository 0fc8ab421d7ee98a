import { kindsOf, tablesOf, type ScopePair } from "../approvals/grant-scope";
import type { AccessRequest, Grant, RequestDecision } from "../db/schema";
import { formatDuration } from "../policy/duration";

/**
 * What the agent should do next, machine-readable: `wait` (ask again), `connect` (access is
 * granted: use the DSN with your token as the password), `retry` (a held statement was approved:
 * send the identical statement again; it runs once), `stop` (nothing more will come of it).
 */
export type Next = "wait" | "connect" | "retry" | "stop";

/**
 * What a grant or request covers: the (kind, table) pairs (`table` null: a statement on no table),
 * and for a glance their kinds and their tables (schema-qualified names, or "*": every table).
 */
export interface ScopeView {
  kinds: string[];
  tables: string[];
  scope: ScopePair[];
}

function scopeView(scope: ScopePair[]): ScopeView {
  return { kinds: kindsOf(scope), tables: tablesOf(scope), scope };
}

export interface GrantView extends ScopeView {
  id: string;
  resource: string;
  status: "active" | "expired" | "revoked";
  created_at: string;
  expires_at: string;
  approved_by: string[];
  revoked_by?: string;
}

export interface RequestView {
  id: string;
  kind: AccessRequest["kind"];
  status: AccessRequest["status"];
  resource: string;
  access: ScopeView;
  /** Access requests: the length asked for, and why. */
  duration?: string;
  reason?: string;
  /** Held statements: the SQL and its parameters, so a caller can send it again. */
  sql?: string;
  params?: Array<string | null>;
  url: string;
  created_at: string;
  /** While pending: when the request expires undecided. */
  expires_at?: string;
  decided_at?: string;
  denied?: { by: string; reason: string };
  outcome_reason?: string;
  grant: GrantView | null;
  next: Next;
  /** With `connect`: where to connect. No secret: the password is the agent's own token. */
  dsn?: string;
  message: string;
}

export function grantView(grant: Grant, now = new Date()): GrantView {
  return {
    id: grant.id,
    resource: grant.resource,
    ...scopeView(grant.scope),
    status: grant.revokedAt ? "revoked" : grant.expiresAt <= now ? "expired" : "active",
    created_at: grant.createdAt.toISOString(),
    expires_at: grant.expiresAt.toISOString(),
    approved_by: grant.approvedBy,
    ...(grant.revokedBy ? { revoked_by: grant.revokedBy } : {}),
  };
}

export interface ViewContext {
  decisions: readonly RequestDecision[];
  grant: Grant | undefined;
  url: string;
  /** The proxy's DSN for the request's resource, without a password. */
  dsn: string;
  now?: Date;
}

/** A request as its agent sees it: where it stands and what to do next. */
export function requestView(request: AccessRequest, ctx: ViewContext): RequestView {
  const grant = ctx.grant ? grantView(ctx.grant, ctx.now) : null;
  const denial = ctx.decisions.find((d) => d.decision === "deny");
  const { next, message } = nextStep(request, grant, ctx);
  return {
    id: request.id,
    kind: request.kind,
    status: request.status,
    resource: request.resource,
    access: scopeView(request.scope),
    ...(request.kind === "access" ? { duration: formatDuration(request.durationMs ?? 0), ...(request.reason ? { reason: request.reason } : {}) } : statementOf(request)),
    url: ctx.url,
    created_at: request.createdAt.toISOString(),
    ...(request.status === "pending" ? { expires_at: request.expiresAt.toISOString() } : {}),
    ...(request.decidedAt ? { decided_at: request.decidedAt.toISOString() } : {}),
    ...(denial ? { denied: { by: denial.personEmail, reason: request.outcomeReason ?? "no reason given" } } : request.status !== "approved" && request.outcomeReason ? { outcome_reason: request.outcomeReason } : {}),
    grant,
    next,
    ...(next === "connect" ? { dsn: ctx.dsn } : {}),
    message,
  };
}

/** A held statement's SQL (one per request) and its bound parameters, if any. */
function statementOf(request: AccessRequest): Pick<RequestView, "sql" | "params"> {
  const [statement] = request.statements;
  return statement ? { sql: statement.text, ...(statement.params ? { params: statement.params } : {}) } : {};
}

function nextStep(request: AccessRequest, grant: GrantView | null, { url, dsn }: ViewContext): { next: Next; message: string } {
  switch (request.status) {
    case "pending":
      return { next: "wait", message: `waiting for people to decide (${url}); ask again` };
    case "denied":
      return { next: "stop", message: `denied: ${request.outcomeReason ?? "no reason given"}` };
    case "expired":
      return { next: "stop", message: "nobody decided in time; the request expired" };
    case "cancelled":
      return { next: "stop", message: `cancelled: ${request.outcomeReason ?? "cancelled"}` };
    case "approved":
      break;
  }
  if (request.kind === "statement") {
    const until = grant?.status === "active" ? ` (statements like it run without review until ${grant.expires_at})` : "";
    return request.consumedAt ? { next: "stop", message: `approved; the statement has run${until}` } : { next: "retry", message: `approved: send the identical statement again; it runs once${until}` };
  }
  if (!grant || grant.status !== "active") return { next: "stop", message: `approved, but the grant has ${grant?.status ?? "ended"}: ask again if you still need access` };
  return { next: "connect", message: `approved until ${grant.expires_at}: connect to ${dsn} with your token as the password` };
}
