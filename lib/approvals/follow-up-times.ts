import type { FollowUp } from "../policy/follow-up";

/** What the times of a request's follow-ups are computed from: all of it in the store, so any instance, or one restarted, computes the same. */
export interface Waiting {
  createdAt: Date;
  expiresAt: Date;
  approverGroups: readonly string[];
  followUp: FollowUp | null;
}

/** When the request escalates (undefined: its rule does not escalate, or it expires first). */
export function escalatesAt(request: Waiting): Date | undefined {
  const afterMs = request.followUp?.escalate?.afterMs;
  if (afterMs === undefined) return undefined;
  const at = new Date(request.createdAt.getTime() + afterMs);
  return at < request.expiresAt ? at : undefined;
}

/**
 * The groups whose members may decide the request at `now`: its approvers, and once its wait
 * passed the escalation's, the groups it escalates to. Computed from the time rather than read
 * from the escalation's record, so it holds the moment the wait is over on every instance, also
 * while the escalation's own notice is still on its way.
 */
export function deciderGroups(request: Waiting, now = new Date()): string[] {
  const at = escalatesAt(request);
  const escalated = at !== undefined && at <= now ? request.followUp!.escalate!.to : [];
  return [...new Set([...request.approverGroups, ...escalated])];
}

/**
 * The reminder due at `now`, after the one numbered `last` (0: none yet): the latest interval that
 * has passed, so an instance back after a while sends one reminder, not every one it missed.
 */
export function dueReminder(request: Waiting, last: number, now = new Date()): number | undefined {
  const every = request.followUp?.remindMs;
  if (!every) return undefined;
  const seq = Math.floor((now.getTime() - request.createdAt.getTime()) / every);
  return seq > last && reminderAt(request, seq) < request.expiresAt ? seq : undefined;
}

/** When the reminder after the one numbered `last` is due; undefined if the request expires first. */
export function nextReminderAt(request: Waiting, last: number): Date | undefined {
  const every = request.followUp?.remindMs;
  if (!every) return undefined;
  const at = reminderAt(request, last + 1);
  return at < request.expiresAt ? at : undefined;
}

function reminderAt(request: Waiting, seq: number): Date {
  return new Date(request.createdAt.getTime() + seq * request.followUp!.remindMs!);
}
