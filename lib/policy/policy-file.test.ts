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
