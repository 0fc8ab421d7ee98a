import { anyGlobMatches } from "../policy/glob";
import { allowedKinds, requesterMismatch, type Requester } from "../policy/evaluate";
import type { FollowUp } from "../policy/follow-up";
import type { AccessOptions, Policy, Rule, RuleAction } from "../policy/policy-file";
import type { Kind } from "../sql/types";
import { coversAllTables, type AccessScope } from "./scope";

/** Who must approve an access request and within which limits, from the rules that govern it. */
export interface AccessTerms extends AccessOptions {
  /** The rules whose review the grant would stand in for, in file order. */
  rules: string[];
  followUp?: FollowUp;
  /** The shortest review.step_up of the governing rules: a fresh sign-in that satisfies it satisfies them all. */
  stepUpMs?: number;
}

export type TermsResult = { ok: true; terms: AccessTerms } | { ok: false; code: "not_allowed" | "already_allowed"; message: string };

/**
 * Which rules an access request answers to. For each kind asked for, the rules are walked in
 * file order as for a statement of that kind on the tables asked for (every table, when none are
 * named): each review rule that could hold such a statement governs the request; a rule that
 * decides every such statement ends the walk. Every governing rule must offer access requests,
 * and the request is held to all of them: approvers in all their groups, the highest count, the
 * shortest max and timeout. What policy allows anyway needs no grant; what it denies no grant can
 * allow — so a request with nothing to review is refused, saying which.
 */
export function accessTerms(policy: Policy, who: Requester, scope: AccessScope): TermsResult {
  const governing = new Set<Rule>();
  const decided = new Map<Kind, RuleAction>();
  for (const kind of scope.kinds) {
    for (const rule of policy.rules) {
      const reach = reachOf(rule, who, kind, scope);
      if (reach === "none") continue;
      if (rule.action === "review") governing.add(rule);
      if (reach === "all") {
        decided.set(kind, rule.action);
        break;
      }
    }
  }
  const rules = policy.rules.filter((r) => governing.has(r));
  if (rules.length === 0) {
    const allowed = scope.kinds.every((k) => decided.get(k) === "allow");
    return allowed
      ? { ok: false, code: "already_allowed", message: `policy already allows ${scope.kinds.join(", ")} on ${who.resource} for ${who.agentId}: no request is needed` }
      : { ok: false, code: "not_allowed", message: `no rule holds ${scope.kinds.join(", ")} on ${who.resource} for review, so there is nothing a person could grant (what policy denies, no grant allows)` };
  }
  const closed = rules.find((r) => !r.access);
  if (closed) {
    return { ok: false, code: "not_allowed", message: `rule ${closed.name} reviews these statements one by one and offers no access requests; ask for less, or run the statements and wait for each` };
  }
  const options = rules.map((r) => r.access!);
  const approvers = options.map((o) => o.approvers).reduce((a, b) => a.filter((g) => b.includes(g)));
  if (approvers.length === 0) {
    return { ok: false, code: "not_allowed", message: `rules ${rules.map((r) => r.name).join(" and ")} are approved by different people: ask for their kinds separately` };
  }
  return {
    ok: true,
    terms: {
      rules: rules.map((r) => r.name),
      approvers,
      count: Math.max(...options.map((o) => o.count)),
      maxMs: Math.min(...options.map((o) => o.maxMs)),
      timeoutMs: Math.min(...options.map((o) => o.timeoutMs)),
      reasonRequired: options.some((o) => o.reasonRequired),
      ...followUpOf(rules),
      ...stepUpOf(rules),
    },
  };
}

function stepUpOf(rules: readonly Rule[]): { stepUpMs?: number } {
  const asked = rules.flatMap((r) => (r.review?.stepUpMs ? [r.review.stepUpMs] : []));
  return asked.length > 0 ? { stepUpMs: Math.min(...asked) } : {};
}

/**
 * One rule's reminders and escalation; of several, only the most frequent reminders: an escalation
 * widens who decides, which one rule cannot do for the others.
 */
function followUpOf(rules: readonly Rule[]): { followUp?: FollowUp } {
  const one = rules.length === 1 ? rules[0].review?.followUp : undefined;
  if (one) return { followUp: one };
  const reminders = rules.flatMap((r) => (r.review?.followUp?.remindMs ? [r.review.followUp.remindMs] : []));
  return reminders.length > 0 ? { followUp: { remindMs: Math.min(...reminders) } } : {};
}

/**
 * How much of "statements of this kind on these tables" a rule matches: none, some (it names
 * tables or functions that some such statements touch), or all. Read as evaluate() reads a
 * statement: an allow rule must cover, a deny or review rule need only touch.
 */
function reachOf(rule: Rule, who: Requester, kind: Kind, scope: AccessScope): "none" | "some" | "all" {
  const m = rule.match;
  if (requesterMismatch(rule, who)) return "none";
  if (m.kinds && !(rule.action === "allow" ? allowedKinds(m.kinds) : new Set(m.kinds)).has(kind)) return "none";
  const all = coversAllTables(scope);
  if (m.tables && !all && !scope.tables.some((t) => anyGlobMatches(m.tables!, t))) return "none";
  const everyTable = !m.tables || (!all && scope.tables.every((t) => anyGlobMatches(m.tables!, t)));
  return everyTable && !m.functions ? "all" : "some";
}
