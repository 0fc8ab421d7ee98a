/**
 * The row-filter corpus: statements that try to see or change rows outside a filter, through
 * every construct a filtered table can be reached by, and ordinary filtered reads. Each case says
 * what must happen: the same rows as the filter's WHERE run straight on the database, a refusal,
 * a failure of any kind (never rows), or a write that leaves every row outside the filter as it was.
 */

/** A real PostgreSQL: orders by region (with an inheriting child), customers by country and team, notes by author. */
export const ROW_FILTER_FIXTURE = `
  CREATE TABLE orders (id int PRIMARY KEY, region text NOT NULL, customer_id int NOT NULL, total int NOT NULL);
  INSERT INTO orders SELECT i, (ARRAY['eu', 'us', 'apac'])[i % 3 + 1], i % 10 + 1, i * 10 FROM generate_series(1, 30) i;
  CREATE TABLE orders_archive () INHERITS (orders);
  INSERT INTO orders_archive VALUES (100, 'us', 1, 5), (101, 'eu', 2, 7);
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL, team text NOT NULL);
  INSERT INTO customers SELECT i, 'c' || i, (ARRAY['DE', 'US'])[i % 2 + 1], (ARRAY['agents', 'ops', 'analytics'])[i % 3 + 1] FROM generate_series(1, 10) i;
  CREATE TABLE notes (id int PRIMARY KEY, author text NOT NULL, body text NOT NULL);
  INSERT INTO notes VALUES (1, 'reporting-agent', 'mine'), (2, 'ops-agent', 'theirs');
  CREATE TABLE secrets (id int PRIMARY KEY, owner text NOT NULL);
  INSERT INTO secrets VALUES (1, 'DE');
  CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL);
  INSERT INTO products SELECT i, 'p' || i FROM generate_series(1, 10) i;
  CREATE TABLE events (id int NOT NULL, region text NOT NULL) PARTITION BY LIST (region);
  CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
  CREATE TABLE events_other PARTITION OF events DEFAULT;
  INSERT INTO events VALUES (1, 'eu'), (2, 'us'), (3, 'apac');
  CREATE VIEW all_orders AS SELECT * FROM orders;
  CREATE FUNCTION orders_fn() RETURNS SETOF orders LANGUAGE sql STABLE AS $$ SELECT * FROM orders $$;
`;

/** reporting-agent (groups agents, analytics; sub reporting-agent; no country claim). */
export const ROW_FILTER_RULES = `rules:
  - name: filtered-pg
    match: { groups: [agents], resources: [pg], kinds: [select, insert, update, delete, merge, copy_out, lock, call] }
    action: allow
    rows:
      public.orders: "region = 'eu'"
      public.customers: "country = 'DE' and team = any({{groups}})"
      public.notes: "author = {{claims.sub}}"
      public.secrets: "owner = {{claims.country}}"
      public.events: "region = 'eu'"
  - name: filtered-demo
    match: { groups: [agents], resources: [demo], kinds: [select, update, delete, copy_out, lock] }
    action: allow
    rows:
      public.customers: "country = 'DE'"`;

/** What a direct query must show for each filtered table: the filter as a plain WHERE. */
export const OUTSIDE = {
  orders: "SELECT * FROM orders WHERE region IS DISTINCT FROM 'eu' ORDER BY id",
  customers: "SELECT * FROM customers WHERE NOT (country = 'DE' AND team = ANY (ARRAY['agents', 'analytics'])) ORDER BY id",
  notes: "SELECT * FROM notes WHERE author <> 'reporting-agent' ORDER BY id",
  products: "SELECT * FROM products WHERE id <= 10 ORDER BY id",
  events: "SELECT * FROM events WHERE region <> 'eu' ORDER BY id",
};

export type Expect =
  /** The agent's rows equal these, run as superuser straight on the database (order ignored). */
  | { same: string }
  | { refused: RegExp | true }
  /** Fails somehow (refused, or an error from the database on the rewritten text); never rows. */
  | { fails: true }
  /** A write: it may run; afterwards every row outside the filters is as it was, and `check`'s two direct queries agree. */
  | { write: true; check?: [string, string] };

export interface Case {
  name: string;
  /** Statements run in order on one connection; the last one's rows are judged. */
  sql: string[];
  expect: Expect;
  /** Only over the simple protocol (a multi-statement Query). */
  simpleOnly?: true;
}

export const CORPUS: readonly Case[] = [
  { name: "plain read", sql: ["SELECT * FROM orders"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "count", sql: ["SELECT count(*) FROM orders"], expect: { same: "SELECT count(*) FROM orders WHERE region = 'eu'" } },
  { name: "asking for other regions", sql: ["SELECT * FROM public.orders o WHERE o.region <> 'eu'"], expect: { same: "SELECT * FROM orders WHERE false" } },
  { name: "OR true in the agent's WHERE", sql: ["SELECT * FROM orders WHERE region = 'us' OR true"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "ONLY", sql: ["SELECT * FROM ONLY orders"], expect: { same: "SELECT * FROM ONLY orders WHERE region = 'eu'" } },
  { name: "inheritance star (the child's rows filtered too)", sql: ["SELECT * FROM orders *"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "a child table read by its own name", sql: ["SELECT * FROM orders_archive"], expect: { same: "SELECT * FROM orders_archive WHERE region = 'eu'" } },
  { name: "a partition read by its own name", sql: ["SELECT * FROM events_other UNION ALL SELECT * FROM public.events_eu"], expect: { same: "SELECT * FROM events WHERE region = 'eu'" } },
  { name: "the partitioned table", sql: ["SELECT * FROM events"], expect: { same: "SELECT * FROM events WHERE region = 'eu'" } },
  { name: "UPDATE of a child table", sql: ["UPDATE orders_archive SET total = total + 1"], expect: { write: true } },
  { name: "DELETE from a partition", sql: ["DELETE FROM events_other"], expect: { write: true } },
  { name: "TABLE", sql: ["TABLE orders"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "quoted, upper-case schema", sql: ['SELECT * FROM "public"."orders", PUBLIC.products p WHERE p.id = 1'], expect: { same: "SELECT * FROM orders, products p WHERE p.id = 1 AND region = 'eu'" } },
  { name: "alias with column names", sql: ["SELECT a, b FROM orders AS x(a, b)"], expect: { same: "SELECT id AS a, region AS b FROM orders WHERE region = 'eu'" } },
  { name: "the inner alias's own name as alias", sql: ["SELECT airlock_rows.region FROM orders AS airlock_rows"], expect: { same: "SELECT region FROM orders WHERE region = 'eu'" } },
  { name: "join of two filtered tables", sql: ["SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id"], expect: { same: "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.region = 'eu' AND c.country = 'DE' AND c.team IN ('agents', 'analytics')" } },
  { name: "left join keeps no hidden customer", sql: ["SELECT o.id, c.name FROM orders o LEFT JOIN customers c USING (id)"], expect: { same: "SELECT o.id, c.name FROM orders o LEFT JOIN (SELECT * FROM customers WHERE country = 'DE' AND team IN ('agents', 'analytics')) c USING (id) WHERE o.region = 'eu'" } },
  { name: "IN subquery", sql: ["SELECT id FROM products WHERE id IN (SELECT customer_id FROM orders WHERE region = 'us')"], expect: { same: "SELECT id FROM products WHERE false" } },
  { name: "scalar subquery", sql: ["SELECT (SELECT count(*) FROM orders) AS n, (SELECT max(total) FROM orders) AS m"], expect: { same: "SELECT (SELECT count(*) FROM orders WHERE region = 'eu') AS n, (SELECT max(total) FROM orders WHERE region = 'eu') AS m" } },
  { name: "EXISTS probe for a hidden row", sql: ["SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM orders WHERE id = 1)"], expect: { same: "SELECT 1 AS found WHERE false" } },
  { name: "correlated subquery in the select list", sql: ["SELECT p.id, (SELECT o.region FROM orders o WHERE o.id = p.id) FROM products p"], expect: { same: "SELECT p.id, (SELECT o.region FROM orders o WHERE o.id = p.id AND o.region = 'eu') FROM products p" } },
  { name: "LATERAL", sql: ["SELECT c.id, l.n FROM customers c, LATERAL (SELECT count(*) AS n FROM orders o WHERE o.customer_id = c.id) l"], expect: { same: "SELECT c.id, l.n FROM customers c, LATERAL (SELECT count(*) AS n FROM orders o WHERE o.customer_id = c.id AND o.region = 'eu') l WHERE c.country = 'DE' AND c.team IN ('agents', 'analytics')" } },
  { name: "CTE", sql: ["WITH x AS (SELECT * FROM orders) SELECT * FROM x"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "nested CTEs", sql: ["WITH a AS (SELECT * FROM orders), b AS (SELECT * FROM a UNION ALL SELECT * FROM orders) SELECT count(*) FROM b"], expect: { same: "SELECT count(*) FROM (SELECT * FROM orders WHERE region = 'eu' UNION ALL SELECT * FROM orders WHERE region = 'eu') b" } },
  { name: "recursive CTE walking ids", sql: ["WITH RECURSIVE r(id) AS (SELECT min(id) FROM orders UNION ALL SELECT (SELECT min(o.id) FROM orders o WHERE o.id > r.id) FROM r WHERE r.id IS NOT NULL) SELECT id FROM r WHERE id IS NOT NULL"], expect: { same: "SELECT id FROM orders WHERE region = 'eu'" } },
  { name: "a CTE named like the table is the CTE", sql: ["WITH orders AS (SELECT 1 AS id) SELECT * FROM orders"], expect: { same: "SELECT 1 AS id" } },
  { name: "UNION", sql: ["SELECT id, region FROM orders UNION SELECT id, region FROM orders WHERE region = 'us'"], expect: { same: "SELECT id, region FROM orders WHERE region = 'eu'" } },
  { name: "EXCEPT", sql: ["SELECT region FROM orders EXCEPT SELECT 'eu'"], expect: { same: "SELECT 'x' WHERE false" } },
  { name: "GROUP BY region", sql: ["SELECT region, count(*) FROM orders GROUP BY region"], expect: { same: "SELECT region, count(*) FROM orders WHERE region = 'eu' GROUP BY region" } },
  { name: "window over everything", sql: ["SELECT id, sum(total) OVER () AS s FROM orders"], expect: { same: "SELECT id, sum(total) OVER () AS s FROM orders WHERE region = 'eu'" } },
  { name: "a division by zero on a hidden row's value (WHERE)", sql: ["SELECT id FROM orders WHERE 1 / (CASE WHEN region = 'us' AND total = 40 THEN 0 ELSE 1 END) = 1"], expect: { same: "SELECT id FROM orders WHERE region = 'eu'" } },
  { name: "a division by zero on a hidden row's value (join)", sql: ["SELECT o.id FROM orders o JOIN products p ON 1 / (CASE WHEN o.region = 'us' THEN 0 ELSE 1 END) = 1 AND p.id = 1"], expect: { same: "SELECT id FROM orders WHERE region = 'eu'" } },
  { name: "a cast error on a hidden row's value", sql: ["SELECT id FROM orders WHERE (CASE WHEN region = 'us' THEN 'x' ELSE '1' END)::int = 1"], expect: { same: "SELECT id FROM orders WHERE region = 'eu'" } },
  { name: "a division by zero on a hidden row's value (DELETE)", sql: ["DELETE FROM orders WHERE 1 / (CASE WHEN region = 'us' THEN 0 ELSE 1 END) = 0 RETURNING id"], expect: { same: "SELECT id FROM orders WHERE false" } },
  { name: "a DO block reading the table", sql: ["DO $$ BEGIN PERFORM count(*) FROM orders; END $$"], expect: { refused: true } },
  { name: "live and dead row counts of the filtered table", sql: ["SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'orders'"], expect: { refused: /pg_catalog.pg_stat_user_tables/ } },
  { name: "row counts of the filtered table, all tables", sql: ["SELECT n_tup_ins - n_tup_del AS n FROM pg_catalog.pg_stat_all_tables WHERE relname = 'orders'"], expect: { refused: /pg_catalog.pg_stat_all_tables/ } },
  { name: "row counts of this transaction", sql: ["SELECT n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = 'orders'"], expect: { refused: /pg_catalog.pg_stat_xact_user_tables/ } },
  { name: "block reads of the filtered table", sql: ["SELECT heap_blks_read FROM pg_statio_user_tables WHERE relname = 'orders'"], expect: { refused: /pg_catalog.pg_statio_user_tables/ } },
  { name: "the live-row counter of the filtered table", sql: ["SELECT pg_stat_get_live_tuples('public.orders'::regclass) AS n"], expect: { refused: /pg_stat_get_live_tuples/ } },
  { name: "the size of the filtered table", sql: ["SELECT pg_catalog.pg_relation_size('public.orders') AS n"], expect: { refused: true } },
  { name: "statistics of the filtered table", sql: ["SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'orders'"], expect: { refused: /pg_catalog.pg_stats/ } },
  { name: "comments around the name", sql: ["SELECT * FROM /* x */ orders -- the rest"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "non-ASCII text before the table", sql: ["SELECT 'é—ü' AS x, id FROM orders"], expect: { same: "SELECT 'é—ü' AS x, id FROM orders WHERE region = 'eu'" } },
  { name: "FOR UPDATE", sql: ["SELECT * FROM orders FOR UPDATE"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "FOR SHARE OF the alias", sql: ["SELECT * FROM orders o FOR SHARE OF o"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "cursor", sql: ["BEGIN", "DECLARE c CURSOR FOR SELECT * FROM orders", "FETCH ALL FROM c"], expect: { same: "SELECT * FROM orders WHERE region = 'eu'" } },
  { name: "filter by groups", sql: ["SELECT * FROM customers"], expect: { same: "SELECT * FROM customers WHERE country = 'DE' AND team IN ('agents', 'analytics')" } },
  { name: "filter by a claim", sql: ["SELECT * FROM notes"], expect: { same: "SELECT * FROM notes WHERE author = 'reporting-agent'" } },
  { name: "a claim the token lacks fails closed", sql: ["SELECT * FROM secrets"], expect: { refused: /claim "country"/ } },
  { name: "schema-qualified column through the subquery", sql: ["SELECT public.orders.id FROM public.orders"], expect: { fails: true } },
  { name: "system column", sql: ["SELECT ctid FROM orders"], expect: { fails: true } },
  { name: "view over a filtered table", sql: ["SELECT * FROM all_orders"], expect: { refused: /view public.all_orders reads public.orders/ } },
  { name: "function reading the table by name", sql: ["SELECT * FROM orders_fn()"], expect: { refused: /runs code that could read/ } },
  { name: "table_to_xml", sql: ["SELECT table_to_xml('orders', true, false, '')"], expect: { refused: /runs code that could read/ } },
  { name: "query_to_xml", sql: ["SELECT query_to_xml('SELECT * FROM orders', true, false, '')"], expect: { refused: /runs code that could read/ } },
  { name: "TABLESAMPLE", sql: ["SELECT * FROM orders TABLESAMPLE bernoulli (100)"], expect: { refused: /TABLESAMPLE/ } },
  { name: "PREPARE", sql: ["PREPARE p AS SELECT * FROM orders"], expect: { refused: /PREPARE/ } },
  { name: "CREATE TABLE AS", sql: ["CREATE TABLE copied AS SELECT * FROM orders"], expect: { refused: true } },
  { name: "INSERT into a filtered table", sql: ["INSERT INTO orders VALUES (200, 'us', 1, 1)"], expect: { refused: /INSERT into public.orders/ } },
  { name: "INSERT … ON CONFLICT into a filtered table", sql: ["INSERT INTO orders VALUES (1, 'eu', 1, 1) ON CONFLICT (id) DO UPDATE SET total = 0"], expect: { refused: /INSERT into public.orders/ } },
  { name: "MERGE", sql: ["MERGE INTO products p USING orders o ON p.id = o.id WHEN MATCHED THEN UPDATE SET name = o.region"], expect: { refused: /MERGE/ } },
  { name: "UPDATE moving rows out", sql: ["UPDATE orders SET region = 'us'"], expect: { refused: /column region/ } },
  { name: "UPDATE moving rows in", sql: ["UPDATE orders SET (total, region) = (1, 'eu') WHERE region = 'us'"], expect: { refused: /column region/ } },
  { name: "WHERE CURRENT OF", sql: ["BEGIN", "DECLARE w CURSOR FOR SELECT * FROM orders", "UPDATE orders SET total = 0 WHERE CURRENT OF w"], expect: { refused: /CURRENT OF/ } },
  { name: "UPDATE everything", sql: ["UPDATE orders SET total = total + 1"], expect: { write: true } },
  { name: "UPDATE aimed at hidden rows", sql: ["UPDATE orders SET total = 0 WHERE region = 'us' OR id = 1"], expect: { write: true } },
  { name: "UPDATE … OR true", sql: ["UPDATE orders o SET total = 3 WHERE o.id = 2 OR true"], expect: { write: true } },
  { name: "UPDATE … FROM another filtered table", sql: ["UPDATE orders o SET total = 4 FROM customers c WHERE c.id = o.customer_id"], expect: { write: true } },
  { name: "UPDATE … RETURNING a subquery", sql: ["UPDATE orders SET total = total RETURNING id, (SELECT count(*) FROM orders) AS n"], expect: { same: "SELECT id, (SELECT count(*) FROM orders WHERE region = 'eu') AS n FROM orders WHERE region = 'eu'" } },
  { name: "UPDATE in a CTE", sql: ["WITH u AS (UPDATE orders SET total = total RETURNING *) SELECT count(*) FROM u"], expect: { same: "SELECT count(*) FROM orders WHERE region = 'eu'" } },
  { name: "DELETE in a CTE without RETURNING, aimed at hidden rows", sql: ["WITH d AS (DELETE FROM orders WHERE id IN (1, 2)) SELECT 1 AS one"], expect: { same: "SELECT 1 AS one" } },
  { name: "UPDATE in a CTE without WHERE or RETURNING", sql: ["WITH u AS (UPDATE orders SET total = total + 0) SELECT 1 AS one"], expect: { same: "SELECT 1 AS one" } },
  { name: "DELETE in a CTE aimed at hidden rows", sql: ["WITH d AS (DELETE FROM orders WHERE region = 'apac' RETURNING *) SELECT * FROM d"], expect: { same: "SELECT * FROM orders WHERE false" } },
  { name: "DELETE … USING", sql: ["DELETE FROM notes n USING customers c WHERE c.id = n.id AND n.author <> 'x'"], expect: { write: true } },
  { name: "DELETE of hidden customers", sql: ["DELETE FROM customers WHERE country = 'US'"], expect: { write: true } },
  { name: "INSERT … SELECT from a filtered table", sql: ["INSERT INTO products SELECT id + 1000, region FROM orders"], expect: { write: true, check: ["SELECT count(*) FROM products WHERE id > 1000 AND name <> 'eu'", "SELECT 0::bigint AS count"] } },
  { name: "EXPLAIN ANALYZE of a write is refused (its row counts)", sql: ["EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) DELETE FROM orders WHERE region = 'us'"], expect: { refused: /EXPLAIN of a statement on public.orders is refused/ } },
  { name: "EXPLAIN ANALYZE counting hidden rows (Rows Removed by Filter)", sql: ["EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM orders"], expect: { refused: /EXPLAIN of a statement on public.orders is refused/ } },
  { name: "EXPLAIN's whole-table estimates", sql: ["EXPLAIN SELECT * FROM orders WHERE region = 'us'"], expect: { refused: /EXPLAIN of a statement on public.orders is refused/ } },
  { name: "DELETE … RETURNING", sql: ["DELETE FROM orders WHERE id > 25 OR region = 'us' RETURNING *"], expect: { write: true } },
  { name: "two statements in one Query", sql: ["SELECT 1 AS one; SELECT * FROM orders"], expect: { same: "SELECT 1 AS one; SELECT * FROM orders WHERE region = 'eu'" }, simpleOnly: true },
];
