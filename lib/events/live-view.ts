import { whyNot } from "../identity/permissions";
import type { Role } from "../identity/roles";
import type { AirlockEvent } from "./bus";

/** What a dashboard's socket is told of a change: its kind, and nothing more. */
export interface LiveEvent {
  type: AirlockEvent["type"];
}

/**
 * What /api/live sends a person about an event, or nothing. Every role reads every console page,
 * so a viewer hears of every kind of change; but only of its kind: the page then fetches itself
 * again through its own session check. Emails, agent names, request ids and statuses stay off the
 * socket, and a sign-out or a forwarded cancel is the server's own business.
 */
export function liveView(event: AirlockEvent, person: { role: Role }): LiveEvent | undefined {
  if (whyNot(person, "console.read") || event.type === "person.signed_out" || event.type === "session.cancel_requested") return undefined;
  return { type: event.type };
}
