import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePolicy, PolicyError } from "./policy-file";

test("resources are read with ${ENV} references expanded", () => {
  const policy = parsePolicy(
    `resources:
  demo: { type: postgres, url: "pglite://demo" }
  prod: { type: postgres, url: "\${PROD_URL}" }
`,
    { PROD_URL: "postgres://u:p@db:5432/app" },
  );
  assert.deepEqual(policy.resources.get("demo"), { name: "demo", type: "postgres", url: "pglite://demo" });
  assert.equal(policy.resources.get("prod")!.url, "postgres://u:p@db:5432/app");
});

function problems(text: string, env = {}): Array<{ path: string; line?: number; message: string }> {
  try {
    parsePolicy(text, env, "airlock.policy.yaml");
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    return err.problems;
  }
  assert.fail("expected a PolicyError");
}

test("errors name the line and the field", () => {
  const [p] = problems(`resources:
  demo:
    type: postgres
    url: "mysql://x"
`);
  assert.equal(p.path, "resources.demo.url");
  assert.equal(p.line, 4);
  assert.match(p.message, /pglite:\/\//);
});

test("an unset environment variable is reported where it is used", () => {
  const [p] = problems(`resources:
  prod: { type: postgres, url: "\${NOPE}" }
`);
  assert.equal(p.path, "resources.prod.url");
  assert.equal(p.line, 2);
  assert.match(p.message, /NOPE is not set/);
});

test("broken YAML and unknown fields are refused", () => {
  assert.equal(problems("resources: [\n").length > 0, true);
  const [p] = problems(`resources:
  demo: { type: postgres, url: "pglite://demo", password: x }
`);
  assert.equal(p.path, "resources.demo");
  assert.match(p.message, /password/);
});

test("a review rule may let agents ask for access; approvers and count default to its review's", () => {
  const policy = parsePolicy(`resources: {}
rules:
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], count: 2, timeout: 5m }
    access: { max: 4h, reason: required }
  - name: other
    match: { kinds: [delete] }
    action: review
    review: { approvers: [db-approvers] }
    access: { approvers: [dba], count: 1 }
`);
  assert.deepEqual(policy.rules[0].access, { approvers: ["db-approvers"], count: 2, maxMs: 4 * 3_600_000, timeoutMs: 5 * 60_000, reasonRequired: true });
  assert.deepEqual(policy.rules[1].access, { approvers: ["dba"], count: 1, maxMs: 3_600_000, timeoutMs: 10 * 60_000, reasonRequired: false });
});

test("access options are refused outside review rules, and with a bad duration", () => {
  const [onAllow] = problems(`resources: {}
rules:
  - name: read
    match: { kinds: [select] }
    action: allow
    access: { max: 1h }
`);
  assert.equal(onAllow.path, "rules.0.access");
  assert.match(onAllow.message, /belong to review rules/);
  const [badMax] = problems(`resources: {}
rules:
  - name: write
    action: review
    review: { approvers: [x] }
    access: { max: soon }
`);
  assert.equal(badMax.path, "rules.0.access.max");
});

test("an alias before its anchor, or an alias bomb, is a PolicyError, not a ReferenceError (found by npm run fuzz)", () => {
  const [early] = problems("resources: {}\nrules: *b\nx: &b []\n");
  assert.equal(early.line, 2);
  assert.match(early.message, /alias/);
  assert.match(problems("resources: *a\n")[0].message, /alias/);
  const bomb = ["a: &a [1,1,1,1,1,1,1,1,1,1]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]", "resources: {}"];
  assert.match(problems(bomb.join("\n"))[0].message, /alias/i);
});
