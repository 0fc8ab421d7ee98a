/**
 * Function calls and operators: a read only when it certainly reaches a read-only built-in.
 * TEST_CATALOG has user functions `lower` (overloading the built-in), `audit` and `slugify`, and
 * user operators `===` and `@@@`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_CATALOG } from "./builtin-catalog";
import { classify } from "./classify";
import { loadSqlParser } from "./parser";
import { runCases, TEST_CATALOG } from "./testing";
import type { Catalog } from "./types";

await loadSqlParser();

const C = "public.customers";
const O = "public.orders";

runCases("built-in reads", [
  { sql: "select now(), current_date, current_user, count(*) from customers", kinds: ["select"], reads: [C], functions: ["count", "now"] },
  { sql: "select upper(email), length(name), coalesce(phone, '') from customers", kinds: ["select"], reads: [C], functions: ["length", "upper"] },
  { sql: "select pg_catalog.lower(email) from customers", kinds: ["select"], reads: [C], functions: ["pg_catalog.lower"] },
  { sql: "select extract(year from now()), trim(both from ' x ')", kinds: ["select"], functions: ["now", "pg_catalog.btrim", "pg_catalog.extract"] },
  { sql: "select count(*) filter (where total > 0) over (partition by customer_id) from orders", kinds: ["select"], reads: [O], functions: ["count"] },
  { sql: "select jsonb_build_object('a', 1) ->> 'a', to_char(now(), 'YYYY')", kinds: ["select"], functions: ["jsonb_build_object", "now", "to_char"] },
  { sql: "select current_setting('search_path'), pg_backend_pid(), version()", kinds: ["select"], functions: ["current_setting", "pg_backend_pid", "version"] },
]);

runCases("types with user code behind them", [
  { sql: "select 1::money_box", kinds: ["select", "call"] },
  { sql: "select cast(2 as public.money_box)", kinds: ["select", "call"] },
  { sql: "select '5'::positive_int", kinds: ["select", "call"] },
  { sql: "select (id::money_box) from orders", kinds: ["select", "call"], reads: [O] },
  { sql: "select 1::int, 'x'::text, now()::date, '{}'::jsonb", kinds: ["select"], functions: ["now"] },
]);

runCases("harmless volatile built-ins", [
  { sql: "select random(), clock_timestamp(), gen_random_uuid(), timeofday(), random_normal()", kinds: ["select"], functions: ["clock_timestamp", "gen_random_uuid", "random", "random_normal", "timeofday"] },
  { sql: "select uuidv4(), uuidv7()", kinds: ["select"], functions: ["uuidv4", "uuidv7"] },
  { sql: "select pg_catalog.random()", kinds: ["select"], functions: ["pg_catalog.random"] },
  { sql: "select public.random()", kinds: ["select", "call"], functions: ["public.random"] },
]);

runCases("calls that are not reads", [
  { sql: "select nextval('s'), currval('s')", kinds: ["select", "call"], functions: ["currval", "nextval"] },
  { sql: "select setval('s', 1)", kinds: ["select", "call"], functions: ["setval"] },
  { sql: "select set_config('application_name', 'x', false)", kinds: ["select", "call"], functions: ["set_config"] },
  // set_config() is SET by another name.
  { sql: "select set_config('role', 'admin', false)", kinds: ["select", "call", "privilege"], functions: ["set_config"] },
  { sql: "select pg_catalog.set_config('Session_Replication_Role', 'replica', true)", kinds: ["select", "call", "privilege"], functions: ["pg_catalog.set_config"] },
  { sql: "select set_config(name, 'admin', false) from settings", kinds: ["select", "call", "privilege"], reads: ["public.settings"], functions: ["set_config"] },
  { sql: "select pg_terminate_backend(pid) from pg_stat_activity", kinds: ["select", "call"], reads: ["pg_catalog.pg_stat_activity"], functions: ["pg_terminate_backend"] },
  { sql: "select pg_cancel_backend(1)", kinds: ["select", "call"], functions: ["pg_cancel_backend"] },
  { sql: "select lo_get(1), lo_unlink(2)", kinds: ["select", "call"], functions: ["lo_get", "lo_unlink"] },
  { sql: "select * from dblink('host=x', 'delete from orders') as t(a int)", kinds: ["select", "call"], functions: ["dblink"] },
  { sql: "select txid_current(), pg_current_xact_id()", kinds: ["select", "call"], functions: ["pg_current_xact_id", "txid_current"] },
  { sql: "select pg_sleep(1)", kinds: ["select", "call"], functions: ["pg_sleep"] },
  { sql: "select pg_advisory_lock(1)", kinds: ["select", "call"], functions: ["pg_advisory_lock"] },
  // Marked stable, but they read whole tables, schemas or databases named in text.
  { sql: "select schema_to_xml('public', true, false, '')", kinds: ["select", "call"], functions: ["schema_to_xml"] },
  { sql: "select table_to_xml('customers', true, false, '')", kinds: ["select", "call"], functions: ["table_to_xml"] },
  { sql: "select query_to_xml('select * from customers', true, false, '')", kinds: ["select", "call"], functions: ["query_to_xml"] },
]);

runCases("user functions", [
  // `lower` is also a user function: unqualified, it may resolve to the user's overload.
  { sql: "select lower(email) from customers", kinds: ["select", "call"], reads: [C], functions: ["lower"] },
  { sql: "select LOWER(email) from customers", kinds: ["select", "call"], reads: [C], functions: ["lower"] },
  { sql: 'select "LOWER"(email) from customers', kinds: ["select", "call"], reads: [C], functions: ["LOWER"] },
  { sql: "select public.lower(email) from customers", kinds: ["select", "call"], reads: [C], functions: ["public.lower"] },
  { sql: "select slugify(name) from customers", kinds: ["select", "call"], reads: [C], functions: ["slugify"] },
  { sql: "select reporting.slugify(name) from customers", kinds: ["select", "call"], reads: [C], functions: ["reporting.slugify"] },
  { sql: "select myschema.pg_read_file('x')", kinds: ["select", "call"], functions: ["myschema.pg_read_file"] },
  { sql: "select * from audit(1)", kinds: ["select", "call"], functions: ["audit"] },
  { sql: "select customer_id from orders group by customer_id having sum(total) > audit(1)", kinds: ["select", "call"], reads: [O], functions: ["audit", "sum"] },
  { sql: "select * from orders o join customers c on audit(c.id) = o.id", kinds: ["select", "call"], reads: [O, C], functions: ["audit"] },
  { sql: "select case when total > 0 then audit(id) end from orders", kinds: ["select", "call"], reads: [O], functions: ["audit"] },
  { sql: "select coalesce(max(total), 0) from orders where customer_id = any(array(select id from customers where audit(id) > 0))", kinds: ["select", "call"], reads: [O, C], functions: ["audit", "max"] },
  { sql: "insert into orders values (nextval('s'))", kinds: ["insert", "call"], writes: [O], functions: ["nextval"] },
  { sql: "update orders set total = 1 where audit(id) > 0", kinds: ["update", "call"], writes: [O], functions: ["audit"] },
  { sql: "delete from orders returning audit(id)", kinds: ["delete", "call"], writes: [O], functions: ["audit"] },
  { sql: "explain select audit(1)", kinds: ["select", "call"], functions: ["audit"] },
  { sql: "values (audit(1))", kinds: ["select", "call"], functions: ["audit"] },
]);

runCases("operators", [
  { sql: "select 1 + 2 * 3, 'a' || 'b', 2 ^ 3", kinds: ["select"] },
  { sql: "select * from orders where total between 1 and 2 and id in (1, 2) and note like 'x%'", kinds: ["select"], reads: [O] },
  { sql: "select * from orders where customer_id === 1", kinds: ["select", "call"], reads: [O] },
  { sql: "select * from customers where name @@@ 'x'", kinds: ["select", "call"], reads: [C] },
  { sql: "select 1 operator(pg_catalog.+) 2", kinds: ["select"] },
  { sql: "select 1 operator(public.+) 2", kinds: ["select", "call"] },
  { sql: "select * from orders where id === any (select order_id from refunds)", kinds: ["select", "call"], reads: [O, "public.refunds"] },
  { sql: "select * from orders order by total using ===", kinds: ["select", "call"], reads: [O] },
  { sql: "update orders set total = total === 1", kinds: ["update", "call"], writes: [O] },
]);

test("an unqualified harmless built-in is a call when a user function of that name exists", () => {
  const catalog: Catalog = { ...BUILTIN_CATALOG, userFunctions: new Set(["random"]) };
  assert.deepEqual(classify("select random()", catalog).statements[0].kinds, ["select", "call"]);
  assert.deepEqual(classify("select pg_catalog.random()", catalog).statements[0].kinds, ["select"]);
});

test("BETWEEN uses the comparison operators, which a user may define", () => {
  const catalog: Catalog = { ...BUILTIN_CATALOG, userOperators: new Set(["<="]) };
  assert.deepEqual(classify("select 1 between 0 and 2", catalog).statements[0].kinds, ["select", "call"]);
  assert.deepEqual(classify("select 1 between 0 and 2", BUILTIN_CATALOG).statements[0].kinds, ["select"]);
});

test("a built-in the catalog does not list as read-only is a call", () => {
  const catalog: Catalog = { ...BUILTIN_CATALOG, readFunctions: new Set(["count"]) };
  assert.deepEqual(classify("select count(*), upper('x')", catalog).statements[0].kinds, ["select", "call"]);
});

test("reasons name the function and why", () => {
  const [s] = classify("select nextval('s'), lower('X'), pg_read_file('f'), 1 === 1", TEST_CATALOG).statements;
  assert.deepEqual(s.reasons, [
    "calls nextval(), which is not read-only",
    "calls lower(), which may resolve to a user-defined function of that name",
    "calls pg_read_file(), which reads or writes files on the database server",
    "uses operator ===, which a user-defined operator may implement",
  ]);
});
