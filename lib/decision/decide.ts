import { statementScope, type ScopePair } from "../approvals/grant-scope";
import type { Scope } from "../approvals/grants";
import { hasMasking, requesterMask, type ResultMasking } from "../masking/masking";
import { evaluate, type PolicyVerdict, type StatementVerdict } from "../policy/evaluate";
import type { MaskOptions, Policy, ReviewOptions, Rule } from "../policy/policy-file";
import type { Catalog, Classification } from "../sql/types";
import { withRowFilters } from "./row-filters";
import { refusals, type Refusal } from "./refusals";

/** Who is asking: the verified agent behind one proxy session. */
export interface SessionIdentity {
  sessionId: string;
  agentId: string;
  groups: readonly string[];
  resource: string;
  /** The token's claims, for row filters' `{{claims.NAME}}`. */
  claims?: Readonly<Record<string, unknown>>;
}

export interface Statement {
  text: string;
  /** Bound parameters in text form (binary ones hex-encoded), for the extended protocol. */
  params?: ReadonlyArray<string | null>;
  protocol: "simple" | "extended";
  classification: Classification;
}

export type Decision =
  /** `rewritten`: the text to run instead, under row filters (lib/decision/row-filters.ts). */
  | { action: "allow"; verdict: PolicyVerdict; grantId?: string; masking?: ResultMasking; rewritten?: string }
  | { action: "review"; verdict: PolicyVerdict; rule: Rule & { review: ReviewOptions }; scope: ScopePair[]; masking?: ResultMasking; rewritten?: string }
  /** 42501 by policy; 57P03 when the audit trail cannot keep it (the store failing); 53400 over a rate budget. `hint`: what to do instead (lib/decision/refusals.ts). */
  | ({ action: "refuse"; verdict: PolicyVerdict } & Refusal);

/** Active grants, looked up by what a statement does. */
export interface GrantLookup {
  covering(scope: Scope): { id: string } | undefined;
}

/**
 * The one decision point: every statement of every agent, simple or extended protocol, is
 * decided here before it reaches the database. A grant can stand in for a review, never for a
 * refusal.
 */
export function decide(policy: Policy, session: SessionIdentity, statement: Statement, grants?: GrantLookup, catalog?: Catalog): Decision {
  return withRowFilters(decideByRules(policy, session, statement, grants), session, catalog);
}

function decideByRules(policy: Policy, session: SessionIdentity, statement: Statement, grants?: GrantLookup): Decision {
  const verdict = evaluate(policy, session, statement.classification);
  switch (verdict.action) {
    case "allow":
      return masked({ action: "allow", verdict, masking: maskingOf(verdict, (s) => s.rule?.mask) });
    case "deny":
      return refuse(verdict, verdict.rule ? refusals.deniedByRule(verdict.rule.name, verdict.why) : refusals.noRule(verdict.why));
    case "review": {
      const held = verdict.statements.filter((s) => s.action === "review").map((s) => s.statement);
      const scope = statementScope(held);
      // Approval (or a grant) lets the statement run, never see more: it is masked as this agent's reads are.
      const mask = requesterMask(policy, session);
      const masking = maskingOf(verdict, () => mask);
      const grant = grants?.covering({ agentId: session.agentId, resource: session.resource, pairs: scope });
      if (grant) return masked({ action: "allow", verdict, grantId: grant.id, masking });
      return masked({ action: "review", verdict, rule: verdict.rule as Rule & { review: ReviewOptions }, scope, masking });
    }
  }
}

function maskingOf(verdict: PolicyVerdict, maskOf: (s: StatementVerdict) => MaskOptions | undefined): ResultMasking | undefined {
  const masking = verdict.statements.map((s) => {
    const mask = maskOf(s);
    // Without a traced output (never expected), nothing in the result counts as clean.
    return hasMasking(mask) ? { mask, output: s.statement.output ?? { all: { sources: [], unknown: true as const } } } : undefined;
  });
  return masking.some(Boolean) ? masking : undefined;
}

/** Binary COPY rows are not rewritten: under masking such an export is refused, with the way out. */
function masked(decision: Extract<Decision, { action: "allow" | "review" }>): Decision {
  if (!decision.masking?.some((m) => m?.output.copy?.format === "binary")) return decision;
  return refuse(decision.verdict, refusals.binaryCopyMasked());
}

function refuse(verdict: PolicyVerdict, refusal: Refusal): Decision {
  return { action: "refuse", ...refusal, verdict };
}
