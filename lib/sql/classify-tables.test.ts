/**
 * Which tables a statement reads and writes: name folding and quoting, system relations, every
 * place a relation can stand, CTE scoping, and views (expanded through the catalog).
 */
import { loadSqlParser } from "./parser";
import { runCases } from "./testing";

await loadSqlParser();

const O = "public.orders";
const C = "public.customers";
const R = "public.refunds";

runCases("names", [
  { sql: "SELECT * FROM Orders", kinds: ["select"], reads: [O] },
  { sql: "select * from PUBLIC.ORDERS", kinds: ["select"], reads: [O] },
  { sql: 'select * from "Orders"', kinds: ["select"], reads: ["public.Orders"] },
  { sql: 'select * from "Sales"."Q1 Orders"', kinds: ["select"], reads: ["Sales.Q1 Orders"] },
  { sql: 'select * from "we""ird"', kinds: ["select"], reads: ['public.we"ird'] },
  { sql: 'select * from U&"\\0441\\043B\\043E\\043D"', kinds: ["select"], reads: ["public.слон"] },
  { sql: "select * from U&\"d!0061t!+000061\" UESCAPE '!'", kinds: ["select"], reads: ["public.data"] },
  { sql: "select * from shop.public.orders", kinds: ["select"], reads: [O] },
  { sql: "select * from /* a comment */ orders -- another\n where true", kinds: ["select"], reads: [O] },
  { sql: "select $$ from secrets $$, $x$;delete from orders;$x$ from orders", kinds: ["select"], reads: [O] },
  { sql: "select 'from secrets' as s, E'\\' from secrets' from orders", kinds: ["select"], reads: [O] },
  // pg_catalog leads the search path: an unqualified system relation is pg_catalog's.
  { sql: "select * from pg_class", kinds: ["select"], reads: ["pg_catalog.pg_class"] },
  { sql: "select rolpassword from pg_authid", kinds: ["select"], reads: ["pg_catalog.pg_authid"] },
  { sql: "select * from pg_catalog.pg_user", kinds: ["select"], reads: ["pg_catalog.pg_user"] },
  { sql: "select * from information_schema.tables", kinds: ["select"], reads: ["information_schema.tables"] },
  { sql: "select * from pg_my_table", kinds: ["select"], reads: ["public.pg_my_table"] },
]);

runCases("every place a relation stands", [
  { sql: "select * from orders o join customers c using (customer_id) left join refunds r on r.order_id = o.id", kinds: ["select"], reads: [O, C, R] },
  { sql: "select id from orders union select order_id from refunds except select id from archive.orders", kinds: ["select"], reads: [O, R, "archive.orders"] },
  { sql: "(select 1 from orders) intersect all (table refunds)", kinds: ["select"], reads: [O, R] },
  { sql: "select * from customers c, lateral (select * from orders o where o.customer_id = c.id limit 1) x", kinds: ["select"], reads: [O, C] },
  { sql: "select (select max(total) from orders), exists (select 1 from refunds)", kinds: ["select"], reads: [O, R], functions: ["max"] },
  { sql: "select * from customers where id in (select customer_id from orders where total > all (select amount from refunds))", kinds: ["select"], reads: [O, C, R] },
  { sql: "select * from customers order by (select count(*) from orders)", kinds: ["select"], reads: [O, C], functions: ["count"] },
  { sql: "select * from orders tablesample system (10)", kinds: ["select"], reads: [O] },
  { sql: "select * from orders tablesample bernoulli (10) repeatable (1)", kinds: ["select"], reads: [O] },
  { sql: "select * from orders tablesample system_rows (10)", kinds: ["select", "call"], reads: [O] },
  { sql: "select * from only orders", kinds: ["select"], reads: [O] },
  { sql: "select * from generate_series(1, 3) g join orders o on o.id = g", kinds: ["select"], reads: [O], functions: ["generate_series"] },
  { sql: "select array(select id from orders), case when exists (select from refunds) then 1 end", kinds: ["select"], reads: [O, R] },
  { sql: "update orders set total = (select sum(amount) from refunds where order_id = orders.id)", kinds: ["update"], reads: [R], writes: [O], functions: ["sum"] },
  { sql: "delete from orders returning (select email from customers where id = customer_id)", kinds: ["delete"], reads: [C], writes: [O] },
  { sql: "insert into orders (id) select id from customers where not exists (select 1 from refunds)", kinds: ["insert"], reads: [C, R], writes: [O] },
  { sql: "insert into orders values (1) on conflict (id) do update set total = (select 0 from refunds limit 1)", kinds: ["insert", "update"], reads: [R], writes: [O] },
  { sql: "merge into orders o using customers c on o.customer_id = c.id when matched and exists (select from refunds) then delete", kinds: ["merge"], reads: [C, R], writes: [O] },
]);

runCases("CTE scoping", [
  { sql: "with orders as (select * from archive.orders) select * from orders", kinds: ["select"], reads: ["archive.orders"] },
  // A CTE name only shadows inside its own WITH.
  { sql: "select * from (with orders as (select 1) select * from orders) s, orders", kinds: ["select"], reads: [O] },
  { sql: "select * from (with t as (select 1) select * from t) a, (select * from t) b", kinds: ["select"], reads: ["public.t"] },
  // Without RECURSIVE a CTE's own name, or a later CTE's, still means the table.
  { sql: "with orders as (select * from orders) select * from orders", kinds: ["select"], reads: [O] },
  { sql: "with a as (select * from b), b as (select 1) select * from a, b", kinds: ["select"], reads: ["public.b"] },
  { sql: "with a as (select 1), b as (select * from a) select * from b", kinds: ["select"] },
  { sql: "with recursive t(n) as (select 1 union all select n + 1 from t where n < 10) select * from t", kinds: ["select"] },
  { sql: "with recursive a as (select * from b), b as (select 1) select * from a", kinds: ["select"] },
  { sql: "with orders as (select 1) select * from public.orders, orders", kinds: ["select"], reads: [O] },
  { sql: "with customers as (select 1) select * from (select * from customers) s where exists (select from customers)", kinds: ["select"] },
  { sql: "with x as (select * from orders) select * from x union select * from x", kinds: ["select"], reads: [O] },
  { sql: "insert into orders with x as (select * from staging.orders) select * from x", kinds: ["insert"], reads: ["staging.orders"], writes: [O] },
  // A DML target is never a CTE, even when a CTE has its name.
  { sql: "with orders as (select 1) delete from orders", kinds: ["delete"], writes: [O] },
]);

runCases("data-modifying CTEs", [
  { sql: "with d as (delete from orders where id = 1 returning *) insert into archive.orders select * from d", kinds: ["insert", "delete"], writes: ["archive.orders", O] },
  { sql: "with u as (update customers set email = null returning id) select count(*) from u", kinds: ["select", "update"], writes: [C], functions: ["count"] },
  { sql: "with i as (insert into refunds (order_id) values (1) returning *) select * from i join orders o on o.id = i.order_id", kinds: ["select", "insert"], reads: [O], writes: [R] },
  { sql: "with m as (merge into orders using refunds r on r.order_id = orders.id when matched then delete returning *) select * from m", kinds: ["select", "merge"], reads: [R], writes: [O] },
  { sql: "select * from (with d as (delete from refunds returning *) select * from d) s", kinds: ["select", "delete"], writes: [R] },
]);

runCases("views", [
  { sql: "select * from customer_emails", kinds: ["select"], reads: ["public.customer_emails", C] },
  { sql: "select * from reporting.summary", kinds: ["select"], reads: ["reporting.summary", "public.big_orders", "public.customer_emails", O, C] },
  { sql: "select * from ticket_numbers", kinds: ["select", "call"], reads: ["public.ticket_numbers", "public.ticket_seq"] },
  { sql: "select * from orders where id in (select id from ticket_numbers)", kinds: ["select", "call"], reads: [O, "public.ticket_numbers", "public.ticket_seq"] },
  { sql: "select * from daily_totals", kinds: ["select"], reads: ["public.daily_totals", O] },
  { sql: "with customer_emails as (select 1) select * from customer_emails", kinds: ["select"] },
  { sql: 'select * from "Customer_Emails"', kinds: ["select"], reads: ["public.Customer_Emails"] },
  { sql: "update customer_emails set email = 'x'", kinds: ["update"], writes: ["public.customer_emails", C] },
  { sql: "insert into archive.emails select * from customer_emails", kinds: ["insert"], reads: ["public.customer_emails", C], writes: ["archive.emails"] },
  { sql: "create view v2 as select * from customer_emails", kinds: ["ddl"], reads: ["public.customer_emails", C], writes: ["public.v2"] },
  { sql: "copy customer_emails to stdout", kinds: ["copy_out"], reads: ["public.customer_emails", C] },
  { sql: "explain select * from reporting.summary", kinds: ["select"], reads: ["reporting.summary", "public.big_orders", "public.customer_emails", O, C] },
]);
