import assert from "node:assert/strict";
import { before, test } from "node:test";
import { ACCESS_LEVELS } from "../access/scope";
import { classify } from "../sql/classify";
import { loadSqlParser } from "../sql/parser";
import { TEST_CATALOG } from "../sql/testing";
import type { Kind } from "../sql/types";
import { grantShortfall, scopePhrase } from "./grant-label";
import { accessScope, ALL_TABLES, coversScope, grantableScope, statementScope, type ScopePair } from "./grant-scope";

before(() => loadSqlParser());

const scopeOf = (sql: string) => statementScope(classify(sql, TEST_CATALOG).statements);
/** The grant that approving this statement for a time makes. */
const approving = (sql: string) => grantableScope(scopeOf(sql));
const access = (kinds: readonly Kind[], tables: string[] = [ALL_TABLES]) => accessScope(kinds, tables);

const FROM_CUSTOMERS = "UPDATE orders o SET status = 'paid' FROM customers c WHERE o.customer_id = c.id AND c.country = 'DE'";

const SCOPES: Array<[sql: string, phrase: string]> = [
  [FROM_CUSTOMERS, "read customers · update orders"],
  ["UPDATE orders SET status = 'x' WHERE id = 1", "update orders"],
  ["INSERT INTO orders SELECT * FROM customers", "read customers · insert orders"],
  ["COPY orders TO STDOUT", "copy out orders"],
  ["SELECT * FROM orders FOR UPDATE", "read/lock orders"],
  ["WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d JOIN customers ON true", "read customers · delete orders"],
  ["UPDATE customer_emails SET contact = 'x'", "update customer_emails, customers"],
  ["REFRESH MATERIALIZED VIEW daily_totals", "read orders · maintenance daily_totals"],
  ["SELECT nextval('s')", "read/call (no table)"],
  ["UPDATE orders SET id = nextval('s')", "update orders · call (no table)"],
  ["VACUUM", "maintenance (no table)"],
  ["BEGIN", "session (no table)"],
];

for (const [sql, phrase] of SCOPES) {
  test(`scope of ${sql}: ${phrase}`, () => assert.equal(scopePhrase(scopeOf(sql)), phrase));
}

test("the reviewer's statement: update on what it writes, read on what it reads, nothing more", () => {
  assert.deepEqual(approving(FROM_CUSTOMERS), [
    { kind: "select", table: "public.customers" },
    { kind: "update", table: "public.orders" },
  ]);
});

/** Grants are made inside each test: classifying needs the parser, loaded before the tests run. */
const COVERAGE: Array<[grant: string, granted: () => ScopePair[], sql: string, covered: boolean]> = [
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE customers SET country = 'FR'", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE orders SET status = 'x' WHERE id = 1", true],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), FROM_CUSTOMERS, true],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "SELECT * FROM customers", true],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE orders SET status = (SELECT country FROM customers LIMIT 1)", true],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "SELECT * FROM orders", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "DELETE FROM orders", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE orders SET status = 'x' WHERE customer_id IN (SELECT id FROM refunds)", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "COPY customers TO STDOUT", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "SELECT * FROM customers FOR UPDATE", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE customer_emails SET contact = 'x'", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "UPDATE orders SET id = nextval('s')", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "BEGIN", false],
  ["UPDATE … FROM customers", () => approving(FROM_CUSTOMERS), "SELECT 1", false],
  ["UPDATE … nextval()", () => approving("UPDATE orders SET id = nextval('s')"), "UPDATE orders SET id = nextval('s')", false],
  ["UPDATE … nextval()", () => approving("UPDATE orders SET id = nextval('s')"), "UPDATE orders SET status = 'x'", true],
  ["SELECT nextval()", () => approving("SELECT nextval('s')"), "SELECT nextval('s')", false],
  ["SELECT … FOR UPDATE", () => approving("SELECT * FROM orders FOR UPDATE"), "LOCK orders", true],
  ["update on orders", () => access(["update"], ["public.orders"]), "UPDATE orders SET status = 'x'", true],
  ["update on orders", () => access(["update"], ["public.orders"]), FROM_CUSTOMERS, false],
  ["update on orders", () => access(["update"], ["public.orders"]), "UPDATE customers SET country = 'FR'", false],
  ["write on orders", () => access(ACCESS_LEVELS.write, ["public.orders"]), "BEGIN", true],
  ["write on orders", () => access(ACCESS_LEVELS.write, ["public.orders"]), "SELECT 1", false],
  ["write on every table", () => access(ACCESS_LEVELS.write), "UPDATE customers SET country = 'FR'", true],
  ["write on every table", () => access(ACCESS_LEVELS.write), FROM_CUSTOMERS, true],
  ["write on every table", () => access(ACCESS_LEVELS.write), "SELECT 1", true],
  ["write on every table", () => access(ACCESS_LEVELS.write), "SELECT nextval('s')", false],
  ["write on every table", () => access(ACCESS_LEVELS.write), "TRUNCATE orders", false],
  ["call on every table", () => access(["select", "call"]), "SELECT nextval('s')", true],
  ["call on orders", () => access(["select", "call"], ["public.orders"]), "SELECT nextval('s')", false],
  ["admin on every table", () => access(ACCESS_LEVELS.admin), "DROP TABLE orders", true],
  ["admin on every table", () => access(ACCESS_LEVELS.admin), "SELEC 1", false],
];

for (const [name, granted, sql, covered] of COVERAGE) {
  test(`a grant of ${name} ${covered ? "covers" : "does not cover"} ${sql}`, () => assert.equal(coversScope(granted(), scopeOf(sql)), covered));
}

test("fail closed: nothing is covered by nothing, nor is an empty scope covered", () => {
  assert.equal(coversScope([], scopeOf("SELECT * FROM orders")), false);
  assert.equal(coversScope(access(ACCESS_LEVELS.admin), []), false);
  assert.equal(coversScope([{ kind: "unknown", table: ALL_TABLES }], [{ kind: "unknown", table: null }]), false);
});

test("a written table whose kind is not a write is paired with unknown, which no grant covers", () => {
  const scope = statementScope([{ text: "", kinds: ["select"], reads: [], writes: ["public.orders"], functions: [], reasons: [] }]);
  assert.deepEqual(scope, [
    { kind: "select", table: null },
    { kind: "unknown", table: "public.orders" },
  ]);
  assert.deepEqual(grantableScope(scope), []);
});

test("approvers are told what a grant would leave out", () => {
  assert.equal(grantShortfall(scopeOf(FROM_CUSTOMERS)), undefined);
  assert.equal(grantShortfall(scopeOf("UPDATE orders SET id = nextval('s')")), "approving for a time grants only update orders: call (no table) is reviewed each time");
  assert.equal(grantShortfall(scopeOf("SELECT nextval('s')")), "approving for a time grants nothing: read/call (no table) is reviewed each time");
});

test("access reads as kinds on its tables", () => {
  assert.equal(scopePhrase(access(["update", "delete"], ["public.orders", "sales.refunds"])), "update/delete orders, sales.refunds");
  assert.equal(scopePhrase(access(ACCESS_LEVELS.read)), "read/session/copy out every table");
  assert.equal(scopePhrase([]), "nothing");
});
