import { evaluate, type PolicyVerdict } from "../policy/evaluate";
import type { Policy } from "../policy/policy-file";
import type { Classification } from "../sql/types";

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
  | { action: "allow"; verdict: PolicyVerdict }
  | { action: "refuse"; code: "42501"; message: string; verdict: PolicyVerdict };

/**
 * The one decision point: every statement of every agent, simple or extended protocol, is
 * decided here before it reaches the database.
 */
export function decide(policy: Policy, session: SessionIdentity, statement: Statement): Decision {
  const verdict = evaluate(policy, session, statement.classification);
  switch (verdict.action) {
    case "allow":
      return { action: "allow", verdict };
    case "deny":
      return refuse(verdict, verdict.rule ? `airlock: denied by rule ${verdict.rule.name}: ${verdict.why}` : `airlock: ${verdict.why}`);
    case "review":
      // Holds arrive with the approvals feature; until then a statement that needs review is refused.
      return refuse(verdict, `airlock: approval required by rule ${verdict.rule!.name}: ${verdict.why}`);
  }
}

function refuse(verdict: PolicyVerdict, message: string): Decision {
  return { action: "refuse", code: "42501", message, verdict };
}

/** Of several possible decisions (a name the server may resolve either way), the strictest. */
export function strictest(decisions: Decision[]): Decision {
  return decisions.find((d) => d.action === "refuse") ?? decisions[0];
}
