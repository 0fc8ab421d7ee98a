import type { webApi } from "@slack/bolt";
import type { BreakGlassUse, Grant } from "../db/schema";
import { formatDuration } from "../policy/duration";
import { escapeMrkdwn, link, slackDate } from "./mrkdwn";
import { postWithRetries, type retryDelay } from "./retry";

export interface BreakGlassAlertOptions {
  client: webApi.WebClient;
  /** The approvals channel (SLACK_CHANNEL): those who would have decided hear that nobody had to. */
  channel: string | undefined;
  queueUrl: string;
  delay?: typeof retryDelay;
}

/**
 * Slack's alert of a break-glass use, posted at once by the instance that granted it, retried as
 * other posts are. The whole channel is mentioned: access was taken without anyone deciding.
 */
export function breakGlassAlert({ client, channel, queueUrl, delay }: BreakGlassAlertOptions): (use: BreakGlassUse, grant: Grant) => Promise<void> {
  return async (use, grant) => {
    if (!channel) return;
    const reason = use.reason ? `“${escapeMrkdwn(use.reason)}”` : "no reason given";
    const text =
      `:rotating_light: <!channel> Break-glass: ${escapeMrkdwn(use.agentId)} took emergency access to ${escapeMrkdwn(use.resource)} for ${formatDuration(use.durationMs)}, ` +
      `without approval, until ${slackDate(grant.expiresAt)}. Reason: ${reason}. Every statement under it is flagged; a person must review it afterwards on ${link(queueUrl, "the queue")} (${use.id}).`;
    await postWithRetries(client, { channel, text, unfurl_links: false }, `break-glass ${use.id}'s alert`, delay);
  };
}
