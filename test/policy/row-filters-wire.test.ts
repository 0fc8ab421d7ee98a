import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { SYNC, writeParse, writeQuery } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { ROW_FILTER_FIXTURE } from "./row-filter-corpus";
import { PROTOCOLS, withPolicyProxy, type Protocol } from "./setup";
import { writeBind, writeExecute } from "./wire";

/**
 * Row filters where a driver's query() does not reach: COPY … TO over both protocols (by hand-built
 * messages), masking on the rewritten statement, and the embedded PGlite demo database over both
 * protocols.
 */
const RULES = `rules:
  - name: filtered-pg
    match: { groups: [agents], resources: [pg], kinds: [select, update, delete, copy_out] }
    action: allow
    mask: { columns: ["customers.name"], strategy: redact }
    rows:
      public.orders: "region = 'eu'"
      public.customers: "country = 'DE'"
  - name: filtered-demo
    match: { groups: [agents], resources: [demo], kinds: [select, update, delete, copy_out] }
    action: allow
    rows:
      public.customers: "country = 'DE'"`;

const env = withPolicyProxy({ rules: RULES, fixture: ROW_FILTER_FIXTURE, demo: true });

async function raw(resource = "pg"): Promise<RawWireClient> {
  const { harness } = env();
  const client = await RawWireClient.connect(harness.proxy.port);
  await client.login("reporting-agent", resource, await harness.idp.token("reporting-agent"));
  return client;
}

/** The COPY rows (text lines) of one statement, or its error. */
async function copyOut(protocol: Protocol, sql: string, resource = "pg"): Promise<{ lines: string[]; error?: string }> {
  const client = await raw(resource);
  try {
    client.socket.write(protocol === "simple" ? writeQuery(sql) : Buffer.concat([writeParse("", sql), writeBind("", ""), writeExecute(""), SYNC]));
    const lines: string[] = [];
    let error: string | undefined;
    for (let m = await client.next(); m && m.type !== 0x5a; m = await client.next()) {
      if (m.type === 0x64) lines.push(...m.body.toString("utf8").split("\n").filter(Boolean));
      if (m.type === 0x45) error = m.body.toString("utf8");
    }
    return { lines: lines.sort(), error };
  } finally {
    client.close();
  }
}

async function direct(sql: string): Promise<string[]> {
  const { rows } = await env().admin.query({ text: sql, rowMode: "array" });
  return (rows as unknown[][]).map((r) => r.join("\t")).sort();
}

for (const protocol of PROTOCOLS) {
  describe(`COPY … TO over the ${protocol} protocol`, () => {
    for (const [sql, same] of [
      ["COPY orders TO STDOUT", "SELECT * FROM orders WHERE region = 'eu'"],
      ["COPY public.orders (id, region) TO STDOUT", "SELECT id, region FROM orders WHERE region = 'eu'"],
      ["COPY (SELECT o.id, o.total FROM orders o WHERE o.region <> 'eu' OR true) TO STDOUT", "SELECT id, total FROM orders WHERE region = 'eu'"],
      ["COPY (SELECT * FROM orders JOIN products USING (id)) TO STDOUT", "SELECT * FROM orders JOIN products USING (id) WHERE region = 'eu'"],
    ] as const) {
      test(sql, async () => {
        const got = await copyOut(protocol, sql);
        assert.equal(got.error, undefined);
        assert.deepEqual(got.lines, await direct(same));
      });
    }
    test("COPY of a customer's name is masked on the rewritten statement", async () => {
      const got = await copyOut(protocol, "COPY customers (id, name, country) TO STDOUT");
      assert.equal(got.error, undefined);
      const ids = (await direct("SELECT id FROM customers WHERE country = 'DE'")).map(Number).sort((a, b) => a - b);
      assert.deepEqual(got.lines.map((l) => Number(l.split("\t")[0])).sort((a, b) => a - b), ids);
      for (const line of got.lines) {
        const [, name, country] = line.split("\t");
        assert.equal(country, "DE");
        assert.notEqual(name, `c${line.split("\t")[0]}`, "SECURITY: a masked column reached the agent");
      }
    });
  });
}

describe("masking on a rewritten read", () => {
  for (const protocol of PROTOCOLS) {
    test(`customers.name stays masked (${protocol})`, async () => {
      const client = new pg.Client({ connectionString: await env().harness.url("pg") });
      await client.connect();
      try {
        const text = "SELECT c.id, c.name, c.country FROM customers c ORDER BY c.id";
        const { rows } = protocol === "simple" ? await client.query(text) : await client.query({ text, queryMode: "extended" } as pg.QueryConfig);
        assert.ok(rows.length > 0);
        for (const r of rows) {
          assert.equal(r.country, "DE");
          assert.notEqual(r.name, `c${r.id}`, "SECURITY: a masked column reached the agent");
        }
      } finally {
        await client.end();
      }
    });
  }
});

describe("the embedded PGlite demo database", () => {
  for (const protocol of PROTOCOLS) {
    test(`reads see only German customers, writes change only them (${protocol})`, async () => {
      const client = new pg.Client({ connectionString: await env().harness.url("demo") });
      await client.connect();
      const q = (text: string) => (protocol === "simple" ? client.query(text) : client.query({ text, queryMode: "extended" } as pg.QueryConfig));
      try {
        const all = await q("SELECT id, country FROM customers");
        assert.ok(all.rows.length > 0);
        assert.ok(all.rows.every((r) => r.country === "DE"), "SECURITY: a customer outside the filter was read");
        const probe = await q("SELECT count(*)::int AS n FROM customers WHERE country <> 'DE' OR id < 0");
        assert.equal(probe.rows[0].n, 0);
        const joined = await q("SELECT count(*)::int AS n FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = 'US'");
        assert.equal(joined.rows[0].n, 0);
        const viaCte = await q("WITH x AS (SELECT * FROM customers) SELECT count(*)::int AS n FROM x WHERE country <> 'DE'");
        assert.equal(viaCte.rows[0].n, 0);
        const update = await q("UPDATE customers SET phone = phone WHERE country <> 'DE' OR true");
        assert.equal(update.rowCount, all.rows.length);
        const del = await q("DELETE FROM customers WHERE country = 'US'");
        assert.equal(del.rowCount, 0);
        await assert.rejects(q("UPDATE customers SET country = 'US'"), /airlock: .*column country/);
      } finally {
        await client.end();
      }
    });
    test(`COPY customers TO over the ${protocol} protocol`, async () => {
      const got = await copyOut(protocol, "COPY customers (id, country) TO STDOUT", "demo");
      assert.equal(got.error, undefined);
      assert.ok(got.lines.length > 0);
      assert.ok(got.lines.every((l) => l.endsWith("\tDE")), "SECURITY: a customer outside the filter was copied");
    });
  }
});
