import type { AirlockConfig } from "../config";

/** Slack's requests (button clicks, modal submissions) arrive here, on the dashboard's port. */
export const SLACK_EVENTS_PATH = "/api/slack/events";

export type SlackMode = "off" | "http" | "socket";

/** On with a bot token and a signing secret; Socket Mode instead of HTTP when an app token is set too. */
export function slackMode(slack: AirlockConfig["slack"]): SlackMode {
  if (!slack.botToken || !slack.signingSecret) return "off";
  return slack.appToken ? "socket" : "http";
}
