/**
 * Whole strings and sessions: statement texts, multi-statement strings, parse errors, PREPARE /
 * EXECUTE / DEALLOCATE, and the classifier's cache.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { classify, createClassifier, MAX_CACHED_TEXT_LENGTH, MAX_VARIANTS_PER_TEXT } from "./classify";
import { loadSqlParser } from "./parser";
import { TEST_CATALOG } from "./testing";
import { BUILTIN_CATALOG } from "./builtin-catalog";
import type { StatementInfo } from "./types";

await loadSqlParser();

const texts = (sql: string) => classify(sql, TEST_CATALOG).statements.map((s) => s.text);

test("each statement keeps its own text", () => {
  assert.deepEqual(texts("  select 1 ;\n\n  update orders set total = 0 ; "), ["select 1", "update orders set total = 0"]);
  assert.deepEqual(texts("select 1;;select 2;"), ["select 1", "select 2"]);
  assert.deepEqual(texts("select $x$ a; b $x$; select ';' as semi; -- trailing; comment"), ["select $x$ a; b $x$", "select ';' as semi"]);
  // The parser starts a statement at its first token: a comment before it is not part of it.
  assert.deepEqual(texts("/* c1; */ select 1 /* c2 */; /* c3 */ select 2 -- c4"), ["select 1 /* c2 */", "select 2 -- c4"]);
});

test("statement texts are exact after non-ASCII text (the parser counts bytes)", () => {
  assert.deepEqual(texts("select 'é€😀'; select 'ü' as \"Größe\"; delete from orders"), ["select 'é€😀'", "select 'ü' as \"Größe\"", "delete from orders"]);
});

test("the strictest statement decides", () => {
  const result = classify("BEGIN; SELECT * FROM orders; UPDATE orders SET total = 0; COMMIT", TEST_CATALOG);
  assert.equal(result.kind, "update");
  assert.deepEqual(result.statements.map((s) => s.kinds), [["session"], ["select"], ["update"], ["session"]]);
  assert.equal(classify("select 1; set role admin; select 2", TEST_CATALOG).kind, "privilege");
  assert.equal(classify("select 1; select pg_read_file('x')", TEST_CATALOG).kind, "admin");
});

test("kinds are de-duplicated and sorted least to most strict", () => {
  const [s] = classify("with a as (delete from orders returning *), b as (delete from refunds returning *) select nextval('s'), audit(1) from a, b for update", TEST_CATALOG).statements;
  assert.deepEqual(s.kinds, ["select", "lock", "delete", "call"]);
  assert.deepEqual(s.writes, ["public.orders", "public.refunds"]);
});

test("reasons explain each kind", () => {
  const reasons = (sql: string) => classify(sql, TEST_CATALOG).statements.flatMap((s) => s.reasons);
  assert.deepEqual(reasons("select * from orders"), []);
  assert.deepEqual(reasons("with d as (delete from orders returning *) select * from d"), ["data-modifying CTE deletes from public.orders"]);
  assert.deepEqual(reasons("select * into x from orders"), ["SELECT … INTO creates table public.x"]);
  assert.deepEqual(reasons("set role admin"), ["SET role changes privileges"]);
  assert.deepEqual(reasons("select nextval('s')"), ["calls nextval(), which is not read-only"]);
  assert.deepEqual(reasons("select * from orders for update"), ["SELECT … FOR UPDATE locks the rows it reads"]);
});

test("empty text and text of only comments hold no statement", () => {
  for (const sql of ["", "   ", ";", " ; ; ", "-- nothing", "/* nothing */"]) {
    const result = classify(sql, TEST_CATALOG);
    assert.deepEqual(result.statements, [], JSON.stringify(sql));
    assert.equal(result.kind, "session");
    assert.equal(result.error, undefined);
  }
});

test("a parse error makes the whole text one unknown statement", () => {
  const result = classify("select 1; selec 2; delete from orders", TEST_CATALOG);
  assert.equal(result.kind, "unknown");
  assert.match(result.error ?? "", /syntax error at or near "selec"/);
  assert.equal(result.statements.length, 1);
  assert.deepEqual(result.statements[0].kinds, ["unknown"]);
  assert.equal(result.statements[0].text, "select 1; selec 2; delete from orders");
  assert.match(result.statements[0].reasons[0], /parser rejected/);
});

test("a tree nested too deeply for the walk is unknown, not an exception", () => {
  const result = classify(`select ${"abs(".repeat(5000)}1${")".repeat(5000)}`, TEST_CATALOG);
  assert.equal(result.kind, "unknown");
  assert.equal(result.statements.length, 1);
});

test("PREPARE takes its body's kinds and names the statement", () => {
  const [s] = classify("PREPARE del (int) AS DELETE FROM orders WHERE id = $1", TEST_CATALOG).statements;
  assert.deepEqual(s.kinds, ["delete"]);
  assert.deepEqual(s.writes, ["public.orders"]);
  assert.equal(s.prepares, "del");
  const [q] = classify("prepare q as select * from customer_emails where audit(id) > 0", TEST_CATALOG).statements;
  assert.deepEqual(q.kinds, ["select", "call"]);
  assert.deepEqual(q.reads, ["public.customer_emails", "public.customers"]);
  assert.deepEqual(q.functions, ["audit"]);
});

test("EXECUTE is what the session prepared, plus its parameters", () => {
  const prepared = new Map<string, StatementInfo>([["del", classify("prepare del(int) as delete from orders where id = $1", TEST_CATALOG).statements[0]]]);
  const [s] = classify("EXECUTE del(1)", TEST_CATALOG, prepared).statements;
  assert.deepEqual([s.kinds, s.writes, s.executes], [["delete"], ["public.orders"], "del"]);
  const [p] = classify("execute del(nextval('s'))", TEST_CATALOG, prepared).statements;
  assert.deepEqual([p.kinds, p.functions], [["delete", "call"], ["nextval"]]);
  const [missing] = classify("execute other", TEST_CATALOG, prepared).statements;
  assert.deepEqual([missing.kinds, missing.executes], [["unknown"], "other"]);
  assert.equal(classify("EXECUTE del(1)", TEST_CATALOG).kind, "unknown");
});

test("PREPARE and DEALLOCATE earlier in the same text count", () => {
  const same = classify("PREPARE MyPlan AS UPDATE orders SET total = 0; EXECUTE myplan", TEST_CATALOG).statements;
  assert.deepEqual(same.map((s) => [s.kinds, s.prepares, s.executes]), [[["update"], "myplan", undefined], [["update"], undefined, "myplan"]]);
  const prepared = new Map<string, StatementInfo>([["p", classify("prepare p as select 1", TEST_CATALOG).statements[0]]]);
  assert.equal(classify("deallocate p; execute p", TEST_CATALOG, prepared).kind, "unknown");
  assert.equal(classify("discard all; execute p", TEST_CATALOG, prepared).kind, "unknown");
  assert.deepEqual(classify("deallocate q; execute p", TEST_CATALOG, prepared).statements[1].kinds, ["select"]);
});

test("DEALLOCATE and DISCARD ALL say what they forget", () => {
  const dealloc = (sql: string) => classify(sql, TEST_CATALOG).statements[0].deallocates;
  assert.equal(dealloc("DEALLOCATE p"), "p");
  assert.equal(dealloc("deallocate prepare \"P\""), "P");
  assert.equal(dealloc("DEALLOCATE ALL"), "*");
  assert.equal(dealloc("DISCARD ALL"), "*");
  assert.equal(dealloc("discard plans"), undefined);
});

test("EXPLAIN ANALYZE EXECUTE runs the body; plain EXPLAIN EXECUTE only plans it", () => {
  const prepared = new Map<string, StatementInfo>([["del", classify("prepare del as delete from orders where audit(id) > 0", TEST_CATALOG).statements[0]]]);
  const [run] = classify("explain analyze execute del", TEST_CATALOG, prepared).statements;
  assert.deepEqual([run.kinds, run.writes, run.executes], [["delete", "call"], ["public.orders"], "del"]);
  const [plan] = classify("explain execute del", TEST_CATALOG, prepared).statements;
  assert.deepEqual([plan.kinds, plan.reads, plan.writes], [["select", "call"], ["public.orders"], []]);
  const [ctas] = classify("create table copy as execute del", TEST_CATALOG, prepared).statements;
  assert.deepEqual(ctas.kinds, ["delete", "call", "ddl"]);
});

test("the cache returns the same (frozen) result for the same text", () => {
  const classifier = createClassifier(TEST_CATALOG);
  const a = classifier.classify("select * from orders");
  const b = classifier.classify("select * from orders");
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.statements[0].kinds));
  assert.deepEqual(classifier.stats(), { size: 1, hits: 1, misses: 1 });
  assert.notEqual(classifier.classify("select * from customers"), a); // a different text is a different key
});

test("texts that differ only in their numbers share one entry, each keeping its own text", () => {
  const classifier = createClassifier(TEST_CATALOG);
  const a = classifier.classify("select * from orders where id = 1");
  const b = classifier.classify("select * from orders where id = 22;");
  assert.deepEqual(classifier.stats(), { size: 1, hits: 1, misses: 1 });
  assert.equal(a.statements[0].text, "select * from orders where id = 1");
  assert.equal(b.statements[0].text, "select * from orders where id = 22");
  assert.deepEqual(b.statements[0].kinds, a.statements[0].kinds);
  // EXPLAIN's ANALYZE may be switched by a number: never shared.
  classifier.classify("explain (analyze 0) delete from orders");
  assert.deepEqual(classifier.classify("explain (analyze 1) delete from orders").statements[0].kinds, ["delete"]);
});

test("the cache evicts the least recently used text", () => {
  const classifier = createClassifier(TEST_CATALOG, 2);
  classifier.classify("select * from orders");
  classifier.classify("select * from customers");
  classifier.classify("select * from orders"); // now customers is the oldest
  classifier.classify("select * from products");
  assert.equal(classifier.stats().size, 2);
  const before = classifier.stats().misses;
  classifier.classify("select * from orders");
  assert.equal(classifier.stats().misses, before);
  classifier.classify("select * from customers");
  assert.equal(classifier.stats().misses, before + 1);
});

test("texts longer than MAX_CACHED_TEXT_LENGTH are classified but not cached", () => {
  const classifier = createClassifier(TEST_CATALOG);
  const long = `select 1 ${" ".repeat(MAX_CACHED_TEXT_LENGTH)}`;
  assert.equal(classifier.classify(long).kind, "select");
  assert.equal(classifier.stats().size, 0);
});

test("an EXECUTE is cached together with the body it resolved to", () => {
  const classifier = createClassifier(TEST_CATALOG);
  const body = (sql: string) => new Map<string, StatementInfo>([["p", classifier.classify(sql).statements[0]]]);
  const readOnly = body("prepare p as select 1");
  const deleting = body("prepare p as delete from orders");
  assert.equal(classifier.classify("execute p", readOnly).kind, "select");
  assert.equal(classifier.classify("execute p", deleting).kind, "delete");
  assert.equal(classifier.classify("execute p").kind, "unknown");
  const hits = classifier.stats().hits;
  assert.equal(classifier.classify("execute p", body("prepare p as select 1")).kind, "select"); // same body, another session
  assert.equal(classifier.stats().hits, hits + 2); // the PREPARE and the EXECUTE
});

test("an EXECUTE text keeps at most MAX_VARIANTS_PER_TEXT results, newest first", () => {
  const classifier = createClassifier(TEST_CATALOG);
  const sessions = Array.from({ length: MAX_VARIANTS_PER_TEXT + 1 }, (_, i) => new Map([["p", classifier.classify(`prepare p as select * from t${i}`).statements[0]]]));
  for (const session of sessions) classifier.classify("execute p", session);
  const misses = classifier.stats().misses;
  classifier.classify("execute p", sessions[MAX_VARIANTS_PER_TEXT]); // newest: kept
  classifier.classify("execute p", sessions[1]);
  assert.equal(classifier.stats().misses, misses);
  classifier.classify("execute p", sessions[0]); // oldest: dropped
  assert.equal(classifier.stats().misses, misses + 1);
});

test("a classifier belongs to one catalog", () => {
  const withUserLower = createClassifier(TEST_CATALOG);
  const builtinOnly = createClassifier(BUILTIN_CATALOG);
  assert.equal(withUserLower.classify("select lower('X')").kind, "call");
  assert.equal(builtinOnly.classify("select lower('X')").kind, "select");
});
