/**
 * The events a webhook may subscribe to (`notify.webhooks[].events`). Each is an audit row of
 * one or more types (lib/audit/capture.ts): a webhook event is sent for a row when it is recorded,
 * so what the audit trail says happened and what receivers hear are the same things, once each.
 * A new event is a name here and its audit types.
 */
export const WEBHOOK_EVENTS = ["request.opened", "request.decided", "request.reminded", "request.escalated", "grant.created", "grant.ended", "break_glass.used", "break_glass.reviewed"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The CloudEvents `type` prefix: reverse-DNS, as the specification asks. */
export const CLOUD_EVENT_TYPE_PREFIX = "dev.airlock.";

const BY_AUDIT_TYPE: Readonly<Record<string, WebhookEventType>> = {
  "request.opened": "request.opened",
  "request.approved": "request.decided",
  "request.denied": "request.decided",
  "request.expired": "request.decided",
  "request.cancelled": "request.decided",
  "request.reminded": "request.reminded",
  "request.escalated": "request.escalated",
  "grant.created": "grant.created",
  "grant.revoked": "grant.ended",
  "grant.expired": "grant.ended",
  "break_glass.used": "break_glass.used",
  "break_glass.reviewed": "break_glass.reviewed",
};

/** The webhook event an audit row of this type is, if any (a statement row, a single vote of a quorum: none). */
export function webhookEventOf(auditType: string): WebhookEventType | undefined {
  return Object.hasOwn(BY_AUDIT_TYPE, auditType) ? BY_AUDIT_TYPE[auditType] : undefined;
}
