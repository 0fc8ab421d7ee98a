import { test } from "node:test";
import assert from "node:assert/strict";
import { literalFreeKey } from "./cache-key";

test("statements that differ only in numbers share a key", () => {
  const a = literalFreeKey("SELECT abalance FROM pgbench_accounts WHERE aid = 12345;");
  assert.equal(a, literalFreeKey("SELECT abalance FROM pgbench_accounts WHERE aid = 678;"));
  assert.equal(literalFreeKey("select 1.5e-3, 0x1F, 1_000"), literalFreeKey("select 2.0e-7, 0xFF, 2_000"));
});

test("names with digits, strings and quoted identifiers keep theirs", () => {
  const cases: Array<[string, string]> = [
    ["select * from t1", "select * from t2"],
    ['select * from "1t"', 'select * from "2t"'],
    ["select 'a1'", "select 'a2'"],
    ["select x from t where y = 'it''s 1'", "select x from t where y = 'it''s 2'"],
    ['select "a""1" from t', 'select "a""2" from t'],
    ["select * from t -- 1\n where a = 1", "select * from u -- 1\n where a = 1"],
  ];
  for (const [a, b] of cases) assert.notEqual(literalFreeKey(a), literalFreeKey(b), `${a} vs ${b}`);
});

test("text whose shape is not plain gets no key", () => {
  for (const sql of [
    "explain (analyze 0) delete from t",
    "select E'\\'' , 1",
    "select $$x$$, 1",
    "select $1::int",
    "select /* 1 */ 1",
    "select U&'\\0031'",
    "select 1; delete from t",
    "execute p(1)",
    "select 'unterminated",
  ]) {
    assert.equal(literalFreeKey(sql), undefined, sql);
  }
  assert.equal(literalFreeKey("select 1;  "), "select 0");
});
