import { createHash } from "node:crypto";
import { boundText } from "../activity/statement-text";
import type { AccessRequest, BreakGlassUse, Grant, RequestDecision, RequestFollowUp } from "../db/schema";
import { CLOUD_EVENT_TYPE_PREFIX, type WebhookEventType } from "./event-types";

/** A CloudEvents 1.0 event in the structured JSON format (https://github.com/cloudevents/spec). */
export interface CloudEvent {
  specversion: "1.0";
  id: string;
  /** Airlock's public URL: which Airlock this came from. */
  source: string;
  /** `dev.airlock.request.opened`, … */
  type: string;
  /** The request's or grant's id. */
  subject: string;
  time: string;
  datacontenttype: "application/json";
  data: Record<string, unknown>;
}

/** What an event is about, as the store has it when the event is recorded. */
export type EventSubject =
  | { kind: "request"; request: AccessRequest; decisions: readonly RequestDecision[]; followUp?: RequestFollowUp }
  | { kind: "grant"; grant: Grant }
  | { kind: "break_glass"; use: BreakGlassUse };

export interface EventContext {
  /** The audit row's source (lib/audit/capture.ts): one thing that happened, so one id on every instance and every try. */
  auditSource: string;
  at: Date;
  publicUrl: string;
  /** Whether statements go as text; off, a receiver learns only how many there were. */
  includeSql: boolean;
}

/** A statement's text in an event is cut here (with the whole one's length and hash): receivers often cap bodies at a few hundred KiB. */
export const EVENT_STATEMENT_BYTES = 4096;

/**
 * The event for a recorded audit row. It carries what the request's page shows approvers, never
 * more: the statements' text (unless `include_sql: false`), never their parameters' values nor
 * anything from a result, masked or not.
 */
export function cloudEvent(type: WebhookEventType, subject: EventSubject, context: EventContext): CloudEvent {
  return {
    specversion: "1.0",
    id: eventId(context.auditSource),
    source: context.publicUrl,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${type}`,
    subject: subject.kind === "request" ? subject.request.id : subject.kind === "grant" ? subject.grant.id : subject.use.id,
    time: context.at.toISOString(),
    datacontenttype: "application/json",
    data: dataOf(type, subject, context),
  };
}

/** `evt_` and 128 bits of the audit source's hash: stable across instances and tries, and says nothing itself. */
export function eventId(auditSource: string): string {
  return `evt_${createHash("sha256").update(auditSource).digest("hex").slice(0, 32)}`;
}

function dataOf(type: WebhookEventType, subject: EventSubject, context: EventContext): Record<string, unknown> {
  if (subject.kind === "request") {
    const { request: r, decisions } = subject;
    const request = requestData(r, context.publicUrl);
    if (type === "request.opened") return { request: { ...request, statementCount: r.statements.length, ...(context.includeSql ? { statements: r.statements.map(statementData) } : {}) } };
    // Who was nudged: the groups that may decide by then (a reminder, with its number), or those escalated to (and where in Slack).
    const { followUp: f } = subject;
    if (type === "request.reminded" && f) return { request, groups: f.groups, reminder: f.seq, at: f.at.toISOString() };
    if (type === "request.escalated" && f) return { request, groups: f.groups, channel: f.channel, at: f.at.toISOString() };
    return {
      request,
      status: r.status,
      reason: r.outcomeReason,
      decidedAt: r.decidedAt?.toISOString() ?? null,
      grantId: r.grantId,
      // Who decided and where (web or Slack); an expiry or a cancellation has only the approvals given before it.
      decisions: decisions.map((d) => ({ by: d.personEmail, decision: d.decision, via: d.via, at: d.at.toISOString(), grant: d.decision === "approve" ? (d.grantMs ?? "once") : null, reason: d.reason, ...(d.authAt ? { steppedUp: { signedInAt: d.authAt.toISOString() } } : {}) })),
    };
  }
  if (subject.kind === "break_glass") return breakGlassData(subject.use, context.publicUrl);
  const { grant: g } = subject;
  const grant = { id: g.id, agent: g.agentId, resource: g.resource, rule: g.rule, requestId: g.requestId, scope: g.scope, approvedBy: g.approvedBy, createdAt: g.createdAt.toISOString(), expiresAt: g.expiresAt.toISOString() };
  if (type === "grant.created") return { grant };
  return { grant, reason: g.revokedAt ? "revoked" : "expired", endedAt: (g.revokedAt ?? g.expiresAt).toISOString(), revokedBy: g.revokedBy, uses: g.useCount };
}

/** A break-glass use: who took what, for how long and why (its id is also its grant's); once reviewed, by whom and the note. */
function breakGlassData(b: BreakGlassUse, publicUrl: string): Record<string, unknown> {
  return {
    breakGlass: {
      id: b.id,
      url: `${publicUrl}/queue`,
      agent: b.agentId,
      agentGroups: b.groups,
      resource: b.resource,
      reason: b.reason,
      durationMs: b.durationMs,
      createdAt: b.createdAt.toISOString(),
      grantId: b.id,
      review: b.reviewedAt ? { by: b.reviewedBy, note: b.reviewNote, at: b.reviewedAt.toISOString() } : null,
    },
  };
}

function requestData(r: AccessRequest, publicUrl: string): Record<string, unknown> {
  return {
    id: r.id,
    kind: r.kind,
    url: `${publicUrl}/requests/${r.id}`,
    agent: r.agentId,
    agentGroups: r.groups,
    resource: r.resource,
    rule: r.rule,
    why: r.why,
    scope: r.scope,
    approvers: { groups: r.approverGroups, required: r.requiredApprovals },
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    // Access asked for up front: how long, and the agent's own words for why (both on its page).
    ...(r.kind === "access" ? { access: { durationMs: r.durationMs, reason: r.reason } } : {}),
  };
}

function statementData(s: AccessRequest["statements"][number]): Record<string, unknown> {
  const text = boundText(s.text, EVENT_STATEMENT_BYTES);
  return {
    text: text.text,
    ...(text.sha256 ? { full: { bytes: text.bytes, sha256: text.sha256 } } : {}),
    // The body of a prepared statement an EXECUTE before it runs by this name.
    ...(s.prepared === undefined ? {} : { preparedName: s.prepared }),
    parameterCount: s.params?.length ?? 0,
  };
}
