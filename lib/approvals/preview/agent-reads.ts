/**
 * What of a dry run's sample approvers may see: only what the agent itself could read. A table
 * counts as readable when policy would allow this agent a plain read of it (an allow rule, not a
 * review or a deny, and no rule at all refuses); a read rule that filters the table's rows counts
 * only when the held statement ran under the same filter (its changed rows are then rows the
 * agent can read). Anything else is withheld: approval never shows more than the agent may see.
 */
import { evaluate, type Requester } from "../../policy/evaluate";
import type { Policy, Rule } from "../../policy/policy-file";
import type { Catalog } from "../../sql/types";

/** Why the agent may not read a table (schema-qualified), or undefined when it may. */
export type AgentReads = (table: string) => string | undefined;

export function agentReads(policy: Policy, who: Requester, catalog: Catalog, heldUnder?: Rule): AgentReads {
  const known = new Map<string, string | undefined>();
  return (table) => {
    if (known.has(table)) return known.get(table);
    const read = evaluate(policy, who, { kind: "select", statements: [{ text: "", kinds: ["select"], reads: [table], writes: [], functions: [], reasons: [] }] });
    let why = read.action === "allow" ? undefined : `the agent may not read ${table}`;
    const filtered = why ? undefined : filterOf(read.rule, table, catalog);
    if (filtered && filtered !== filterOf(heldUnder, table, catalog)) why = `the agent reads only the rows of ${table} its row filter lets through`;
    known.set(table, why);
    return why;
  };
}

/** The row filter a rule puts on a table (or on a parent it inherits from, which applies to it). */
function filterOf(rule: Rule | undefined, table: string, catalog: Catalog): string | undefined {
  if (!rule?.rows?.length) return undefined;
  const seen = new Set<string>();
  for (let queue = [table]; queue.length > 0; ) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const own = rule.rows.find((f) => f.table === next);
    if (own) return own.source;
    queue.push(...(catalog.relations.get(next)?.parents ?? []));
  }
  return undefined;
}
