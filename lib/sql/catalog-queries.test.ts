/**
 * The catalog queries against a real PostgreSQL (PGlite in memory) with user functions, a user
 * operator and views, then classification with the catalog they build.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { BUILTIN_CATALOG } from "./builtin-catalog";
import { buildCatalog, BUILTIN_FUNCTIONS_SQL, loadCatalog, USER_FUNCTIONS_SQL } from "./catalog-queries";
import { classify } from "./classify";
import { loadSqlParser } from "./parser";
import type { Catalog } from "./types";

let db: PGlite;
let catalog: Catalog;

const SCHEMA = `
  create table customers (id int primary key, email text);
  create table orders (id int primary key, customer_id int, total numeric);
  create sequence ticket_seq;
  create schema reporting;
  create function audit(int) returns int language plpgsql as $$ begin return $1; end $$;
  create function reporting.pure(int) returns int language sql immutable as 'select $1';
  create function lower(int) returns int language sql immutable as 'select $1';   -- overloads a built-in
  create function audit_eq(int, int) returns boolean language plpgsql as $$ begin return $1 = $2; end $$;
  create operator === (leftarg = int, rightarg = int, function = audit_eq);
  create operator ~=~ (leftarg = int, rightarg = int, function = int4eq);
  create view customer_emails as select id, lower(email) as email from customers;
  create view big_orders as select o.* from orders o join customer_emails c on c.id = o.customer_id where o.total > 100;
  create view reporting.summary as select count(*) as n from big_orders;
  create view ticket_numbers as select nextval('ticket_seq') as n;
  create view audited as select audit(id) from orders;
  create view pure_view as select reporting.pure(id) from orders;
  create view op_view as select id === 1 as one from orders;
  create view builtin_op_view as select id ~=~ 1 as one from orders;   -- a user operator over a built-in read
  create view roles_view as select rolname from pg_authid;
  create view randoms as select random() as r, now() as t;
  create materialized view daily_totals as select sum(total) from orders;
`;

before(async () => {
  await loadSqlParser();
  db = await PGlite.create();
  await db.exec(SCHEMA);
  catalog = await loadCatalog(async <T>(sql: string) => (await db.query<T>(sql)).rows);
});

after(async () => {
  await db.close();
});

test("functions: built-in reads, user functions (also one overloading a built-in)", () => {
  assert.ok(catalog.readFunctions.has("lower") && catalog.readFunctions.has("now") && catalog.readFunctions.has("count"));
  assert.ok(!catalog.readFunctions.has("nextval") && !catalog.readFunctions.has("random"));
  for (const name of ["audit", "pure", "lower"]) assert.ok(catalog.userFunctions.has(name), name);
  assert.ok(!catalog.userFunctions.has("count"));
});

test("the built-in snapshot matches this PostgreSQL (regenerate it with scripts/generate-builtin-catalog.ts)", () => {
  assert.deepEqual([...catalog.readFunctions].sort(), [...BUILTIN_CATALOG.readFunctions].sort());
});

test("operators defined outside pg_catalog", () => {
  assert.deepEqual([...catalog.userOperators].sort(), ["===", "~=~"]);
});

test("views map to what their definitions read, system relations included", () => {
  assert.deepEqual(Object.fromEntries(catalog.views), {
    "public.audited": ["public.orders"],
    "public.big_orders": ["public.customer_emails", "public.orders"],
    "public.builtin_op_view": ["public.orders"],
    "public.customer_emails": ["public.customers"],
    "public.daily_totals": ["public.orders"],
    "public.op_view": ["public.orders"],
    "public.pure_view": ["public.orders"],
    "public.roles_view": ["pg_catalog.pg_authid"],
    "public.ticket_numbers": ["public.ticket_seq"],
    "reporting.summary": ["public.big_orders"],
  });
});

// There the exact function is known: an operator is judged by the function it runs.
test("views whose definition calls something that is not a read (built-in, user, operator)", () => {
  assert.deepEqual([...catalog.viewsWithSideEffects].sort(), ["public.audited", "public.op_view", "public.pure_view", "public.ticket_numbers"]);
});

test("classification with the loaded catalog", () => {
  const kinds = (sql: string) => classify(sql, catalog).statements[0].kinds;
  assert.deepEqual(kinds("select lower('X')"), ["select", "call"]); // the user's lower(int) may be chosen
  assert.deepEqual(kinds("select pg_catalog.lower('X'), upper('x')"), ["select"]);
  assert.deepEqual(kinds("select * from reporting.summary"), ["select"]);
  assert.deepEqual(kinds("select * from ticket_numbers"), ["select", "call"]);
  assert.deepEqual(kinds("select * from randoms"), ["select"]);
  assert.deepEqual(kinds("select 1 === 1"), ["select", "call"]);
  const summary = classify("select * from reporting.summary", catalog).statements[0];
  assert.deepEqual(summary.reads, ["public.big_orders", "public.customer_emails", "public.customers", "public.orders", "reporting.summary"]);
  assert.deepEqual(classify("select * from roles_view", catalog).statements[0].reads, ["pg_catalog.pg_authid", "public.roles_view"]);
});

test("the queries run as-is, and buildCatalog takes rows from any client", async () => {
  const read = async (sql: string) => (await db.query<{ name: string; builtin: boolean; readonly: boolean }>(sql)).rows;
  const rows = [...(await read(BUILTIN_FUNCTIONS_SQL)), ...(await read(USER_FUNCTIONS_SQL))];
  assert.ok(rows.some((r) => r.name === "lower" && r.builtin) && rows.some((r) => r.name === "lower" && !r.builtin));
  const built = buildCatalog({
    functions: [
      { name: "length", builtin: true, readonly: true },
      { name: "nextval", builtin: true, readonly: false },
      { name: "length", builtin: false, readonly: true },
    ],
    operators: ["~~~"],
    types: ["box3"],
    viewDeps: [{ view: "public.v", relation: "public.t" }],
    viewFunctions: [
      { view: "public.v", function: "length", readonly: true, builtin: true },
      { view: "public.w", function: "random", readonly: false, builtin: true },
      { view: "public.x", function: "txid_current", readonly: true, builtin: true },
    ],
  });
  assert.deepEqual([...built.readFunctions], ["length"]);
  assert.deepEqual([...built.userFunctions], ["length"]);
  assert.deepEqual([...built.viewsWithSideEffects], ["public.x"]);
});

test("a reload after DDL reads again only the parts that changed, and equals a fresh read after each change", async () => {
  const db2 = await PGlite.create();
  try {
    await db2.exec("create schema tools; create function tools.f(int) returns int language sql volatile as 'select $1'; create table t (id int, email text)");
    const ran: string[] = [];
    const query = async <T>(sql: string) => {
      ran.push(sql);
      return (await db2.query<T>(sql)).rows;
    };
    let current = await loadCatalog(query);

    ran.length = 0;
    const unchanged = await loadCatalog(query, current);
    assert.ok(!ran.includes(BUILTIN_FUNCTIONS_SQL) && !ran.includes(USER_FUNCTIONS_SQL), "functions are not read again when none changed");
    assert.equal(unchanged.readFunctions, current.readFunctions);
    assert.equal(unchanged.userTypes, current.userTypes);
    assert.equal(unchanged.userOperators, current.userOperators);

    const changes = [
      "create function tools.g(int) returns int language sql immutable as 'select $1'",
      "create function tools.h(int) returns int language sql as 'select $1'",
      "alter function tools.f(int) immutable",
      "alter schema tools rename to kit",
      "create function kit.eq(int, int) returns boolean language sql as 'select $1 = $2'",
      "create operator <=> (leftarg = int, rightarg = int, function = kit.eq)",
      "create domain positive as int check (value > 0)",
      "drop operator <=> (int, int)",
      "drop function kit.g(int)",
      "alter table t rename column email to contact",
      "alter table t add column email text",
      "create view v as select id, contact from t",
      "create or replace view v as select id, email as contact from t",
      "create function lower(int) returns int language sql as 'select $1'",
    ];
    for (const change of changes) {
      await db2.exec(change);
      ran.length = 0;
      const reloaded = await loadCatalog(query, current);
      assert.ok(!ran.includes(BUILTIN_FUNCTIONS_SQL), `the built-in functions were read again after: ${change}`);
      const fresh = await loadCatalog(query);
      assert.deepEqual(reloaded, fresh, `after: ${change}`);
      current = reloaded;
    }
    assert.deepEqual(current.functionsByOid.get([...current.functionsByOid].find(([, f]) => f.name === "f")![0]), { schema: "kit", name: "f" });
  } finally {
    await db2.close();
  }
});
