import type { PersonIdentity } from "../identity/person-identity";
import type { Role } from "../identity/roles";
import { deciderGroups, escalatesAt, type Waiting } from "./follow-up-times";
import type { SignIn } from "./step-up";

/** A person deciding, as their session (web) or Slack profile (mapped to the IdP) says. */
export interface Decider {
  email: string;
  groups: readonly string[];
  role: Role;
  /** Who their identity provider says they are (issuer and subject), when the session carries it. */
  identity?: PersonIdentity;
  /** How and when they signed in to the console (a web session); none from Slack. Step-up requests ask (lib/approvals/step-up.ts). */
  signIn?: SignIn;
}

/**
 * The one form in which people's emails are compared: the same address arrives as "Bob@…" from an
 * IdP and "bob@…" from Slack. Decisions keep the address as given; every comparison goes through here.
 */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function sameEmail(a: string, b: string): boolean {
  return emailKey(a) === emailKey(b);
}

/** Whether the person already decided, among these decisions. */
export function hasDecided(decisions: ReadonlyArray<{ personEmail: string }>, person: Pick<Decider, "email">): boolean {
  return decisions.some((d) => sameEmail(d.personEmail, person.email));
}

/**
 * Whether the person is the requester, an agent known by its subject at the agent issuer (one per
 * deployment): the same identity (issuer and subject) when the person's is known, or an agent
 * named by the person's email (a token whose subject is an address).
 */
export function isRequester(person: Decider, agentId: string, agentIssuer: string | undefined): boolean {
  if (sameEmail(person.email, agentId)) return true;
  const { identity } = person;
  return !!identity && identity.issuer === agentIssuer && identity.subject === agentId;
}

/**
 * Who may decide a request: a person (never an agent) with the approver or admin role who is in
 * one of the rule's approver groups (or, once the request escalated, of the groups it escalated
 * to), and not its requester. Returns why not, or undefined when they may. The web, Slack and the
 * approvals service all ask here.
 */
export function whyNotDecider(person: Decider, request: Waiting & { agentId: string }, agentIssuer?: string, now = new Date()): string | undefined {
  if (person.role === "viewer") return "viewers cannot decide requests";
  const groups = deciderGroups(request, now);
  if (!person.groups.some((g) => groups.includes(g))) {
    const later = escalatesAt(request);
    const escalation = later && later > now ? `; it escalates to ${request.followUp!.escalate!.to.join(", ")} at ${later.toISOString()}` : "";
    return `only members of ${groups.join(", ")} decide this request${escalation}`;
  }
  if (isRequester(person, request.agentId, agentIssuer)) return "the requester cannot decide its own request";
  return undefined;
}
