import type { Scope } from "../approvals/grants";
import { evaluate, type PolicyVerdict } from "../policy/evaluate";
import type { Policy, ReviewOptions, Rule } from "../policy/policy-file";
import type { Classification, StatementInfo } from "../sql/types";

/** Who is asking: the verified agent behind one proxy session. */
export interface SessionIdentity {
  sessionId: string;
  agentId: string;
  groups: readonly string[];
  resource: string;
}

export interface Statement {
  text: string;
  /** Bound parameters in text form (binary ones hex-encoded), for the extended protocol. */
  params?: ReadonlyArray<string | null>;
  protocol: "simple" | "extended";
  classification: Classification;
}

export type Decision =
  | { action: "allow"; verdict: PolicyVerdict; grantId?: string }
  | { action: "review"; verdict: PolicyVerdict; rule: Rule & { review: ReviewOptions }; scope: Omit<Scope, "agentId" | "resource"> }
  | { action: "refuse"; code: "42501"; message: string; verdict: PolicyVerdict };

/** Active grants, looked up by what a statement does. */
export interface GrantLookup {
  covering(scope: Scope): { id: string } | undefined;
}

/**
 * The one decision point: every statement of every agent, simple or extended protocol, is
 * decided here before it reaches the database. A grant can stand in for a review, never for a
 * refusal.
 */
export function decide(policy: Policy, session: SessionIdentity, statement: Statement, grants?: GrantLookup): Decision {
  const verdict = evaluate(policy, session, statement.classification);
  switch (verdict.action) {
    case "allow":
      return { action: "allow", verdict };
    case "deny":
      return refuse(verdict, verdict.rule ? `airlock: denied by rule ${verdict.rule.name}: ${verdict.why}` : `airlock: ${verdict.why}`);
    case "review": {
      const held = verdict.statements.filter((s) => s.action === "review").map((s) => s.statement);
      const scope = scopeOf(held);
      const grant = grants?.covering({ agentId: session.agentId, resource: session.resource, ...scope });
      if (grant) return { action: "allow", verdict, grantId: grant.id };
      return { action: "review", verdict, rule: verdict.rule as Rule & { review: ReviewOptions }, scope };
    }
  }
}

function scopeOf(statements: StatementInfo[]): { kinds: string[]; tables: string[] } {
  const kinds = new Set<string>();
  const tables = new Set<string>();
  for (const s of statements) {
    for (const k of s.kinds) kinds.add(k);
    for (const t of [...s.reads, ...s.writes]) tables.add(t);
  }
  return { kinds: [...kinds], tables: [...tables].sort() };
}

function refuse(verdict: PolicyVerdict, message: string): Decision {
  return { action: "refuse", code: "42501", message, verdict };
}

const STRICTNESS = { allow: 0, review: 1, refuse: 2 } as const;

/** Of several possible decisions (a name the server may resolve either way), the strictest. */
export function strictest(decisions: Decision[]): Decision {
  return decisions.reduce((a, b) => (STRICTNESS[b.action] > STRICTNESS[a.action] ? b : a));
}
