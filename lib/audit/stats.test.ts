import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eachDialect, type TestStore } from "../../test/support/store";
import { AuditLog, type AuditEntry } from "./log";
import { DAY_MS, HOUR_MS, requestsPerDay, statementsPerHour, topAgents, topTables } from "./stats";

/** 2026-03-15 12:30 UTC: the current hour is 12:00, today is the 15th. */
const NOW = new Date(Date.UTC(2026, 2, 15, 12, 30));
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const statement = (at: Date, decision: string, agentId = "reporting-agent", tables = ["public.orders"]): AuditEntry => ({ at, type: "statement", agentId, decision, sql: "select 1", tables });

/** A request opened at `opened`, ended `after` ms later as `outcome` (or still pending). */
function request(id: string, opened: Date, outcome?: string, after?: number): AuditEntry[] {
  const rows: AuditEntry[] = [{ at: opened, type: "request.opened", requestId: id, agentId: "reporting-agent", decision: "pending" }];
  if (outcome) {
    rows.push({ at: new Date(opened.getTime() + (after ?? 0) / 2), type: "request.decision", requestId: id, person: "alice@example.com", decision: "approve" });
    rows.push({ at: new Date(opened.getTime() + (after ?? 0)), type: `request.${outcome}`, requestId: id, decision: outcome });
  }
  return rows;
}

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    const opened: TestStore[] = [];
    after(async () => {
      for (const t of opened) await t.close();
      await d.stop();
    });

    async function storeWith(entries: AuditEntry[]) {
      const t = await d.open();
      opened.push(t);
      await new AuditLog(t.store).append(entries);
      return t.store;
    }

    test("statements per hour by decision: 24 UTC hours up to the current one, empty hours as zeros", async () => {
      const store = await storeWith([
        statement(ago(0), "allowed"),
        statement(ago(29 * 60_000), "masked"), // 12:01, still this hour
        statement(ago(31 * 60_000), "refused"), // 11:59, the hour before
        statement(ago(23 * HOUR_MS), "held"), // 13:30 yesterday: the first hour shown
        statement(ago(24 * HOUR_MS), "allowed"), // 12:30 yesterday: too old
        statement(new Date(NOW.getTime() + 60_000), "allowed"), // recorded ahead of `now`: not counted yet
        { at: ago(0), type: "session.started", agentId: "reporting-agent" },
        { at: ago(0), type: "request.decision", decision: "approve", person: "alice@example.com" },
      ]);
      const hours = await statementsPerHour(store, NOW);
      assert.equal(hours.length, 24);
      assert.equal(hours[0].start.toISOString(), "2026-03-14T13:00:00.000Z");
      assert.equal(hours[23].start.toISOString(), "2026-03-15T12:00:00.000Z");
      assert.deepEqual(hours[23].counts, { allowed: 1, masked: 1, held: 0, refused: 0 });
      assert.deepEqual(hours[22].counts, { allowed: 0, masked: 0, held: 0, refused: 1 });
      assert.deepEqual(hours[0].counts, { allowed: 0, masked: 0, held: 1, refused: 0 });
      const total = hours.reduce((n, h) => n + h.counts.allowed + h.counts.masked + h.counts.held + h.counts.refused, 0);
      assert.equal(total, 4);
    });

    test("requests per day by outcome, and the median time from opening to the final row", async () => {
      const today = new Date(Math.floor(NOW.getTime() / DAY_MS) * DAY_MS);
      const yesterday = new Date(today.getTime() - DAY_MS);
      const store = await storeWith([
        // Today: three decided (1, 2 and 9 minutes: median 2 minutes) and one pending.
        ...request("r_1", new Date(today.getTime() + 1_000), "approved", 60_000),
        ...request("r_2", new Date(today.getTime() + 2_000), "denied", 120_000),
        ...request("r_3", new Date(today.getTime() + 3_000), "expired", 540_000),
        ...request("r_4", new Date(today.getTime() + 4_000)),
        // Yesterday: two decided (10 s and 30 s: median 20 s), one decided after midnight counts on the day it was opened.
        ...request("r_5", new Date(yesterday.getTime() + 1_000), "approved", 10_000),
        ...request("r_6", new Date(today.getTime() - 5_000), "cancelled", 30_000),
        // Fifteen days ago: outside the window.
        ...request("r_7", new Date(today.getTime() - 14 * DAY_MS), "approved", 1_000),
      ]);
      const days = await requestsPerDay(store, NOW);
      assert.equal(days.length, 14);
      assert.equal(days[13].start.toISOString(), "2026-03-15T00:00:00.000Z");
      assert.equal(days[0].start.toISOString(), "2026-03-02T00:00:00.000Z");
      assert.deepEqual(days[13].counts, { approved: 1, denied: 1, expired: 1, cancelled: 0, pending: 1 });
      assert.equal(days[13].medianDecisionMs, 120_000);
      assert.deepEqual(days[12].counts, { approved: 1, denied: 0, expired: 0, cancelled: 1, pending: 0 });
      assert.equal(days[12].medianDecisionMs, 20_000);
      assert.ok(days.slice(0, 12).every((day) => day.medianDecisionMs === null && Object.values(day.counts).every((n) => n === 0)));
    });

    test("top agents and tables of the last 7 days, most first, a statement counted once per table", async () => {
      const store = await storeWith([
        statement(ago(HOUR_MS), "allowed", "ops-agent", ["public.orders", "public.customers"]),
        statement(ago(2 * HOUR_MS), "refused", "ops-agent", ["public.customers"]),
        statement(ago(6 * DAY_MS), "allowed", "reporting-agent", ["public.orders"]),
        statement(ago(6 * DAY_MS), "allowed", "ops-agent", []),
        statement(ago(8 * DAY_MS), "allowed", "reporting-agent", ["public.refunds"]), // older than a week
        statement(ago(8 * DAY_MS), "allowed", "reporting-agent", ["public.refunds"]),
        { at: ago(HOUR_MS), type: "request.opened", agentId: "etl-agent", tables: ["public.refunds"] }, // not a statement
      ]);
      assert.deepEqual(await topAgents(store, NOW), [
        { name: "ops-agent", count: 3 },
        { name: "reporting-agent", count: 1 },
      ]);
      assert.deepEqual(await topTables(store, NOW), [
        { name: "public.customers", count: 2 },
        { name: "public.orders", count: 2 },
      ]);
      assert.deepEqual(await topAgents(store, NOW, 7, 1), [{ name: "ops-agent", count: 3 }]);
    });

    test("an empty log gives empty charts, not errors", async () => {
      const store = await storeWith([]);
      assert.equal((await statementsPerHour(store, NOW)).length, 24);
      assert.ok((await requestsPerDay(store, NOW)).every((day) => day.medianDecisionMs === null));
      assert.deepEqual(await topAgents(store, NOW), []);
      assert.deepEqual(await topTables(store, NOW), []);
    });
  });
}
