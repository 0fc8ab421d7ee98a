import { parseArgs } from "node:util";
import { findSeedAgent } from "../idp/seed";
import { loadConfig } from "../lib/config";
import { explain, type Explanation } from "../lib/policy/explain";
import { parsePolicy, PolicyError, type Policy } from "../lib/policy/policy-file";
import { readPolicyText } from "../lib/policy/source";
import { BUILTIN_CATALOG } from "../lib/sql/builtin-catalog";
import { createClassifier } from "../lib/sql/classify";
import { loadSqlParser } from "../lib/sql/parser";

const USAGE = `usage:
  airlock policy check [FILE]
  airlock policy explain --agent ID [--groups a,b] --resource NAME --sql "..." [--policy FILE] [--json]`;

/** `airlock policy check|explain`: the policy file from the command line. */
export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "check") return loadSqlParser().then(() => check(rest)); // row filters are parsed as the policy loads
  if (sub === "explain") return explainCommand(rest);
  console.error(USAGE);
  return 2;
}

function check(args: string[]): number {
  const file = args[0] ?? loadConfig().policyPath;
  try {
    const policy = readPolicy(file);
    console.log(`${file}: OK — ${policy.resources.size} resource(s), ${policy.rules.length} rule(s)`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    console.error(err.message);
    return 1;
  }
}

async function explainCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: "string" },
      groups: { type: "string" },
      resource: { type: "string" },
      sql: { type: "string" },
      policy: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.agent || !values.resource || values.sql === undefined) {
    console.error(USAGE);
    return 2;
  }
  const groups = values.groups?.split(",").map((g) => g.trim()).filter(Boolean) ?? findSeedAgent(values.agent)?.groups;
  if (!groups) throw new Error(`unknown agent "${values.agent}": give its groups with --groups`);
  const policy = readPolicy(values.policy ?? loadConfig().policyPath);
  if (!policy.resources.has(values.resource)) throw new Error(`the policy has no resource "${values.resource}"`);

  await loadSqlParser();
  // Offline: PostgreSQL's built-in catalog; the proxy uses the resource's own.
  const classification = createClassifier(BUILTIN_CATALOG).classify(values.sql);
  const result = explain(policy, { agentId: values.agent, groups, resource: values.resource }, classification, BUILTIN_CATALOG);
  console.log(values.json ? JSON.stringify(result, null, 2) : renderExplanation(result));
  return 0;
}

function readPolicy(file: string): Policy {
  return parsePolicy(readPolicyText(file), process.env, file);
}

export function renderExplanation(result: Explanation): string {
  const { verdict } = result;
  const lines = [`decision: ${verdict.action.toUpperCase()}${verdict.rule ? ` by rule ${verdict.rule.name}` : " (no rule matched)"}`, `why:      ${verdict.why}`];
  if (verdict.action === "allow" && verdict.rule?.mask) {
    const mask = verdict.rule.mask;
    lines.push(`masking:  columns ${mask.columns.join(", ") || "none"}; detectors ${mask.detect.join(", ") || "none"} (${mask.strategy})`);
  }
  result.statements.forEach(({ statement, trace, rowFilters }, i) => {
    lines.push("", `statement ${i + 1}: ${statement.text}`);
    lines.push(`  kinds:     ${statement.kinds.join(", ")}`);
    if (statement.reads.length) lines.push(`  reads:     ${statement.reads.join(", ")}`);
    if (statement.writes.length) lines.push(`  writes:    ${statement.writes.join(", ")}`);
    if (statement.functions.length) lines.push(`  functions: ${statement.functions.join(", ")}`);
    for (const reason of statement.reasons) lines.push(`  note:      ${reason}`);
    for (const t of trace) lines.push(`  rule ${t.rule}${t.line ? ` (line ${t.line})` : ""}: ${t.skipped ? `skipped — ${t.skipped}` : "MATCHES"}`);
    if (rowFilters?.rewritten) lines.push(`  runs as:   ${rowFilters.rewritten}`);
    if (rowFilters?.refused) lines.push(`  refused:   ${rowFilters.refused}`);
  });
  return lines.join("\n");
}
