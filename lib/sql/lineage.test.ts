import assert from "node:assert/strict";
import { before, test } from "node:test";
import { classify } from "./classify";
import { loadSqlParser } from "./parser";
import { TEST_CATALOG } from "./testing";
import type { OutputLineage, StatementInfo } from "./types";

before(loadSqlParser);

const C = "public.customers";
const EMAIL = `${C}.email`;

function output(sql: string, prepared?: ReadonlyMap<string, StatementInfo>): OutputLineage {
  const result = classify(sql, TEST_CATALOG, prepared);
  const out = result.statements.at(-1)?.output;
  assert.ok(out, `no lineage for ${sql}`);
  return out;
}

/** Each column as "a+b" (sorted sources), "?" marking something untraced, "" for clean. */
function columns(sql: string): string[] {
  const out = output(sql);
  assert.ok(out.columns, `width unknown for ${sql}`);
  return out.columns.map((c) => [...c.sources.map((s) => s.replace(`${C}.`, "c.").replace("public.orders.", "o.")), ...(c.unknown ? ["?"] : [])].join("+"));
}

const cases: Array<[string, string[]]> = [
  ["select id, email from customers", ["c.id", "c.email"]],
  ["select email as e, 1, 'x'::text, now() from customers", ["c.email", "", "", ""]],
  ["select c.email || '' from customers c", ["c.email"]],
  ["select substring(card_number, 1, 16) from customers", ["c.card_number"]],
  ["select encode(convert_to(email, 'UTF8'), 'base64') from customers", ["c.email"]],
  ["select row_to_json(c) from customers c", ["c.card_number+c.country+c.email+c.id+c.name+c.phone+c.ssn"]],
  ["select c from customers c", ["c.card_number+c.country+c.email+c.id+c.name+c.phone+c.ssn"]],
  ["select customers from customers", ["c.card_number+c.country+c.email+c.id+c.name+c.phone+c.ssn"]],
  ["select string_agg(email, ','), json_agg(c.name), count(*) from customers c", ["c.email", "c.name", ""]],
  ["select count(*) filter (where ssn like '1%') from customers", ["c.ssn"]],
  ["with x as (select email as e, id from customers) select e, id from x", ["c.email", "c.id"]],
  ["with x(a) as (select email from customers) select * from x", ["c.email"]],
  ["select * from (select email, id from customers) s(m)", ["c.email", "c.id"]],
  ["select email from customers union select order_number from orders", ["c.email+o.order_number"]],
  ["select * from customers", ["c.id", "c.name", "c.email", "c.phone", "c.card_number", "c.ssn", "c.country"]],
  ["select o.*, c.email from orders o join customers c on c.id = o.customer_id", ["o.id", "o.customer_id", "o.order_number", "o.total", "o.created_at", "c.email"]],
  ["select * from orders join customers using (id)", ["c.id+o.id", "o.customer_id", "o.order_number", "o.total", "o.created_at", "c.name", "c.email", "c.phone", "c.card_number", "c.ssn", "c.country"]],
  ["select (select email from customers limit 1), o.id from orders o", ["c.email", "o.id"]],
  ["select x from customers, unnest(array[email]) x", ["c.email"]],
  ["select id, contact from customer_emails", ["c.id", "c.email+?"]],
  ["select order_number, contact from big_orders", ["o.order_number", "c.email+?"]],
  ["values (1, 'a')", ["", ""]],
  ["select slugify(name) from customers", ["c.name+?"]],
  ["select query_to_xml('select * from customers', true, true, '')", ["?"]],
  ["select id from mystery", ["?"]],
  ["select typname from pg_type", [""]],
  ["select most_common_vals from pg_stats", ["?"]],
  ["update customers set name = email where id = 1 returning id", ["c.email+c.id"]],
  ["insert into orders (order_number) select ssn from customers returning order_number", ["c.ssn+o.order_number"]],
  ["with recursive r(n, e) as (select 1, email from customers union all select n + 1, e from r) select e from r", ["c.email"]],
  ["select (c).email from customers c", ["c.card_number+c.country+c.email+c.id+c.name+c.phone+c.ssn"]],
  ["select o.id from orders o where exists (select 1 from customers c where c.id = o.customer_id)", ["o.id"]],
  ["select (select c.email from customers c where c.id = o.customer_id) from orders o", ["c.email"]],
];

for (const [sql, want] of cases) {
  test(`lineage: ${sql}`, () => assert.deepEqual(columns(sql), want));
}

test("a * over something of unknown width gives only the union", () => {
  const out = output("select * from customers, generate_series(1, email::int)");
  assert.equal(out.columns, undefined);
  assert.ok(out.all.sources.includes(EMAIL));
  assert.equal(output("select * from mystery").all.unknown, true);
});

test("COPY traces its table or query and reads its format", () => {
  assert.deepEqual(columns("copy customers (email, id) to stdout"), ["c.email", "c.id"]);
  assert.deepEqual(columns("copy (select lower(email) from customers) to stdout"), ["c.email+?"]);
  assert.deepEqual(output("copy customers to stdout").copy, { format: "text", delimiter: "\t", null: "\\N", quote: '"', escape: '"', header: false });
  assert.deepEqual(output("copy customers to stdout with (format csv, header, delimiter ';')").copy, { format: "csv", delimiter: ";", null: "", quote: '"', escape: '"', header: true });
  assert.equal(output("copy customers to stdout csv header").copy?.header, true);
  assert.equal(output("copy customers to stdout (format binary)").copy?.format, "binary");
});

test("EXECUTE returns what the prepared body returns; a cursor's FETCH is not traced", () => {
  const prepare = classify("prepare p as select email from customers", TEST_CATALOG).statements[0];
  assert.deepEqual(output("execute p", new Map([["p", prepare]])).columns, [{ name: "email", sources: [EMAIL] }]);
  assert.equal(output("execute nothing").all.unknown, true);
  assert.equal(output("fetch all from c").all.unknown, true);
  assert.deepEqual(output("show search_path").columns, [{ name: "?column?", sources: [] }]);
});
