import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ScopePair } from "../approvals/grant-scope";
import type { FollowUp } from "../policy/follow-up";
import type { ImpactPreview } from "../approvals/preview/types";
import type { CapturedRow, UndoTarget } from "../approvals/undo/types";

/** People who have signed in to the dashboard, as their identity provider last described them. */
export const people = sqliteTable("people", {
  email: text("email").primaryKey(),
  name: text("name"),
  groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
  role: text("role", { enum: ["admin", "approver", "viewer"] }).notNull(),
  firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch() * 1000)`),
  lastSignInAt: integer("last_sign_in_at", { mode: "timestamp_ms" }).notNull(),
});
export type Person = typeof people.$inferSelect;

/** One agent connection through the proxy, from authentication to disconnect. */
export const agentSessions = sqliteTable(
  "agent_sessions",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
    resource: text("resource").notNull(),
    clientAddress: text("client_address"),
    applicationName: text("application_name"),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    endReason: text("end_reason"),
  },
  (t) => [index("agent_sessions_started_at").on(t.startedAt)],
);
export type AgentSession = typeof agentSessions.$inferSelect;

/** Every statement an agent sent, with what became of it. */
export const statements = sqliteTable(
  "statements",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id").notNull(),
    /** At most the first 16 KiB of the statement (lib/activity/statement-text.ts): a huge one is stored once, cut. */
    text: text("text").notNull(),
    /** The whole statement's length in UTF-8 bytes (null on rows older than this column). */
    textBytes: integer("text_bytes"),
    /** SHA-256 (hex) of the whole statement, set when `text` is only its prefix. */
    textSha256: text("text_sha256"),
    params: text("params", { mode: "json" }).$type<Array<string | null>>(),
    protocol: text("protocol", { enum: ["simple", "extended"] }).notNull(),
    outcome: text("outcome", { enum: ["ok", "error", "refused"] }).notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    rows: integer("rows").notNull().default(0),
    durationMs: real("duration_ms").notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    /** The request a held statement waited on, or the grant it ran under. */
    requestId: text("request_id"),
    grantId: text("grant_id"),
    /** What masking did to the result: the output columns masked, and how many values. */
    masked: text("masked", { mode: "json" }).$type<MaskedSummary>(),
  },
  (t) => [index("statements_session").on(t.sessionId), index("statements_started_at").on(t.startedAt)],
);
export type StatementRow = typeof statements.$inferSelect;
export interface MaskedSummary {
  columns: string[];
  values: number;
}

/**
 * What an agent waits on people for: a held statement (`kind` statement, its `statements`), or
 * time-boxed access it asked for up front (`kind` access: no statements, the length `durationMs`,
 * the agent's `reason`). `scope` is what the statements do, or the kinds asked for on each table
 * asked for, as (kind, table) pairs: what an approval for a time grants (see grant-scope.ts).
 */
export const accessRequests = sqliteTable(
  "access_requests",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["statement", "access"] }).notNull().default("statement"),
    agentId: text("agent_id").notNull(),
    groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
    resource: text("resource").notNull(),
    sessionId: text("session_id"),
    // `prepared`: the body of a prepared statement the ones before it run by name (what EXECUTE really runs).
    statements: text("statements", { mode: "json" }).$type<Array<{ text: string; params: Array<string | null> | null; prepared?: string; formats?: number[]; runs?: string; path?: string[] | null }>>().notNull(),
    scope: text("scope", { mode: "json" }).$type<ScopePair[]>().notNull(),
    rule: text("rule").notNull(),
    why: text("why").notNull(),
    approverGroups: text("approver_groups", { mode: "json" }).$type<string[]>().notNull(),
    requiredApprovals: integer("required_approvals").notNull(),
    /** What approvers may choose: "once" or a duration in ms. */
    grantOptions: text("grant_options", { mode: "json" }).$type<Array<"once" | number>>().notNull(),
    status: text("status", { enum: ["pending", "approved", "denied", "expired", "cancelled"] }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    /** Why it ended: the denial's reason, or why it was cancelled or expired. */
    outcomeReason: text("outcome_reason"),
    grantId: text("grant_id"),
    /** Return mode: when the approved statement was run (it runs once). */
    consumedAt: integer("consumed_at", { mode: "timestamp_ms" }),
    /** An access request: how long the agent asked for (approvers may shorten it), and why it asks. */
    durationMs: integer("duration_ms"),
    reason: text("reason"),
    /** A held statement: the instance (process run, lib/events/instance.ts) whose connection waits on it; it alone may cancel it as orphaned. */
    heldBy: text("held_by"),
    /** Its rule's reminders and escalation (review.remind, review.escalate) as they were when it opened: who may decide depends on it. */
    followUp: text("follow_up", { mode: "json" }).$type<FollowUp>(),
    /** Its rule's review.step_up as it was when it opened: a decision counts only from a sign-in this recent (lib/approvals/step-up.ts). */
    stepUpMs: integer("step_up_ms"),
  },
  (t) => [index("access_requests_status").on(t.status, t.createdAt)],
);
export type AccessRequest = typeof accessRequests.$inferSelect;

/**
 * Each reminder and escalation of a waiting request (lib/approvals/follow-ups.ts). The row is the
 * claim: of instances finding one due at once, the one whose insert is not a conflict on
 * (request, kind, seq) sends it, so each interval has one reminder and a request one escalation.
 */
export const requestFollowUps = sqliteTable(
  "request_follow_ups",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull(),
    kind: text("kind", { enum: ["reminder", "escalation"] }).notNull(),
    /** A reminder: which interval since the request opened (1, 2, …; one missed while no instance ran is skipped). An escalation: 1. */
    seq: integer("seq").notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    /** Who was nudged: the groups that may decide by then (a reminder), or those escalated to. */
    groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
    /** An escalation's Slack channel, if its rule names one. */
    channel: text("channel"),
    /** When Slack was told (or given up on); null while its instance posts, or if it died doing so. */
    notifiedAt: integer("notified_at", { mode: "timestamp_ms" }),
    /** Until when an instance holds the posting: past it, an unposted follow-up is taken up by any instance. */
    notifyUntil: integer("notify_until", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("request_follow_ups_once").on(t.requestId, t.kind, t.seq)],
);
export type RequestFollowUp = typeof requestFollowUps.$inferSelect;

/** Each person's decision on a request: at most one per person. */
export const requestDecisions = sqliteTable(
  "request_decisions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull(),
    personEmail: text("person_email").notNull(),
    decision: text("decision", { enum: ["approve", "deny"] }).notNull(),
    /** For an approval: null for once, else the grant's length in ms. */
    grantMs: integer("grant_ms"),
    reason: text("reason"),
    via: text("via", { enum: ["web", "slack"] }).notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    /** On a request that asks for step-up: when the person signed in to the IdP (the ID token's auth_time) that made it count. */
    authAt: integer("auth_at", { mode: "timestamp_ms" }),
    /** For an approval: "at most N rows" — the statement is rolled back if it changes more (proxy/row-limit.ts); null: no limit. */
    maxRows: integer("max_rows"),
  },
  (t) => [uniqueIndex("request_decisions_once").on(t.requestId, t.personEmail)],
);
export type RequestDecision = typeof requestDecisions.$inferSelect;

/** Time-boxed access: the agent may run statements whose every (kind, table) pair is in `scope`, without review, until it ends. */
export const grants = sqliteTable(
  "grants",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    resource: text("resource").notNull(),
    scope: text("scope", { mode: "json" }).$type<ScopePair[]>().notNull(),
    rule: text("rule").notNull(),
    requestId: text("request_id").notNull(),
    approvedBy: text("approved_by", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedBy: text("revoked_by"),
    useCount: integer("use_count").notNull().default(0),
  },
  (t) => [index("grants_agent").on(t.agentId, t.resource)],
);
export type Grant = typeof grants.$inferSelect;

/**
 * Each use of break-glass (lib/access/break-glass.ts): emergency access an agent took at once,
 * without approval. `id` is also its grant's id (`bg_…`, which marks statements run under it). It
 * stays on the queue as "needs review" until a person looks at it afterwards and writes a note.
 */
export const breakGlassUses = sqliteTable(
  "break_glass_uses",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
    resource: text("resource").notNull(),
    reason: text("reason"),
    durationMs: integer("duration_ms").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    reviewedAt: integer("reviewed_at", { mode: "timestamp_ms" }),
    reviewedBy: text("reviewed_by"),
    reviewNote: text("review_note"),
  },
  (t) => [index("break_glass_uses_review").on(t.reviewedAt, t.createdAt)],
);
export type BreakGlassUse = typeof breakGlassUses.$inferSelect;

/** The Slack message of a request, so every later change updates that message, across restarts. */
export const slackMessages = sqliteTable("slack_messages", {
  requestId: text("request_id").primaryKey(),
  /** The channel asked for, then the id Slack answered with (chat.update needs the id). */
  channel: text("channel").notNull(),
  /** The message's timestamp, Slack's id for it; null until the post succeeds. */
  ts: text("ts"),
  /**
   * "sending": a call is under way or waiting to be retried; "sent": the message is current; "failed": gave up;
   * "rolled_up": one of a burst from its agent, counted in the agent's summary (slackRollups), never posted on its own.
   */
  state: text("state", { enum: ["sending", "sent", "failed", "rolled_up"] }).notNull(),
  /** What the message shows (status and decisions), to know when it is out of date. */
  shown: text("shown"),
  /** The last failure, cleared once a call succeeds. */
  error: text("error"),
  attempts: integer("attempts").notNull().default(0),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
export type SlackMessage = typeof slackMessages.$inferSelect;

/** One agent's summary message in one channel: "and 17 more requests from ops-agent — open the queue" (lib/slack/throttle). */
export const slackRollups = sqliteTable(
  "slack_rollups",
  {
    /** The channel as configured, which rolled-up requests' slack_messages rows also keep. */
    channel: text("channel").notNull(),
    agentId: text("agent_id").notNull(),
    /** The channel id and timestamp Slack answered with; null until the first post succeeds. */
    postedChannel: text("posted_channel"),
    ts: text("ts"),
    /** How many requests the message says are waiting, to know when it is out of date. */
    shown: text("shown"),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel, t.agentId] })],
);
export type SlackRollup = typeof slackRollups.$inferSelect;

/**
 * The audit trail: append-only, each row chained to the one before by `hash = sha256(prev_hash ‖
 * canonical JSON of the row)`, so an edit, a deletion or a row put out of place shows. `id` runs
 * without gaps and is part of what is hashed. Columns beside `data` are there to filter by.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    type: text("type").notNull(),
    agentId: text("agent_id"),
    person: text("person"),
    resource: text("resource"),
    sessionId: text("session_id"),
    requestId: text("request_id"),
    grantId: text("grant_id"),
    /** allowed · masked · held · refused (statements); approve · deny (decisions); a request's or grant's new state. */
    decision: text("decision"),
    sql: text("sql"),
    /** Tables the statement touched, as a JSON array. */
    tables: text("tables"),
    /** Everything else about the event, as canonical JSON. */
    data: text("data").notNull(),
    /** What the row records, for events read back from the store (so each is recorded once). */
    source: text("source"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_at").on(t.at),
    index("audit_agent").on(t.agentId, t.at),
    // Partial: most rows have no request, grant or source, and a statement's insert should not pay for them.
    index("audit_request").on(t.requestId).where(sql`request_id is not null`),
    index("audit_grant").on(t.grantId).where(sql`grant_id is not null`),
    index("audit_session").on(t.sessionId),
    uniqueIndex("audit_source").on(t.source).where(sql`source is not null`),
  ],
);
export type AuditRow = typeof auditLog.$inferSelect;

/** The chain's anchor after pruning: the hash the oldest remaining row follows, and checkpoints. */
export const auditAnchors = sqliteTable("audit_anchors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  kind: text("kind", { enum: ["pruned", "checkpoint"] }).notNull(),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
  /** pruned: the last removed row; checkpoint: the head at the time. */
  rowId: integer("row_id").notNull(),
  hash: text("hash").notNull(),
  /** checkpoint: Ed25519 signature of "airlock-audit:<rowId>:<hash>:<at>", base64. */
  signature: text("signature"),
});

/**
 * The event bus across processes on one SQLite store (lib/events/store-transport.ts): each
 * published event, read by every other instance by id; pruned after a few minutes.
 */
export const events = sqliteTable("events", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** The publishing instance's id, so it skips its own. */
  origin: text("origin").notNull(),
  /** The AirlockEvent as JSON. */
  payload: text("payload").notNull(),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
});

/** Airlock processes on this store, each beating every second, with its live agent sessions (lib/events/instances.ts). */
export const instances = sqliteTable("instances", {
  /** Per process run: a restart is a new instance. */
  id: text("id").primaryKey(),
  /** AIRLOCK_INSTANCE_NAME, or host:pid. */
  name: text("name").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  seenAt: integer("seen_at", { mode: "timestamp_ms" }).notNull(),
  /** Its open agent sessions as the Sessions page shows them, JSON. */
  sessions: text("sessions").notNull().default("[]"),
});
export type InstanceRow = typeof instances.$inferSelect;

/**
 * Secrets every instance on a PostgreSQL store must agree on (lib/db/shared-secrets.ts): the first
 * instance to start writes each, every other reads it. On SQLite they stay in the data dir.
 */
export const sharedSecrets = sqliteTable("shared_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Webhook deliveries (lib/webhooks): the outbox. A row per event and webhook, written in the
 * transaction that audits the event, so an event is sent if and only if it is recorded, and a
 * restart or a crash loses none. Any instance on the store delivers it: a try is made under a
 * hold (`next_attempt_at` set to when the hold ends), taken by one conditional update.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The CloudEvents `id` and the `webhook-id` header: the same on every try, so receivers can drop repeats. */
    eventId: text("event_id").notNull(),
    /** request.opened, request.decided, grant.created, grant.ended (lib/webhooks/event-types.ts). */
    type: text("type").notNull(),
    /** The webhook's name in the policy: its URL and secret are read from the policy in force at each try, never stored. */
    webhook: text("webhook").notNull(),
    /** The body, byte for byte what every try sends and signs. */
    body: text("body").notNull(),
    /** pending: to be tried (or a try under way); delivered; failed: given up. */
    state: text("state", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** When the next try is due; while a try runs, when its hold ends. */
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** When it was delivered or given up. */
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    /** The last failed try, in words ("HTTP 503", "timed out after 10 s"); cleared on delivery. */
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("webhook_deliveries_once").on(t.eventId, t.webhook), index("webhook_deliveries_due").on(t.state, t.nextAttemptAt)],
);
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

/**
 * SAML sign-in's one-time values, shared by every instance on the store (lib/identity/saml/one-time.ts):
 * `request:<id>` an AuthnRequest sent and not yet answered, `assertion:<issuer>:<id>` an assertion
 * already used (the replay cache). Each is kept until it could no longer be accepted anyway.
 */
export const samlOneTime = sqliteTable(
  "saml_one_time",
  {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("saml_one_time_expiry").on(t.expiresAt)],
);
export type SamlOneTime = typeof samlOneTime.$inferSelect;

/**
 * A held request's impact preview (lib/approvals/preview): estimated rows, the dry run's exact
 * count and masked sample, DDL risk. Made once per request in the background by the instance
 * holding it, after the request was announced; shown on its page and in its Slack message.
 */
export const requestPreviews = sqliteTable("request_previews", {
  requestId: text("request_id").primaryKey(),
  preview: text("preview", { mode: "json" }).$type<ImpactPreview>().notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});
export type RequestPreview = typeof requestPreviews.$inferSelect;

/**
 * Undo of an approved write (lib/approvals/undo): the prior values of the rows it changed (for an
 * INSERT, the new rows), kept until `expiresAt` (the rule's review.undo), or why there is no undo.
 * The values are personal data: shown masked, pruned when they expire (docs/security.md).
 */
export const requestUndos = sqliteTable("request_undos", {
  requestId: text("request_id").primaryKey(),
  resource: text("resource").notNull(),
  kind: text("kind", { enum: ["insert", "update", "delete"] }),
  target: text("target", { mode: "json" }).$type<UndoTarget>(),
  /** Null once pruned, and when there is no undo. */
  rows: text("rows", { mode: "json" }).$type<CapturedRow[]>(),
  rowCount: integer("row_count").notNull(),
  /** Why there is no undo ("table has no primary key"); null when the rows were captured. */
  unavailable: text("unavailable"),
  capturedAt: integer("captured_at", { mode: "timestamp_ms" }).notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  /** The revert request asked for it (one at a time), and how it ended. */
  revertRequestId: text("revert_request_id"),
  revertedAt: integer("reverted_at", { mode: "timestamp_ms" }),
  revertOutcome: text("revert_outcome"),
});
export type RequestUndo = typeof requestUndos.$inferSelect;
