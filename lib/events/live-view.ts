import { whyNot } from "../identity/permissions";
import type { Role } from "../identity/roles";
import type { AirlockEvent } from "./bus";

/** What a dashboard's socket is told of a change: its kind, and nothing more. */
export interface LiveEvent {
  type: AirlockEvent["type"];
  /** A reminder or escalation naming one of the person's groups (and they may decide): their browser may notify them. */
  forYou?: true;
}

/**
 * What /api/live sends a person about an event, or nothing. Every role reads every console page,
 * so a viewer hears of every kind of change; but only of its kind: the page then fetches itself
 * again through its own session check. Emails, agent names, request ids and statuses stay off the
 * socket, and a sign-out or a forwarded cancel is the server's own business.
 */
export function liveView(event: AirlockEvent, person: { role: Role; groups?: readonly string[] }): LiveEvent | undefined {
  if (whyNot(person, "console.read") || event.type === "person.signed_out" || event.type === "session.cancel_requested") return undefined;
  if ((event.type === "request.reminded" || event.type === "request.escalated") && person.role !== "viewer" && event.groups.some((g) => person.groups?.includes(g))) {
    return { type: event.type, forYou: true };
  }
  return { type: event.type };
}
