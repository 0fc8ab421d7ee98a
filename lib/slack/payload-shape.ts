/**
 * Whether a signed request body has the shape Bolt reads without checking. Bolt sorts a body by
 * its keys (`event`, `command`, `name`, `actions`) and its `type`, then reads `user.id`,
 * `channel.id`, `actions[0]`, `view.callback_id`, `event.channel` and the like, and throws on a
 * body missing them; its receiver answers that with a 500. Slack never sends such a body;
 * whoever holds the signing secret might, and is told what is wrong instead, with nothing changed.
 */

import { DENY_CALLBACK_ID } from "./deny-modal";

/** Interaction types (the `payload` form field) Bolt routes by `type`. */
const INTERACTIONS = new Set(["block_actions", "block_suggestion", "interactive_message", "message_action", "shortcut", "view_submission", "view_closed", "dialog_submission", "dialog_cancellation", "dialog_suggestion", "workflow_step_edit"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const hasString = (v: unknown, key: string) => isObject(v) && typeof v[key] === "string";

/**
 * An Events API delivery, as Bolt tells one: any body with an `event`. Airlock subscribes to no
 * events, and Bolt reads an event's fields (channel, item, …) unchecked before it finds no
 * listener: such a request is acknowledged without Bolt, as Bolt acknowledges a well-formed one.
 */
export function isEventDelivery(body: unknown): boolean {
  return isObject(body) && body.event !== undefined;
}

/** What is wrong with the body, or undefined when Bolt may have it. */
export function payloadProblem(body: unknown): string | undefined {
  if (!isObject(body)) return "the payload is not a JSON object";
  const type = typeof body.type === "string" ? body.type : undefined;
  const interaction = body.event === undefined && body.command === undefined && (body.name !== undefined || body.actions !== undefined || (type !== undefined && INTERACTIONS.has(type)));
  // Slash commands, url_verification, ssl_check, unknown types: Bolt answers them as it does (a 200 or a 404).
  if (!interaction) return undefined;
  if (!hasString(body.user, "id")) return "the payload has no user.id";
  if (body.channel !== undefined && !isObject(body.channel)) return "the payload's channel is not an object";
  for (const key of ["team", "enterprise", "container", "message", "view"]) {
    if (body[key] !== undefined && body[key] !== null && !isObject(body[key])) return `the payload's ${key} is not an object`;
  }
  // The ids Bolt builds its context from (who, which workspace) are strings or absent.
  const ids: Array<[unknown, string, string]> = [[body.team, "id", "team.id"], [body.team, "enterprise_id", "team.enterprise_id"], [body.enterprise, "id", "enterprise.id"], [body.user, "team_id", "user.team_id"], [body.channel, "id", "channel.id"]];
  for (const [holder, key, name] of ids) {
    if (isObject(holder) && holder[key] !== undefined && holder[key] !== null && typeof holder[key] !== "string") return `the payload's ${name} is not a string`;
  }
  if (body.actions !== undefined && (!Array.isArray(body.actions) || body.actions.length === 0 || !body.actions.every((a) => hasString(a, "action_id") && hasString(a, "type")))) {
    return "the payload's actions are not buttons";
  }
  switch (type) {
    case "view_submission":
    case "view_closed":
      return hasString(body.view, "callback_id") ? undefined : "the payload has no view.callback_id";
    case "block_suggestion":
      return hasString(body, "action_id") ? undefined : "the payload has no action_id";
    case "shortcut":
    case "message_action":
      return hasString(body, "callback_id") ? undefined : "the payload has no callback_id";
    default:
      return undefined;
  }
}

/**
 * Whether Airlock listens for this (well-formed) body: a button pressed, the deny form submitted,
 * and what Bolt's receiver answers itself (ssl_check, url_verification). For anything else Bolt
 * finds no listener and holds the request three seconds before a 404; it is told at once instead.
 */
export function listenedFor(body: Record<string, unknown>): boolean {
  if (body.ssl_check === "1" || body.type === "url_verification") return true;
  if (body.type === "block_actions") return true;
  return body.type === "view_submission" && hasString(body.view, "callback_id") && (body.view as Record<string, unknown>).callback_id === DENY_CALLBACK_ID;
}
