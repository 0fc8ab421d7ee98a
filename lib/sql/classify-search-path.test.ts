import assert from "node:assert/strict";
import { before, test } from "node:test";
import { classify, createClassifier } from "./classify";
import { loadSqlParser } from "./parser";
import { SearchPath, UNKNOWN_PATH } from "./search-path";
import { TEST_CATALOG } from "./testing";
import type { Catalog, RelationInfo } from "./types";

/**
 * Classification on a session's search_path: the test catalog plus schema `evil` with its own
 * customers (a plain table) and `app` with nothing; the role is `alice`, with a schema of her own.
 */
const CATALOG: Catalog = {
  ...TEST_CATALOG,
  relations: new Map<string, RelationInfo>([
    ...TEST_CATALOG.relations,
    ["evil.customers", { oid: 17000, columns: [{ name: "email", type: 25 }] }],
    ["alice.orders", { oid: 17001, columns: [{ name: "id", type: 23 }] }],
  ]),
  namespaces: { schemas: new Set(["public", "evil", "app", "alice", "reporting"]), user: "alice", searchPath: '"$user", public' },
};
const NO_OPERATORS: Catalog = { ...CATALOG, userOperators: new Set() };

before(() => loadSqlParser());

const reads = (sql: string, path?: SearchPath, catalog = CATALOG) => classify(sql, catalog, undefined, path).statements.map((s) => s.reads);
const on = (...schemas: string[]) => new SearchPath(["$user", "public"], schemas);

test("unqualified relations resolve on the path: the catalog's own ($user first), a SET one, pg_catalog first unless placed", () => {
  assert.deepEqual(reads("select * from customers"), [["public.customers"]]);
  assert.deepEqual(reads("select * from orders"), [["alice.orders"]]);
  assert.deepEqual(reads("select * from customers", on("evil", "public")), [["evil.customers"]]);
  assert.deepEqual(reads("select * from customers", on("app", "public")), [["public.customers"]]);
  assert.deepEqual(reads("select * from pg_class", on("evil", "public"), NO_OPERATORS), [["pg_catalog.pg_class"]]);
  assert.deepEqual(reads("select * from customers c join evil.customers e using (email)", on("public")), [["evil.customers", "public.customers"]]);
});

test("within one text, a statement is judged on the path the statements before it leave", () => {
  assert.deepEqual(reads("set search_path = evil, public; select * from customers"), [[], ["evil.customers"]]);
  assert.deepEqual(reads("begin; set local search_path = evil; commit; select * from customers"), [[], [], [], ["public.customers"]]);
  assert.deepEqual(reads("begin; set search_path = evil; rollback; select * from customers"), [[], [], [], ["public.customers"]]);
  assert.deepEqual(reads("select set_config('search_path', 'evil', false); select * from customers"), [[], ["evil.customers"]]);
});

test("lineage follows the path: the masked columns are the ones the path reaches", () => {
  const [, select] = classify("set search_path = evil, public; select email from customers", CATALOG).statements;
  assert.deepEqual(select.output?.columns?.[0].sources, ["evil.customers.email"]);
  const [plain] = classify("select email from customers", CATALOG).statements;
  assert.deepEqual(plain.output?.columns?.[0].sources, ["public.customers.email"]);
});

test("a schema before pg_catalog with user operators makes every statement a call", () => {
  const [statement] = classify("select 1", CATALOG, undefined, on("evil", "pg_catalog")).statements;
  assert.ok(statement.kinds.includes("call"));
  assert.match(statement.reasons.join(" "), /before pg_catalog/);
  assert.deepEqual(classify("select 1", NO_OPERATORS, undefined, on("evil", "pg_catalog")).statements[0].kinds, ["select"]);
});

test("on an unknown path, a relation named without a schema is not judged; a qualified one is", () => {
  const unknown = new SearchPath(["public"], UNKNOWN_PATH);
  const result = classify("select * from customers", CATALOG, undefined, unknown);
  assert.equal(result.kind, "unknown");
  assert.match(result.statements[0].reasons[0], /search_path/);
  assert.deepEqual(classify("select * from public.customers", CATALOG, undefined, unknown).statements[0].reads, ["public.customers"]);
  assert.equal(classify("select public.audit()", CATALOG).statements[0].pathEffect?.kind, "untracked");
  assert.equal(classify("select nextval('s')", CATALOG).statements[0].pathEffect, undefined);
});

test("EXECUTE of a statement prepared on another path is refused", () => {
  const [, , execute] = classify("prepare p as select * from customers; set search_path = evil, public; execute p", CATALOG).statements;
  assert.deepEqual(execute.kinds, ["unknown"]);
  assert.match(execute.reasons.join(" "), /another search_path/);
});

test("the classifier's cache keeps results apart per path", () => {
  const classifier = createClassifier(CATALOG);
  assert.deepEqual(classifier.classify("select * from customers", undefined, on("public")).statements[0].reads, ["public.customers"]);
  assert.deepEqual(classifier.classify("select * from customers", undefined, on("evil", "public")).statements[0].reads, ["evil.customers"]);
  assert.deepEqual(classifier.classify("select * from customers", undefined, on("public")).statements[0].reads, ["public.customers"]);
});

test("the session's own schema changes: a relation made exists where CREATE put it (its columns unknown), a dropped one is gone", () => {
  const made = classify("create view evil.customers as select 1 as email; set search_path = evil, public; select email from customers", CATALOG).statements[2];
  assert.deepEqual(made.reads, ["evil.customers"]);
  assert.equal(made.output?.columns?.[0].unknown, true);
  const [, created] = classify("create table x (id int); select * from x", CATALOG).statements;
  assert.deepEqual(created.reads, ["alice.x"]);
  const [, temporary] = classify("create temp view customers as select 1 as email; select email from customers", CATALOG).statements;
  assert.deepEqual(temporary.reads, ["pg_temp.customers"]);
  assert.equal(temporary.output?.columns?.[0].unknown, true);
  const [, , placed] = classify("create temp view customers as select 1 as email; set search_path = public, pg_temp; select email from customers", CATALOG).statements;
  assert.deepEqual(placed.reads, ["public.customers"]);
  const [, fallsThrough] = classify("drop table alice.orders; select * from orders", CATALOG).statements;
  assert.deepEqual(fallsThrough.reads, ["public.orders"]);
  const [, remade] = classify("alter table customers add column note text; select email from public.customers", CATALOG).statements;
  assert.equal(remade.output?.columns?.[0].unknown, true);
  const unknown = new SearchPath(["public"]);
  unknown.completed({ kind: "relations", changes: "all" });
  assert.match(classify("select * from customers", CATALOG, undefined, unknown).statements[0].reasons.join(" "), /reconnect/);
  assert.equal(classify("select email from public.customers", CATALOG, undefined, unknown).statements[0].output?.columns?.[0].unknown, true);
});
