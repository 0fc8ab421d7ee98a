import { createHmac } from "node:crypto";
import type { SlackCall } from "./slack-stand-in";

/**
 * What Slack sends Airlock when someone presses a button or submits a form, built and signed as
 * Slack does: `payload=<json>` form-encoded, signed `v0=HMAC-SHA256(secret, "v0:<ts>:<body>")`.
 */

export const STAND_IN_SIGNING_SECRET = "stand-in-signing-secret-0123456789";

export interface PostOptions {
  secret?: string;
  /** Seconds since the epoch; now unless a test replays an old request. */
  timestamp?: number;
  /** Replaces the computed signature (a forgery). */
  signature?: string;
}

/** Posts an interaction payload to Airlock's Slack endpoint, signed with the real scheme. */
export async function postInteraction(airlockUrl: string, payload: object, options: PostOptions = {}): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return postSigned(airlockUrl, body, options);
}

export async function postSigned(airlockUrl: string, body: string, options: PostOptions = {}): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature ?? `v0=${createHmac("sha256", options.secret ?? STAND_IN_SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return fetch(`${airlockUrl}/api/slack/events`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature },
    body,
  });
}

/** Slack gives every interaction its own trigger id, and Airlock's replay guard keys on it: two clicks in one millisecond must differ. */
let interactions = 0;
const triggerId = (userId: string) => `${Date.now()}.${++interactions}.${userId}`;

interface Button {
  action_id: string;
  value: string;
  text: { text: string };
}

/** The button labelled `label` in a message Airlock posted (or updated). */
export function buttonIn(call: SlackCall, label: string): Button {
  for (const block of call.args.blocks ?? []) {
    const button = (block.elements ?? []).find((e: Button & { type: string }) => e.type === "button" && e.text.text === label);
    if (button) return button;
  }
  throw new Error(`no "${label}" button in ${JSON.stringify(call.args.blocks)}`);
}

/** A block_actions payload: `userId` pressed `button` on the message `posted` (a chat.postMessage call). */
export function buttonClick(posted: SlackCall, userId: string, button: Button): object {
  return {
    type: "block_actions",
    user: { id: userId, username: userId.toLowerCase(), team_id: "T0STANDIN" },
    api_app_id: "A0AIRLOCK",
    token: "legacy-verification-token",
    container: { type: "message", message_ts: posted.ts, channel_id: posted.channel, is_ephemeral: false },
    trigger_id: triggerId(userId),
    team: { id: "T0STANDIN", domain: "stand-in" },
    channel: { id: posted.channel, name: "approvals" },
    message: { type: "message", ts: posted.ts, text: posted.args.text, blocks: posted.args.blocks },
    response_url: "http://127.0.0.1:9/response-url-unused",
    actions: [{ type: "button", block_id: "airlock.decide", action_id: button.action_id, value: button.value, text: { type: "plain_text", text: button.text.text }, action_ts: `${Date.now() / 1000}` }],
  };
}

/** A view_submission payload: `userId` submitted the deny form `opened` (a views.open call) with `reason`. */
export function denySubmission(opened: SlackCall, userId: string, reason: string): object {
  const { view } = opened.args;
  return {
    type: "view_submission",
    team: { id: "T0STANDIN", domain: "stand-in" },
    user: { id: userId, username: userId.toLowerCase(), team_id: "T0STANDIN" },
    api_app_id: "A0AIRLOCK",
    token: "legacy-verification-token",
    trigger_id: triggerId(userId),
    view: { ...view, id: "V0DENY", team_id: "T0STANDIN", state: { values: { reason: { reason: { type: "plain_text_input", value: reason } } } } },
  };
}
