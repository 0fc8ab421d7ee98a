import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadSqlParser } from "./parser";
import { compileRowFilter, renderRowFilter, RowFilterError, type FilterValues } from "./row-filter";
import { rewriteRowFilters, type RowFilters } from "./row-filter-rewrite";
import { TEST_CATALOG } from "./testing";

await loadSqlParser();

const VALUES: FilterValues = { agent: "reporting-agent", groups: ["agents", "it's"], claims: { country: "DE", tier: 3, regions: ["eu", "uk"] } };

function filters(rows: Record<string, string>, values = VALUES): RowFilters {
  return new Map(
    Object.entries(rows).map(([table, source]) => {
      const f = compileRowFilter(table, source);
      return [f.table, { render: (q: string) => renderRowFilter(f, q, values), columns: f.columns }];
    }),
  );
}

const F = filters({ "public.orders": "region = 'eu'", customers: "country = {{claims.country}}" });
const ORDERS = `(SELECT * FROM "public"."orders" AS airlock_rows WHERE ("airlock_rows".region OPERATOR(pg_catalog.=) 'eu') OFFSET 0)`;

describe("compiling a filter", () => {
  test("placeholders become literals, quoted as literals", () => {
    const f = compileRowFilter("public.t", "owner = {{agent}} and team = any({{groups}}) and tier >= {{claims.tier}} and r = any({{claims.regions}})");
    assert.equal(
      renderRowFilter(f, "x", VALUES),
      `("x".owner OPERATOR(pg_catalog.=) E'reporting-agent' and "x".team OPERATOR(pg_catalog.=) any ( ARRAY[E'agents', E'it''s']::pg_catalog.text[] ) and "x".tier OPERATOR(pg_catalog.>=) E'3' and "x".r OPERATOR(pg_catalog.=) any ( ARRAY[E'eu', E'uk']::pg_catalog.text[] ))`,
    );
    const g = compileRowFilter("t", "owner = {{agent}}");
    assert.equal(g.table, "public.t");
    assert.equal(renderRowFilter(g, "t", { ...VALUES, agent: "a'b\\c" }), `("t".owner OPERATOR(pg_catalog.=) E'a''b\\\\c')`);
  });

  test("operators and types are pg_catalog's, named so: never looked up on the session's search_path", () => {
    const f = compileRowFilter("t", "region::text = 'eu' and total + 1 > 2 and tag = (a || 'x')");
    assert.equal(
      renderRowFilter(f, "t", VALUES),
      `("t".region :: pg_catalog.text OPERATOR(pg_catalog.=) 'eu' and "t".total OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>) 2 and "t".tag OPERATOR(pg_catalog.=) ( "t".a OPERATOR(pg_catalog.||) 'x' ))`,
    );
  });

  test("IN, NOT IN, LIKE and ILIKE are written with pg_catalog's operators; what has no such spelling is refused", () => {
    const f = compileRowFilter("t", "region IN ('eu', {{agent}}) and tier NOT IN (1, (2)) and name LIKE 'a%' and not (code NOT ILIKE 'x')");
    assert.equal(
      renderRowFilter(f, "t", VALUES),
      `("t".region OPERATOR(pg_catalog.=) ANY (ARRAY[ 'eu' , E'reporting-agent' ]) and "t".tier OPERATOR(pg_catalog.<>) ALL (ARRAY[ 1 , ( 2 ) ]) and "t".name OPERATOR(pg_catalog.~~) 'a%' and not ( "t".code OPERATOR(pg_catalog.!~~*) 'x' ))`,
    );
    for (const [source, message] of [
      ["a IS DISTINCT FROM 1", /IS DISTINCT FROM is not allowed/],
      ["a IS NOT DISTINCT FROM 1", /IS NOT DISTINCT FROM is not allowed/],
      ["a BETWEEN 1 AND 2", /BETWEEN is not allowed/],
      ["a NOT BETWEEN SYMMETRIC 1 AND 2", /BETWEEN SYMMETRIC is not allowed/],
      ["NULLIF(a, 1) IS NULL", /NULLIF is not allowed/],
      ["a SIMILAR TO 'x'", /not allowed/],
      ["CASE a WHEN 1 THEN true ELSE false END", /CASE x WHEN/],
    ] as const) {
      assert.throws(() => compileRowFilter("t", source), (err: Error) => err instanceof RowFilterError && message.test(err.message), source);
    }
    assert.doesNotThrow(() => compileRowFilter("t", "CASE WHEN a = 1 THEN true ELSE false END"));
  });

  test("a missing claim fails closed", () => {
    const f = compileRowFilter("public.t", "country = {{claims.country}}");
    assert.throws(() => renderRowFilter(f, "t", { ...VALUES, claims: {} }), RowFilterError);
    assert.throws(() => renderRowFilter(f, "t", { ...VALUES, claims: { country: { nested: 1 } } }), RowFilterError);
    assert.throws(() => renderRowFilter(f, "t", { ...VALUES, claims: { country: null } }), RowFilterError);
  });

  for (const [source, why] of [
    ["region = (select max(region) from orders)", /subquery/],
    ["lower(region) = 'eu'", /function call/],
    ["orders.region = 'eu'", /bare/],
    ["region = 'eu'; drop table orders", /one boolean expression/],
    ["true union select 1", /./],
    ["region = '{{agent}}'", /placeholder must stand alone/],
    ["region = $1", /parameters/],
    ["region = {{nope}}", /unknown placeholder/],
    ["region === 'eu'", /operator/],
    ["region::evil_type = 'x'", /cast/],
    ["region = 'eu' -- comment", /./],
    ["region = tag || 'x'", /parentheses/],
  ] as const) {
    test(`refused at load: ${source}`, () => {
      if (source.endsWith("comment")) {
        // A comment is dropped: the filter is rebuilt from its tokens.
        assert.equal(renderRowFilter(compileRowFilter("t", source), "t", VALUES), `("t".region OPERATOR(pg_catalog.=) 'eu')`);
        return;
      }
      assert.throws(() => compileRowFilter("public.orders", source), why);
    });
  }
});

describe("rewriting a statement", () => {
  const cases: Array<[string, string]> = [
    ["SELECT * FROM orders", `SELECT * FROM ${ORDERS} AS "orders"`],
    ["SELECT o.id FROM public.orders o WHERE o.id > 1", `SELECT o.id FROM ${ORDERS} o WHERE o.id > 1`],
    ["SELECT * FROM ONLY orders", `SELECT * FROM (SELECT * FROM ONLY "public"."orders" AS airlock_rows WHERE ("airlock_rows".region OPERATOR(pg_catalog.=) 'eu') OFFSET 0) AS "orders"`],
    ["SELECT * FROM ONLY (orders) x", `SELECT * FROM (SELECT * FROM ONLY "public"."orders" AS airlock_rows WHERE ("airlock_rows".region OPERATOR(pg_catalog.=) 'eu') OFFSET 0) x`],
    ["SELECT * FROM orders * AS x(a, b)", `SELECT * FROM ${ORDERS} AS x(a, b)`],
    ["TABLE orders", `SELECT * FROM ${ORDERS} AS "orders"`],
    ["WITH orders AS (SELECT 1) SELECT * FROM orders", "WITH orders AS (SELECT 1) SELECT * FROM orders"],
    ["WITH x AS (SELECT * FROM orders) SELECT * FROM x", `WITH x AS (SELECT * FROM ${ORDERS} AS "orders") SELECT * FROM x`],
    ["DELETE FROM orders WHERE id = 1", `DELETE FROM orders WHERE ("orders".region OPERATOR(pg_catalog.=) 'eu') AND CASE WHEN ("orders".region OPERATOR(pg_catalog.=) 'eu') THEN ( id = 1) ELSE false END `],
    ["DELETE FROM orders", `DELETE FROM orders WHERE ("orders".region OPERATOR(pg_catalog.=) 'eu') `],
    ["WITH d AS (DELETE FROM orders WHERE id = 1) SELECT 1", `WITH d AS (DELETE FROM orders WHERE ("orders".region OPERATOR(pg_catalog.=) 'eu') AND CASE WHEN ("orders".region OPERATOR(pg_catalog.=) 'eu') THEN ( id = 1) ELSE false END ) SELECT 1`],
    ["WITH u AS (UPDATE orders SET total = 0), v AS (SELECT 1) SELECT 1", `WITH u AS (UPDATE orders SET total = 0 WHERE ("orders".region OPERATOR(pg_catalog.=) 'eu') ), v AS (SELECT 1) SELECT 1`],
    ["UPDATE orders o SET total = 0 WHERE id = 1 OR true RETURNING id", `UPDATE orders o SET total = 0 WHERE ("o".region OPERATOR(pg_catalog.=) 'eu') AND CASE WHEN ("o".region OPERATOR(pg_catalog.=) 'eu') THEN ( id = 1 OR true ) ELSE false END RETURNING id`],
    ["COPY orders (id) TO STDOUT", `COPY (SELECT "id" FROM ${ORDERS} AS "orders") TO STDOUT`],
    ["SELECT 1 FROM products", "SELECT 1 FROM products"],
    ["DELETE FROM orders -- all of them", `DELETE FROM orders WHERE ("orders".region OPERATOR(pg_catalog.=) 'eu')  -- all of them`],
    ["SELECT * FROM customers c JOIN orders ON true", `SELECT * FROM (SELECT * FROM "public"."customers" AS airlock_rows WHERE ("airlock_rows".country OPERATOR(pg_catalog.=) E'DE') OFFSET 0) c JOIN ${ORDERS} AS "orders" ON true`],
  ];
  for (const [sql, expected] of cases) {
    test(sql, () => {
      const result = rewriteRowFilters(sql, F, TEST_CATALOG);
      assert.ok(result.ok, !result.ok ? result.reason : "");
      assert.equal(result.text, expected);
    });
  }

  for (const [sql, why] of [
    ["INSERT INTO orders (id) VALUES (1)", /INSERT into public.orders is refused/],
    ["UPDATE orders SET region = 'us'", /UPDATE of column region/],
    ["UPDATE orders SET (id, region) = (1, 'us')", /UPDATE of column region/],
    ["DELETE FROM orders WHERE CURRENT OF c", /CURRENT OF/],
    ["MERGE INTO products p USING orders o ON p.id = o.id WHEN MATCHED THEN DELETE", /MERGE/],
    ["COPY orders FROM STDIN", /COPY into/],
    ["SELECT * FROM orders TABLESAMPLE bernoulli (50)", /TABLESAMPLE/],
    ["SELECT * FROM daily_totals", /view public.daily_totals reads public.orders/],
    ["CREATE TABLE x AS SELECT * FROM orders", /refused/],
    ["PREPARE p AS SELECT * FROM orders", /refused/],
    ["TRUNCATE orders", /refused/],
    ["SELECT * INTO orders FROM products", /refused/],
  ] as const) {
    test(`refused: ${sql}`, () => {
      const result = rewriteRowFilters(sql, F, TEST_CATALOG);
      assert.equal(result.ok, false, result.ok ? result.text : "");
      if (!result.ok) assert.match(result.reason, why);
    });
  }
});
