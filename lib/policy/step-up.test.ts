import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePolicy, PolicyError } from "./policy-file";

function rule(fields: string) {
  return parsePolicy(`resources: {}
rules:
  - name: schema
    action: review
    review: { approvers: [db-approvers], timeout: 10m${fields} }
`).rules[0];
}

function problems(fields: string): string[] {
  try {
    rule(fields);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
  assert.fail("expected a PolicyError");
}

test("review.step_up becomes stepUpMs; seconds are allowed (short ones in tests); none asked, none kept", () => {
  assert.equal(rule(", step_up: 5m").review!.stepUpMs, 300_000);
  assert.equal(rule(", step_up: 2s").review!.stepUpMs, 2_000);
  assert.equal(rule(", step_up: 8h").review!.stepUpMs, 8 * 3_600_000);
  assert.equal("stepUpMs" in rule("").review!, false);
});

test("a broken step_up is a policy-file error with its line and field", () => {
  assert.deepEqual(problems(", step_up: soon"), ["5: rules.0.review.step_up: a duration such as 30s, 10m, 1h or 2d"]);
  assert.deepEqual(problems(", step_up: 0s"), ["5: rules.0.review.step_up: a duration such as 30s, 10m, 1h or 2d"]);
  assert.deepEqual(problems(", step_up: 5"), ["5: rules.0.review.step_up: Invalid input: expected string, received number"]);
  assert.deepEqual(problems(", step_up: 9h"), ["5: rules.0.review.step_up: at most 8h: longer than a console session asks nothing"]);
  assert.deepEqual(problems(", stepup: 5m"), ['5: rules.0.review: Unrecognized key: "stepup"']);
});

test("step_up belongs to review: on an allow rule it is refused as review options are", () => {
  assert.throws(
    () => parsePolicy("resources: {}\nrules:\n  - name: reads\n    action: allow\n    step_up: 5m\n"),
    (err: unknown) => err instanceof PolicyError && /Unrecognized key: "step_up"/.test(err.message),
  );
});
