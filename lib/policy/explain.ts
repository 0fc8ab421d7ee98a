import type { Catalog, Classification, StatementInfo } from "../sql/types";
import { evaluate, mismatch, type PolicyVerdict, type Requester } from "./evaluate";
import { hasMasking, previewMasking, requesterMask, type ColumnMaskingPreview } from "../masking/masking";
import type { MaskOptions, Policy, Rule } from "./policy-file";
import { explainRowFilters } from "../decision/row-filters";

export interface RuleTrace {
  rule: string;
  line?: number;
  /** Undefined when the rule matched (and so decided). */
  skipped?: string;
}

export interface StatementExplanation {
  statement: StatementInfo;
  /** The rules considered, in order, up to the one that decided. */
  trace: RuleTrace[];
  /** What its result would have masked (for a held statement: once approved). */
  masking?: { mask: MaskOptions; columns: ColumnMaskingPreview[] };
  /** Under row filters: the statement as it runs, or why it would be refused (lib/decision/row-filters.ts). */
  rowFilters?: { rewritten?: string; refused?: string };
}

export interface Explanation {
  classification: Classification;
  verdict: PolicyVerdict;
  statements: StatementExplanation[];
}

/** Which rule decides a statement and why the rules before it did not: for the Policy page and the CLI. */
export function explain(policy: Policy, who: Requester, classification: Classification, catalog?: Catalog): Explanation {
  const verdict = evaluate(policy, who, classification);
  return {
    classification,
    verdict,
    statements: classification.statements.map((statement, i) => {
      const own = verdict.statements[i];
      const mask = own.action === "allow" ? own.rule?.mask : own.action === "review" ? requesterMask(policy, who) : undefined;
      const masking = hasMasking(mask) && statement.output ? { mask, columns: previewMasking(mask, statement.output) } : undefined;
      const rowFilters = explainRowFilters(own, who, catalog);
      return { statement, trace: trace(policy.rules, who, statement), masking, ...(rowFilters.rewritten || rowFilters.refused ? { rowFilters } : {}) };
    }),
  };
}

function trace(rules: readonly Rule[], who: Requester, statement: StatementInfo): RuleTrace[] {
  const out: RuleTrace[] = [];
  for (const rule of rules) {
    const skipped = mismatch(rule, who, statement);
    out.push({ rule: rule.name, line: rule.line, skipped });
    if (!skipped) break;
  }
  return out;
}
