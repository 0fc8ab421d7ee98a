import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, formatDuration } from "./duration";
import { globMatches } from "./glob";

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

test("durations", () => {
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("0m"), undefined);
  assert.equal(parseDuration("10 minutes"), undefined);
  assert.equal(formatDuration(900_000), "15m");
  assert.equal(formatDuration(3_600_000), "1h");
});
