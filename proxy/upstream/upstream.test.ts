import { test } from "node:test";
import assert from "node:assert/strict";
import { PgWireError } from "../wire-error";
import { forwardedParams, readOptions } from "./upstream";

test("options are split as PostgreSQL splits them: -c name=value, -cname=value, --name=value, backslash-escaped spaces", () => {
  assert.deepEqual(readOptions("-c work_mem=64MB  --statement-timeout=5s -cgeqo=off -c application_name=a\\ b"), [
    ["work_mem", "64MB"],
    ["statement_timeout", "5s"],
    ["geqo", "off"],
    ["application_name", "a b"],
  ]);
  assert.deepEqual(readOptions("   "), []);
});

test("other switches are refused, not dropped", () => {
  for (const options of ["-d 5", "-c", "-c novalue", "--=x", "-F"]) assert.throws(() => readOptions(options), PgWireError, options);
});

test("startup parameters are settings by case-insensitive name, reported names keep PostgreSQL's case", () => {
  const out = forwardedParams(new Map([["user", "a"], ["database", "d"], ["timezone", "UTC"], ["datestyle", "ISO"], ["Application_Name", "x"], ["options", "-c work_mem=1MB"], ["replication", "false"], ["client_encoding", "utf-8"]]));
  assert.deepEqual(out, { client_encoding: "UTF8", TimeZone: "UTC", DateStyle: "ISO", application_name: "x", work_mem: "1MB" });
});

test("search_path at startup, as a parameter or in options, is passed on: the session follows it (proxy/session-path.ts)", () => {
  assert.deepEqual(forwardedParams(new Map([["search_path", "app, public"]])), { client_encoding: "UTF8", search_path: "app, public" });
  assert.deepEqual(forwardedParams(new Map([["options", "--search-path=app"]])), { client_encoding: "UTF8", search_path: "app" });
});

test("settings that change privileges or how SQL is read, replication and unserved encodings are refused with a FATAL", () => {
  const cases: Array<[string, string, string]> = [
    ["ROLE", "postgres", "42501"],
    ["options", "-c session_authorization=postgres", "42501"],
    ["options", "--session-replication-role=replica", "42501"],
    ["replication", "database", "0A000"],
    ["client_encoding", "LATIN1", "0A000"],
  ];
  for (const [name, value, code] of cases) {
    assert.throws(
      () => forwardedParams(new Map([[name, value]])),
      (err: unknown) => err instanceof PgWireError && err.code === code && err.severity === "FATAL" && err.message.startsWith("airlock: "),
      `${name}=${value}`,
    );
  }
});
