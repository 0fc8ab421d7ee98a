/**
 * A grant covers what was approved and nothing more, through a real client: approving an UPDATE of
 * orders that reads customers, for 15 minutes, lets other updates of orders run and reads of
 * customers (masked as before), never an update of customers. On a real PostgreSQL and on the
 * embedded PGlite demo.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { demoData } from "../../lib/demo/seed-data";
import { demoInsertSql, demoSchemaSql } from "../../lib/demo/seed-sql";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { pendingRequest } from "../support/pending-request";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

// Reads of customers are reviewed, so that the grant's read of customers is what lets them run.
const RULES = `rules:
  - name: customers-reviewed
    match: { groups: [agents], kinds: [select], tables: [customers] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m] }
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["customers.email"] }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m] }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const APPROVED = "UPDATE orders o SET status = 'shipped' FROM customers c WHERE o.customer_id = c.id AND c.country = 'DE' AND o.status = 'paid'";

for (const backend of ["postgresql", "pglite"] as const) {
  describe(`a grant covers exactly what was approved, on ${backend}`, () => {
    let server: TestPostgres | undefined;
    let harness: ProxyHarness;
    let agent: pg.Client;

    before(async () => {
      if (backend === "postgresql") {
        server = await startPostgres();
        const admin = new pg.Client({ connectionString: server.url });
        await admin.connect();
        await admin.query(demoSchemaSql());
        for (const insert of demoInsertSql()) await admin.query(insert);
        await admin.end();
      }
      harness = await startProxyHarness({ shop: server ? server.url : "pglite://demo" }, { rules: RULES });
      agent = new pg.Client({ connectionString: await harness.url("shop") });
      agent.on("error", () => undefined);
      await agent.connect();
    });
    after(async () => {
      await agent?.end();
      await harness?.close();
      await server?.stop();
    });

    const frenchCustomers = async () => Number((await agent.query("select count(*) as n from customers where country = 'FR'")).rows[0].n);

    test("approved for 15 minutes: orders may be updated and customers read, customers never updated", async () => {
      const running = agent.query(APPROVED);
      const request = await pendingRequest(harness.approvals, APPROVED);
      assert.deepEqual(request.scope, [
        { kind: "select", table: "public.customers" },
        { kind: "update", table: "public.orders" },
      ]);
      assert.ok((await harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: 15 * 60_000, via: "web" })).ok);
      await running;
      const grant = (await harness.grants.get((await harness.approvals.get(request.id))!.grantId!))!;
      assert.deepEqual(grant.scope, request.scope);

      // What the reviewer saw run unreviewed: it is held now, and nothing changes while it waits.
      const before = await frenchCustomers();
      const widening = "UPDATE customers SET country = 'FR'";
      const held = agent.query(widening);
      const request2 = await pendingRequest(harness.approvals, widening);
      assert.deepEqual(request2.scope, [{ kind: "update", table: "public.customers" }]);
      await harness.approvals.decide({ requestId: request2.id, person: alice, action: "deny", reason: "not in the grant", via: "web" });
      await assert.rejects(held, /denied by alice@example\.com/);
      assert.equal(await frenchCustomers(), before);

      const update = await agent.query("UPDATE orders SET status = 'cancelled' WHERE id = 1");
      const reading = await agent.query("UPDATE orders SET status = 'cancelled' WHERE id = 2 AND customer_id IN (SELECT id FROM customers WHERE country = 'DE')");
      assert.ok(reading.rowCount !== null, "an update of orders reading customers runs under the grant");
      assert.equal(update.rowCount, 1, "an update of orders runs under the grant");
      assert.equal((await harness.approvals.list("pending")).length, 0, "with no new request");
      assert.equal((await agent.query("select status from orders where id = 1")).rows[0].status, "cancelled");

      const read = await agent.query("SELECT email FROM customers ORDER BY id LIMIT 3");
      const emails = new Set(demoData().customers.map((c) => c.email));
      assert.equal(read.rows.length, 3, "a read of customers runs under the grant");
      for (const row of read.rows as Array<{ email: string }>) assert.ok(!emails.has(row.email), `masked as before: ${row.email}`);
      assert.equal((await harness.approvals.list("pending")).length, 0, "nothing was held");
    });
  });
}
