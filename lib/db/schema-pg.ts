/**
 * The store's tables on PostgreSQL (AIRLOCK_STORE_URL=postgres://…), column for column those of
 * schema.ts, which all code is written against (drizzle has no schema shared by two dialects).
 * Values are stored as on SQLite — times as epoch milliseconds (bigint), JSON as text — so raw SQL
 * and the audit chain's hashes read the same on both, and a row moves between them unchanged.
 * test/store/schemas.test.ts checks the two stay in step.
 */
import { sql } from "drizzle-orm";
import { bigint, customType, doublePrecision, index, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import type { ScopePair } from "../approvals/grant-scope";
import type { FollowUp } from "../policy/follow-up";
import type { MaskedSummary } from "./schema";
import type { ImpactPreview } from "../approvals/preview/types";
import type { CapturedRow, UndoTarget } from "../approvals/undo/types";

/** A time, kept as epoch milliseconds as on SQLite. */
const epochMs = customType<{ data: Date; driverData: number | string }>({
  dataType: () => "bigint",
  toDriver: (value) => value.getTime(),
  fromDriver: (value) => new Date(Number(value)),
});

/** JSON kept as its text, as on SQLite (PostgreSQL's json types would rewrite it). */
function jsonText<T>(name: string) {
  return customType<{ data: T; driverData: string }>({
    dataType: () => "text",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T,
  })(name);
}

/** A count or length: 64-bit, as SQLite's integers are. */
const int = (name: string) => bigint(name, { mode: "number" });
const NOW_MS = sql`(extract(epoch from now()) * 1000)::bigint`;

export const people = pgTable("people", {
  email: text("email").primaryKey(),
  name: text("name"),
  groups: jsonText<string[]>("groups").notNull(),
  role: text("role", { enum: ["admin", "approver", "viewer"] }).notNull(),
  firstSeenAt: epochMs("first_seen_at").notNull().default(NOW_MS),
  lastSignInAt: epochMs("last_sign_in_at").notNull(),
});

export const agentSessions = pgTable(
  "agent_sessions",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    groups: jsonText<string[]>("groups").notNull(),
    resource: text("resource").notNull(),
    clientAddress: text("client_address"),
    applicationName: text("application_name"),
    startedAt: epochMs("started_at").notNull(),
    endedAt: epochMs("ended_at"),
    endReason: text("end_reason"),
  },
  (t) => [index("agent_sessions_started_at").on(t.startedAt)],
);

export const statements = pgTable(
  "statements",
  {
    id: int("id").primaryKey().generatedByDefaultAsIdentity(),
    sessionId: text("session_id").notNull(),
    text: text("text").notNull(),
    textBytes: int("text_bytes"),
    textSha256: text("text_sha256"),
    params: jsonText<Array<string | null>>("params"),
    protocol: text("protocol", { enum: ["simple", "extended"] }).notNull(),
    outcome: text("outcome", { enum: ["ok", "error", "refused"] }).notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    rows: int("rows").notNull().default(0),
    durationMs: doublePrecision("duration_ms").notNull(),
    startedAt: epochMs("started_at").notNull(),
    requestId: text("request_id"),
    grantId: text("grant_id"),
    masked: jsonText<MaskedSummary>("masked"),
  },
  (t) => [index("statements_session").on(t.sessionId), index("statements_started_at").on(t.startedAt)],
);

export const accessRequests = pgTable(
  "access_requests",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["statement", "access"] }).notNull().default("statement"),
    agentId: text("agent_id").notNull(),
    groups: jsonText<string[]>("groups").notNull(),
    resource: text("resource").notNull(),
    sessionId: text("session_id"),
    statements: jsonText<Array<{ text: string; params: Array<string | null> | null; prepared?: string; formats?: number[]; runs?: string; path?: string[] | null }>>("statements").notNull(),
    scope: jsonText<ScopePair[]>("scope").notNull(),
    rule: text("rule").notNull(),
    why: text("why").notNull(),
    approverGroups: jsonText<string[]>("approver_groups").notNull(),
    requiredApprovals: int("required_approvals").notNull(),
    grantOptions: jsonText<Array<"once" | number>>("grant_options").notNull(),
    status: text("status", { enum: ["pending", "approved", "denied", "expired", "cancelled"] }).notNull(),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
    decidedAt: epochMs("decided_at"),
    outcomeReason: text("outcome_reason"),
    grantId: text("grant_id"),
    consumedAt: epochMs("consumed_at"),
    durationMs: int("duration_ms"),
    reason: text("reason"),
    heldBy: text("held_by"),
    followUp: jsonText<FollowUp>("follow_up"),
    stepUpMs: int("step_up_ms"),
  },
  (t) => [index("access_requests_status").on(t.status, t.createdAt)],
);

export const requestFollowUps = pgTable(
  "request_follow_ups",
  {
    id: int("id").primaryKey().generatedByDefaultAsIdentity(),
    requestId: text("request_id").notNull(),
    kind: text("kind", { enum: ["reminder", "escalation"] }).notNull(),
    seq: int("seq").notNull(),
    at: epochMs("at").notNull(),
    groups: jsonText<string[]>("groups").notNull(),
    channel: text("channel"),
    notifiedAt: epochMs("notified_at"),
    notifyUntil: epochMs("notify_until"),
  },
  (t) => [uniqueIndex("request_follow_ups_once").on(t.requestId, t.kind, t.seq)],
);

export const requestDecisions = pgTable(
  "request_decisions",
  {
    id: int("id").primaryKey().generatedByDefaultAsIdentity(),
    requestId: text("request_id").notNull(),
    personEmail: text("person_email").notNull(),
    decision: text("decision", { enum: ["approve", "deny"] }).notNull(),
    grantMs: int("grant_ms"),
    reason: text("reason"),
    via: text("via", { enum: ["web", "slack"] }).notNull(),
    at: epochMs("at").notNull(),
    authAt: epochMs("auth_at"),
    maxRows: int("max_rows"),
  },
  (t) => [uniqueIndex("request_decisions_once").on(t.requestId, t.personEmail)],
);

export const grants = pgTable(
  "grants",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    resource: text("resource").notNull(),
    scope: jsonText<ScopePair[]>("scope").notNull(),
    rule: text("rule").notNull(),
    requestId: text("request_id").notNull(),
    approvedBy: jsonText<string[]>("approved_by").notNull(),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
    revokedAt: epochMs("revoked_at"),
    revokedBy: text("revoked_by"),
    useCount: int("use_count").notNull().default(0),
  },
  (t) => [index("grants_agent").on(t.agentId, t.resource)],
);

export const breakGlassUses = pgTable(
  "break_glass_uses",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    groups: jsonText<string[]>("groups").notNull(),
    resource: text("resource").notNull(),
    reason: text("reason"),
    durationMs: int("duration_ms").notNull(),
    createdAt: epochMs("created_at").notNull(),
    reviewedAt: epochMs("reviewed_at"),
    reviewedBy: text("reviewed_by"),
    reviewNote: text("review_note"),
  },
  (t) => [index("break_glass_uses_review").on(t.reviewedAt, t.createdAt)],
);

export const slackMessages = pgTable("slack_messages", {
  requestId: text("request_id").primaryKey(),
  channel: text("channel").notNull(),
  ts: text("ts"),
  state: text("state", { enum: ["sending", "sent", "failed", "rolled_up"] }).notNull(),
  shown: text("shown"),
  error: text("error"),
  attempts: int("attempts").notNull().default(0),
  updatedAt: epochMs("updated_at").notNull(),
});

export const slackRollups = pgTable(
  "slack_rollups",
  {
    channel: text("channel").notNull(),
    agentId: text("agent_id").notNull(),
    postedChannel: text("posted_channel"),
    ts: text("ts"),
    shown: text("shown"),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel, t.agentId] })],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: int("id").primaryKey(),
    at: epochMs("at").notNull(),
    type: text("type").notNull(),
    agentId: text("agent_id"),
    person: text("person"),
    resource: text("resource"),
    sessionId: text("session_id"),
    requestId: text("request_id"),
    grantId: text("grant_id"),
    decision: text("decision"),
    sql: text("sql"),
    tables: text("tables"),
    data: text("data").notNull(),
    source: text("source"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_at").on(t.at),
    index("audit_agent").on(t.agentId, t.at),
    index("audit_request").on(t.requestId).where(sql`request_id is not null`),
    index("audit_grant").on(t.grantId).where(sql`grant_id is not null`),
    index("audit_session").on(t.sessionId),
    uniqueIndex("audit_source").on(t.source).where(sql`source is not null`),
  ],
);

export const auditAnchors = pgTable("audit_anchors", {
  id: int("id").primaryKey().generatedByDefaultAsIdentity(),
  kind: text("kind", { enum: ["pruned", "checkpoint"] }).notNull(),
  at: epochMs("at").notNull(),
  rowId: int("row_id").notNull(),
  hash: text("hash").notNull(),
  signature: text("signature"),
});

export const events = pgTable("events", {
  id: int("id").primaryKey().generatedByDefaultAsIdentity(),
  origin: text("origin").notNull(),
  payload: text("payload").notNull(),
  at: epochMs("at").notNull(),
});

export const instances = pgTable("instances", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  host: text("host").notNull(),
  pid: int("pid").notNull(),
  startedAt: epochMs("started_at").notNull(),
  seenAt: epochMs("seen_at").notNull(),
  sessions: text("sessions").notNull().default("[]"),
});

export const sharedSecrets = pgTable("shared_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: epochMs("created_at").notNull(),
});

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: int("id").primaryKey().generatedByDefaultAsIdentity(),
    eventId: text("event_id").notNull(),
    type: text("type").notNull(),
    webhook: text("webhook").notNull(),
    body: text("body").notNull(),
    state: text("state", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: int("attempts").notNull().default(0),
    nextAttemptAt: epochMs("next_attempt_at").notNull(),
    createdAt: epochMs("created_at").notNull(),
    endedAt: epochMs("ended_at"),
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("webhook_deliveries_once").on(t.eventId, t.webhook), index("webhook_deliveries_due").on(t.state, t.nextAttemptAt)],
);

export const samlOneTime = pgTable(
  "saml_one_time",
  {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
  },
  (t) => [index("saml_one_time_expiry").on(t.expiresAt)],
);

export const requestPreviews = pgTable("request_previews", {
  requestId: text("request_id").primaryKey(),
  preview: jsonText<ImpactPreview>("preview").notNull(),
  createdAt: epochMs("created_at").notNull(),
});

export const requestUndos = pgTable("request_undos", {
  requestId: text("request_id").primaryKey(),
  resource: text("resource").notNull(),
  kind: text("kind", { enum: ["insert", "update", "delete"] }),
  target: jsonText<UndoTarget>("target"),
  rows: jsonText<CapturedRow[]>("rows"),
  rowCount: int("row_count").notNull(),
  unavailable: text("unavailable"),
  capturedAt: epochMs("captured_at").notNull(),
  expiresAt: epochMs("expires_at").notNull(),
  revertRequestId: text("revert_request_id"),
  revertedAt: epochMs("reverted_at"),
  revertOutcome: text("revert_outcome"),
});
