import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePolicy, PolicyError } from "./policy-file";

function review(fields: string) {
  return parsePolicy(`resources: {}
rules:
  - name: writes
    action: review
    review: { approvers: [db-approvers], timeout: 10m${fields} }
`).rules[0].review!;
}

function problems(fields: string): string[] {
  try {
    review(fields);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
  assert.fail("expected a PolicyError");
}

test("remind and escalate become a follow-up in milliseconds; seconds are allowed (short intervals in tests)", () => {
  assert.deepEqual(review(", remind: 2s, escalate: { after: 5m, to: [sre-leads], channel: \"#sre\" }").followUp, { remindMs: 2_000, escalate: { afterMs: 300_000, to: ["sre-leads"], channel: "#sre" } });
  assert.deepEqual(review(", remind: 5m").followUp, { remindMs: 300_000 });
  assert.deepEqual(review(", escalate: { after: 1m, to: [sre-leads] }").followUp, { escalate: { afterMs: 60_000, to: ["sre-leads"] } });
  assert.equal(review("").followUp, undefined, "none asked for, none kept");
});

test("broken follow-ups are refused with their line and field", () => {
  assert.deepEqual(problems(", remind: soon"), ["5: rules.0.review.remind: a duration such as 30s, 10m, 1h or 2d"]);
  assert.deepEqual(problems(", remind: 10m"), ["5: rules.0.review.remind: the first reminder would come after the request has expired (timeout: 10m): make it shorter than the timeout"]);
  assert.deepEqual(problems(", escalate: { after: 1h, to: [sre-leads] }"), ["5: rules.0.review.escalate.after: the escalation would come after the request has expired (timeout: 10m): make it shorter than the timeout"]);
  assert.deepEqual(problems(", escalate: { after: 1m, to: [db-approvers] }"), ["5: rules.0.review.escalate.to: these groups already approve this rule: escalate to others (e.g. sre-leads)"]);
  assert.deepEqual(problems(", escalate: { after: 1m, to: [] }"), ["5: rules.0.review.escalate.to: name the groups it escalates to"]);
  assert.deepEqual(problems(", escalate: { to: [sre-leads] }"), ["5: rules.0.review.escalate.after: Invalid input: expected string, received undefined"]);
  assert.deepEqual(problems(", escalate: { after: 1m, to: [sre-leads], channel: sre }"), ['5: rules.0.review.escalate.channel: a Slack channel such as "#sre" (lower case, as Slack names them) or its id']);
  assert.deepEqual(problems(", escalate: { after: 1m, to: [sre-leads], page: true }"), ['5: rules.0.review.escalate: Unrecognized key: "page"']);
});
