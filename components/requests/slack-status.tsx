import type { SlackMessage } from "@/lib/db/schema";
import type { SlackMode } from "@/lib/slack/settings";

/** Whether the request reached Slack and is current there; if not, why; or that Slack is off. */
export function SlackStatus({ mode, message }: { mode: SlackMode; message: SlackMessage | undefined }) {
  const failing = message?.state === "failed" || (message?.state === "sending" && message.error);
  return (
    <p className={failing ? "alert small" : "muted small"} data-testid="slack-status">
      {describe(mode, message)}
    </p>
  );
}

function describe(mode: SlackMode, message: SlackMessage | undefined): string {
  if (mode === "off") return "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to decide from Slack too.";
  if (!message) return "Slack: not posted.";
  switch (message.state) {
    case "sent":
      return `Slack: posted to ${message.channel}, up to date.`;
    case "failed":
      return `Slack: ${message.error}. Decide here.`;
    case "rolled_up":
      return `Slack: one of a burst from this agent, counted in its summary message in ${message.channel}, not posted on its own. Decide here.`;
    case "sending":
      return message.error ? `Slack: ${message.error}; retrying (attempt ${message.attempts}). Decide here meanwhile.` : "Slack: sending…";
  }
}
