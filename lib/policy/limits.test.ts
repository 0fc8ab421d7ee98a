import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePolicy, PolicyError } from "./policy-file";
import { formatBytes, parseBytes, statementLimits } from "./limits";

const policy = (limits: string, action = "allow") => `resources: {}
rules:
  - name: budgeted
    match: { groups: [agents], kinds: [select] }
    action: ${action}
    ${action === "review" ? "review: { approvers: [db-approvers] }\n    " : ""}limits: ${limits}
`;

function problems(text: string): Array<{ path: string; line?: number; message: string }> {
  try {
    parsePolicy(text, {}, "airlock.policy.yaml");
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    return err.problems;
  }
  assert.fail("expected a PolicyError");
}

test("limits are read with sizes and durations as people write them", () => {
  const [rule] = parsePolicy(policy("{ statements_per_minute: 600, max_rows: 10000, max_result_bytes: 50MB, statement_timeout: 30s }")).rules;
  assert.deepEqual(rule.limits, { statementsPerMinute: 600, maxRows: 10000, maxResultBytes: 50_000_000, statementTimeoutMs: 30_000, onLimit: "error" });
  const [review] = parsePolicy(policy("{ max_rows: 5, on_limit: truncate }", "review")).rules;
  assert.deepEqual(review.limits, { maxRows: 5, onLimit: "truncate" });
});

test("broken limits are refused naming the line and the field", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["{ max_rows: 0 }", "rules.0.limits.max_rows", /at least 1/],
    ["{ max_rows: 1.5 }", "rules.0.limits.max_rows", /whole number/],
    ["{ max_rows: many }", "rules.0.limits.max_rows", /whole number/],
    ["{ statements_per_minute: 1000000 }", "rules.0.limits.statements_per_minute", /at most 100000/],
    ["{ max_result_bytes: 50 parsecs }", "rules.0.limits.max_result_bytes", /a size such as 50MB/],
    ["{ max_result_bytes: 0 }", "rules.0.limits.max_result_bytes", /a size/],
    ["{ statement_timeout: soon }", "rules.0.limits.statement_timeout", /a duration/],
    ["{ statement_timeout: 30s, on_limit: truncate }", "rules.0.limits.on_limit", /applies to max_rows and max_result_bytes/],
    ["{ max_rows: 5, on_limit: ignore }", "rules.0.limits.on_limit", /error|truncate/],
    ["{ max_rowz: 5 }", "rules.0.limits", /max_rowz/],
    ["{}", "rules.0.limits", /at least one of/],
  ];
  for (const [limits, path, message] of cases) {
    const found = problems(policy(limits));
    assert.ok(found.some((p) => p.path === path && p.line === 6 && message.test(p.message)), `${limits}: ${JSON.stringify(found)}`);
  }
  const [deny] = problems(policy("{ max_rows: 5 }", "deny"));
  assert.equal(deny.path, "rules.0.limits");
  assert.match(deny.message, /allow and review rules/);
});

test("sizes: decimal and binary units, whole bytes", () => {
  assert.equal(parseBytes("50MB"), 50_000_000);
  assert.equal(parseBytes("512 KiB"), 524_288);
  assert.equal(parseBytes("1gb"), 1_000_000_000);
  assert.equal(parseBytes(1024), 1024);
  assert.equal(parseBytes("-5MB"), undefined);
  assert.equal(parseBytes(0.5), undefined);
  assert.equal(formatBytes(50_000_000), "50MB");
  assert.equal(formatBytes(10_240), "10KiB");
  assert.equal(formatBytes(1001), "1001 bytes");
});

test("a statement runs under the strictest limit of its rules, and errors over truncation", () => {
  const limits = statementLimits([
    { name: "a", limits: { maxRows: 100, onLimit: "truncate" } },
    { name: "b", limits: { maxRows: 50, maxResultBytes: 1000, onLimit: "error" } },
    { name: "c", limits: { statementsPerMinute: 5, onLimit: "error" } },
    undefined,
  ]);
  assert.deepEqual(limits, { onLimit: "error", maxRows: { value: 50, rule: "b" }, maxResultBytes: { value: 1000, rule: "b" } });
  assert.equal(statementLimits([{ name: "c", limits: { statementsPerMinute: 5, onLimit: "error" } }]), undefined);
  assert.equal(statementLimits([{ name: "t", limits: { maxRows: 5, onLimit: "truncate" } }])?.onLimit, "truncate");
});
