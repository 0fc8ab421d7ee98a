import type { Decision } from "./decide";
import { refusals } from "./refusals";
import type { Rule } from "../policy/policy-file";

const MINUTE_MS = 60_000;
/** Past this many (agent, rule) counters, the idle ones are swept on the next admission. */
const SWEEP_AT = 4096;

/** Refused: which rule's budget is spent, and how long until the oldest statement in it leaves the minute. */
export interface RateRefusal {
  rule: string;
  limit: number;
  retryAfterMs: number;
}

/**
 * `statements_per_minute`, per agent, resource and rule, over every session of the agent on this proxy
 * instance: a sliding minute, so no 60 seconds ever hold more than the budget. Each counter keeps
 * the times of the statements in its last minute (at most the budget), oldest first. Instances
 * sharing a store count apart (docs/policy.md says so).
 */
export class StatementRates {
  readonly #windows = new Map<string, number[]>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * Counts a statement the given rules let run, or refuses it when one of their budgets is spent
   * (then nothing is counted: a refused statement ran nothing, and retrying must get through).
   */
  admit(agentId: string, resource: string, rules: Iterable<Pick<Rule, "name" | "limits"> | undefined>): RateRefusal | undefined {
    const now = this.now();
    // Each statement of the text counts: n statements under one rule take n places in its minute.
    const statements = new Map<string, { rule: Pick<Rule, "name">; limit: number; n: number }>();
    for (const rule of rules) {
      const limit = rule?.limits?.statementsPerMinute;
      if (!rule || limit === undefined) continue;
      const seen = statements.get(rule.name);
      if (seen) seen.n++;
      else statements.set(rule.name, { rule, limit, n: 1 });
    }
    const counted: Array<{ window: number[]; n: number }> = [];
    let refusal: RateRefusal | undefined;
    for (const { rule, limit, n } of statements.values()) {
      const key = `${agentId}\u0000${resource}\u0000${rule.name}`;
      let window = this.#windows.get(key);
      if (!window) this.#windows.set(key, (window = []));
      while (window.length > 0 && window[0] <= now - MINUTE_MS) window.shift();
      if (window.length + n > limit) {
        // Until enough of the oldest have left the minute; a text of more than the budget never fits (a minute, to say so).
        const leaving = window.length + n - limit - 1;
        const retryAfterMs = n > limit ? MINUTE_MS : window[leaving] + MINUTE_MS - now;
        if (!refusal || retryAfterMs > refusal.retryAfterMs) refusal = { rule: rule.name, limit, retryAfterMs };
      } else counted.push({ window, n });
    }
    if (refusal) return refusal;
    for (const { window, n } of counted) for (let i = 0; i < n; i++) window.push(now);
    if (this.#windows.size > SWEEP_AT) this.#sweep(now);
    return undefined;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.length === 0 || window[window.length - 1] <= now - MINUTE_MS) this.#windows.delete(key);
  }
}

/**
 * A decision held to the rate budgets of the rules behind it: what would run (allowed, or held for
 * review) is counted, or refused with when to retry. SQLSTATE 53400, as for the other limits set in
 * configuration (PostgreSQL's class 53: insufficient resources).
 */
export function withinRate(decision: Decision, rates: StatementRates, who: { agentId: string; resource: string }): Decision {
  if (decision.action === "refuse") return decision;
  const refusal = rates.admit(who.agentId, who.resource, decision.verdict.statements.map((s) => s.rule));
  if (!refusal) return decision;
  const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  return { action: "refuse", ...refusals.rate(refusal.rule, refusal.limit, seconds), verdict: decision.verdict };
}
