import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config";
import { parsePublicUrl, publicHref } from "./public-url";

test("a public URL is taken apart into origin, host, prefix and whether it is https", () => {
  assert.deepEqual(parsePublicUrl("http://127.0.0.1:3400"), {
    href: "http://127.0.0.1:3400",
    origin: "http://127.0.0.1:3400",
    host: "127.0.0.1:3400",
    prefix: "",
    secure: false,
  });
  assert.deepEqual(parsePublicUrl("https://airlock.example.com/db//"), {
    href: "https://airlock.example.com/db",
    origin: "https://airlock.example.com",
    host: "airlock.example.com",
    prefix: "/db",
    secure: true,
  });
});

test("paths are placed under the prefix", () => {
  const pub = parsePublicUrl("https://example.com/tools/airlock/");
  assert.ok(typeof pub !== "string");
  assert.equal(publicHref(pub, "/api/auth/callback/sso"), "https://example.com/tools/airlock/api/auth/callback/sso");
  assert.equal(publicHref(pub, "signin"), "https://example.com/tools/airlock/signin");
});

test("AIRLOCK_PUBLIC_URL that is not a plain http(s) base URL stops the start, saying why", () => {
  for (const [raw, why] of [
    ["airlock.example.com", /not an absolute URL/],
    ["ftp://airlock.example.com", /http:\/\/ or https:\/\//],
    ["https://user:pw@airlock.example.com", /user name or password/],
    ["https://airlock.example.com/?next=1", /query or fragment/],
  ] as const) {
    assert.throws(() => loadConfig({ AIRLOCK_PUBLIC_URL: raw }), (err: unknown) => err instanceof ConfigError && why.test(err.message), raw);
  }
  assert.equal(loadConfig({ AIRLOCK_PUBLIC_URL: "https://airlock.example.com/db/" }).publicUrl, "https://airlock.example.com/db");
  assert.equal(loadConfig({}).publicUrl, undefined);
});
