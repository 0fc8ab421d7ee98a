import type { Role } from "../identity/roles";

/** A person deciding, as their session (web) or Slack profile (mapped to the IdP) says. */
export interface Decider {
  email: string;
  groups: readonly string[];
  role: Role;
}

/**
 * Who may decide a request: a person (never an agent) with the approver or admin role who is in
 * one of the rule's approver groups. Returns why not, or undefined when they may.
 */
export function whyNotDecider(person: Decider, request: { approverGroups: readonly string[]; agentId: string }): string | undefined {
  if (person.role === "viewer") return "viewers cannot decide requests";
  if (!person.groups.some((g) => request.approverGroups.includes(g))) {
    return `only members of ${request.approverGroups.join(", ")} decide this request`;
  }
  if (person.email === request.agentId) return "the requester cannot decide its own request";
  return undefined;
}
