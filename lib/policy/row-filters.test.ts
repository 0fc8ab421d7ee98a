import assert from "node:assert/strict";
import { test } from "node:test";
import { loadSqlParser } from "../sql/parser";
import { parsePolicy, PolicyError } from "./policy-file";

await loadSqlParser();

const policy = (rules: string) => `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
${rules}`;

function problems(text: string): Array<{ path: string; line?: number; message: string }> {
  try {
    parsePolicy(text, {}, "airlock.policy.yaml");
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    return err.problems;
  }
  assert.fail("expected a PolicyError");
}

test("rows: on allow and review rules, compiled with the table qualified", () => {
  const { rules } = parsePolicy(
    policy(`  - name: read
    action: allow
    match: { kinds: [select] }
    rows: { orders: "region = 'eu'", "sales.customers": "country = {{claims.country}}" }
  - name: write
    action: review
    review: { approvers: [db-approvers] }
    rows: { public.orders: "owner = {{agent}}" }`),
  );
  assert.deepEqual(rules[0].rows?.map((f) => f.table), ["public.orders", "sales.customers"]);
  assert.deepEqual([...rules[1].rows![0].columns], ["owner"]);
});

test("a bad filter stops the policy, naming the line and the table", () => {
  const found = problems(
    policy(`  - name: read
    action: allow
    rows:
      public.orders: "region = (select 'eu')"
      "Bad Name": "x = 1"`),
  );
  assert.deepEqual(
    found.map((p) => [p.path, p.line]),
    [
      ["rules.0.rows.public.orders", 7],
      ["rules.0.rows.Bad Name", 8],
    ],
  );
  assert.match(found[0].message, /subquery is not allowed/);
  assert.match(found[1].message, /not a table name/);
});

test("a deny rule cannot filter rows, and a table is filtered once per rule", () => {
  assert.match(problems(policy(`  - name: no\n    action: deny\n    rows: { t: "a = 1" }`))[0].message, /allow and review/);
  assert.match(problems(policy(`  - name: twice\n    action: allow\n    rows: { t: "a = 1", public.t: "a = 2" }`))[0].message, /has a filter already/);
});
