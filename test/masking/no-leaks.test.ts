/**
 * Under the shipped policy, no seeded email, card number, SSN or phone number reaches an agent,
 * whatever the query: every way of dressing a column up that the masking issue names, through
 * `pg` (simple and extended protocol, text and binary results) and `psql` (COPY), on the embedded
 * PGlite demo database and on a real PostgreSQL server seeded with the same shop.
 */
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { demoData } from "../../lib/demo/seed-data";
import { demoInsertSql, demoSchemaSql } from "../../lib/demo/seed-sql";
import { psql } from "../proxy/setup";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

const shipped = fs.readFileSync(new URL("../../airlock.policy.yaml", import.meta.url), "utf8");
/** The shipped rules, after one that lets the test's setup agent create a view. */
const RULES = shipped
  .slice(shipped.indexOf("\nrules:") + 1)
  .replace("rules:\n", "rules:\n  - name: test-setup\n    match: { agents: [ops-agent], kinds: [ddl] }\n    action: allow\n");

const VIEW = "create view public.customer_contacts as select id, name, lower(email) as contact, country from public.customers";

const data = demoData();
const SECRETS = data.customers.flatMap((c) => [c.email, c.card_number, c.ssn, c.phone, Buffer.from(c.email).toString("base64")]).map((s) => s.toLowerCase());

/** Queries that must come back with every personal value masked. */
const QUERIES = [
  "select email, card_number, ssn, phone from customers",
  "select c.email as contact, c.card_number as pan, c.ssn as tax_id from customers c",
  "select lower(email), upper(email), email || '', '' || card_number from customers",
  "select substring(card_number, 1, 16), left(ssn, 11), replace(phone, '-', '') from customers",
  "select encode(convert_to(email, 'UTF8'), 'base64') from customers",
  "select row_to_json(c) from customers c",
  "select c from customers c",
  "select to_jsonb(c) - 'name' from customers c",
  "select string_agg(email, ','), string_agg(card_number, ';') from customers",
  "select json_agg(ssn), array_agg(email) from customers",
  "with x as (select email as e, card_number as p from customers) select e, p from x",
  "select * from (select email, ssn from customers) s",
  "select * from customer_contacts",
  "select email from customers union all select status from orders",
  "select email::varchar(200), card_number::bytea, ssn::char(11) from customers",
  "select (select email from customers c2 where c2.id = o.customer_id) from orders o",
  "select jsonb_build_object('e', email, 'c', card_number) from customers",
  "select format('%s/%s', email, ssn) from customers",
  "select * from customers",
];

function dump(rows: unknown[]): string {
  return JSON.stringify(rows, (_, v: unknown) => (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" ? Buffer.from((v as { data: number[] }).data).toString("latin1") : v)).toLowerCase();
}

function assertNoSecrets(what: string, text: string): void {
  const lower = text.toLowerCase();
  const found = SECRETS.find((s) => lower.includes(s));
  assert.equal(found, undefined, `${what} leaked ${found}`);
}

for (const backend of ["pglite", "postgresql"] as const) {
  describe(`masking on ${backend}`, () => {
    let server: TestPostgres | undefined;
    let harness: ProxyHarness;
    let url: string;
    let agent: pg.Client;

    before(async () => {
      if (backend === "postgresql") {
        server = await startPostgres();
        const admin = new pg.Client({ connectionString: server.url });
        await admin.connect();
        await admin.query(demoSchemaSql());
        for (const insert of demoInsertSql()) await admin.query(insert);
        await admin.query(VIEW);
        await admin.end();
      }
      harness = await startProxyHarness({ shop: server ? server.url : "pglite://demo" }, { rules: RULES });
      if (!server) {
        const setup = new pg.Client({ connectionString: await harness.url("shop", "ops-agent") });
        await setup.connect();
        await setup.query(VIEW);
        await setup.end();
      }
      url = await harness.url("shop");
      agent = new pg.Client({ connectionString: url });
      await agent.connect();
    });
    after(async () => {
      await agent?.end();
      await harness?.close();
      await server?.stop();
    });

    for (const sql of QUERIES) {
      test(`simple protocol: ${sql}`, async () => {
        const result = await agent.query(sql);
        assert.ok(result.rows.length > 0);
        assertNoSecrets(sql, dump(result.rows));
      });
    }

    test("extended protocol, text and binary results", async () => {
      for (const sql of QUERIES) {
        for (const binary of [false, true]) {
          // Aggregates and UNION take no LIMIT parameter; everything else binds one, as drivers do.
          const bound = /union|agg\(/.test(sql) ? { text: sql, values: [] } : { text: `${sql} limit $1`, values: [50] };
          const config: pg.QueryConfig = Object.assign(bound, { binary }); // `binary` is missing from pg's types
          const result = await agent.query(config);
          assertNoSecrets(`${sql} (${binary ? "binary" : "text"})`, dump(result.rows));
        }
      }
    });

    test("COPY … TO STDOUT through psql, text and CSV", async () => {
      for (const copy of [
        "copy customers to stdout",
        "copy (select email, lower(email), card_number, ssn from customers) to stdout with (format csv, header)",
        "copy customers (email, phone) to stdout with (format csv, delimiter ';')",
      ]) {
        const { status, stdout, stderr } = await psql(url, ["-c", copy]);
        assert.equal(status, 0, stderr);
        assert.ok(stdout.split("\n").length >= 1000, copy);
        assertNoSecrets(copy, stdout);
      }
    });

    test("errors do not quote the data: casts that fail on a masked value say so without it", async () => {
      for (const sql of ["select email::int from customers order by id", "select ssn::numeric from customers order by id", "select card_number::date from customers order by id", "select (email || ' ' || ssn)::int from customers order by id"]) {
        const err = (await agent.query(sql).then(
          () => assert.fail(`${sql} did not fail`),
          (e: unknown) => e,
        )) as { message: string; code: string; detail?: string };
        assert.equal(err.code.slice(0, 2), "22", sql);
        assertNoSecrets(`the error of ${sql}`, `${err.message} ${err.detail ?? ""}`);
        assert.match(err.message, /(invalid input syntax|out of range).*"[^"]*\*\*\*[^"]*"/, sql); // the value, masked
      }
    });

    test("binary COPY is refused under masking, with the way out", async () => {
      await assert.rejects(agent.query("copy customers to stdout (format binary)"), /binary format cannot be masked; use FORMAT text or csv/);
    });

    test("values that are not personal come back unchanged: ids, amounts, order numbers, dates, names", async () => {
      const orders = await agent.query({ text: "select id, order_number, total_cents, status from orders order by id", rowMode: "array" });
      assert.deepEqual(
        orders.rows.map((r: unknown[]) => r.map(String)),
        data.orders.map((o) => [o.id, o.order_number, o.total_cents, o.status].map(String)),
      );
      const customers = await agent.query("select id, name, country, email from customers order by id limit 3");
      assert.deepEqual(customers.rows.map((r: { name: string; country: string }) => [r.name, r.country]), data.customers.slice(0, 3).map((c) => [c.name, c.country]));
      const dates = await agent.query("select created_at, created_at::text as text, order_number::text as number from orders order by id limit 200");
      for (const row of dates.rows as Array<{ created_at: Date; text: string; number: string }>) {
        assert.equal(new Date(row.text.replace(" ", "T").replace(/\+00$/, "Z")).getTime(), row.created_at.getTime());
        assert.match(row.number, /^\d{9}$/);
      }
      const contacts = await agent.query("select id, name, contact from customer_contacts order by id limit 3");
      assert.deepEqual(contacts.rows.map((r: { name: string }) => r.name), data.customers.slice(0, 3).map((c) => c.name));
    });

    test("masked values keep their shape; detectors find PII in free text too", async () => {
      const { rows } = await agent.query("select email, card_number, ssn, 'write to ' || 'someone@example.org' as note from customers order by id limit 1");
      const seeded = data.customers[0];
      assert.equal(rows[0].email, `${seeded.email[0]}***${seeded.email.slice(seeded.email.indexOf("@"))}`);
      assert.match(rows[0].card_number, /^[* -]+\d{4}$/);
      assert.match(rows[0].ssn, /^\*{3}-\*{2}-\d{4}$/);
      assert.equal(rows[0].note, "write to s***@example.org");
    });

    test("the statement record says which columns were masked and how many values", async () => {
      await agent.query("select id, email, ssn from customers order by id limit 10");
      await harness.recorder.flush();
      const row = await harness.store.sql.get<{ masked: string }>("select masked from statements where text = ? order by id desc limit 1", ["select id, email, ssn from customers order by id limit 10"]);
      assert.deepEqual(JSON.parse(row!.masked), { columns: ["email", "ssn"], values: 20 });
    });
  });
}
