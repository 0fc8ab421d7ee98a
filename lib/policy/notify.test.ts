import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { makeTempDir } from "../../test/support/temp-dir";
import { parsePolicy, PolicyError } from "./policy-file";

const KEY = Buffer.alloc(32, 7);
const SECRET = `whsec_${KEY.toString("base64")}`;

function webhooks(entries: string, env: Record<string, string> = { HOOK_SECRET: SECRET }, file?: string) {
  return parsePolicy(`resources: {}\nnotify:\n  webhooks:\n${entries}`, env, file).notify.webhooks;
}

function problems(entries: string, env: Record<string, string> = { HOOK_SECRET: SECRET }): PolicyError["problems"] {
  try {
    webhooks(entries, env);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems;
  }
  assert.fail("expected a PolicyError");
}

test("a webhook: its URL, the key of its whsec_ secret from the environment, its events; named after its host", () => {
  const [hook] = webhooks(`    - url: https://siem.example.com/airlock/\${HOOK_PATH}
      secret: { env: HOOK_SECRET }
      events: [request.opened, request.decided]
`, { HOOK_SECRET: SECRET, HOOK_PATH: "t0k3n" });
  assert.deepEqual(hook, { name: "siem.example.com", url: "https://siem.example.com/airlock/t0k3n", key: KEY, events: ["request.opened", "request.decided"], includeSql: true });
  assert.deepEqual(parsePolicy("resources: {}\n").notify.webhooks, [], "no notify: no webhooks");
});

test("a secret file is read from the policy file's folder, its trailing newline dropped; base64 without whsec_ is read the same", () => {
  const dir = makeTempDir("notify");
  try {
    fs.writeFileSync(path.join(dir.path, "hook.secret"), `${KEY.toString("base64")}\n`);
    const [hook] = webhooks(`    - { name: pager, url: "http://127.0.0.1:9/hook", secret: { file: hook.secret }, events: [grant.created], include_sql: false }\n`, {}, path.join(dir.path, "airlock.policy.yaml"));
    assert.deepEqual(hook.key, KEY);
    assert.equal(hook.name, "pager");
    assert.equal(hook.includeSql, false);
  } finally {
    dir.remove();
  }
});

test("broken webhook entries are refused, each naming its line and field", () => {
  const cases: Array<[string, string, RegExp, Record<string, string>?]> = [
    [`    - { url: "https://x.example", secret: "inline-secret-inline-secret-12345", events: [request.opened] }\n`, "notify.webhooks.0.secret", /\{ env: NAME \} or \{ file: PATH \}.*shown in the dashboard/],
    [`    - { url: "https://x.example", secret: { env: NOPE }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /NOPE is not set/],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /12 bytes; use at least 24/, { HOOK_SECRET: "whsec_c2hvcnQtc2VjcmV0" }],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /must be base64/, { HOOK_SECRET: "whsec_not base64!" }],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /must be base64/, { HOOK_SECRET: "a-plain-password-that-is-not-base64" }],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET, file: x }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /one of env or file/],
    [`    - { url: "https://x.example", secret: { file: /nonexistent/hook.secret }, events: [request.opened] }\n`, "notify.webhooks.0.secret", /cannot read the secret file .*ENOENT/],
    [`    - { url: "http://siem.example.com/hook", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.url", /must start with https:\/\//],
    [`    - { url: "https://hook:s3cret@x.example/in", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.url", /^must not carry a user name or password/],
    [`    - { url: "not a url", secret: { env: HOOK_SECRET }, events: [request.opened] }\n`, "notify.webhooks.0.url", /not a URL/],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [request.opend] }\n`, "notify.webhooks.0.events.0", /request\.opened/],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [] }\n`, "notify.webhooks.0.events", /./],
    [`    - { url: "https://x.example", secret: { env: HOOK_SECRET }, events: [request.opened], retries: 3 }\n`, "notify.webhooks.0", /retries/],
    [
      `    - { url: "https://x.example/a", secret: { env: HOOK_SECRET }, events: [request.opened] }\n    - { url: "https://x.example/b", secret: { env: HOOK_SECRET }, events: [grant.created] }\n`,
      "notify.webhooks.1.url",
      /webhook 0 is named "x\.example" too.*give each its own name/,
    ],
  ];
  for (const [entries, field, message, env] of cases) {
    const [p, ...more] = problems(entries, env);
    assert.equal(more.length, 0, entries);
    assert.equal(p.path, field, entries);
    assert.match(p.message, message, entries);
    assert.equal(p.line, 3 + Number(/webhooks\.(\d+)/.exec(field)![1]) + 1, `${entries}: the entry's line`);
  }
});

test("a policy edit with a broken webhook is not loaded: the message names the file, line and field", () => {
  assert.throws(
    () => parsePolicy(`resources: {}\nnotify:\n  webhooks:\n    - url: https://x.example\n      secret: { env: NOPE }\n      events: [request.opened]\n`, {}, "airlock.policy.yaml"),
    (err: unknown) => err instanceof PolicyError && err.message === "airlock.policy.yaml:5: notify.webhooks.0.secret: environment variable NOPE is not set",
  );
});
