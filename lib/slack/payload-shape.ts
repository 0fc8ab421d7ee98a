/**
 * Whether a signed interaction payload has the shape Bolt reads without checking: Bolt routes on
 * `user.id`, `actions[].action_id`, `view.callback_id` and the like and throws on a payload
 * missing them, which its receiver answers with a 500. Slack never sends such a payload; whoever
 * holds the signing secret might, and gets a 400 that says so instead, with nothing changed.
 */

/** Interaction types (the `payload` form field). */
const INTERACTIONS = new Set(["block_actions", "block_suggestion", "interactive_message", "message_action", "shortcut", "view_submission", "view_closed", "dialog_submission", "dialog_cancellation", "dialog_suggestion", "workflow_step_edit"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const hasString = (v: unknown, key: string) => isObject(v) && typeof v[key] === "string";

/**
 * An Events API delivery. Airlock subscribes to no events, and Bolt reads an event's fields
 * (user, channel, item, …) unchecked before it finds no listener: such a request is acknowledged
 * without Bolt, as Bolt would acknowledge a well-formed one.
 */
export function isEventDelivery(body: unknown): boolean {
  return isObject(body) && body.type === "event_callback";
}

/** What is wrong with the payload, or undefined when Bolt may have it. */
export function payloadProblem(body: unknown): string | undefined {
  if (!isObject(body)) return "the payload is not a JSON object";
  // ssl_check, slash commands, url_verification: Bolt answers them as it does (a 200 or a 404).
  if (typeof body.type !== "string" || !INTERACTIONS.has(body.type)) return undefined;
  if (!hasString(body.user, "id")) return "the payload has no user.id";
  for (const key of ["team", "channel", "enterprise", "container", "message"]) {
    if (body[key] !== undefined && body[key] !== null && !isObject(body[key])) return `the payload's ${key} is not an object`;
  }
  switch (body.type) {
    case "block_actions":
      if (!Array.isArray(body.actions) || body.actions.length === 0 || !body.actions.every((a) => hasString(a, "action_id") && hasString(a, "type"))) return "the payload's actions are not buttons";
      return undefined;
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
