import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eachDialect, type TestStore } from "../../test/support/store";
import type { Store } from "../db/client";
import { auditQueryString, parseAuditQuery, parseUtc, type AuditFilters } from "./filters";
import { AuditLog, type AuditEntry } from "./log";
import { auditSuggestions, getAuditRow, LIST_SQL_CHARS, listAuditRows, relatedAuditRows } from "./queries";
import { checkRow } from "./row-check";

const T0 = Date.UTC(2026, 0, 1);
const minute = (n: number) => new Date(T0 + n * 60_000);

const statement = (n: number, more: Partial<AuditEntry> = {}): AuditEntry => ({
  at: minute(n),
  type: "statement",
  agentId: "reporting-agent",
  resource: "demo",
  sessionId: "s_1",
  decision: "allowed",
  sql: `select ${n} from orders`,
  tables: ["public.orders"],
  data: { kinds: ["select"] },
  ...more,
});

/** A small log with one of everything the filters tell apart. */
const FIXTURE: AuditEntry[] = [
  statement(1),
  statement(2, { agentId: "ops-agent", decision: "masked", sql: "select email from customers", tables: ["public.customers"] }),
  statement(3, { decision: "refused", sql: "select 100% off, a_b from orders_archive", tables: ["public.orders_archive"] }),
  statement(4, { decision: "held", sql: "update orders set status = 'x'", data: { kinds: ["update"] }, requestId: "r_1", sessionId: "s_2" }),
  { at: minute(3), type: "request.opened", agentId: "reporting-agent", resource: "demo", requestId: "r_1", decision: "pending", sql: "update orders set status = 'x'", tables: ["public.orders"] },
  { at: minute(3.5), type: "request.decision", agentId: "reporting-agent", person: "Alice@Example.com", requestId: "r_1", decision: "approve", data: { via: "web" } },
  { at: minute(3.5), type: "request.approved", agentId: "reporting-agent", requestId: "r_1", grantId: "g_1", decision: "approved" },
  { at: minute(3.5), type: "grant.created", agentId: "reporting-agent", requestId: "r_1", grantId: "g_1", decision: "created" },
  statement(5, { grantId: "g_1", resource: "pg", tables: ["sales.orders"] }),
  { at: minute(6), type: "person.signed_in", person: "bob@example.com", data: { role: "approver" } },
];

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    const opened: TestStore[] = [];
    after(async () => {
      for (const t of opened) await t.close();
      await d.stop();
    });

    /** A store holding these entries, in this order (ids 1, 2, …). */
    async function storeWith(entries: AuditEntry[]): Promise<Store> {
      const t = await d.open();
      opened.push(t);
      await new AuditLog(t.store).append(entries);
      return t.store;
    }

    let store: Store;
    before(async () => {
      store = await storeWith(FIXTURE);
    });

    async function ids(filters: AuditFilters, before?: number): Promise<number[]> {
      return (await listAuditRows(store, filters, { before })).rows.map((r) => r.id);
    }

    test("newest first by time, not by row number: a request's rows recorded late sort where they happened", async () => {
      // Rows 5–8 happened at minutes 3–3.5 though they were appended after row 4 (minute 4).
      assert.deepEqual(await ids({}), [10, 9, 4, 8, 7, 6, 5, 3, 2, 1]);
    });

    test("pages by cursor: every row once, in order, and the last page says there is no more", async () => {
      const seen: number[] = [];
      let before: number | undefined;
      let pages = 0;
      do {
        const page = await listAuditRows(store, {}, { before, limit: 3 });
        seen.push(...page.rows.map((r) => r.id));
        before = page.olderBefore;
        pages++;
      } while (before !== undefined);
      assert.deepEqual(seen, await ids({}));
      assert.equal(pages, 4);
      assert.deepEqual((await listAuditRows(store, {}, { before: 999 })).rows, [], "a cursor row that is gone (pruned): nothing older");
    });

    test("the cursor keeps the filters: older pages of one agent stay that agent's", async () => {
      const first = await listAuditRows(store, { agent: "reporting-agent" }, { limit: 2 });
      assert.deepEqual(first.rows.map((r) => r.id), [9, 4]);
      const older = await listAuditRows(store, { agent: "reporting-agent" }, { before: first.olderBefore, limit: 2 });
      assert.deepEqual(older.rows.map((r) => r.id), [8, 7]);
    });

    test("each filter narrows as it says", async () => {
      const cases: Array<[AuditFilters, number[]]> = [
        [{ agent: "ops-agent" }, [2]],
        [{ person: "alice@example.com" }, [6]], // emails compare without case
        [{ resource: "pg" }, [9]],
        [{ type: "statement" }, [9, 4, 3, 2, 1]],
        [{ type: "request.*" }, [7, 6, 5]],
        [{ type: "grant.*" }, [8]],
        [{ decision: "masked" }, [2]],
        [{ kind: "update" }, [4]],
        [{ kind: "select" }, [9, 3, 2, 1]], // rows without kinds (request.opened, person.signed_in) are not errors
        [{ table: "orders" }, [9, 4, 5, 1]], // any schema's orders, not orders_archive
        [{ table: "public.orders" }, [4, 5, 1]],
        [{ table: "PUBLIC.Orders" }, [4, 5, 1]],
        [{ table: "orders_archive" }, [3]],
        [{ q: "EMAIL" }, [2]],
        [{ q: "100%" }, [3]], // % is a character here, not a wildcard
        [{ q: "a_b" }, [3]],
        [{ q: "t_s" }, []], // _ would match "status" as a wildcard
        [{ request: "r_1" }, [4, 8, 7, 6, 5]],
        [{ grant: "g_1" }, [9, 8, 7]],
        [{ session: "s_2" }, [4]],
        [{ from: minute(3.5), to: minute(5) }, [4, 8, 7, 6]], // to is exclusive
        [{ agent: "reporting-agent", decision: "allowed", q: "select" }, [9, 1]],
      ];
      for (const [filters, expected] of cases) assert.deepEqual(await ids(filters), expected, JSON.stringify(filters));
    });

    test("what people type is data, never SQL", async () => {
      for (const q of ["' or 1=1 --", '") or 1=1 --', "\\", "%", "_", "'; drop table audit_log; --", "?", "$1"]) {
        assert.deepEqual(await ids({ q }), q === "%" ? [3] : q === "_" ? [3] : [], q);
        assert.deepEqual(await ids({ table: q }), [], q);
        assert.deepEqual(await ids({ agent: q }), [], q);
        assert.deepEqual(await ids({ kind: q }), [], q);
      }
      assert.equal((await getAuditRow(store, 1))?.id, 1, "the log is still there");
    });

    test("the list carries the SQL shortened; the record has all of it", async () => {
      const long = `select ${"x, ".repeat(500)}1`;
      const s = await storeWith([statement(1, { sql: long })]);
      const [row] = (await listAuditRows(s, {})).rows;
      assert.equal(row.sql?.length, LIST_SQL_CHARS);
      assert.deepEqual(row.tables, ["public.orders"]);
      assert.equal((await getAuditRow(s, 1))?.sql, long);
    });

    test("a request's, a grant's and a session's rows, in the order recorded", async () => {
      assert.deepEqual((await relatedAuditRows(store, { requestId: "r_1" })).map((r) => r.type), ["statement", "request.opened", "request.decision", "request.approved", "grant.created"]);
      assert.deepEqual((await relatedAuditRows(store, { grantId: "g_1" })).map((r) => r.id), [7, 8, 9]);
      assert.deepEqual((await relatedAuditRows(store, { sessionId: "s_1" })).map((r) => r.id), [1, 2, 3, 9]);
    });

    test("one row's check: content against its hash, link to the row before", async () => {
      const s = await storeWith([statement(1), statement(2), statement(3)]);
      const check = async (id: number) => checkRow(s, (await getAuditRow(s, id))!);
      assert.deepEqual(await check(1), { contentMatches: true, followsPrevious: true, follows: "genesis" });
      assert.deepEqual(await check(3), { contentMatches: true, followsPrevious: true, follows: { rowId: 2 } });
      await s.sql.run("update audit_log set sql = 'select 42' where id = 2");
      assert.equal((await check(2)).contentMatches, false);
      await s.sql.run("update audit_log set hash = 'f00' where id = 2");
      assert.equal((await check(3)).followsPrevious, false);
      await s.sql.run("delete from audit_log where id = 2");
      assert.deepEqual(await check(3), { contentMatches: true, followsPrevious: false, follows: "missing" });
    });

    test("the filters suggest agents of recent sessions and people who signed in, once each, sorted", async () => {
      const s = await storeWith([]);
      for (const [i, agent] of ["ops-agent", "reporting-agent", "ops-agent"].entries()) {
        await s.sql.run("insert into agent_sessions (id, agent_id, groups, resource, started_at) values (?, ?, '[]', 'demo', ?)", [`s_${i}`, agent, T0 + i]);
      }
      await s.sql.run("insert into people (email, groups, role, last_sign_in_at) values ('bob@example.com', '[]', 'approver', 1), ('alice@example.com', '[]', 'approver', 2)");
      assert.deepEqual(await auditSuggestions(s), { agents: ["ops-agent", "reporting-agent"], people: ["alice@example.com", "bob@example.com"] });
    });
  });
}

test("the query string: read leniently where harmless, refused where not, written back the same", () => {
  const parsed = parseAuditQuery({ agent: " ops-agent ", q: ["select", "ignored"], from: "2026-01-01T10:00", to: "", before: "41", type: "request.*" });
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.filters, { agent: "ops-agent", q: "select", from: new Date("2026-01-01T10:00:00Z"), type: "request.*" });
  assert.equal(parsed.before, 41);
  assert.equal(auditQueryString(parsed.filters, { before: 41 }), "?from=2026-01-01T10%3A00%3A00.000Z&agent=ops-agent&type=request.*&q=select&before=41");
  assert.deepEqual(parseAuditQuery(Object.fromEntries(new URLSearchParams(auditQueryString(parsed.filters)))).filters, parsed.filters);

  const bad = parseAuditQuery({ from: "yesterday", before: "-1", type: "statement; drop", q: "x".repeat(201) });
  assert.equal(bad.errors.length, 4, bad.errors.join("\n"));
  assert.deepEqual(bad.filters, {});
});

test("times without a zone are UTC; impossible dates are refused", () => {
  assert.equal(parseUtc("2026-01-31")?.toISOString(), "2026-01-31T00:00:00.000Z");
  assert.equal(parseUtc("2026-01-31T14:05")?.toISOString(), "2026-01-31T14:05:00.000Z");
  assert.equal(parseUtc("2026-01-31 14:05:09.5")?.toISOString(), "2026-01-31T14:05:09.500Z");
  assert.equal(parseUtc("2026-01-31T14:05:09+02:00")?.toISOString(), "2026-01-31T12:05:09.000Z");
  assert.equal(parseUtc("2026-01-31T14:05:09-0130")?.toISOString(), "2026-01-31T15:35:09.000Z");
  for (const bad of ["2026-02-31", "2026-13-01", "31/01/2026", "1", "2026-01-31T25:00", ""]) assert.equal(parseUtc(bad), undefined, bad);
});

