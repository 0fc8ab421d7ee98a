import type { types } from "@slack/bolt";
import type { AccessRequest } from "../db/schema";
import { formatDuration } from "../policy/duration";
import { link, mrkdwn } from "./mrkdwn";

/**
 * A waiting step-up request (review.step_up) says in its message that a click here does not
 * decide it: the buttons stay (a click is answered with the page's link), the way is the page.
 */
export function stepUpContext(request: Pick<AccessRequest, "status" | "stepUpMs">, requestUrl: string): types.ContextBlock | undefined {
  if (request.status !== "pending" || request.stepUpMs === null) return undefined;
  const text = `:closed_lock_with_key: *Step-up*: decisions count only from a sign-in within the last ${formatDuration(request.stepUpMs)}, on ${link(requestUrl, "the request's page")}; a click here does not decide it.`;
  return { type: "context", elements: [mrkdwn(text)] };
}
