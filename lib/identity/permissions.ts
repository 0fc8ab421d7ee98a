import type { Role } from "./roles";

/**
 * What each role may do in the dashboard, in one table that pages, server actions, route handlers
 * and the live socket all consult. Deciding a request is narrower still (the rule's approver
 * groups, never one's own request): `whyNotDecider` in lib/approvals/people.ts says who.
 */
const ALLOWED = {
  /** Every console page, the live socket and the explain box: anyone the IdP lets sign in. */
  "console.read": ["admin", "approver", "viewer"],
  /** A first gate only: the approvals service then checks the request's own approver groups. */
  "requests.decide": ["admin", "approver"],
  /** Revoking only ever narrows access, so any approver may stop any grant, as may an admin. */
  "grants.revoke": ["admin", "approver"],
  /** Reviewing a break-glass use afterwards: those who would have decided look at what was done without them. */
  "break_glass.review": ["admin", "approver"],
  /** An export is every statement's SQL and parameters at once, more than any one page shows. */
  "audit.export": ["admin"],
  /** The status page: targets' addresses, the store's location, instances' hosts; an operator's view, not an approver's. */
  "ops.status": ["admin"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof ALLOWED;
export type Refusal = "signed-out" | "forbidden";

/** Why this person (undefined: nobody signed in) may not do this, or undefined when they may. */
export function whyNot(person: { role: Role } | undefined, permission: Permission): Refusal | undefined {
  if (!person) return "signed-out";
  return (ALLOWED[permission] as readonly Role[]).includes(person.role) ? undefined : "forbidden";
}
