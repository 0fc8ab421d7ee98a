import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { DEMO_ORDER_STATUSES, demoData } from "./seed-data";
import { INSERT_BATCH_ROWS, demoInsertSql, demoSchemaSql, quoteLiteral } from "./seed-sql";

// Written independently of the generator, so a bug there cannot hide itself here.
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function looksLikeCard(value: string): boolean {
  const digits = value.replace(/[ -]/g, "");
  return /^\d{13,19}$/.test(digits) && luhnValid(digits);
}

function looksLikeSsn(value: string): boolean {
  const match = /^(\d{3})-?(\d{2})-?(\d{4})$/.exec(value);
  if (!match) return false;
  const [area, group, serial] = match.slice(1).map(Number);
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

// Pinned so the seed stays the same across Node versions and refactors. If you changed the
// seed data on purpose, replace this with the value the failing assertion prints.
const FINGERPRINT = "b092bc0e6a6e62bc874899f1ceaec5ce520008892fc47ffe99d3b006e85684b6";

function fingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

describe("demo seed data", () => {
  const data = demoData();
  const ordersById = new Map(data.orders.map((o) => [o.id, o]));

  test("is deterministic: memoized, and identical from a fresh module instance", async () => {
    assert.equal(demoData(), data);
    const url = new URL("./seed-data.ts?fresh", import.meta.url).href;
    const fresh = (await import(url)) as typeof import("./seed-data");
    assert.notEqual(fresh.demoData(), data);
    assert.equal(JSON.stringify(fresh.demoData()), JSON.stringify(data));
    assert.equal(fingerprint(data), FINGERPRINT);
  });

  test("has the documented size", () => {
    assert.equal(data.customers.length, 1000);
    assert.equal(data.products.length, 40);
    assert.equal(data.orders.length, 3000);
    assert.equal(data.refunds.length, 150);
    for (const rows of [data.customers, data.products, data.orders, data.refunds]) {
      assert.deepEqual(rows.map((r) => r.id), rows.map((_, i) => i + 1));
    }
  });

  test("customers have unique, well-formed emails and plausible phones and countries", () => {
    const emails = data.customers.map((c) => c.email);
    assert.equal(new Set(emails).size, emails.length);
    for (const c of data.customers) {
      assert.match(c.email, /^[a-z]+\.[a-z]+\d+@(example\.com|example\.org|mail\.example\.net)$/, c.email);
      assert.match(c.phone, /^\+\d{1,2} [\d -]+$/, c.phone);
      assert.match(c.country, /^[A-Z]{2}$/);
      assert.ok(c.created_at < "2025-01-01", c.created_at);
    }
    assert.ok(new Set(data.customers.map((c) => c.country)).size >= 8);
  });

  test("every card number is 16 Luhn-valid digits in groups of four", () => {
    for (const { card_number } of data.customers) {
      assert.match(card_number, /^\d{4} \d{4} \d{4} \d{4}$/, card_number);
      assert.ok(luhnValid(card_number.replaceAll(" ", "")), card_number);
    }
  });

  test("every SSN is valid by the US rules", () => {
    for (const { ssn } of data.customers) {
      assert.match(ssn, /^\d{3}-\d{2}-\d{4}$/, ssn);
      assert.ok(looksLikeSsn(ssn), ssn);
    }
  });

  test("only card_number and ssn look like a card or an SSN", () => {
    for (const rows of [data.customers, data.products, data.orders, data.refunds]) {
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (column === "card_number" || column === "ssn") continue;
          assert.ok(!looksLikeCard(String(value)), `${column} ${value} looks like a card`);
          assert.ok(!looksLikeSsn(String(value)), `${column} ${value} looks like an SSN`);
        }
      }
    }
  });

  test("orders are consistent with their customer and product", () => {
    const products = new Map(data.products.map((p) => [p.id, p]));
    assert.equal(new Set(data.orders.map((o) => o.order_number)).size, data.orders.length);
    for (const o of data.orders) {
      assert.match(String(o.order_number), /^[1-9]\d{8}$/);
      assert.ok(o.customer_id >= 1 && o.customer_id <= data.customers.length);
      const product = products.get(o.product_id);
      assert.ok(product, `order ${o.id} names product ${o.product_id}`);
      assert.ok(o.quantity >= 1 && o.quantity <= 5);
      assert.equal(o.total_cents, product.price_cents * o.quantity);
      assert.ok(DEMO_ORDER_STATUSES.includes(o.status));
      assert.match(o.created_at, /^2025-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.deepEqual(new Set(data.orders.map((o) => o.status)), new Set(DEMO_ORDER_STATUSES));
  });

  test("refunds reference real orders, once each, for no more than was paid, afterwards", () => {
    assert.equal(new Set(data.refunds.map((r) => r.order_id)).size, data.refunds.length);
    for (const r of data.refunds) {
      const order = ordersById.get(r.order_id);
      assert.ok(order, `refund ${r.id} names order ${r.order_id}`);
      assert.ok(r.amount_cents > 0 && r.amount_cents <= order.total_cents, `refund ${r.id}`);
      assert.ok(Date.parse(r.created_at) > Date.parse(order.created_at), `refund ${r.id}`);
    }
  });
});

describe("demo seed SQL", () => {
  test("quoteLiteral doubles single quotes and refuses NUL", () => {
    assert.equal(quoteLiteral("O'Brien"), "'O''Brien'");
    assert.equal(quoteLiteral("a\\b"), "'a\\b'");
    assert.throws(() => quoteLiteral("a\0b"));
  });

  test("inserts come in batches of at most INSERT_BATCH_ROWS rows", () => {
    const inserts = demoInsertSql().filter((s) => s.startsWith("INSERT"));
    assert.equal(inserts.length, 2 + 1 + 6 + 1);
    for (const s of inserts) {
      const rows = s.split("\n").filter((line) => line.startsWith("(")).length;
      assert.ok(rows >= 1 && rows <= INSERT_BATCH_ROWS, `${rows} rows`);
    }
  });
});

describe("demo seed in PGlite", () => {
  let db: PGlite;
  let seedMs = 0;

  before(async () => {
    db = new PGlite();
    await db.waitReady;
    const started = performance.now();
    await db.exec(demoSchemaSql());
    for (const statement of demoInsertSql()) await db.exec(statement);
    seedMs = performance.now() - started;
  });

  after(async () => {
    await db.close();
  });

  async function count(sql: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(`SELECT (${sql})::int AS n`);
    return rows[0].n;
  }

  test("loads every row", async (t) => {
    t.diagnostic(`schema + ${demoInsertSql().length} statements in ${seedMs.toFixed(0)} ms`);
    assert.equal(await count("SELECT count(*) FROM customers"), 1000);
    assert.equal(await count("SELECT count(*) FROM products"), 40);
    assert.equal(await count("SELECT count(*) FROM orders"), 3000);
    assert.equal(await count("SELECT count(*) FROM refunds"), 150);
  });

  test("keeps quotes, accents and amounts intact", async () => {
    const { customers, orders } = demoData();
    const sum = orders.reduce((total, o) => total + o.total_cents, 0);
    assert.equal(await count("SELECT sum(total_cents) FROM orders"), sum);
    const tricky = customers.find((c) => c.name.includes("'")) ?? customers[0];
    const { rows } = await db.query<{ name: string }>("SELECT name FROM customers WHERE id = $1", [tricky.id]);
    assert.equal(rows[0].name, tricky.name);
    assert.equal(await count("SELECT count(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.amount_cents > o.total_cents"), 0);
  });

  test("new rows get ids after the seeded ones", async () => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO customers (name, email, phone, card_number, ssn, country)
       VALUES ('New O''Customer', 'new.customer@example.com', '+1 415-555-0100', '4242 4242 4242 4242', '123-45-6789', 'US')
       RETURNING id`,
    );
    assert.equal(rows[0].id, 1001);
    const order = await db.query<{ id: number }>(
      `INSERT INTO orders (order_number, customer_id, product_id, quantity, total_cents, status)
       SELECT max(order_number) + 1, 1001, 1, 1, 100, 'placed' FROM orders RETURNING id`,
    );
    assert.equal(order.rows[0].id, 3001);
  });
});
