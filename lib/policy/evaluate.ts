import type { Classification, Kind, StatementInfo } from "../sql/types";
import { anyGlobMatches, anyGlobMatchesWhole } from "./glob";
import type { Policy, Rule, RuleAction } from "./policy-file";

/** Who is asking, and where. */
export interface Requester {
  agentId: string;
  groups: readonly string[];
  resource: string;
}

export interface StatementVerdict {
  statement: StatementInfo;
  action: RuleAction;
  /** The rule that decided; none when no rule matched (then the action is deny). */
  rule?: Rule;
  /** Why, in words an agent or a reviewer can act on. */
  why: string;
}

export interface PolicyVerdict extends StatementVerdict {
  /** Every statement's own verdict, in order; the strictest one is the verdict itself. */
  statements: StatementVerdict[];
}

const STRICTNESS: Record<RuleAction, number> = { allow: 0, review: 1, deny: 2 };

const EMPTY_STATEMENT: StatementInfo = { text: "", kinds: ["session"], reads: [], writes: [], functions: [], reasons: ["an empty query runs nothing"] };

/**
 * Decides a classified SQL string: each statement gets the first rule that matches it (no match
 * denies), and the strictest statement decides for the whole string.
 */
export function evaluate(policy: Policy, who: Requester, classification: Classification): PolicyVerdict {
  const statements = classification.statements.map((statement) => evaluateStatement(policy, who, statement));
  // An empty query (`;`, a comment, "") runs nothing: PostgreSQL answers EmptyQueryResponse.
  if (statements.length === 0) return { statement: EMPTY_STATEMENT, action: "allow", why: "an empty query runs nothing", statements };
  const decisive = statements.reduce((a, b) => (STRICTNESS[b.action] > STRICTNESS[a.action] ? b : a));
  // Named field by field, not spread: made per statement, and a spread then a key is V8's slow path.
  return { statement: decisive.statement, action: decisive.action, rule: decisive.rule, why: decisive.why, statements };
}

function evaluateStatement(policy: Policy, who: Requester, statement: StatementInfo): StatementVerdict {
  for (const rule of policy.rules) {
    if (matches(rule, who, statement)) return { statement, action: rule.action, rule, why: rule.reason ? `${rule.reason} (${describe(statement)})` : describe(statement) };
  }
  return { statement, action: "deny", why: `no rule allows ${describe(statement)}` };
}

/**
 * Why a rule does not match a statement, or undefined when it does: a rule matches when every
 * criterion it names holds. Criteria about what the statement does (kinds, tables, functions)
 * are read the safe way round for each action: an allow rule must cover everything the statement
 * does, a deny or review rule need only touch one part of it.
 */
export function mismatch(rule: Rule, who: Requester, statement: StatementInfo): string | undefined {
  const m = rule.match;
  const notForRequester = requesterMismatch(rule, who);
  if (notForRequester) return notForRequester;
  const covers = rule.action === "allow";
  if (m.kinds) {
    const kinds = allowedKinds(m.kinds);
    if (covers) {
      const outside = statement.kinds.filter((k) => !kinds.has(k));
      if (outside.length > 0) return `the statement is ${outside.join(", ")}, which the rule does not allow`;
    } else if (!statement.kinds.some((k) => m.kinds!.includes(k))) return `the statement is none of ${m.kinds.join(", ")}`;
  } else if (covers && statement.kinds.includes("unknown")) {
    return "Airlock cannot understand the statement, and the rule does not name kind unknown";
  }
  if (m.tables) {
    const problem = namesProblem(m.tables, [...statement.reads, ...statement.writes], covers, "table");
    if (problem) return problem;
  }
  if (m.functions) return namesProblem(m.functions, statement.functions, covers, "function");
  return undefined;
}

/** Why a rule is not about this agent on this resource, or undefined when it is. */
export function requesterMismatch(rule: Rule, who: Requester): string | undefined {
  const m = rule.match;
  if (m.agents && !anyGlobMatchesWhole(m.agents, who.agentId)) return `agent ${who.agentId} is not one of ${m.agents.join(", ")}`;
  if (m.groups && !m.groups.some((g) => who.groups.includes(g))) return `agent is in none of the groups ${m.groups.join(", ")}`;
  if (m.resources && !anyGlobMatches(m.resources, who.resource)) return `resource ${who.resource} is not one of ${m.resources.join(", ")}`;
  return undefined;
}

export function matches(rule: Rule, who: Requester, statement: StatementInfo): boolean {
  return mismatch(rule, who, statement) === undefined;
}

/**
 * allowedKinds per rule's list of kinds, made once rather than per statement: a parsed policy is
 * never changed in place (its lists are readonly; a reload parses new ones).
 */
const allowedKindsOf = new WeakMap<readonly Kind[], ReadonlySet<Kind>>();

/** A rule that allows `select` also allows `session` statements, so drivers' BEGIN/SET work. */
export function allowedKinds(kinds: readonly Kind[]): ReadonlySet<Kind> {
  const known = allowedKindsOf.get(kinds);
  if (known) return known;
  const set = new Set(kinds);
  if (set.has("select")) set.add("session");
  allowedKindsOf.set(kinds, set);
  return set;
}

function namesProblem(patterns: readonly string[], names: readonly string[], coverAll: boolean, what: string): string | undefined {
  if (coverAll) {
    const outside = names.filter((n) => !anyGlobMatches(patterns, n));
    return outside.length > 0 ? `${what} ${outside.join(", ")} is not among ${patterns.join(", ")}` : undefined;
  }
  return names.some((n) => anyGlobMatches(patterns, n)) ? undefined : `no ${what} matches ${patterns.join(", ")}`;
}

/** Kinds whose summary says it all ("update on public.orders"): their reason would only repeat it. */
const SELF_EXPLAINING = new Set(["insert", "update", "delete", "merge", "truncate", "copy_in", "copy_out", "session"]);

/** What the statement is and does: "select+call (calls nextval(), which is not read-only)". */
function describe(statement: StatementInfo): string {
  const plain = statement.kinds.length === 1 && SELF_EXPLAINING.has(statement.kinds[0]);
  return statement.reasons.length > 0 && !plain ? `${summary(statement)} (${statement.reasons.join("; ")})` : summary(statement);
}

/** "update on public.orders", "select calling pg_sleep()" */
export function summary(statement: StatementInfo): string {
  const kinds = statement.kinds.join("+");
  const tables = [...new Set([...statement.writes, ...statement.reads])];
  return tables.length > 0 ? `${kinds} on ${tables.join(", ")}` : kinds;
}
