import { z } from "zod";
import { DurationText as duration, formatDuration, parseDuration } from "./duration";

/** After `afterMs` of waiting, the groups `to` may decide too, and Slack is told (in `channel`, if given). */
export interface Escalation {
  afterMs: number;
  to: string[];
  channel?: string;
}

/**
 * What a review rule asks to happen while its request waits (`review.remind`, `review.escalate`).
 * A request keeps the one of its rule as it opened, as it keeps its approvers: an edit of the
 * policy never changes who may decide a request already waiting.
 */
export interface FollowUp {
  remindMs?: number;
  escalate?: Escalation;
}

const group = z.string().min(1);

/** The fields a review rule's `review:` takes for follow-ups, in the policy file's spelling. */
export const followUpFields = {
  remind: duration.optional(),
  escalate: z
    .strictObject({
      after: duration,
      to: z.array(group).min(1, "name the groups it escalates to"),
      // A Slack channel's name (#sre) or id (C0123…): what chat.postMessage takes.
      channel: z.string().regex(/^(#[a-z0-9][a-z0-9._-]*|[CG][A-Z0-9]+)$/, 'a Slack channel such as "#sre" (lower case, as Slack names them) or its id').optional(),
    })
    .optional(),
};

type Review = { approvers: string[]; timeout: string; remind?: string; escalate?: { after: string; to: string[]; channel?: string } };

/**
 * Follow-ups that could never happen, or change nothing, are the author's mistake: said with the
 * field, rather than found out while a request waits in vain.
 */
export function checkFollowUp(review: Review, ctx: z.RefinementCtx): void {
  const timeoutMs = parseDuration(review.timeout);
  if (timeoutMs === undefined) return; // reported on the timeout itself
  const within = (ms: number | undefined, path: string[], what: string) => {
    if (ms !== undefined && ms >= timeoutMs) ctx.addIssue({ code: "custom", path, message: `${what} after the request has expired (timeout: ${formatDuration(timeoutMs)}): make it shorter than the timeout` });
  };
  within(review.remind === undefined ? undefined : parseDuration(review.remind), ["remind"], "the first reminder would come");
  if (!review.escalate) return;
  within(parseDuration(review.escalate.after), ["escalate", "after"], "the escalation would come");
  const added = review.escalate.to.filter((g) => !review.approvers.includes(g));
  if (review.escalate.to.length > 0 && added.length === 0) ctx.addIssue({ code: "custom", path: ["escalate", "to"], message: "these groups already approve this rule: escalate to others (e.g. sre-leads)" });
}

/** The follow-ups of a validated `review:`, in milliseconds; undefined when it has none. */
export function followUpOf(review: Review): FollowUp | undefined {
  const { remind, escalate } = review;
  if (remind === undefined && !escalate) return undefined;
  return {
    ...(remind !== undefined ? { remindMs: parseDuration(remind)! } : {}),
    ...(escalate ? { escalate: { afterMs: parseDuration(escalate.after)!, to: escalate.to, ...(escalate.channel ? { channel: escalate.channel } : {}) } } : {}),
  };
}
