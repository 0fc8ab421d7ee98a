import assert from "node:assert/strict";
import { test } from "node:test";
import { classify } from "./classify";
import { BUILTIN_CATALOG } from "./builtin-catalog";
import { loadSqlParser, parseSql, SqlSyntaxError, statementSlicer } from "./parser";

// Runs first, in this file's own process: nothing has loaded the parser yet.
test("before loadSqlParser(), parsing and classifying throw a clear error (not an `unknown` verdict)", () => {
  assert.throws(() => parseSql("select 1"), /SQL parser is not loaded: await loadSqlParser\(\)/);
  assert.throws(() => classify("select 1", BUILTIN_CATALOG), /SQL parser is not loaded/);
});

test("loadSqlParser() is idempotent", async () => {
  await Promise.all([loadSqlParser(), loadSqlParser()]);
  await loadSqlParser();
  assert.equal(parseSql("select 1; select 2").stmts?.length, 2);
});

test("a syntax error is a SqlSyntaxError with PostgreSQL's position", async () => {
  await loadSqlParser();
  const err = (() => {
    try {
      parseSql("select * frm orders");
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof SqlSyntaxError);
  assert.equal(err.message, 'syntax error at or near "frm" at character 10');
  assert.equal(err.position, 10);
});

test("empty text parses to no statements", async () => {
  await loadSqlParser();
  assert.deepEqual(parseSql("").stmts, []);
});

test("statementSlicer cuts by UTF-8 byte offsets", () => {
  const text = "select 'ä'; select 2";
  const slice = statementSlicer(text);
  assert.equal(slice(0, 11), "select 'ä'"); // 'ä' is two bytes
  assert.equal(slice(12), "select 2");
  assert.equal(statementSlicer("select 1; select 2")(9), "select 2");
});
