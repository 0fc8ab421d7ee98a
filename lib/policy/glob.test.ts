import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, formatDuration } from "./duration";
import { anyGlobMatchesWhole, globMatches } from "./glob";

test("globs match qualified names the way people write them", () => {
  const cases: Array<[string, string, boolean]> = [
    ["customers", "public.customers", true],
    ["public.customers", "public.customers", true],
    ["other.customers", "public.customers", false],
    ["*.ssn", "customers.ssn", true],
    ["*.ssn", "customers.ssn_hash", false],
    ["customers.email", "customers.email", true],
    ["dblink*", "dblink_exec", true],
    ["dblink*", "pg_catalog.dblink", true],
    ["pg_read_file", "pg_catalog.pg_read_file", true],
    ["public.*", "public.orders", true],
    ["public.*", "audit.orders", false],
    ["ORDERS", "public.orders", true],
    ["ord?rs", "public.orders", true],
    ["a.b", "axb", false],
  ];
  for (const [pattern, name, expected] of cases) assert.equal(globMatches(pattern, name), expected, `${pattern} ~ ${name}`);
});

test("agent ids match as whole names: a dot in an id is not a qualified name's", () => {
  const cases: Array<[string, string, boolean]> = [
    ["etl-bot", "etl-bot", true],
    ["etl-bot", "partner.etl-bot", false],
    ["github:repo:acme/etl:environment:production", "partner:x.github:repo:acme/etl:environment:production", false],
    ["github:repo:acme/*", "github:repo:acme/etl.v2:ref:refs/heads/main", true],
    ["github:*", "partner:github:repo:acme/etl:ref:refs/heads/main", false],
    ["Reporting-Agent", "reporting-agent", true],
  ];
  for (const [pattern, name, expected] of cases) assert.equal(anyGlobMatchesWhole([pattern], name), expected, `${pattern} ~ ${name}`);
});

test("durations", () => {
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("0m"), undefined);
  assert.equal(parseDuration("10 minutes"), undefined);
  assert.equal(formatDuration(900_000), "15m");
  assert.equal(formatDuration(3_600_000), "1h");
});
