import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { MAX_BREAK_GLASS_MS } from "./break-glass";
import { parsePolicy, PolicyError } from "./policy-file";

const policy = (breakGlass: string) => `resources: {}
rules: []
${breakGlass}
`;

function problems(text: string): string[] {
  try {
    parsePolicy(text);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
  assert.fail("expected a PolicyError");
}

test("break_glass: groups, max in milliseconds, reason required by default; none without the key", () => {
  assert.deepEqual(parsePolicy(policy("break_glass: { groups: [ops], max: 1h, reason: required }")).breakGlass, { groups: ["ops"], maxMs: 3_600_000, reasonRequired: true });
  assert.deepEqual(parsePolicy(policy("break_glass: { groups: [ops, sre] }")).breakGlass, { groups: ["ops", "sre"], maxMs: 3_600_000, reasonRequired: true });
  assert.equal(parsePolicy(policy("break_glass: { groups: [ops], reason: optional }")).breakGlass?.reasonRequired, false);
  assert.equal(parsePolicy(policy("")).breakGlass, undefined);
});

test("break_glass errors name the line and the field", () => {
  assert.deepEqual(problems(policy("break_glass: { max: 1h }")), ["3: break_glass.groups: Invalid input: expected array, received undefined"]);
  assert.deepEqual(problems(policy("break_glass: { groups: [], max: 1h }")), ["3: break_glass.groups: Too small: expected array to have >=1 items"]);
  assert.deepEqual(problems(policy("break_glass: { groups: [ops], max: soon }")), ["3: break_glass.max: a duration such as 30s, 10m, 1h or 2d"]);
  assert.deepEqual(problems(policy("break_glass: { groups: [ops], reason: maybe }")).length, 1);
  assert.deepEqual(problems(policy("break_glass: { groups: [ops], approvers: [x] }")).length, 1, "unknown fields are refused");
});

test("MAX_BREAK_GLASS_MS: a break-glass max longer than 24h is refused", () => {
  assert.equal(MAX_BREAK_GLASS_MS, 86_400_000);
  assert.deepEqual(parsePolicy(policy("break_glass: { groups: [ops], max: 24h }")).breakGlass?.maxMs, MAX_BREAK_GLASS_MS);
  assert.deepEqual(problems(policy("break_glass: { groups: [ops], max: 25h }")), ["3: break_glass.max: break-glass lasts at most 24h"]);
});

test("the shipped policy lets ops-agent's group break the glass, for at most 1h, with a reason", () => {
  const shipped = parsePolicy(fs.readFileSync("airlock.policy.yaml", "utf8"));
  assert.deepEqual(shipped.breakGlass, { groups: ["ops"], maxMs: 3_600_000, reasonRequired: true });
});
