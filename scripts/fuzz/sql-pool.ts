/**
 * Statements for the fuzzer, by how the fuzz policy treats them (scripts/fuzz/policy.ts): read
 * (allowed, masked), write (review), denied, session, names (SQL-level prepared statements and
 * cursors, which share the names the protocol uses), copy, broken.
 */
import type { Rng } from "./rng";

export const NAMES = ["", "", "s1", "s2", "p1", "_pg3_0", "airlock_refused", "c1", "x".repeat(70), "名前", "S1"] as const;

const READS = [
  "select 1",
  "select $1::text as v",
  "select $1::int + $2::int",
  "select id, name, email, ssn from customers order by id limit 5",
  "select * from customers where id = $1",
  "select count(*) from orders",
  "select * from products limit 3",
  "select o.id, c.email from orders o join customers c on c.id = o.customer_id limit 4",
  "select generate_series(1, 200)",
  "select pg_sleep(0.05)",
  "select repeat('x', 100000)",
  "with a as (select 1) select * from a",
  "select * from customers for update limit 1",
  "select now(), current_user",
];

const WRITES = [
  "insert into refunds (order_id, amount_cents, reason) values (1, 1, 'fuzz')",
  "update orders set status = status where id = $1",
  "delete from refunds where id = -1",
  "update customers set country = country where id = 2",
  "with d as (delete from refunds where id = -2 returning *) select * from d",
];

const DENIED = [
  "grant select on customers to public",
  "alter system set work_mem = '8MB'",
  "select pg_read_file('/etc/passwd')",
  "create role fuzz_role",
  "copy (select 1) to program 'true'",
  "select set_config('search_path', 'pg_catalog', false)",
  "listen fuzz",
  "notify fuzz, 'x'",
  "vacuum products",
  "lock table orders",
];

const DDL = ["create table if not exists fuzz_t (id int)", "drop table if exists fuzz_t", "truncate refunds"];

const SESSION = ["begin", "commit", "rollback", "set application_name = 'fuzz'", "show search_path", "reset all", "savepoint a", "rollback to savepoint a", "set statement_timeout = 1000", "start transaction read only", "end"];

const BROKEN = ["", " ", ";", "selec 1", "select 1; select 2; delete from refunds where id = -3", "select '", "select $1", "select 1/0", "select $999999::int", "\u0000", "/* unterminated", "select E'\\xff'"];

export function namesSql(rng: Rng): string {
  const name = rng.pick(["s1", "s2", "p1", "_pg3_0", "c1", "airlock_refused"]);
  return rng.pick([
    `prepare ${name} as ${rng.pick(READS.filter((r) => !r.includes("$")))}`,
    `prepare ${name} as select $1::int`,
    `prepare ${name} as ${rng.pick(WRITES.filter((w) => !w.includes("$")))}`,
    `execute ${name}`,
    `execute ${name}(1)`,
    `deallocate ${name}`,
    "deallocate all",
    "discard all",
    "discard plans",
    `declare ${name} cursor with hold for select * from customers`,
    `declare ${name} scroll cursor for select id from orders`,
    `fetch 2 from ${name}`,
    `fetch all in ${name}`,
    `move 1 in ${name}`,
    `close ${name}`,
    "close all",
    "select name, statement from pg_prepared_statements",
    "select name, statement from pg_cursors",
  ]);
}

export function anySql(rng: Rng): string {
  switch (rng.weighted({ read: 30, write: 12, denied: 8, ddl: 3, session: 14, names: 18, broken: 8, copy: 4, multi: 3 })) {
    case "read":
      return rng.pick(READS);
    case "write":
      return rng.pick(WRITES);
    case "denied":
      return rng.pick(DENIED);
    case "ddl":
      return rng.pick(DDL);
    case "session":
      return rng.pick(SESSION);
    case "names":
      return namesSql(rng);
    case "broken":
      return rng.pick(BROKEN);
    case "copy":
      return copySql(rng);
    case "multi":
      return `${anySql(rng)}; ${anySql(rng)}`;
  }
}

export function copySql(rng: Rng): string {
  return rng.pick([
    "copy refunds (order_id, amount_cents, reason) from stdin",
    "copy refunds from stdin with (format csv)",
    "copy products to stdout",
    "copy (select id, email from customers limit 3) to stdout",
    "copy products from stdin with (format binary)",
  ]);
}

/** A parameter value as text, sometimes one the declared type will not take. */
export function paramValue(rng: Rng): Buffer | null {
  switch (rng.int(0, 7)) {
    case 0:
      return null;
    case 1:
      return Buffer.from(String(rng.int(-5, 3000)));
    case 2:
      return Buffer.from("not a number");
    case 3:
      return rng.bytes(rng.int(0, 12));
    case 4:
      return Buffer.from("123-45-6789");
    case 5:
      return Buffer.alloc(0);
    default:
      return Buffer.from(String(rng.int(1, 5)));
  }
}
